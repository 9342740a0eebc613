# kpipe watch on a real inbox: Debian's public-inbox makes a v2 inbox
# (public-inbox-init -V2) and delivers each mail (public-inbox-mda), as a
# list server does.  Delivered: the example's v1 and a review reply, a day
# later its v2, a lone patch of another author, and two of the three
# patches of a third series.  'watch --once' must run v1, v2 (compared
# with v1, loaded from v1's run) and the lone patch, once each, and wait
# for the third series; a second watch runs nothing; the third series
# runs once its last patch arrives.  Then the same mails through a
# maildir.  x86_64 and one guest test, so it costs incremental builds.
T=watch
. "$(dirname "$0")/lib.bash"
FX=tests/fixtures/watch

if ! command -v public-inbox-mda >/dev/null; then
	failed "public-inbox is not installed (scripts/install-deps installs it)"
	exit 1
fi
export PI_CONFIG="$WORK/pi-config"
HOME="$WORK" public-inbox-init -V2 mm "$WORK/inbox" http://example.org/mm linux-mm@kvack.org > "$WORK/init.log" 2>&1 ||
	{ failed "public-inbox-init: $(tail -3 "$WORK/init.log")"; exit 1; }
git config -f "$PI_CONFIG" publicinboxmda.spamcheck none
deliver() { # FILE...: each file one mail, delivered by public-inbox-mda
	local f
	for f in "$@"; do
		if ! HOME="$WORK" ORIGINAL_RECIPIENT=linux-mm@kvack.org public-inbox-mda < "$f" > "$WORK/mda.log" 2>&1; then
			failed "public-inbox-mda refused $f: $(tail -2 "$WORK/mda.log")"
		fi
	done
}
# the example's mboxes, one file per mail
for v in 1 2; do
	awk -v d="$WORK/ex-v$v" 'BEGIN { n = 0 } /^From [0-9a-f]+ Mon Sep 17/ { n++ } { print > (d "-" n ".eml") }' \
		examples/uffd-wp-range/v$v.mbox
done
deliver "$WORK"/ex-v1-*.eml "$FX/review.eml" "$WORK"/ex-v2-*.eml "$FX/other.eml" "$FX/third-0.eml" \
	"$FX/third-1.eml" "$FX/third-2.eml"
[ "$(git -C "$WORK/inbox/git/0.git" rev-list --count HEAD 2>/dev/null)" = 11 ] &&
	pass "public-inbox holds the 11 mails delivered" ||
	failed "public-inbox holds $(git -C "$WORK/inbox/git/0.git" rev-list --count HEAD 2>&1) mails, not 11"

printf '[paths]\nresults = %s/results\nhistory = %s/history.sqlite\n[build]\narches = x86_64\n[test]\ntests = uffd_wp_zap_shmem\nselftests = none\n' \
	"$WORK" "$WORK" > "$WORK/cfg.ini"
expect_exit 0 "watch --dry-run" -- $KPIPE -c "$WORK/cfg.ini" watch --once --dry-run "$WORK/inbox"
expect_match "^inbox .*: 11 new mails, 10 patches or cover letters kept" "the review reply is no patch"
expect_match "^  v2: not tested yet: would run: kpipe run .*/v2.mbox$" "--dry-run lists v2 and runs nothing"
[ -z "$(ls "$WORK/results" 2>/dev/null)" ] && pass "--dry-run made no run" || failed "--dry-run ran something"

expect_exit 1 "watch --once (v1 fails)" -- $KPIPE -c "$WORK/cfg.ini" watch --once "$WORK/inbox"
printf '%s\n' "$OUT" | grep -E "^(inbox|series|  v[0-9])" | sed 's/^/#   /'
expect_match "^inbox .*: 11 new mails, 10 patches or cover letters kept" "--dry-run kept no position: the same 11 mails"
expect_match "^series 'mm/memory: factor out batched uffd-wp marker install' from Kai Example <kai@example.org>" \
	"v1 and v2 are one series (same title and author)"
expect_match "^  v1: fail, recorded " "v1 ran and failed"
expect_match "^  v2: new: testing it, compared with the one before$" "v2 ran against v1"
expect_match "^\[v1 x86_64\] tested before: fail, loaded from " "v2's run loaded v1 from v1's run, not built again"
expect_match "^  v2: pass, recorded " "v2 passed"
expect_match "^  v2: patch 1/2 changed \(mm/memory: add pte_install_uffd_wp_range_if_needed\(\)\)" \
	"v2's run says which patch changed since v1"
expect_match "^series 'mm/mlock: a comment' from Lee Other" "the lone patch is a series of its own"
expect_match "^series 'mm: say what the syscalls do' from Tri Author <tri@example.org>" "the third series is found"
expect_match "^  v1: waiting: 2 of 3 patches arrived$" "the third series waits for its last patch"
runs=$(ls "$WORK/results" | grep -vc '^latest$')
[ "$runs" -eq 3 ] && pass "three runs: v1, v2, the lone patch" || failed "$runs runs, not 3: $(ls "$WORK/results")"

expect_exit 0 "a second watch --once" -- $KPIPE -c "$WORK/cfg.ini" watch --once "$WORK/inbox"
expect_match "^inbox .*: 0 new mails" "the second watch reads nothing new"
expect_match "^  v2: tested: pass " "v2 is known as tested"
if printf '%s\n' "$OUT" | grep -q "new: testing"; then
	failed "the second watch ran something: $(printf '%s\n' "$OUT" | grep "new: testing")"
else
	pass "the second watch runs nothing"
fi

deliver "$FX/third-3.eml"
expect_exit 0 "watch --once after the last patch of the third series" -- \
	$KPIPE -c "$WORK/cfg.ini" watch --once "$WORK/inbox"
expect_match "^inbox .*: 1 new mail, 1 patch or cover letter kept" "only the new mail is read"
expect_match "^  v1: new: testing it$" "the third series runs now"
expect_match "^  v1: pass, recorded " "and passes"
expect_exit 0 "watch --list" -- $KPIPE -c "$WORK/cfg.ini" watch --list
expect_match "^  v1: tested: fail \(" "--list shows v1's verdict"
expect_match "^  v2: tested: pass \(" "--list shows v2's verdict"

# the same mails through a maildir (delivered the maildir way: tmp/, then new/)
mkdir -p "$WORK/maildir/tmp" "$WORK/maildir/new" "$WORK/maildir/cur"
n=0
for f in "$WORK"/ex-v1-*.eml "$FX/review.eml" "$WORK"/ex-v2-*.eml "$FX/other.eml" "$FX/third-0.eml" \
	"$FX/third-1.eml" "$FX/third-2.eml"; do
	n=$((n + 1))
	cp "$f" "$WORK/maildir/tmp/$n.kpipe-test" && mv "$WORK/maildir/tmp/$n.kpipe-test" "$WORK/maildir/new/"
done
# and a patch no tool can apply: no From: header
printf 'Subject: [PATCH] mm: nobody sent this\nDate: Wed, 2 Dec 2026 12:00:00 +0000\nMessage-ID: <nobody@example.org>\n\nText.\n---\ndiff --git a/mm/mlock.c b/mm/mlock.c\n--- a/mm/mlock.c\n+++ b/mm/mlock.c\n@@ -1 +1 @@\n-a\n+b\n' \
	> "$WORK/maildir/new/nobody.kpipe-test"
sed "s|history = .*|history = $WORK/maildir.sqlite|" "$WORK/cfg.ini" > "$WORK/cfg-maildir.ini"
expect_exit 2 "watch --once on a maildir (v1 fails, one patch is bad input)" -- \
	$KPIPE -c "$WORK/cfg-maildir.ini" watch --once "$WORK/maildir"
expect_match "^  v1: cannot be read: .*/v1.mbox:1: patch 'mm: nobody sent this' has no From: header$" \
	"the bad patch is named, with its file and line"
expect_match "^inbox .*maildir: 12 new mails, 11 patches or cover letters kept" "the maildir's mails are read"
expect_match "^  v1: fail, recorded " "from the maildir: v1 fails"
expect_match "^  v2: pass, recorded " "from the maildir: v2 passes"
expect_match "^series 'mm/mlock: a comment' from Lee Other" "from the maildir: the lone patch"
expect_match "^  v1: waiting: 2 of 3 patches arrived$" "from the maildir: the third series waits"
mv "$WORK/maildir/new/1.kpipe-test" "$WORK/maildir/cur/1.kpipe-test:2,S" # a mail client reads one
expect_exit 0 "a second watch of the maildir" -- $KPIPE -c "$WORK/cfg-maildir.ini" watch --once "$WORK/maildir"
if printf '%s\n' "$OUT" | grep -q "new: testing"; then
	failed "the maildir's second watch ran something"
else
	pass "the maildir's second watch runs nothing (a mail moved to cur/ is no new revision)"
fi
expect_match "^  v1: cannot be read \(as before\): " "the bad patch is said again, not failed on again (exit 0)"
expect_exit 2 "watch of something that is no inbox" -- $KPIPE -c "$WORK/cfg.ini" watch --once "$WORK/results"
expect_match "is neither a public-inbox v2 inbox \(no git/0.git\) nor a maildir" "it says what an inbox is"
no_kpipe_domains
