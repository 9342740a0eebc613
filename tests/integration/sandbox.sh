# A series from a stranger runs its code in the sandbox: a patch whose
# mm/Makefile runs a script while make reads it (tests/fixtures/attacks/
# makefile-escape.mbox) tries to write outside its build directory, read
# /root, write the shared ccache, the baselines, the images and the base's
# build directory, reach a listener on 127.0.0.1 and leave a process
# running.  Every attempt must fail on the host, the run must still finish
# with a verdict, and without bubblewrap a run is a one-line error.
T=sandbox
. "$(dirname "$0")/lib.bash"
C=/var/cache/kpipe
PORT=47391

rm -rf /tmp/kpipe-attack "$C/build/x86_64.series"
mkdir -p /tmp/kpipe-attack
chmod 1777 /tmp/kpipe-attack # only the sandbox may stop the write, not the mode
secret="kpipe-secret-$RANDOM$RANDOM"
echo "$secret" > /root/kpipe-attack-secret
python3 - "$PORT" "$WORK/listener.got" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("connection\n" + c.recv(100).decode(errors="replace"))
    c.close()
PY
listener=$!
for _ in $(seq 50); do [ -e "$WORK/listener.got" ] && break; sleep 0.1; done
# the listener answers the host itself: only the sandbox can keep the build away
if perl -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerAddr => "127.0.0.1:'$PORT'", Timeout => 3) or exit 1'; then
	pass "the listener on 127.0.0.1:$PORT answers the host"
else
	failed "the test's own listener on 127.0.0.1:$PORT does not answer"
fi
: > "$WORK/listener.got"

printf '[paths]\nresults = %s/results\n[build]\narches = x86_64\n[test]\ntests = uffd_wp_zap_shmem\nselftests = none\n' \
	"$WORK" > "$WORK/cfg.ini"
expect_exit 0 "kpipe run on the attacking series finishes with a verdict" -- \
	$KPIPE -c "$WORK/cfg.ini" run tests/fixtures/attacks/makefile-escape.mbox
expect_match "^verdict +pass +pass" "the kernel it builds is tested like any other (pass)"

log="$C/build/x86_64.series/kpipe-attack.log"
if [ -s "$log" ]; then
	pass "the attack ran (its log is in the series' build directory)"
	sed 's/^/#   /' "$log" | sort -u
else
	failed "the attack never ran: no $log"
fi
grep -q "^ran as uid 65534$" "$log" && pass "the series' code ran as uid 65534, not root" ||
	failed "the series' code ran as $(grep '^ran as' "$log" | head -1)"
for what in "write /tmp/kpipe-attack/outside" "read /root/kpipe-attack-secret" "write $C/ccache" \
	"write $C/ccache-shared" "write $C/baselines" "write $C/images" "write $C/linux" "write /kpipe/linux" \
	"connect 127.0.0.1:$PORT"; do
	if grep -q "^$what: refused$" "$log" && ! grep -q "^$what: done$" "$log"; then
		pass "refused: $what"
	else
		failed "not refused: $what"
	fi
done
grep -q "$secret" "$log" && failed "the secret in /root reached the build" || pass "nothing of /root reached the build"
[ -e /tmp/kpipe-attack/outside ] && failed "the build wrote /tmp/kpipe-attack/outside" ||
	pass "nothing was written outside the build directory"
written=$(ls -d "$C"/ccache/kpipe-attack "$C"/ccache-shared/kpipe-attack "$C"/baselines/kpipe-attack \
	"$C"/images/kpipe-attack "$C"/build/x86_64/kpipe-attack "$C"/linux/kpipe-attack 2>/dev/null)
[ -z "$written" ] && pass "the caches, the images and the base's build directory are untouched" ||
	failed "written on the host: $written"
[ -s "$WORK/listener.got" ] && failed "the listener on 127.0.0.1 got: $(head -c 200 "$WORK/listener.got")" ||
	pass "the listener on 127.0.0.1 got nothing"
pgrep -f kpipe-attack-sleeper >/dev/null && failed "the build left a process running: $(pgrep -af kpipe-attack-sleeper)" ||
	pass "no process of the build outlived it"
kill "$listener" 2>/dev/null
pkill -f kpipe-attack-sleeper 2>/dev/null
rm -f /root/kpipe-attack-secret
rm -rf /tmp/kpipe-attack

# no bubblewrap: a one-line error before anything is built, unless sandbox = off
mkdir "$WORK/bin"
for f in /usr/bin/* /usr/local/bin/*; do
	[ "$(basename "$f")" = bwrap ] || ln -sf "$f" "$WORK/bin/"
done
expect_exit 3 "kpipe test without bubblewrap" -- env PATH="$WORK/bin:/usr/sbin:/sbin" $KPIPE -c "$WORK/cfg.ini" test base
expect_match "^kpipe test: bubblewrap is not installed \(Debian package 'bubblewrap'; run 'make deps'\), or set \[build\] sandbox = off$" \
	"the error names the package and the way out, in one line"

# sandbox = off is the user's choice, and every run says what it means (a
# series that does not apply, with the base cached above: nothing is built,
# so the base's build directory keeps the paths sandboxed builds give it)
printf '[paths]\nresults = %s/results\n[build]\narches = x86_64\nsandbox = off\n[test]\ntests = uffd_wp_zap_shmem\nselftests = none\n' \
	"$WORK" > "$WORK/off.ini"
expect_exit 2 "kpipe run with [build] sandbox = off (a series that does not apply)" -- \
	$KPIPE -c "$WORK/off.ini" run tests/fixtures/series/other-tree.mbox
expect_match "sandbox = off: the series' Makefiles and scripts run unsandboxed, as root, with the network" \
	"the run says it is unsandboxed"
expect_match "^\[base x86_64\] baseline: pass, cached" "and built nothing"
