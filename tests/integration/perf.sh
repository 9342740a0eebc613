# Perf figures compared as samples, never as one number.  A kernel made
# slower on purpose (tests/fixtures/series/slow-mprotect.mbox: mprotect()
# walks the page tables 16 times) must be listed with the figure it
# slows, how many samples and the p-value, once second boots of both
# kernels showed it too; the figures are kept whole (every sample, of
# both boots, in summary.tsv and result.json).  x86_64 and the mprotect
# test only: the base kernel is the shared cache's, the patch rebuilds
# one file.
T=perf
. "$(dirname "$0")/lib.bash"

printf '[paths]\nresults = %s/results\n[build]\narches = x86_64\n[test]\ntests = mprotect_shared_anon\n' \
	"$WORK" > "$WORK/cfg.ini"
expect_exit 0 "kpipe run on a kernel far slower in mprotect (a perf change alone fails nothing)" -- \
	$KPIPE -c "$WORK/cfg.ini" run tests/fixtures/series/slow-mprotect.mbox
printf '%s\n' "$OUT" | grep -E ": perf: |^verdict" | sed 's/^/#   /'
expect_match "perf: v1 x86_64: mprotect_shared_anon moved beyond noise against base in one boot each: booting both kernels again" \
	"a change seen in one boot each is measured again in fresh boots of both kernels"
expect_match "^  v1 x86_64: perf: mprotect_shared_anon mprotect_rw_64mib_(64k_folios|4k_pages): [0-9.e+]+ -> [0-9.e+]+ ms \(\+[0-9]+% vs base, 5/5 samples slower, p=0\.00[0-9]; again in second boots: \+[0-9]+%, p=0\.00[0-9]; every boot [0-9.]+x slower, boots alone up to [0-9.]+x\)$" \
	"the slower mprotect is listed: its figure, its samples, how sure, confirmed in second boots, beyond the noise of boots"
run="$WORK/results/latest"
OUT=$(cat "$run/summary.tsv")
n=$(printf '%s\n' "$OUT" | grep -c "^perf	v1	x86_64	mprotect_shared_anon	mprotect_rw_64mib_4k_pages	")
[ "$n" -eq 5 ] && pass "summary.tsv keeps the 5 samples of a figure" || failed "summary.tsv has $n samples of a figure, not 5"
if python3 - "$run/v1-x86_64/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
perf = [m for t in r["tests"] for m in t["perf"]]
assert perf and all(len(m["samples"]) == 5 for m in perf), perf
assert any(len(m["confirm_samples"]) == 5 for m in perf), perf
PY
then pass "result.json keeps every sample"; else failed "result.json lacks the samples"; fi
