# --each-patch builds after every patch: the patch that breaks the build
# and the patch that adds a compiler warning are named, and a series that
# does not build at every step fails even when its last patch builds.
T=each-patch
. "$(dirname "$0")/lib.bash"
printf '[paths]\nresults = %s/results\n[build]\narches = x86_64\n' "$WORK" > "$WORK/cfg.ini"

expect_exit 1 "a series whose patch 2/3 does not build" -- \
	$KPIPE -c "$WORK/cfg.ini" run --no-baseline --each-patch tests/fixtures/series/unbisectable.mbox
expect_match "each-patch: 1/3 'mm/memory: add zap_count_uffd_wp\(\)': builds in" "patch 1/3 builds"
expect_match "each-patch: 1/3 adds a warning: mm/memory.c: warning: .zap_count_uffd_wp. defined but not used \[-Wunused-function\]" \
	"patch 1/3's new warning is named"
expect_match "each-patch: 2/3 'mm/memory: check the uffd-wp count when zapping': DOES NOT BUILD in .*error: too few arguments to function .zap_count_uffd_wp." \
	"patch 2/3's build error is named"
expect_match "each-patch: 3/3 .*: builds in" "patch 3/3 builds again"
if printf '%s\n' "$OUT" | grep -q "3/3 adds a warning"; then failed "patch 3/3 blamed for a warning"; else pass "patch 3/3 adds no warning"; fi
expect_match "^each patch +1 BROKEN" "the matrix shows one broken patch"
expect_match "^verdict +FAIL" "the revision fails"
OUT=$(cat "$WORK/results/latest/summary.tsv")
expect_match "^patch	v1	x86_64	2/3	broken	" "summary.tsv records the broken patch"
[ -s "$WORK/results/latest/v1-x86_64/patches/02.log" ] && pass "each patch's build log is kept" || failed "no per-patch log"

expect_exit 0 "a series where every patch builds" -- \
	$KPIPE -c "$WORK/cfg.ini" run --no-baseline --each-patch examples/uffd-wp-range/v2.mbox
expect_match "^each patch +builds" "the matrix says every patch builds"
if printf '%s\n' "$OUT" | grep -q "adds a warning"; then failed "a warning was reported"; else pass "no warning reported"; fi
no_kpipe_domains
