# Both arches on one machine: a missing cross compiler stops a run before
# anything is built; an x86_64 guest left up by 'kpipe boot' and an arm64
# guest of another kpipe run at the same time, with their own names and
# ports; nothing left running after.
T=arches
. "$(dirname "$0")/lib.bash"

# a PATH that has everything of /usr/bin but the arm64 cross compiler
mkdir -p "$WORK/bin"
for f in /usr/bin/*; do
	case "$f" in */aarch64-linux-gnu-gcc*) continue ;; esac
	ln -s "$f" "$WORK/bin/"
done
printf '[paths]\nresults = %s/results\n' "$WORK" > "$WORK/cfg.ini"
expect_exit 3 "a run without the arm64 cross compiler" -- \
	env PATH="$WORK/bin:/usr/sbin:/sbin" $KPIPE -c "$WORK/cfg.ini" run examples/uffd-wp-range/v2.mbox
expect_match "^kpipe run: arm64: missing the arm64 C compiler 'aarch64-linux-gnu-gcc' \(Debian package gcc-aarch64-linux-gnu\): run 'make deps', or leave arm64 out of \[build\] arches$" \
	"the error names the compiler and its package, in one line"
if printf '%s\n' "$OUT" | grep -q "build: started\|==> series"; then
	failed "it stopped only after starting work"
else
	pass "it stops before the tree, the series or a build is touched"
fi

# kpipe boot keeps an x86_64 guest up; an arm64 test run goes on beside it
boot_log="$WORK/boot.log"
$KPIPE -c "$WORK/cfg.ini" boot base > "$boot_log" 2>&1 &
boot_pid=$!
# on a fresh machine this is the first kernel build (~10 min): wait while kpipe works
for _ in $(seq 1 3600); do
	grep -q "^The guest is up" "$boot_log" && break
	kill -0 $boot_pid 2>/dev/null || break
	sleep 1
done
OUT=$(cat "$boot_log")
expect_match "^The guest is up" "kpipe boot: the x86_64 guest is up"
port1=$(sed -n 's/.* -p \([0-9]*\) .*/\1/p' "$boot_log")
key=$(sed -n 's/.*ssh -i \([^ ]*\) .*/\1/p' "$boot_log")
[ -n "$key" ] && [ "$(stat -c %a "$key")" = 600 ] && pass "the guest's private key is 0600" ||
	failed "the guest's key '$key' is $(stat -c %a "$key" 2>&1)"
# the guest reaches nothing but its ssh forward: not a host service through 10.0.2.2
python3 - "$WORK/host.got" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 47392))
s.listen(4)
open(sys.argv[1], "w").close()
while True:
    c, _ = s.accept()
    open(sys.argv[1], "a").write("connection\n")
    c.close()
PY
listener=$!
for _ in $(seq 50); do [ -e "$WORK/host.got" ] && break; sleep 0.1; done
guest_said=$(ssh -i "$key" -p "$port1" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o BatchMode=yes -o ConnectTimeout=20 root@127.0.0.1 \
	'echo from-the-guest | nc -w 3 10.0.2.2 47392; echo "nc exit $?"' 2>&1)
kill $listener 2>/dev/null
if printf '%s\n' "$guest_said" | grep -q "^nc exit [0-9]"; then
	pass "a program in the guest ran and tried 10.0.2.2:47392 ($(printf '%s' "$guest_said" | tail -1))"
else
	failed "could not run nc in the guest: $guest_said"
fi
[ -s "$WORK/host.got" ] && failed "the guest reached a listener on the host through 10.0.2.2" ||
	pass "the guest's connection to the host through 10.0.2.2 got nowhere (restrict=on)"
expect_exit 0 "kpipe test --arch arm64 while the x86_64 guest runs" -- \
	$KPIPE -c "$WORK/cfg.ini" test --arch arm64 base
expect_match "^\[base arm64\] boot: ssh on 127.0.0.1:[0-9]+ \(tcg\)" "the arm64 guest booted beside it"
port2=$(printf '%s\n' "$OUT" | sed -n 's/.*boot: ssh on 127.0.0.1:\([0-9]*\) .*/\1/p')
if [ -n "$port1" ] && [ -n "$port2" ] && [ "$port1" != "$port2" ]; then
	pass "the two guests have their own ssh ports ($port1, $port2)"
else
	failed "ssh ports: '$port1' and '$port2'"
fi
expect_match "^uffd_wp_zap_shmem +pass" "the arm64 guest ran the tests"
running=$(virsh -c qemu:///system list --name 2>/dev/null | grep -c "^kpipe-")
[ "$running" -eq 1 ] && pass "the x86_64 guest is still up after the other run ended" ||
	failed "$running kpipe guests running, wanted 1 (the boot's)"
kill -INT $boot_pid
wait $boot_pid
OUT=$(cat "$boot_log")
expect_match "^destroying the guest$" "Ctrl-C destroys the booted guest"
no_kpipe_domains
