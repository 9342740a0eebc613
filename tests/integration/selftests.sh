# The tree's own mm selftests: a series that adds or changes programs in
# tools/testing/selftests/mm gets them built statically for both arches
# and run in the guest next to kpipe's tests, by the tree's own
# run_vmtests.sh when it knows them (on their own, saying so, when it does
# not yet); one that cannot be built statically is listed as skipped with
# the compiler's reason, and a selftest that fails fails the revision.
T=selftests
. "$(dirname "$0")/lib.bash"
printf '[paths]\nresults = %s/results\n[build]\narches = x86_64 arm64\n' "$WORK" > "$WORK/cfg.ini"
S=tests/fixtures/series

# v1 adds pte_batch_smoke and touches mremap_dontunmap.c and migration.c
# (which links libnuma statically);
# v2 makes pte_batch_smoke check one page too many, so it fails anywhere
expect_exit 1 "kpipe run: v2's broken selftest fails the run" -- \
	$KPIPE -c "$WORK/cfg.ini" run --no-baseline $S/selftests.mbox $S/selftests-v2.mbox
for arch in x86_64 arm64; do
	expect_match "^\[v1 $arch\] mm selftests: 3 the revision touches: migration mremap_dontunmap pte_batch_smoke; 3 built statically$" \
		"$arch: the selftests v1 touches are picked and built"
done
expect_match "^selftest-mm-mremap_dontunmap +pass +pass +pass +pass" "an existing selftest the series changes runs on both arches"
expect_match "^selftest-mm-pte_batch_smoke +pass +pass +FAIL +FAIL" "the new selftest passes in v1 and fails in v2 on both arches"
expect_match "^selftest-mm-migration +skip +skip +skip +skip" \
	"the selftest that needs libnuma builds (static libnuma for both arches) and skips on a guest of one NUMA node"
expect_match "^every cell: selftest-mm-migration skipped: every case skipped: NUMA not available$" \
	"the skip says why (the program's own reason, though it exits 0), once for every cell"
expect_match "^v2/x86_64: selftest-mm-pte_batch_smoke: fail" "v2's failing selftest is named"
expect_match "^verdict +pass +pass +FAIL +FAIL" "v1 passes, v2 fails"
for arch in x86_64 arm64; do
	expect_match "^\[v1 $arch\] mm selftests: 2 tests as the tree's run_vmtests.sh runs them" \
		"$arch: a selftest the tree's run_vmtests.sh knows is run by it"
	expect_match "^\[v1 $arch\] mm selftests: not in the tree's run_vmtests.sh, run on their own without arguments: pte_batch_smoke" \
		"$arch: a new selftest the script does not know yet runs on its own, saying so"
done
OUT=$(cat "$WORK"/results/latest/v2-arm64/tests/selftest-mm-mremap_dontunmap.out 2>&1)
expect_match "^running \./mremap_dontunmap$" "the tree's run_vmtests.sh started mremap_dontunmap (its banner is in the output)"
expect_match "^\[PASS\]$" "... and judged it passed, as the kept output shows"
OUT=$(cat "$WORK"/results/latest/v2-arm64/tests/selftest-mm-pte_batch_smoke.out 2>&1)
expect_match "^not ok 2 MADV_DONTNEED zeroes exactly its range" "the selftest's KTAP output is kept"
OUT=$(file "$WORK"/results/latest/v1-arm64/selftests.log "$WORK"/results/latest/v1-arm64/tests/* 2>&1)
expect_match "selftests.log" "the selftests' build log is kept"

# --bisect finds the patch that broke a selftest (probes run just that one)
printf '[paths]\nresults = %s/results\n[build]\narches = x86_64\n[test]\ntests = mprotect_shared_anon\n' \
	"$WORK" > "$WORK/bisect.ini"
expect_exit 1 "kpipe run --bisect v2 (x86_64)" -- $KPIPE -c "$WORK/bisect.ini" run --bisect $S/selftests-v2.mbox
expect_match "^\[v2-bisect-2 x86_64\] test: [0-9.]+s  running selftest-mm-pte_batch_smoke" "a probe runs the failing selftest"
expect_match "^v2/x86_64: bisect: first bad patch: 3/3 'selftests/mm: pte_batch_smoke: check one page more'" \
	"bisect names the patch that broke the selftest"

printf '[paths]\nresults = %s/results\n[build]\narches = x86_64\n[test]\ntests = mprotect_shared_anon\nselftests = none\n' \
	"$WORK" > "$WORK/none.ini"
expect_exit 0 "selftests = none runs no selftest" -- \
	$KPIPE -c "$WORK/none.ini" run --no-baseline $S/selftests.mbox
if printf '%s\n' "$OUT" | grep -q "selftest-mm-"; then failed "a selftest ran"; else pass "no selftest in the matrix"; fi
no_kpipe_domains
