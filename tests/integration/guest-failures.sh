# A guest that panics or never brings sshd up gets a clear verdict with its
# console kept, exit 1, and no guest is left behind.  Uses the base kernel
# with an init that dies (panic) or blocks (hang), so no extra build.
T=guest-failures
. "$(dirname "$0")/lib.bash"

printf '[paths]\nresults = %s/results\n[vm]\ncmdline = rdinit=/bin/false\n' "$WORK" > "$WORK/panic.ini"
expect_exit 1 "guest whose init dies" -- $KPIPE -c "$WORK/panic.ini" test base
expect_match "BOOT-FAILED" "the matrix says boot failed"
expect_match "the guest died while booting: kernel panic: Attempted to kill init" "the panic is named"
grep -q "Kernel panic - not syncing" "$WORK"/results/latest/base-x86_64/console.log &&
	pass "the console log keeps the panic" || failed "no panic in the kept console log"
no_kpipe_domains

printf '[paths]\nresults = %s/results\n[vm]\ncmdline = rdinit=/bin/cat\nboot_timeout = 20\n' "$WORK" > "$WORK/hang.ini"
expect_exit 1 "guest that never answers ssh" -- $KPIPE -c "$WORK/hang.ini" test base
expect_match "no ssh within 20 s" "the hang is named"
no_kpipe_domains
