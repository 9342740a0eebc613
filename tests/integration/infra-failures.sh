# Failures of the machine are never verdicts about the kernel: libvirtd
# killed while a guest runs its tests makes the run an infrastructure
# error (exit 3), and kpipe destroys its guest by name once libvirt answers
# again (the guest lost its auto-destroy with the connection).  Uses the
# base kernel (already built by the other tests) and a guest test that
# sleeps, so there is time to kill the daemon mid-test.
T=infra-failures
. "$(dirname "$0")/lib.bash"

data="$WORK/data"
make_data_dir "$data"
cat > "$data/guest-tests/aa_sleeps.c" <<'C'
#include "ktap.h"
int main(void)
{
	ktap_print_header();
	ktap_set_plan(1);
	sleep(20);
	ktap_test_result(1, "slept");
	ktap_finished();
}
C
printf '[paths]\nresults = %s/results\n[test]\ntests = aa_sleeps uffd_wp_zap_shmem\n' "$WORK" > "$WORK/cfg.ini"
env KPIPE_DATA_DIR="$data" $KPIPE -c "$WORK/cfg.ini" test base > "$WORK/run.log" 2>&1 &
run=$!
if wait_for_line "$WORK/run.log" "running aa_sleeps" "$run"; then
	pass "the guest runs its tests"
else
	failed "the guest never ran aa_sleeps: $(tail -3 "$WORK/run.log")"
fi
sleep 2
domain=$(virsh -c qemu:///system list --name 2>/dev/null | grep "^kpipe-$run-")
kill -9 $(pidof libvirtd) 2>/dev/null
sleep 2
libvirtd -d # the daemon comes back, as a supervisor would restart it
wait "$run"
RC=$?
OUT=$(cat "$WORK/run.log")
[ "$RC" -eq 3 ] && pass "libvirtd killed during a test: exit 3" ||
	{ failed "libvirtd killed during a test: exit $RC, wanted 3"; tail -20 "$WORK/run.log" | sed 's/^/#   /'; }
expect_match "lost the connection to libvirt at 'qemu:///system' during aa_sleeps \(the guest was still up\)" \
	"the run says it lost libvirt, not that the guest died"
if printf '%s\n' "$OUT" | grep -q "the guest died"; then
	failed "a living guest was reported dead"
else
	pass "the living guest is not reported dead"
fi
OUT=$(cat "$WORK"/results/latest/summary.tsv 2>/dev/null)
expect_match "^cell	base	x86_64	infra-error	" "summary.tsv: the cell has no verdict (infra-error), not pass or fail"
for _ in $(seq 1 50); do
	virsh -c qemu:///system list --all --name 2>/dev/null | grep -q "^kpipe-$run-" || break
	sleep 0.2
done
if [ -n "$domain" ] && ! virsh -c qemu:///system list --all --name 2>/dev/null | grep -q "^$domain$"; then
	pass "its guest ($domain) was destroyed by name once libvirt answered again"
else
	failed "guest '$domain' is still there after the run: $(virsh -c qemu:///system list --all --name 2>&1 | tr '\n' ' ')"
fi
no_kpipe_domains

# A full disk for real: the results on a 64 KiB filesystem this test makes.
# The run stops as an infrastructure error naming the file and the full
# disk; every file it leaves is whole (none half-written), no guest is left.
full="$WORK/full"
mkdir -p "$full"
if mount -t tmpfs -o size=64k kpipe-full "$full" 2>/dev/null; then
	printf '[paths]\nresults = %s/results\n[test]\ntests = uffd_wp_zap_shmem mm_stress\n' "$full" > "$WORK/full.ini"
	expect_exit 3 "a full disk under the results directory" -- $KPIPE -c "$WORK/full.ini" test base
	expect_match "No space left on device \(the filesystem it is on is full" "the error says the disk is full"
	expect_match "cannot write (the log )?'$full/results/" "and names the file it could not write"
	left=$(find "$full" -name '*.tmp-*' | wc -l)
	[ "$left" -eq 0 ] && pass "no temporary file left behind" || failed "$left temporary files left"
	broken=""
	for f in $(find "$full" -name '*.json'); do
		python3 -m json.tool "$f" >/dev/null 2>&1 || broken="$broken $f"
	done
	[ -z "$broken" ] && pass "every JSON file it left is whole" || failed "half-written:$broken"
	no_kpipe_domains
	umount "$full"
else
	echo "SKIP: $T: cannot mount a tmpfs here, the full-disk case is not tested"
fi
