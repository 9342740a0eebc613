# Guests on two libvirt hosts: the second is this machine's libvirtd
# reached as a remote host, through Debian's openssh-server started here
# on 127.0.0.1 on a port of its own (its own host key and authorized key,
# no passwords), as qemu+ssh://root@127.0.0.1:PORT/system?keyfile=K&no_verify=1.
# Its guests get their kernel and initramfs as volumes uploaded through
# libvirt, their console through virDomainOpenConsole() and their ssh
# through that sshd.  arm64 only (its base is built and cached by the
# tests before): v1 and v2 on both hosts give the matrix a local-only
# run gives; then that sshd is killed while its guest runs its tests, and
# the cell finishes on the local host with the same verdict.
T=hosts
. "$(dirname "$0")/lib.bash"

ssh_dir="$WORK/sshd"
mkdir -p "$ssh_dir" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/id"
cp "$ssh_dir/id.pub" "$ssh_dir/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$ssh_dir/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $ssh_dir/host_key
AuthorizedKeysFile $ssh_dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile $ssh_dir/sshd.pid
EOF
start_sshd() { /usr/sbin/sshd -f "$ssh_dir/sshd_config" -E "$ssh_dir/sshd.log"; sleep 0.5; }
descendants() { for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
kill_sshd() { # the listener and every session it forked (libvirt's, kpipe's tunnel)
	local root
	root=$(cat "$ssh_dir/sshd.pid" 2>/dev/null) || return 0
	kill -9 $root $(descendants "$root") 2>/dev/null
}
trap 'kill_sshd; rm -rf "$WORK"' EXIT
start_sshd
remote="qemu+ssh://root@127.0.0.1:$port/system?keyfile=$ssh_dir/id&no_verify=1"
name="qemu+ssh://root@127.0.0.1:$port/system"
name_re=${name//+/\\+} # for the regexes
expect_exit 0 "libvirt answers through the test's sshd ($name)" -- virsh -c "$remote" version

cfg() { # FILE HOSTS
	printf '[paths]\nresults = %s/results-%s\n[build]\narches = arm64\n[vm]\nhosts = %s\n' \
		"$WORK" "$(basename "$1" .ini)" "$2" > "$1"
}
cfg "$WORK/bad.ini" "qemu+tcp://127.0.0.1/system*1"
expect_exit 2 "a remote host not reached over ssh is bad input" -- $KPIPE -c "$WORK/bad.ini" run --dry-run examples/uffd-wp-range/v1.mbox
expect_match "bad.ini: \[vm\] hosts: 'qemu\+tcp://127.0.0.1/system': a remote host is reached over ssh" "the error names the file, the key and the URI"
cfg "$WORK/bad.ini" "qemu:///system*0"
expect_exit 2 "a host with 0 slots is bad input" -- $KPIPE -c "$WORK/bad.ini" run --dry-run examples/uffd-wp-range/v1.mbox

cfg "$WORK/local.ini" "qemu:///system*1"
cfg "$WORK/both.ini" "qemu:///system*1 $remote*1"
expect_exit 0 "kpipe run --dry-run with both hosts" -- \
	$KPIPE -c "$WORK/both.ini" run --dry-run examples/uffd-wp-range/v1.mbox examples/uffd-wp-range/v2.mbox
expect_match "^  hosts: qemu:///system \(1 slot\), $name_re \(1 slot\)" "the plan lists both hosts (no key path shown)"
expect_match "^  [0-9]+\. v1/arm64: .*\[on qemu:///system\]$" "the plan puts v1's guest on the local host"
expect_match "^  [0-9]+\. v2/arm64: .*\[on $name_re\]$" "and v2's on the remote one"

expect_exit 1 "a local-only run (v1 fails)" -- \
	$KPIPE -c "$WORK/local.ini" run examples/uffd-wp-range/v1.mbox examples/uffd-wp-range/v2.mbox
local_run=$(readlink -f "$WORK/results-local/latest")

# libvirt's own view of the remote host while the run goes: its domains and its pool's volumes
kernels_before=$(virsh -c "$remote" -q vol-list kpipe 2>/dev/null | grep -c " kernel-")
( while :; do virsh -c "$remote" list --name 2>/dev/null; virsh -c "$remote" -q vol-list kpipe 2>/dev/null; sleep 0.5; done ) \
	> "$WORK/remote-view" &
view=$!
expect_exit 1 "the same run on both hosts (v1 fails)" -- \
	$KPIPE -c "$WORK/both.ini" run examples/uffd-wp-range/v1.mbox examples/uffd-wp-range/v2.mbox
kill "$view" 2>/dev/null
expect_match "^\[v2 arm64\] boot: ssh on $name_re \(tcg\)" "v2's guest booted on the remote host"
both=$(readlink -f "$WORK/results-both/latest")
OUT=$(grep -h '"host"' "$both"/v1-arm64/result.json "$both"/v2-arm64/result.json)
expect_match "\"host\": \"qemu:///system\"" "result.json: a cell ran on the local host"
expect_match "\"host\": \"$name_re\"" "result.json: a cell ran on the remote host"
if grep -q "^kpipe-.*-v2-arm64$" "$WORK/remote-view" && grep -q "kernel-kpipe-.*-v2-arm64" "$WORK/remote-view"; then
	pass "libvirt on the remote connection listed v2's domain and its kernel volume"
else
	failed "the remote connection never showed v2's domain and kernel volume: $(sort -u "$WORK/remote-view" | head -5)"
fi
OUT=$(virsh -c "$remote" -q vol-list kpipe 2>&1)
kernels_after=$(printf '%s\n' "$OUT" | grep -c " kernel-")
if [ "$kernels_after" -gt "$kernels_before" ]; then failed "kernel volumes left on the host: $OUT"; else pass "no kernel volume left on the host"; fi
expect_match "initramfs-arm64-[0-9a-f]{16}\.done" "the initramfs stays uploaded, once, for the next guests"
[ -s "$both/v2-arm64/console.log" ] && grep -q "Booting Linux" "$both/v2-arm64/console.log" &&
	pass "the remote guest's console came back through libvirt from its first line" ||
	failed "the remote guest's console.log is missing or incomplete"
OUT=$(python3 tests/integration/compare-summaries.py "$local_run/summary.json" "$both/summary.json" 2>&1)
expect_match "^cells same$" "both hosts: the cells and verdicts of the local-only run"
expect_match "^tests same$" "both hosts: every test's verdict as on the local host alone"
expect_match "^changes same$" "both hosts: the same changes"
no_kpipe_domains

# A remote guest's console is untrusted output too: one that floods it is
# cut at [vm] output_limit while libvirt's stream is still drained (the
# guest is not held up) and the test's verdict still stands.
data="$WORK/data"
make_data_dir "$data"
cat > "$data/guest-tests/zz_console_floods.c" <<'C'
#include <fcntl.h>
#include <string.h>
#include "ktap.h"
int main(void)
{
	static char line[1024];
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	ktap_print_header();
	ktap_set_plan(1);
	int ok = fd >= 0;
	for (int i = 0; ok && i < 1536; i++) /* 1.5 MiB on the serial console */
		ok = write(fd, line, sizeof(line)) == (ssize_t)sizeof(line);
	ktap_test_result(ok, "flooded the console");
	ktap_finished();
}
C
printf '[paths]\nresults = %s/results-flood\n[build]\narches = arm64\n[vm]\nhosts = %s*1\noutput_limit = 1\n[test]\ntests = zz_console_floods\nselftests = none\n' \
	"$WORK" "$remote" > "$WORK/flood.ini"
expect_exit 0 "a guest on the remote host floods its console with 1.5 MiB ([vm] output_limit = 1)" -- \
	env KPIPE_DATA_DIR="$data" $KPIPE -c "$WORK/flood.ini" test base
expect_match "^\[base arm64\] boot: ssh on $name_re" "it ran on the remote host"
expect_match "^zz_console_floods +pass" "the test's verdict stands"
flood=$(readlink -f "$WORK/results-flood/latest")
size=$(stat -c %s "$flood/base-arm64/console.log" 2>/dev/null || echo 0)
[ "$size" -gt 1048576 ] && [ "$size" -le 1049000 ] && pass "the kept console is cut at 1 MiB ($size bytes)" ||
	failed "the kept console is $size bytes, wanted 1 MiB and kpipe's line"
grep -q "^\[kpipe: console truncated at 1 MiB (\[vm\] output_limit)\]$" "$flood/base-arm64/console.log" &&
	pass "console.log ends saying it was cut" || failed "console.log does not say it was cut"
grep -q '"the console was truncated at 1 MiB (\[vm\] output_limit)"' "$flood/base-arm64/result.json" &&
	pass "result.json notes the cut" || failed "result.json has no note of the cut: $(grep -A3 notes "$flood/base-arm64/result.json")"
no_kpipe_domains

# the remote host goes away while its guest runs its tests: remote first, so v1 goes there
cfg "$WORK/down.ini" "$remote*1 qemu:///system*1"
$KPIPE -c "$WORK/down.ini" run examples/uffd-wp-range/v1.mbox examples/uffd-wp-range/v2.mbox > "$WORK/down.out" 2>&1 &
run=$!
if wait_for_line "$WORK/down.out" "^\[v1 arm64\] test: .*running" "$run"; then
	kill_sshd
	pass "killed the host's sshd while v1's guest ran its tests there"
	sleep 5
	start_sshd # back before the run ends: kpipe removes what its lost guest left there
else
	failed "v1 never ran its tests on the remote host: $(tail -5 "$WORK/down.out")"
fi
wait "$run"
rc=$?
OUT=$(cat "$WORK/down.out")
[ "$rc" -eq 1 ] && pass "the run's verdict is the same: v1 fails (exit 1)" || failed "exit $rc, wanted 1"
# Which side notices first is a race: the tunnel's session or libvirt's
# own connection through the same sshd.
expect_match "^==> host $name_re is down \((lost the ssh connection to host $name_re during [a-z_]+: .*|lost the connection to libvirt at '$name_re' during [a-z_]+ \(the guest was still up\))\): its cells go to the other hosts$" \
	"the run says which host went down, and why"
grep -F "is down" "$WORK/down.out" | sed 's/^/#   /'

expect_match "^\[v1 arm64\] boot: ssh on qemu:///system" "v1 booted again on the local host"
expect_match "^==> host $name_re answers again: removed the 1 kernel volume its lost guests left$" "the lost guest's kernel volume was removed"
down=$(readlink -f "$WORK/results-down/latest")
OUT=$(cat "$down/v1-arm64/result.json")
expect_match "\"host\": \"qemu:///system\"" "v1's result.json: it ran on the local host"
expect_match "its guest moved to another host: $name_re went down" "v1's result says its guest moved, and why"
OUT=$(cat "$down/summary.txt")
expect_match "^v1/arm64: its guest moved to another host: $name_re went down \(" "summary.txt says which host went down"
OUT=$(cat "$down/report.html")
expect_match "<li>v1/arm64: its guest moved to another host: $name_re went down" "report.html says so too"
OUT=$(python3 tests/integration/compare-summaries.py "$local_run/summary.json" "$down/summary.json" 2>&1)
expect_match "^cells same$" "host down: the cells and verdicts of the local-only run"
expect_match "^tests same$" "host down: every test's verdict as on the local host alone"
no_kpipe_domains
