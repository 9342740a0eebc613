# Helpers for the integration tests: each check prints one PASS/FAIL line.
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
KPIPE=${KPIPE:-./kpipe}
WORK=$(mktemp -d /tmp/kpipe-it-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

pass() { echo "PASS: $T: $*"; }
failed() { echo "FAIL: $T: $*"; }

# expect_exit CODE DESCRIPTION -- COMMAND...: runs it, output in $OUT
expect_exit() {
	local code=$1 what=$2
	shift 3
	OUT=$("$@" 2>&1)
	RC=$?
	if [ "$RC" -eq "$code" ]; then
		pass "$what (exit $RC)"
	else
		failed "$what: exit $RC, wanted $code"
		printf '%s\n' "$OUT" | tail -20 | sed 's/^/#   /'
	fi
}

# expect_match REGEX DESCRIPTION: $OUT must match (grep -E)
expect_match() {
	if printf '%s\n' "$OUT" | grep -Eq -- "$1"; then
		pass "$2"
	else
		failed "$2: no line matches '$1'"
		printf '%s\n' "$OUT" | tail -20 | sed 's/^/#   /'
	fi
}

# no_kpipe_domains: no guest of ours is left running
no_kpipe_domains() {
	local left
	left=$(virsh -c qemu:///system list --name 2>/dev/null | grep -c "^kpipe-$1")
	if [ "$left" -eq 0 ]; then
		pass "no kpipe guest left running"
	else
		failed "$left kpipe guest(s) still running"
	fi
}

# wait_for_line FILE PATTERN PID: until FILE has a line matching PATTERN
# (grep) or process PID has ended (20 minutes at most: a cold kernel build)
wait_for_line() {
	for _ in $(seq 1 6000); do
		grep -q -- "$2" "$1" && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.2
	done
	grep -q -- "$2" "$1"
}

# make_data_dir DIR: a copy of kpipe's data directory (kconfigs, images,
# guest-test sources) that a test can add guest tests to; use it with
# KPIPE_DATA_DIR=DIR.
make_data_dir() {
	mkdir -p "$1/guest-tests"
	cp -r kconfigs images "$1/"
	cp guest-tests/*.c guest-tests/*.h guest-tests/Makefile "$1/guest-tests/"
}
