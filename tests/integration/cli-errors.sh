# Bad input gets a one-line error naming the file/line/patch and exit 2;
# a failing patch leaves no branch; a user's own tree is never written.
T=cli-errors
. "$(dirname "$0")/lib.bash"
F=tests/fixtures/series

expect_exit 2 "unknown command" -- $KPIPE frobnicate
expect_match "'frobnicate' is not a kpipe command" "unknown command is named"

expect_exit 2 "missing series file" -- $KPIPE run /nonexistent/v1.mbox
expect_match "^kpipe run: cannot read series '/nonexistent/v1.mbox': No such file or directory$" "missing file is named"

printf '[vm]\nmemory = 2048\nmemroy = 4096\n' > "$WORK/typo.ini"
expect_exit 2 "INI with a typo" -- $KPIPE -c "$WORK/typo.ini" run $F/lore-thread.mbox
expect_match "$WORK/typo.ini:3: unknown key 'memroy' in \[vm\]" "INI error names file and line"

expect_exit 2 "mbox that is not one" -- $KPIPE run $F/binary.mbox
expect_match "binary.mbox' is not an mbox" "binary file is named"
expect_exit 2 "series with a missing patch" -- $KPIPE series $F/missing-patch.mbox
expect_match "v1: patch 2/3 is missing" "missing patch 2/3 is named"

before=$(git -C /var/cache/kpipe/linux branch --list 'kpipe/*' 2>/dev/null | wc -l)
expect_exit 2 "patch for another tree" -- $KPIPE apply $F/other-tree.mbox
expect_match "patch 1/1 'drivers/foo: fix bar' does not apply: drivers/foo/bar.c" "failing patch and file are named"
after=$(git -C /var/cache/kpipe/linux branch --list 'kpipe/*' | wc -l)
[ "$before" = "$after" ] && pass "no branch left by the failed apply" || failed "branches went from $before to $after"
[ -z "$(git -C /var/cache/kpipe/linux status --porcelain | head -1)" ] && pass "base worktree untouched" ||
	failed "the base worktree has changes"

# [tree] path: kpipe works in its own repository and borrows the objects
user="$WORK/user-tree"
git init -q -b main "$user" && printf 'hello\nworld\n' > "$user/hello.txt" &&
	git -C "$user" add hello.txt && git -C "$user" -c user.name=u -c user.email=u@u commit -qm base
refs_before=$(git -C "$user" for-each-ref | md5sum)
printf '[paths]\ncache = %s/cache\n[tree]\npath = %s\nbase = main\n' "$WORK" "$user" > "$WORK/user.ini"
expect_exit 0 "apply onto a user's tree" -- $KPIPE -c "$WORK/user.ini" apply $F/lore-thread.mbox
expect_match "v3: kpipe/mm-teach-greet-to-count-[0-9a-f]{6}/v3 -> " "the revision is applied as a branch"
[ "$(git -C "$user" for-each-ref | md5sum)" = "$refs_before" ] && [ -z "$(git -C "$user" status --porcelain)" ] &&
	pass "the user's refs and worktree are untouched" || failed "the user's tree was changed"
# a series that names another series' commit as its base stands on the configured base
other=$(printf '%s\n' "$OUT" | sed -n 's/^v3: kpipe.* -> \([0-9a-f]\{40\}\) .*/\1/p')
sed "s/^This is the cover letter.$/This is the cover letter.\n\nbase-commit: $other/; s/ada@example.org/mallory@example.org/" \
	$F/lore-thread.mbox > "$WORK/stands-on-another.mbox"
expect_exit 0 "apply a series whose base-commit is another series' commit" -- \
	$KPIPE -c "$WORK/user.ini" apply "$WORK/stands-on-another.mbox"
expect_match "^v3: onto the configured base: [0-9a-f]{12} base \(main\): base-commit ${other:0:12} is only on another series' branch, not in the base's history$" \
	"it is applied onto the configured base, saying why"
expect_match "^v3: kpipe/mm-teach-greet-to-count-[0-9a-f]{6}/v3 -> " "as a branch of its own"
branches=$(git -C "$(echo "$WORK"/cache/trees/*)" branch --list 'kpipe/mm-teach-greet-to-count-*/v3' | wc -l)
[ "$branches" -eq 2 ] && pass "two senders, one subject: two branches, the first one unmoved" ||
	failed "$branches branches for the two series with one subject, wanted 2"
# Ctrl-C while applying a long series: exit 130 at once, no branch half-made
python3 - "$WORK/long.mbox" <<'PY'
import sys
n = 10000
with open(sys.argv[1], "w") as f:
    for i in range(1, n + 1):
        f.write(f"From x Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\nSubject: [PATCH {i}/{n}] long: add f{i}\n"
                f"Date: Tue, 3 Nov 2026 09:00:00 +0000\n\nm\n---\ndiff --git a/f{i} b/f{i}\nnew file mode 100644\n"
                f"--- /dev/null\n+++ b/f{i}\n@@ -0,0 +1 @@\n+x\n\n")
PY
tree_dir=$(echo "$WORK"/cache/trees/*)
branches_before=$(git -C "$tree_dir" branch --list 'kpipe/*' | wc -l)
$KPIPE -c "$WORK/user.ini" apply "$WORK/long.mbox" > "$WORK/long.out" 2>&1 &
applier=$!
wait_for_line "$WORK/long.out" "^base: " $applier
sleep 2
kill -INT $applier
started=$(date +%s)
wait $applier
rc=$?
took=$(($(date +%s) - started))
OUT=$(cat "$WORK/long.out")
[ "$rc" -eq 130 ] && pass "Ctrl-C while applying 10,000 patches: exit 130 (after ${took} s)" ||
	failed "Ctrl-C while applying: exit $rc after $took s"
expect_match "^kpipe apply: interrupted while applying v1 \(patch [0-9]+ of 10000\)$" "it says where it stopped"
[ "$(git -C "$tree_dir" branch --list 'kpipe/*' | wc -l)" -eq "$branches_before" ] &&
	pass "no branch was made for the interrupted series" || failed "a branch was left for the interrupted series"
expect_exit 2 "base that is not in the user's tree" -- \
	sh -c "printf '[tree]\npath = $user\nbase = no-such-ref\n' > $WORK/bad.ini && $KPIPE -c $WORK/bad.ini apply $F/lore-thread.mbox"
expect_match "\[tree\] base 'no-such-ref' is not a commit" "bad base is named"

expect_exit 2 "a mail cut short inside a hunk" -- $KPIPE series $F/truncated.mbox
expect_match "truncated.mbox:1: v1 patch 1/1 'mm/memory: add zap_count_uffd_wp\(\)' is not a valid diff: invalid patch hunk, expected 6 old lines and 15 new lines" \
	"the truncated patch is named"
expect_exit 2 "kpipe run refuses it before building" -- $KPIPE run $F/truncated.mbox
expect_match "^kpipe run: .*truncated.mbox:1: .*is not a valid diff" "run names it too"

# bad input is said at once, even while another kpipe holds the cache
mkdir -p /var/cache/kpipe
flock /var/cache/kpipe/kpipe.lock sleep 60 &
holder=$!
sleep 0.5
expect_exit 2 "a missing series while another kpipe holds the cache" -- timeout 20 $KPIPE run "$WORK/missing.mbox"
expect_match "^kpipe run: cannot read series '$WORK/missing.mbox': No such file or directory$" \
	"it is named at once, without waiting for the lock"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# --dry-run: the plan, and nothing built, booted or kept
printf '[paths]\nresults = %s/results\n' "$WORK" > "$WORK/dry.ini"
expect_exit 0 "kpipe run --dry-run" -- $KPIPE -c "$WORK/dry.ini" run --dry-run --bisect \
	examples/uffd-wp-range/v1.mbox examples/uffd-wp-range/v2.mbox
expect_match "^plan: 6 cells: [0-9] kernel builds \(one at a time\), [0-9] guests \([0-9]+ at a time\), [0-2] cached$" \
	"the plan counts builds, guests and cached cells"
expect_match "^  1\. base/x86_64: (cached: loaded, not built|build, boot and test, keep in the cache)$" \
	"the base comes first, from the cache or tested and kept"
expect_match "^  4\. v1/arm64: apply, build, boot and test, bisect if it regresses \(2 patches\); compared with base/arm64$" \
	"each revision is compared with the base of its arch"
expect_match "^  5\. v2/x86_64: .*; compared with base/x86_64; changes since v1$" "and with the revision before"
expect_match "^  tests on arm64 \([0-9]+\): .*uffd_wp_zap_shmem.*; mm selftests: touched$" "the tests each arch runs"
if printf '%s\n' "$OUT" | grep -q "build: started\|boot: started"; then
	failed "a dry run built or booted something"
else
	pass "a dry run builds and boots nothing"
fi
[ ! -e "$WORK/results" ] && pass "a dry run makes no results directory" || failed "a dry run made $WORK/results"
