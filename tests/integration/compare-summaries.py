# compare-summaries.py A/summary.json B/summary.json: do two runs of one
# plan say the same?  Prints "racy NAMES", then "cells", "tests", "changes"
# and "plan", each "same" or "differ: ...".  Flaky counts as pass (a run
# that saw one failure of it); mm_stress's race on v1's WARNING hits in
# some boots only, so when its v1 verdict differs it is left out, and named.
import json, re, sys
whole, merged = (json.load(open(p)) for p in sys.argv[1:3])
FAILED = ("fail", "timeout", "lost")
def tests(s):  # flaky (failed, then passed when run again) is a pass that one run saw fail once
    return {(c["revision"], c["arch"], t["name"]): "pass" if t["verdict"] == "flaky" else t["verdict"]
            for c in s["cells"] for t in c["tests"]}
# mm_stress's race on v1's WARNING hits in some boots only (as the kcidb check above allows):
# when its v1 verdict differs between the two runs it is left out of the comparison, and
# named; any other difference is one
tw, tm = tests(whole), tests(merged)
racy = sorted({k[2] for k in set(tw) | set(tm) if tw.get(k) != tm.get(k) and k[0] == "v1" and k[2] == "mm_stress"})
def cells(s):
    t = tests(s)
    def racy_regressions(c):  # the racy tests this cell counts as regressions
        return sum(1 for n in racy if t.get((c["revision"], c["arch"], n)) in FAILED and
                   c["baseline"] and t.get((c["baseline"], c["arch"], n)) == "pass")
    return [(c["revision"], c["arch"], c["verdict"], c["regressions"] - racy_regressions(c), c["first_bad_patch"])
            for c in s["cells"]]
def changes(s):
    out = []
    for l in s["changes"]:
        for n in racy:  # out of lists of tests ("fixed: A, B"); a line about it alone goes
            l = re.sub(r"\b%s, " % n, "", l)
            l = re.sub(r", %s\b" % n, "", l)
        if not any(re.search(r"\b%s\b" % n, l) for n in racy):
            out.append(l)
    return out
same_tests = {k: v for k, v in tw.items() if k[2] not in racy} == {k: v for k, v in tm.items() if k[2] not in racy}
print("racy", ",".join(racy) or "none")
print("cells", "same" if cells(whole) == cells(merged) else "differ: %s / %s" % (cells(whole), cells(merged)))
print("tests", "same" if same_tests else "differ")
print("changes", "same" if changes(whole) == changes(merged) and changes(whole) else "differ: %s / %s" % (changes(whole), changes(merged)))
print("plan", "same" if whole["plan"] == merged["plan"] and merged["shard"] is None else "differ")
