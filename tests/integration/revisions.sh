# Three revisions plus the baseline: v1 regresses, v2 fixes it, v3 adds a
# patch.  A guest test that fails on every kernel (added to a copy of
# kpipe's data directory) must show as pre-existing, never as the series'
# regression; the baseline is tested once and then reused from the cache.
T=revisions
. "$(dirname "$0")/lib.bash"
S=examples/uffd-wp-range

data="$WORK/data"
make_data_dir "$data"
cat > "$data/guest-tests/always_fails.c" <<'C'
#include "ktap.h"
int main(void)
{
	ktap_print_header();
	ktap_set_plan(1);
	ktap_test_result(0, "a failure every kernel has");
	ktap_finished();
}
C
# fails on every kernel too, and in one more case where uffd_wp_zap_shmem
# fails (v1): a regression although the base fails the test (named last,
# it runs after uffd_wp_zap_shmem is in the guest)
cat > "$data/guest-tests/zz_fails_differently.c" <<'C'
#include <stdlib.h>
#include "ktap.h"
int main(void)
{
	ktap_print_header();
	ktap_set_plan(2);
	ktap_test_result(0, "a failure every kernel has");
	ktap_test_result(system("/kpipe/uffd_wp_zap_shmem >/dev/null 2>&1") == 0, "uffd_wp_zap_shmem passes");
	ktap_finished();
}
C
# two guest slots: the base's guest and the revisions' run side by side
printf '[paths]\nresults = %s/results\n[build]\narches = x86_64\n[vm]\nguests = 2\n' "$WORK" > "$WORK/cfg.ini"
export KPIPE_DATA_DIR="$data"

expect_exit 1 "kpipe run --bisect v1 v2 v3 (v1 regresses)" -- \
	$KPIPE -c "$WORK/cfg.ini" run --bisect $S/v1.mbox $S/v2.mbox $S/v3.mbox
printf '%s\n' "$OUT" | sed -n '/base\/x86_64/,$p' | sed 's/^/#   /'
run_out=$OUT
expect_match "^plan: 4 cells: [34] kernel builds \(one at a time\), [34] guests \(2 at a time\), [01] cached$" \
	"the plan: the base and three revisions, built one at a time, two guests at a time"
expect_match "^always_fails +fail +fail \(base\) +fail \(base\) +fail \(base\)" "the always-failing test is pre-existing in every revision"
expect_match "^uffd_wp_zap_shmem +pass +FAIL +pass +pass" "uffd_wp_zap_shmem: base pass, v1 FAIL, v2 and v3 pass"
expect_match "^verdict +fail +FAIL +pre-existing +pre-existing" "only v1 is a regression"
expect_match "^zz_fails_differently +fail +FAIL +fail \(base\) +fail \(base\)" \
	"a test the base fails too is v1's regression when v1 fails another case of it"
expect_match "v2 x86_64: zz_fails_differently fails differently: no longer 'uffd_wp_zap_shmem passes'" \
	"the change list says which case v2 no longer fails"
# patch 1 alone fails zz_fails_differently only as the base does: good
expect_match "^v1/x86_64: bisect: first bad patch: 2/2 " "the bisect judges a base-failing test by its new case"
expect_match "v2 x86_64: fixed: uffd_wp_zap_shmem" "the change list says v2 fixed it"
expect_match "v2 x86_64: splat gone: WARNING in zap_install_uffd_wp_if_needed" "the change list says v2's splat is gone"
expect_match "^time per revision: .*v3 [0-9.]+s" "the time of each revision is shown"
OUT=$(cat "$WORK/results/latest/summary.tsv")
expect_match "^cell	v3	x86_64	fail	[0-9a-f]{40}	.*	base	[0-9.,]+	[0-9a-f]{64}	(tcg|kvm)$" "v3 is compared with the base (and carries its stage times, patchset hash and how its guest ran)"
grep -q '"total":' "$WORK/results/latest/summary.json" && pass "per-revision totals in summary.json" ||
	failed "no per-revision totals in summary.json"

expect_exit 0 "kpipe run v2 v3: only pre-existing failures" -- $KPIPE -c "$WORK/cfg.ini" run $S/v2.mbox $S/v3.mbox
expect_match "^\[base x86_64\] baseline: fail, cached" "the baseline is reused from the cache"
expect_exit 0 "kpipe report --history" -- $KPIPE -c "$WORK/cfg.ini" report --history "mm/memory: factor out batched uffd-wp marker install"
expect_match "^'mm/memory: factor out batched uffd-wp marker install': changes from the older to the newer of run [0-9]+" \
	"the history names the two runs"
expect_match "^  v1 x86_64 splat gone: WARNING in zap_install_uffd_wp_if_needed$" "the history says v1's splat is gone"
no_kpipe_domains
OUT=$run_out
expect_match "^v1/x86_64: uffd_wp_zap_shmem: fail: not ok: shmem: all pages" "v1's regression is named"
expect_match "^v2/x86_64: always_fails: fail: not ok: a failure every kernel has \(also on the base\)$" "v2's failure is marked as the base's"
expect_match "^v1/x86_64: zz_fails_differently: fail: .*\(fails on the base too, but not 'uffd_wp_zap_shmem passes'\)$" \
	"v1's new failing case is named"

# the same revisions as commits already in the tree: nothing is applied
expect_exit 0 "kpipe apply v1 v2 v3 as branches" -- $KPIPE -c "$WORK/cfg.ini" apply $S/v1.mbox $S/v2.mbox $S/v3.mbox
B=$(printf '%s\n' "$OUT" | sed -n 's|.*\(kpipe/mm-memory-factor-out-batched-uffd-wp-[0-9a-f]\{6\}\)/v1 .*|\1|p' | head -1)
[ -n "$B" ] && pass "the series' branches are kpipe/<series>-<sender>/vN ($B/v1)" ||
	failed "no kpipe/mm-memory-factor-out-batched-uffd-wp-XXXXXX/v1 in: $OUT"
expect_exit 1 "kpipe run --commits for v1 and v3" -- \
	$KPIPE -c "$WORK/cfg.ini" run --commits base..$B/v1 --commits $B/v3
expect_match "^\[v2\] commits $B/v3: 3, nothing to apply" "a ref alone means base..ref"
expect_match "^uffd_wp_zap_shmem +pass +FAIL +pass" "the verdicts match the mbox run"
expect_match "v2 x86_64: fixed: uffd_wp_zap_shmem" "the change list works for commit ranges"
expect_exit 2 "an unknown ref" -- $KPIPE -c "$WORK/cfg.ini" run --commits base..no-such-branch
expect_match "'no-such-branch' is not a commit in '/var/cache/kpipe/linux'" "the unknown ref is named"

# two guest slots really run two guests at once: v1's guest is still in a
# test that takes a while when v2's kernel is built and boots beside it
cat > "$data/guest-tests/aa_takes_a_while.c" <<'C'
#include "ktap.h"
int main(void)
{
	ktap_print_header();
	ktap_set_plan(1);
	sleep(40);
	ktap_test_result(1, "took a while");
	ktap_finished();
}
C
printf '[paths]\nresults = %s/results\n[build]\narches = x86_64\n[vm]\nguests = 2\n[test]\ntests = aa_takes_a_while\nselftests = none\n' \
	"$WORK" > "$WORK/slots.ini"
expect_exit 0 "kpipe run v2 v3 with two guest slots" -- $KPIPE -c "$WORK/slots.ini" run --no-baseline $S/v2.mbox $S/v3.mbox
expect_match "^plan: 2 cells: 2 kernel builds \(one at a time\), 2 guests \(2 at a time\), 0 cached$" "the plan has two guest slots"
most=$(printf '%s\n' "$OUT" | awk '/\] boot: started/ { up++; if (up > most) most = up } /\] test: .* in [0-9]/ { up-- } END { print most + 0 }')
[ "$most" -ge 2 ] && pass "two guests ran at once ([vm] guests = 2)" ||
	failed "at most $most guest at a time with [vm] guests = 2"
expect_match "^aa_takes_a_while +pass +pass" "both guests ran their test"
no_kpipe_domains
