# A guest that panics or never brings sshd up gets a clear verdict with its
# console kept, exit 1, and no guest is left behind.  Uses the base kernel
# with an init that exits (busybox printing its usage: panic) or blocks
# (a shell reading the console: hang), so no extra build.
T=guest-failures
. "$(dirname "$0")/lib.bash"

printf '[paths]\nresults = %s/results\n[vm]\ncmdline = rdinit=/bin/busybox\n' "$WORK" > "$WORK/panic.ini"
expect_exit 1 "guest whose init dies" -- $KPIPE -c "$WORK/panic.ini" test base
expect_match "BOOT-FAILED" "the matrix says boot failed"
expect_match "the guest died while booting: kernel panic: Attempted to kill init" "the panic is named"
grep -q "Kernel panic - not syncing" "$WORK"/results/latest/base-x86_64/console.log &&
	pass "the console log keeps the panic" || failed "no panic in the kept console log"
no_kpipe_domains

printf '[paths]\nresults = %s/results\n[vm]\ncmdline = rdinit=/bin/sh\nboot_timeout = 20\n' "$WORK" > "$WORK/hang.ini"
expect_exit 1 "guest that never answers ssh" -- $KPIPE -c "$WORK/hang.ini" test base
expect_match "no ssh within 20 s" "the hang is named"
expect_match "splat: guest hang: no ssh after boot" "the boot hang is a finding"
no_kpipe_domains

# Tests that misbehave: one fails only on its first run (flaky), one hangs.
data="$WORK/data"
make_data_dir "$data"
cat > "$data/guest-tests/aa_flaky.c" <<'C'
#include "ktap.h"
int main(void)
{
	int first = access("/tmp/kpipe-flaky-ran", F_OK) != 0;
	if (first)
		close(open("/tmp/kpipe-flaky-ran", O_CREAT | O_WRONLY, 0644));
	ktap_print_header();
	ktap_set_plan(1);
	ktap_test_result(!first, "passes from the second run on");
	ktap_finished();
}
C
cat > "$data/guest-tests/ab_hangs.c" <<'C'
#include "ktap.h"
int main(void)
{
	ktap_print_header();
	ktap_set_plan(1);
	sleep(3600);
	ktap_test_result(1, "never gets here");
	ktap_finished();
}
C
# an init that differs from the cached image's: the image must be rebuilt
sed -i 's|^dropbear |say "init from the test data dir"; dropbear |' "$data/images/init"
printf '[paths]\nresults = %s/results\n[test]\ntimeout = 8\nretries = 2\n' "$WORK" > "$WORK/tests.ini"
expect_exit 1 "a flaky test and a hanging test" -- env KPIPE_DATA_DIR="$data" $KPIPE -c "$WORK/tests.ini" test base
expect_match "^aa_flaky +flaky" "the flaky test is reported as flaky"
expect_match "aa_flaky is flaky: failed 1 of 2 runs" "how often it failed is said"
expect_match "^ab_hangs +TIMEOUT" "the hanging test times out"
expect_match "splat: guest hang: ab_hangs did not finish" "the hang is a finding"
expect_match "^uffd_wp_zap_shmem +pass" "the tests after the hang still run"
grep -q "kpipe-init: init from the test data dir" "$WORK"/results/latest/base-x86_64/console.log &&
	pass "a changed init rebuilds the guest image" || failed "the guest booted an image built from another init"
no_kpipe_domains

# A test that takes the guest down: the tests it leaves are listed as not run.
cat > "$data/guest-tests/ac_powers_off.c" <<'C'
#include <sys/reboot.h>
#include "ktap.h"
int main(void)
{
	ktap_print_header();
	ktap_set_plan(1);
	sync();
	reboot(RB_POWER_OFF);
	ktap_test_result(0, "the guest is still up");
	ktap_finished();
}
C
printf '[paths]\nresults = %s/results\n[test]\ntests = ac_powers_off mm_stress uffd_wp_zap_shmem\n' "$WORK" > "$WORK/dies.ini"
expect_exit 1 "a test that powers the guest off" -- env KPIPE_DATA_DIR="$data" $KPIPE -c "$WORK/dies.ini" test base
expect_match "^ac_powers_off +LOST" "the test that took the guest down is LOST"
expect_match "^mm_stress +not run" "a test after it is listed as not run"
expect_match "^uffd_wp_zap_shmem +not run" "so is the next"
expect_match "^base/x86_64: 2 tests not run: the guest died during ac_powers_off" "how many and why is said"
OUT=$(cat "$WORK"/results/latest/summary.tsv)
expect_match "^test	base	x86_64	mm_stress	not-run	" "summary.tsv records them as not-run"
no_kpipe_domains

# back to kpipe's own init: the image built from the test's (newer) one is not reused
printf '[paths]\nresults = %s/results\n[test]\ntests = uffd_wp_zap_shmem\n' "$WORK" > "$WORK/own.ini"

# kill -9 while the guest boots: libvirt destroys the guest (autodestroy),
# its directory stays in the cache until the next run removes it
$KPIPE -c "$WORK/own.ini" test base > "$WORK/killed.log" 2>&1 &
killed=$!
wait_for_line "$WORK/killed.log" "boot: started" "$killed"
sleep 2
kill -9 "$killed"
wait "$killed" 2>/dev/null
stale=$(ls -d /var/cache/kpipe/vm/kpipe-"$killed"-* 2>/dev/null | wc -l)
[ "$stale" -eq 1 ] && pass "a run killed with SIGKILL while booting left its guest directory" ||
	failed "$stale guest directories of the killed run (pid $killed), wanted 1: $(tail -3 "$WORK/killed.log")"
for _ in $(seq 1 50); do
	virsh -c qemu:///system list --name 2>/dev/null | grep -q "^kpipe-$killed-" || break
	sleep 0.2
done
no_kpipe_domains "$killed-"
# a directory named for a live process (this shell) is not touched
mkdir -p /var/cache/kpipe/vm/kpipe-$$-1-base-x86_64

expect_exit 0 "kpipe test with kpipe's own init" -- $KPIPE -c "$WORK/own.ini" test base
expect_match "removed 1 guest directory in /var/cache/kpipe/vm left by kpipe runs that were killed" \
	"the next run says it removed the killed run's guest directory"
[ -z "$(ls -d /var/cache/kpipe/vm/kpipe-"$killed"-* 2>/dev/null)" ] && pass "and it is gone" ||
	failed "the killed run's guest directory is still there"
[ -d /var/cache/kpipe/vm/kpipe-$$-1-base-x86_64 ] && pass "a live process's guest directory is kept" ||
	failed "a guest directory of a live process was removed"
rmdir /var/cache/kpipe/vm/kpipe-$$-1-base-x86_64
if grep -q "init from the test data dir" "$WORK"/results/latest/base-x86_64/console.log; then
	failed "an image built from another init was reused"
else
	pass "the image matches kpipe's own init again"
fi
no_kpipe_domains

# A test that floods its output: what is kept stops at [vm] output_limit and says so
cat > "$data/guest-tests/ad_floods.c" <<'C'
#include <string.h>
#include "ktap.h"
int main(void)
{
	static char line[1024];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 2] = '\n';
	ktap_print_header();
	ktap_set_plan(1);
	for (int i = 0; i < 3 * 1024; i++) /* 3 MiB on stderr */
		fputs(line, stderr);
	ktap_test_result(1, "flooded stderr");
	ktap_finished();
}
C
printf '[paths]\nresults = %s/results\n[vm]\noutput_limit = 1\n[test]\ntests = ad_floods\n' "$WORK" > "$WORK/floods.ini"
expect_exit 0 "a test that prints 3 MiB with [vm] output_limit = 1" -- \
	env KPIPE_DATA_DIR="$data" $KPIPE -c "$WORK/floods.ini" test base
expect_match "^ad_floods +pass" "its verdict is read from what was kept"
expect_match "warning: ad_floods printed more than 1 MiB: the rest was dropped \(\[vm\] output_limit\)" "the run says it was cut"
cell="$WORK/results/latest/base-x86_64"
size=$(stat -c %s "$cell/tests/ad_floods.err" 2>/dev/null || echo 0)
[ "$size" -gt 1000000 ] && [ "$size" -le 1049000 ] && pass "the kept stderr is cut at 1 MiB ($size bytes)" ||
	failed "the kept stderr is $size bytes, wanted about 1 MiB"
grep -q '"ad_floods: output truncated at 1 MiB (\[vm\] output_limit)"' "$cell/result.json" &&
	pass "result.json notes the truncation" || failed "result.json has no note of the truncation"
no_kpipe_domains
