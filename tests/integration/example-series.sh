# The bundled example, end to end, on both arches of the default config:
# real kernel builds of v1 and v2 (x86_64 native, arm64 cross), real
# libvirtd/QEMU guests (q35 and virt under TCG), real sshd, the guest tests
# over libssh.  v1 breaks uffd-wp markers on zap (and WARNs) in generic mm
# code, so both arches must catch it; v2 fixes it.
T=example-series
. "$(dirname "$0")/lib.bash"

printf '[paths]\nresults = %s/results\n' "$WORK" > "$WORK/cfg.ini"
expect_exit 1 "kpipe run --bisect v1 v2 (v1 must fail)" -- \
	$KPIPE -c "$WORK/cfg.ini" run --bisect examples/uffd-wp-range/v1.mbox examples/uffd-wp-range/v2.mbox
expect_match "^v1/x86_64: bisect: first bad patch: 2/2 'mm/memory: use pte_install_uffd_wp_range_if_needed\(\) when zapping'$" \
	"bisect names patch 2/2 of v1"
expect_match "bisect: with patches 1..1 applied .*: good$" "bisect tested patch 1/2 alone and found it good"
expect_match "^    arm64: compiler, emulator, guest tests and image ready" "the arm64 tools and image are checked before anything is built"
expect_match "^builds and guests: [0-9.]+s of work in [0-9.]+s: the overlap saved [0-9.]+s$" \
	"the run says what overlapping builds and guests saved"
expect_match "^\[v1 arm64\] boot: ssh on 127.0.0.1:[0-9]+ \(tcg\)" "the arm64 guest boots under TCG"
printf '%s\n' "$OUT" | sed -n '/^uffd_wp/,$p' | sed 's/^/#   /'
# the example's patches change nothing the perf figures measure: five samples
# a figure, compared beyond noise, list none of them as a change
if printf '%s\n' "$OUT" | grep -q ": perf: "; then
	failed "the example lists a perf change: $(printf '%s\n' "$OUT" | grep ": perf: " | head -3)"
else
	pass "the example lists no perf change (both arches)"
fi
expect_match "^  v2: patch 1/2 changed \(mm/memory: add pte_install_uffd_wp_range_if_needed\(\)\); fixed: .*uffd_wp_zap_shmem" \
	"the changes say which patch v2 changed (patch 2/2 is the same code) and what that fixed"
run="$WORK/results/latest"
if grep -q "^ *+ *+	for (; nr; nr--, pte++, addr += PAGE_SIZE)" "$run/range-diff-v2.txt" 2>/dev/null; then
	pass "range-diff-v2.txt holds git range-diff of the changed patch"
else
	failed "range-diff-v2.txt is missing or lacks v2's change: $(head -c 300 "$run/range-diff-v2.txt" 2>&1)"
fi
if grep -q "^range-diff v2: patch 1/2 changed" "$run/summary.txt" 2>/dev/null &&
	grep -q "<h2>Range-diff v2</h2>" "$run/report.html" 2>/dev/null; then
	pass "summary.txt and report.html show v2's range-diff"
else
	failed "summary.txt or report.html lacks v2's range-diff"
fi
# what a CI step hands back to the list: one patchwork check per patch, revision and arch
expect_match "^for the list: checks.json \(8 patchwork checks\), reply.eml \(to Kai Example <kai@example.org>\)$" \
	"the run says what it wrote for the list"
OUT=$(python3 - "$run/checks.json" <<'PY' 2>&1
import json, sys
for c in json.load(open(sys.argv[1]))["checks"]:
    print(c["revision"], c["patch"], c["context"], c["state"], c["msgid"], c["target_url"].split("#")[1], c["description"])
PY
)
expect_match "^v1 1/2 kpipe-x86_64 success <20261102090101.101-kai@example.org> v1-x86_64 good on x86_64: the first bad patch is 2$" \
	"checks.json: v1's patch 1/2 is good (bisect), by its Message-ID"
expect_match "^v1 2/2 kpipe-arm64 fail <20261102090102.102-kai@example.org> v1-arm64 first bad patch on arm64: " \
	"checks.json: v1's patch 2/2 fails on arm64, the first bad patch"
expect_match "^v2 2/2 kpipe-x86_64 success .* builds, boots and passes [0-9]+ tests on x86_64$" "checks.json: v2 passes"
OUT=$(cat "$run/reply.eml" 2>&1)
expect_match "^In-Reply-To: <20261112090100.200-kai@example.org>$" "reply.eml answers v2's cover letter"
expect_match "^Cc: linux-mm@kvack.org, Andrew Morton <akpm@linux-foundation.org>, Peter Xu <peterx@example.org>$" \
	"reply.eml: the list and the Cc of the series"
expect_match "^uffd_wp_zap_shmem +pass .*FAIL" "reply.eml: summary.txt as its body"
tsv=$(cat "$run/summary.tsv" 2>/dev/null)
OUT=$tsv
expect_match "^cell	v1	x86_64	fail	" "v1 fails"
expect_match "^test	v1	x86_64	uffd_wp_zap_shmem	fail	" "v1: the uffd-wp test catches the bug"
expect_match "^splat	v1	x86_64	[0-9]+	WARNING in " "v1: the kernel's WARNING is found"
expect_match "^cell	v2	x86_64	pass	" "v2 passes"
expect_match "^bisect	v1	x86_64	2/2 " "summary.tsv records the bisect result"
expect_match "^test	v2	x86_64	uffd_wp_zap_shmem	pass	" "v2: the uffd-wp test passes"
# the tests v1's bug reaches (its WARNING, or mm_stress's race with it); a test that failed
# once before the WARNING (the kernel still untainted) may rightly be rerun and called flaky
printf '%s\n' "$OUT" | grep "^test	v1	[a-z0-9_]*	[a-z_]*	flaky	" | cut -f3,4,7 | sed 's/^/# flaky on v1: /'
if printf '%s\n' "$OUT" | grep -Eq "^test	v1	[a-z0-9_]*	(mm_stress|uffd_[a-z_]*)	flaky	"; then
	failed "v1: a test that failed on the kernel's WARNING was rerun and called flaky"
else
	pass "v1: no test v1's bug reaches is called flaky (a failure on a kernel that warned is not rerun)"
fi
expect_match "^cell	v1	arm64	fail	" "arm64: v1 fails too"
expect_match "^test	v1	arm64	uffd_wp_zap_shmem	fail	" "arm64: the uffd-wp zap test catches the bug"
expect_match "^splat	v1	arm64	[0-9]+	WARNING in zap_install_uffd_wp_if_needed" "arm64: the kernel's WARNING is found"
expect_match "^bisect	v1	arm64	2/2 " "arm64: the bisect names patch 2/2 too"
expect_match "^cell	v2	arm64	pass	" "arm64: v2 passes"
expect_match "^test	v2	arm64	mprotect_shared_anon	pass	" "arm64: the mprotect test runs and passes"
expect_match "^test	v2	arm64	anon_swap_mixed_exclusive	pass	" "arm64: the anon swap test runs and passes"
expect_match "^perf	v2	x86_64	anon_swap_mixed_exclusive	madv_pageout_16mib_64k_folios	[0-9.]+	ms$" \
	"the '# perf:' figures are kept per revision"
if printf '%s\n' "$tsv" | grep -q "^splat	v2"; then failed "v2 has splats"; else pass "v2 has no splats"; fi
for f in build.log console.log dmesg.txt result.json tests/uffd_wp_zap_shmem.out; do
	for cell in v1-x86_64 v2-x86_64 v1-arm64 v2-arm64; do
		[ -s "$run/$cell/$f" ] || failed "missing $cell/$f"
	done
done
[ -s "$run/summary.json" ] && pass "per-cell logs, outputs and summary.json are kept" || failed "no summary.json"
OUT=$(cat "$run/v1-x86_64/tests/uffd_wp_zap_shmem.out")
expect_match "^not ok [0-9]+ shmem: all pages: markers kept after MADV_DONTNEED" "v1: markers lost on zap"
expect_match "^ok [0-9]+ anon \(control\): all pages: protection dropped with the zap" "v1: the anonymous control passes"
no_kpipe_domains

expect_exit 1 "kpipe report re-reads the run" -- $KPIPE -c "$WORK/cfg.ini" report "$run"
expect_match "^uffd_wp_zap_shmem +pass +pass +FAIL +FAIL +pass +pass" \
	"the matrix shows base pass, v1 FAIL, v2 pass on both arches"

# the reports: parsed by real parsers, the page rendered by a real browser
OUT=$(python3 - "$run" <<'PY'
import json, sys, xml.etree.ElementTree as ET
run = sys.argv[1]
suites = {s.get("name"): s for s in ET.parse(run + "/junit.xml").getroot()}
v1 = suites["v1/x86_64"]
case = [c for c in v1 if c.get("name") == "uffd_wp_zap_shmem"][0]
print("junit v1 failures=%s case-failed=%s console-attached=%s" % (
    v1.get("failures"), case.find("failure") is not None,
    "WARNING" in (case.findtext("system-out") or "")))
print("junit v2 failures=%s" % suites["v2/x86_64"].get("failures"))
print("junit arm64 failures=%s" % ",".join(suites[r + "/arm64"].get("failures") for r in ("v1", "v2")))
k = json.load(open(run + "/kcidb.json"))
print("kcidb checkouts=%d builds=%d" % (len(k["checkouts"]), len(k["builds"])))
print("kcidb failing=" + ",".join(sorted(t["id"].split("-", 1)[1] for t in k["tests"] if t["status"] == "FAIL")))
print("kcidb v1 patchset=%d" % len([c for c in k["checkouts"] if c["comment"] == "v1" and len(c["patchset_hash"]) == 64]))
PY
)
expect_match "^junit v1 failures=[34] case-failed=True console-attached=True$" \
	"junit.xml: v1's failing tests (mm_stress when its race hits the WARNING) and the splat fail, with the console attached"
expect_match "^junit v2 failures=0$" "junit.xml: v2 has no failure"
expect_match "^junit arm64 failures=[34],0$" "junit.xml: arm64's v1 fails (tests and a splat), v2 does not"
expect_match "^kcidb checkouts=3 builds=6$" "kcidb.json: a checkout per revision and the base, a build per arch"
expect_match "^kcidb failing=([^,]*-v1-arm64-mm_stress,)?[^,]*-v1-arm64-uffd_wp_mprotect,[^,]*-v1-arm64-uffd_wp_zap_shmem,([^,]*-v1-x86_64-mm_stress,)?[^,]*-v1-x86_64-uffd_wp_mprotect,[^,]*-v1-x86_64-uffd_wp_zap_shmem$" \
	"kcidb.json: only v1's uffd-wp tests (and mm_stress, when its race hits the WARNING) fail, on both arches"
expect_match "^kcidb v1 patchset=1$" "kcidb.json: v1 carries its patchset hash"
OUT=$(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$WORK/chromium" --dump-dom "file://$(readlink -f "$run")/report.html" 2>/dev/null)
expect_match '<td class="fail" title="[^"]*"><a href="v1-x86_64/tests/uffd_wp_zap_shmem.out">fail</a></td>' \
	"report.html renders in Chromium: v1's failing cell links to its output"
expect_match "<summary>v1/x86_64: WARNING in zap_install_uffd_wp_if_needed \(x1\)</summary><pre>" \
	"report.html: the splat with its stack"
expect_match '<tr><th>v1/x86_64</th><td>[0-9.]+</td><td>[0-9.]+</td><td>[1-9][0-9]*\.[0-9]</td>' \
	"report.html: the stage times (build > 0)"
expect_match '<figcaption>mprotect_shared_anon: mprotect_rw_64mib_4k_pages</figcaption>' \
	"report.html: each perf figure is drawn"
dots=$(printf '%s\n' "$OUT" | grep -o '<circle' | wc -l)
[ "$dots" -ge 60 ] && pass "report.html: every sample is a dot ($dots)" || failed "report.html: $dots sample dots, wanted 4 figures x 5 samples x 3 cells per arch"
OUT=$(cat "$run/summary.txt")
expect_match "^uffd_wp_zap_shmem +pass +pass +FAIL +FAIL +pass +pass" "summary.txt: the matrix to paste into a reply"

# One run split in two CI jobs: --shard 1/2 and 2/2 into their own results
# directories (the same cache: the bases load from it), then merged.  The
# merge must say what the whole run above said: the same cells, verdicts
# and changes.
whole=$(readlink -f "$run")
series="examples/uffd-wp-range/v1.mbox examples/uffd-wp-range/v2.mbox"
expect_exit 0 "kpipe run --shard 2/2 --dry-run shows which cells the part runs" -- \
	$KPIPE -c "$WORK/cfg.ini" run --dry-run --bisect --shard 2/2 $series
expect_match "^plan: shard 2/2 of run [0-9a-f]{16}, 3 of its 6 cells: " "the part's plan: 3 of the run's 6 cells"
expect_match "^  left to the other parts: base/x86_64, v1/x86_64, v2/x86_64$" "the plan names the cells left to the other part"
expect_exit 0 "kpipe run --dry-run --cells 'v2/*': v2 on both arches, with the bases it compares with" -- \
	$KPIPE -c "$WORK/cfg.ini" run --dry-run --cells 'v2/*' $series
expect_match "^plan: part of run [0-9a-f]{16}, 4 of its 6 cells: " "the plan: 4 of the run's 6 cells"
expect_match "^  left to the other parts: v1/x86_64, v1/arm64$" "v1's cells are left out"
expect_exit 2 "kpipe run --cells with a pattern matching nothing: bad input, at once" -- \
	$KPIPE -c "$WORK/cfg.ini" run --cells 'v3/*' $series
expect_match "^kpipe run: --cells 'v3/\*' matches no cell of the plan \(base/x86_64, base/arm64, v1/x86_64, " \
	"the error names the pattern and the cells there are"
for s in 1 2; do
	printf '[paths]\nresults = %s/shard%s\n' "$WORK" "$s" > "$WORK/shard$s.ini"
	expect_exit 1 "kpipe run --shard $s/2 (v1 fails in each)" -- \
		$KPIPE -c "$WORK/shard$s.ini" run --bisect --shard "$s/2" $series
	expect_match "^for the list: nothing yet: 'kpipe report --merge' of every part answers the list$" \
		"shard $s/2 leaves the answer to the list to the merge"
done
part1=$(readlink -f "$WORK/shard1/latest") part2=$(readlink -f "$WORK/shard2/latest")
OUT=$(cut -f1-3 "$part1/summary.tsv" | grep "^cell" | tr '\t' ' ' | tr '\n' ';')
expect_match "^cell base x86_64;cell v1 x86_64;cell v2 x86_64;$" "shard 1/2 ran x86_64's cells, with its base"
OUT=$(cut -f1-3 "$part2/summary.tsv" | grep "^cell" | tr '\t' ' ' | tr '\n' ';')
expect_match "^cell base arm64;cell v1 arm64;cell v2 arm64;$" "shard 2/2 ran arm64's"
no_kpipe_domains
expect_exit 1 "kpipe report --merge of both parts: v1 fails, as in the whole run" -- \
	$KPIPE -c "$WORK/cfg.ini" report --merge --output "$WORK/merged" "$part1" "$part2"
expect_match "^merge: 2 parts of run [0-9a-f]{16} into $WORK/merged$" "the merge says what it joins"
expect_match "^uffd_wp_zap_shmem +pass +pass +FAIL +FAIL +pass +pass" "the merged matrix: base pass, v1 FAIL, v2 pass on both arches"
expect_match "^for the list: checks.json \(8 patchwork checks\), reply.eml \(to Kai Example <kai@example.org>\)$" \
	"the merge answers the list from the mails the parts kept"
OUT=$(python3 tests/integration/compare-summaries.py "$whole/summary.json" "$WORK/merged/summary.json" 2>&1)
printf '%s\n' "$OUT" | grep "^racy" | sed 's/^/# tests whose verdict differed between the whole run and the parts: /'
expect_match "^cells same$" "merged summary.json: the whole run's cells, verdicts, regressions and bisect results"
expect_match "^tests same$" "merged summary.json: every test's verdict as in the whole run"
expect_match "^changes same$" "merged summary.json: the whole run's changes (v2 fixed what v1 broke)"
expect_match "^plan same$" "merged summary.json: one run's plan, no longer a shard"
for f in v1-arm64/console.log v2-x86_64/tests/uffd_wp_zap_shmem.out range-diff-v2.txt report.html junit.xml kcidb.json summary.txt; do
	[ -s "$WORK/merged/$f" ] || failed "merged: no $f"
done
pass "the merged directory holds the parts' cells, logs and range-diff, and every report"
expect_exit 3 "kpipe report --merge of one part alone: the other's cells have no verdict" -- \
	$KPIPE -c "$WORK/cfg.ini" report --merge --output "$WORK/half" "$part1"
expect_match "^v1/arm64: not run: none of the 1 merged part held it$" "the cells of the missing part are not run, saying why"
expect_exit 2 "kpipe report --merge of one part twice: bad input" -- \
	$KPIPE -c "$WORK/cfg.ini" report --merge --output "$WORK/twice" "$part1" "$part1"
expect_match "^kpipe report: v1/x86_64 is in both '$part1' and '$part1'$" "the error names the cell"
expect_exit 2 "kpipe report --merge into a directory that holds something: bad input" -- \
	$KPIPE -c "$WORK/cfg.ini" report --merge --output "$WORK/merged" "$part1" "$part2"
expect_match "^kpipe report: --output '$WORK/merged' is not an empty directory" "the error names the directory"
