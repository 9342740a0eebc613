#include "harness.h"
#include "revcmp.h"
#include "series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse1(struct series *s, const char *name, struct kperror *err)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/series/%s", harness_fixtures, name);
	char *paths[] = { path };
	*s = (struct series)SERIES_INIT;
	return series_parse(s, paths, 1, err);
}

TEST(subject_prefixes)
{
	unsigned v, i, t;
	size_t off = series_parse_subject("[PATCH v4 03/12] mm: x", &v, &i, &t);
	CHECK(v == 4 && i == 3 && t == 12);
	CHECK_STR("[PATCH v4 03/12] mm: x" + off, "mm: x");
	off = series_parse_subject("[PATCH mm-unstable v2 1/3] mm/rmap: y", &v, &i, &t);
	CHECK(v == 2 && i == 1 && t == 3);
	series_parse_subject("[RFC PATCH] z", &v, &i, &t);
	CHECK(v == 0 && i == 0 && t == 0);
	series_parse_subject("[PATCH RESEND v7 2/2] w", &v, &i, &t);
	CHECK(v == 7 && i == 2 && t == 2);
	off = series_parse_subject("[RFC][PATCH v2 0/5] cover", &v, &i, &t);
	CHECK(v == 2 && i == 0 && t == 5);
	CHECK_STR("[RFC][PATCH v2 0/5] cover" + off, "cover");
	series_parse_subject("[PATCH V3,1/2] upper", &v, &i, &t);
	CHECK(v == 3 && i == 1 && t == 2);
}

TEST(lore_thread_with_cover_reply_and_folded_subject)
{
	struct series s;
	struct kperror err = KPERROR_INIT;
	CHECK(parse1(&s, "lore-thread.mbox", &err) == 0);
	CHECK(s.nr == 1);
	if (s.nr == 1) {
		struct revision *r = &s.revs[0];
		CHECK(r->version == 3);
		CHECK(r->nr == 2);
		CHECK_STR(r->title, "mm: teach greet() to count");
		CHECK_STR(r->patches[0].subject, "greet: add a line");
		CHECK_STR(r->patches[1].subject, "greet: say it twice");
		CHECK_STR(r->patches[0].author, "\"Tester, Ada\" <ada@example.org>");
		CHECK_STR(r->patches[1].message, "Say hello twice.\nFrom the start this was the plan.\n\nSigned-off-by: Ada Tester <ada@example.org>");
		CHECK(!strncmp(r->patches[1].diff, "diff --git a/hello.txt", 22));
		CHECK(!strstr(r->patches[1].diff, "2.39.5"));
		CHECK(r->patches[0].line == 36);
	}
	CHECK(s.skipped_mails == 2); /* the cover letter and the reply */
	series_release(&s);
	kperror_release(&err);
}

TEST(crlf_single_patch)
{
	struct series s;
	struct kperror err = KPERROR_INIT;
	CHECK(parse1(&s, "crlf.mbox", &err) == 0);
	CHECK(s.nr == 1 && s.revs[0].nr == 1);
	if (s.nr == 1 && s.revs[0].nr == 1) {
		CHECK(s.revs[0].patches[0].index == 1 && s.revs[0].patches[0].total == 1);
		CHECK(!strchr(s.revs[0].patches[0].diff, '\r'));
		CHECK_STR(s.revs[0].patches[0].subject, "greet: add a line");
	}
	series_release(&s);
	kperror_release(&err);
}

TEST(directory_of_patches)
{
	struct series s;
	struct kperror err = KPERROR_INIT;
	CHECK(parse1(&s, "patches-dir", &err) == 0);
	CHECK(s.nr == 1 && s.revs[0].nr == 2);
	if (s.nr == 1 && s.revs[0].nr == 2) {
		CHECK(s.revs[0].version == 1);
		CHECK_STR(s.revs[0].patches[1].subject, "greet: say it twice");
	}
	series_release(&s);
	kperror_release(&err);
}

TEST(several_files_are_revisions_in_order)
{
	char a[256], b[256];
	snprintf(a, sizeof(a), "%s/series/crlf.mbox", harness_fixtures);
	snprintf(b, sizeof(b), "%s/series/patches-dir", harness_fixtures);
	char *paths[] = { a, b };
	struct series s = SERIES_INIT;
	struct kperror err = KPERROR_INIT;
	CHECK(series_parse(&s, paths, 2, &err) == 0);
	CHECK(s.nr == 2);
	if (s.nr == 2) {
		CHECK(s.revs[0].version == 1 && s.revs[0].nr == 1);
		CHECK(s.revs[1].version == 2 && s.revs[1].nr == 2);
	}
	series_release(&s);
	kperror_release(&err);
}

TEST(bad_input_is_named)
{
	struct series s;
	struct kperror err = KPERROR_INIT;
	CHECK(parse1(&s, "missing-patch.mbox", &err) < 0);
	CHECK(err.kind == KPERROR_INPUT);
	CHECK_CONTAINS(err.msg.data, "missing-patch.mbox: v1: patch 2/3 is missing");
	CHECK(parse1(&s, "empty.mbox", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "empty.mbox' is empty");
	CHECK(parse1(&s, "binary.mbox", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "binary.mbox' is not an mbox (binary data)");
	CHECK(parse1(&s, "notes.txt", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "notes.txt' is not an mbox or patch mail");
	CHECK(parse1(&s, "replies-only.mbox", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "replies-only.mbox' holds no patch (1 mail, none with a diff)");
	CHECK(parse1(&s, "no-such-file.mbox", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "cannot read series '");
	CHECK_CONTAINS(err.msg.data, "No such file or directory");
	kperror_release(&err);
}


TEST(mime_quoted_printable_and_encoded_words)
{
	struct series s;
	struct kperror err = KPERROR_INIT;
	CHECK(parse1(&s, "qp.mbox", &err) == 0);
	if (s.nr == 1 && s.revs[0].nr == 1) {
		struct patch *p = &s.revs[0].patches[0];
		CHECK_STR(p->subject, "greet: add a line for caf\xc3\xa9");
		CHECK_STR(p->author, "J\xc3\xb6rg M\xc3\xbcller <jm@example.org>");
		CHECK_CONTAINS(p->message, "Signed-off-by: J\xc3\xb6rg M\xc3\xbcller");
		CHECK_CONTAINS(p->diff, "+end = 1 and a line that is long enough to be wrapped by a quoted-printable encoder, really long\n");
	}
	series_release(&s);
	kperror_release(&err);
}

TEST(mime_base64_body_and_subject)
{
	struct series s;
	struct kperror err = KPERROR_INIT;
	CHECK(parse1(&s, "base64.mbox", &err) == 0);
	if (s.nr == 1 && s.revs[0].nr == 1) {
		CHECK(s.revs[0].version == 2);
		CHECK_STR(s.revs[0].patches[0].subject, "greet: add a line");
		CHECK(!strncmp(s.revs[0].patches[0].diff, "diff --git a/hello.txt", 22));
	}
	series_release(&s);
	kperror_release(&err);
}

TEST(mime_multipart_attachment)
{
	struct series s;
	struct kperror err = KPERROR_INIT;
	CHECK(parse1(&s, "multipart.mbox", &err) == 0);
	if (s.nr == 1 && s.revs[0].nr == 1)
		CHECK_CONTAINS(s.revs[0].patches[0].diff, "+end = 1 and a line");
	series_release(&s);
	kperror_release(&err);
}

TEST(two_revisions_in_one_mbox_resend_and_base_commit)
{
	struct series s;
	struct kperror err = KPERROR_INIT;
	CHECK(parse1(&s, "two-revisions.mbox", &err) == 0);
	CHECK(s.nr == 2);
	if (s.nr == 2) {
		CHECK(s.revs[0].version == 1 && s.revs[0].nr == 2);
		CHECK(s.revs[1].version == 2 && s.revs[1].nr == 2);
		CHECK_CONTAINS(s.revs[1].patches[1].diff, "+more (resent)");
		CHECK_CONTAINS(s.revs[0].patches[1].diff, "+more\n");
		CHECK_STR(s.revs[1].base_commit, "0123456789abcdef0123456789abcdef01234567");
		CHECK(s.revs[0].base_commit == NULL);
		CHECK_STR(s.revs[1].title, "greet: more lines");
	}
	CHECK(s.problems.nr == 1);
	if (s.problems.nr == 1)
		CHECK_CONTAINS(s.problems.v[0], "v2: patch 2/2 appears twice");
	CHECK(s.skipped_mails == 2);
	series_release(&s);
	kperror_release(&err);
}

TEST(a_thousand_patches)
{
	struct buf m = BUF_INIT;
	struct series s = SERIES_INIT;
	struct kperror err = KPERROR_INIT;
	for (int i = 1000; i >= 1; i--)
		buf_addf(&m, "From x Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH v5 %04d/1000] p%d\n"
			     "Date: Tue, 3 Nov 2026 09:00:01 +0000\n\nm\n---\ndiff --git a/f%d b/f%d\n"
			     "new file mode 100644\n--- /dev/null\n+++ b/f%d\n@@ -0,0 +1 @@\n+x\n\n", i, i, i, i, i);
	CHECK(series_parse_buffer(&s, "big.mbox", m.data, m.len, &err) == 0);
	CHECK(s.nr == 1 && s.revs[0].nr == 1000);
	if (s.nr == 1 && s.revs[0].nr == 1000) {
		CHECK(s.revs[0].patches[0].index == 1 && s.revs[0].patches[999].index == 1000);
		CHECK_STR(s.revs[0].patches[41].subject, "p42");
	}
	series_release(&s);
	buf_release(&m);
	kperror_release(&err);
}


static const char one_patch_head[] =
	"From x Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH] big\n"
	"Date: Tue, 3 Nov 2026 09:00:01 +0000\n\nm\n---\n";

TEST(size_limits_are_named)
{
	struct buf m = BUF_INIT;
	struct series s = SERIES_INIT;
	struct kperror err = KPERROR_INIT;
	/* a patch past 16 MiB */
	buf_adds(&m, one_patch_head);
	buf_adds(&m, "diff --git a/f b/f\nnew file mode 100644\n--- /dev/null\n+++ b/f\n@@ -0,0 +1,600000 @@\n");
	while (m.len < ((size_t)SERIES_MAX_PATCH_MIB << 20) + 100)
		buf_adds(&m, "+a line of a patch too big to be a real one\n");
	CHECK(series_parse_buffer(&s, "huge.mbox", m.data, m.len, &err) < 0);
	CHECK(err.kind == KPERROR_INPUT);
	CHECK_CONTAINS(err.msg.data, "huge.mbox:1: patch 'big' is 17 MiB, more than the 16 MiB a patch may be");
	/* a binary patch that says it inflates past it */
	buf_reset(&m);
	buf_adds(&m, one_patch_head);
	buf_adds(&m, "diff --git a/f.bin b/f.bin\nnew file mode 100644\nindex 0000000..1111111\n"
		     "GIT binary patch\nliteral 4294967296\nzcmV?d00001\n\nliteral 0\nHcmV?d00001\n\n");
	CHECK(series_parse_buffer(&s, "bomb.mbox", m.data, m.len, &err) < 0);
	CHECK_CONTAINS(err.msg.data, "bomb.mbox:1: patch 'big' has a binary part that inflates to 4096 MiB");
	/* a file past 64 MiB, read from disk */
	char path[] = "/tmp/kpipe-unit-big-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && ftruncate(fd, ((off_t)SERIES_MAX_FILE_MIB << 20) + 1) == 0);
	close(fd);
	char *paths[] = { path };
	CHECK(series_parse(&s, paths, 1, &err) < 0);
	CHECK(err.kind == KPERROR_INPUT);
	CHECK_CONTAINS(err.msg.data, "is larger than 64 MiB, more than one series may be");
	unlink(path);
	/* more revisions than a series may have */
	buf_reset(&m);
	for (int v = 1; v <= SERIES_MAX_REVISIONS + 1; v++)
		buf_addf(&m, "From x Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH v%d] p\n\nm\n---\n"
			     "diff --git a/f b/f\nnew file mode 100644\n--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+x\n\n", v);
	CHECK(series_parse_buffer(&s, "revs.mbox", m.data, m.len, &err) < 0);
	CHECK_CONTAINS(err.msg.data, "is of a revision past the 256 that one series may have");
	buf_release(&m);
	kperror_release(&err);
}

TEST(duplicates_and_gaps_in_a_long_series)
{
	struct buf m = BUF_INIT;
	struct series s = SERIES_INIT;
	struct kperror err = KPERROR_INIT;
	/* 20,000 patches, each sent twice, the second copy dated later: linear, and the later wins */
	for (int round = 0; round < 2; round++)
		for (int i = 1; i <= 20000; i++)
			buf_addf(&m, "From x Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH %d/20000] p%d-%d\n"
				     "Date: Tue, 3 Nov 2026 09:00:0%d +0000\n\nm\n---\ndiff --git a/f%d b/f%d\n"
				     "new file mode 100644\n--- /dev/null\n+++ b/f%d\n@@ -0,0 +1 @@\n+x\n\n",
				 i, i, round, round, i, i, i);
	CHECK(series_parse_buffer(&s, "twice.mbox", m.data, m.len, &err) == 0);
	CHECK(s.nr == 1 && s.revs[0].nr == 20000 && s.problems.nr == 20000);
	if (s.nr == 1 && s.revs[0].nr == 20000) {
		CHECK_STR(s.revs[0].patches[0].subject, "p1-1");
		CHECK_STR(s.revs[0].patches[19999].subject, "p20000-1");
	}
	series_release(&s);
	/* a gap is named by its number */
	buf_reset(&m);
	for (int i = 1; i <= 5; i++)
		if (i != 4)
			buf_addf(&m, "From x Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH %d/5] p\n\nm\n---\n"
				     "diff --git a/f%d b/f%d\nnew file mode 100644\n--- /dev/null\n+++ b/f%d\n@@ -0,0 +1 @@\n+x\n\n",
				 i, i, i, i);
	CHECK(series_parse_buffer(&s, "gap.mbox", m.data, m.len, &err) < 0);
	CHECK_CONTAINS(err.msg.data, "v1: patch 4/5 is missing (found 4 of 5)");
	buf_release(&m);
	kperror_release(&err);
}

TEST(mail_without_from_line_or_subject)
{
	/* found by the fuzzer: a single mail with no Subject: header */
	struct series s = SERIES_INIT;
	struct kperror err = KPERROR_INIT;
	const char mail[] = "From: A <a@b>\nDate: Tue, 3 Nov 2026 09:00:01 +0000\n\nm\n---\n"
			    "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n";
	CHECK(series_parse_buffer(&s, "nosubject.patch", mail, sizeof(mail) - 1, &err) == 0);
	if (s.nr == 1 && s.revs[0].nr == 1) {
		CHECK_STR(s.revs[0].patches[0].subject, "");
		CHECK_STR(s.revs[0].name, "series");
	}
	series_release(&s);
	kperror_release(&err);
}

TEST(unified_diffs_become_git_diffs)
{
	struct buf out = BUF_INIT;
	unsigned bad = 0;
	/* two files, one deleted; junk between them dropped; "--- x" inside a hunk is a line */
	static const char two[] = "--- a/mm/rmap.c\t2026-12-01\n+++ b/mm/rmap.c\t2026-12-02\n"
				  "@@ -1,2 +1,2 @@\n a\n---- x\n+b\n"
				  "Only in b/mm: new.c\n"
				  "diff -urN a/mm/old.c b/mm/old.c\n"
				  "--- a/mm/old.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n";
	CHECK(series_unified_to_git(&out, two, sizeof(two) - 1, &bad) == 0);
	CHECK_STR(out.data, "diff --git a/mm/rmap.c b/mm/rmap.c\n--- a/mm/rmap.c\n+++ b/mm/rmap.c\n"
			    "@@ -1,2 +1,2 @@\n a\n---- x\n+b\n"
			    "diff --git a/mm/old.c b/mm/old.c\ndeleted file mode 100644\n--- a/mm/old.c\n+++ /dev/null\n"
			    "@@ -1 +0,0 @@\n-gone\n");
	/* a context line whose one space a mailer stripped */
	buf_reset(&out);
	static const char stripped[] = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n\n-c\n+d\n";
	CHECK(series_unified_to_git(&out, stripped, sizeof(stripped) - 1, &bad) == 0);
	CHECK(strstr(out.data, "@@ -1,3 +1,3 @@\n a\n \n-c\n+d\n") != NULL);
	/* cut short, a header that does not read, nothing at all: -1, the hunk's line named */
	buf_reset(&out);
	static const char cut[] = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n";
	CHECK(series_unified_to_git(&out, cut, sizeof(cut) - 1, &bad) == -1 && bad == 3);
	buf_reset(&out);
	static const char garbled[] = "--- a/f\n+++ b/f\n@@ -x +1 @@\n";
	CHECK(series_unified_to_git(&out, garbled, sizeof(garbled) - 1, &bad) == -1 && bad == 3);
	buf_reset(&out);
	CHECK(series_unified_to_git(&out, "no diff\n", 8, &bad) == -1);
	/* where such a diff starts in a mail's text */
	const char *text = "Message.\n\nIndex: f\n=====\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n";
	CHECK(series_find_unified_diff(text) == strstr(text, "Index: f"));
	CHECK(series_find_unified_diff("--- not\n+++ a diff\nat all\n") == NULL);
	buf_release(&out);
}

/* An mbox of patches "[PATCH vV N/M] SUBJECT" each with message MSG and a one-hunk diff at line AT. */
static void add_mail(struct buf *mbox, unsigned v, unsigned n, unsigned m, const char *subject, const char *msg,
		     const char *file, unsigned at, const char *line)
{
	buf_addf(mbox, "From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: A <a@example.org>\n"
		       "Subject: [PATCH v%u %u/%u] %s\nDate: Tue, 3 Nov 2026 09:00:0%u +0000\n\n%s\n---\n"
		       "diff --git a/%s b/%s\nindex 1111111..2222222 100644\n--- a/%s\n+++ b/%s\n"
		       "@@ -%u,2 +%u,3 @@ static int f(void)\n a\n+%s\n b\n",
		 v, n, m, subject, n, msg, file, file, file, file, at, at, line);
}

static int parse_mbox(struct series *s, const struct buf *mbox)
{
	struct kperror err = KPERROR_INIT;
	*s = (struct series)SERIES_INIT;
	int r = series_parse_buffer(s, "test.mbox", mbox->data, mbox->len, &err);
	kperror_release(&err);
	return r;
}

TEST(reroll_patch_by_patch)
{
	struct buf mbox = BUF_INIT, out = BUF_INIT;
	struct strvec changed = STRVEC_INIT;
	struct series s;
	add_mail(&mbox, 1, 1, 3, "mm: a", "Message a.", "mm/a.c", 10, "x = 1;");
	add_mail(&mbox, 1, 2, 3, "mm: b", "Message b.", "mm/b.c", 20, "y = 1;");
	add_mail(&mbox, 1, 3, 3, "mm: c", "Message c.", "mm/c.c", 30, "z = 1;");
	/* v2: a rebased (other line numbers, index and whitespace), b's code changed, c dropped, d new */
	add_mail(&mbox, 2, 1, 3, "mm: a", "Message a.", "mm/a.c", 14, "x  =  1;");
	add_mail(&mbox, 2, 2, 3, "mm: b", "Message b.", "mm/b.c", 20, "y = 2;");
	add_mail(&mbox, 2, 3, 3, "mm: d", "Message d.", "mm/d.c", 40, "w = 1;");
	/* v3: v2 with a's message reworded; v4: v3 again */
	add_mail(&mbox, 3, 1, 3, "mm: a", "Message a, reworded.", "mm/a.c", 14, "x = 1;");
	add_mail(&mbox, 3, 2, 3, "mm: b", "Message b.", "mm/b.c", 20, "y = 2;");
	add_mail(&mbox, 3, 3, 3, "mm: d", "Message d.", "mm/d.c", 40, "w = 1;");
	add_mail(&mbox, 4, 1, 3, "mm: a", "Message a, reworded.", "mm/a.c", 14, "x = 1;");
	add_mail(&mbox, 4, 2, 3, "mm: b", "Message b.", "mm/b.c", 20, "y = 2;");
	add_mail(&mbox, 4, 3, 3, "mm: d", "Message d.", "mm/d.c", 40, "w = 1;");
	CHECK(parse_mbox(&s, &mbox) == 0 && s.nr == 4);
	if (s.nr == 4) {
		CHECK(revcmp_patch_id(s.revs[0].patches[0].diff) == revcmp_patch_id(s.revs[1].patches[0].diff));
		CHECK(revcmp_patch_id(s.revs[0].patches[1].diff) != revcmp_patch_id(s.revs[1].patches[1].diff));
		CHECK(revcmp_describe(&out, &changed, &s.revs[0], &s.revs[1]) == 3);
		CHECK_STR(out.data, "patch 2/3 changed (mm: b); patch 3/3 new (mm: d); patch 3/3 of v1 dropped (mm: c)");
		CHECK(changed.nr == 1 && !strcmp(changed.v[0], "2"));
		CHECK(revcmp_describe(&out, NULL, &s.revs[1], &s.revs[2]) == 0);
		CHECK_STR(out.data, "only the commit messages changed (patch 1/3)");
		CHECK(revcmp_describe(&out, NULL, &s.revs[2], &s.revs[3]) == 0);
		CHECK_STR(out.data, "the same patches as v3");
	}
	CHECK(revcmp_patch_id("") == 0);
	series_release(&s);
	strvec_clear(&changed);
	buf_release(&mbox);
	buf_release(&out);
}

const struct unit_test series_tests[] = {
	{ "series: what a reroll changed, patch by patch (patch-id, then subject)", reroll_patch_by_patch },
	{ "series: quilt and diff -u diffs get git's headers, by hunk counts", unified_diffs_become_git_diffs },
	{ "series: size limits (file, patch, binary inflation, revisions) are named", size_limits_are_named },
	{ "series: 20,000 patches sent twice: the later copies win, gaps named", duplicates_and_gaps_in_a_long_series },
	{ "series: subject prefixes", subject_prefixes },
	{ "series: lore thread with cover, reply and folded subject", lore_thread_with_cover_reply_and_folded_subject },
	{ "series: CRLF single patch", crlf_single_patch },
	{ "series: directory of .patch files", directory_of_patches },
	{ "series: several files are revisions in order", several_files_are_revisions_in_order },
	{ "series: bad input is named", bad_input_is_named },
	{ "series: MIME quoted-printable and encoded words", mime_quoted_printable_and_encoded_words },
	{ "series: MIME base64 body and subject", mime_base64_body_and_subject },
	{ "series: MIME multipart attachment", mime_multipart_attachment },
	{ "series: two revisions in one mbox, RESEND, base-commit", two_revisions_in_one_mbox_resend_and_base_commit },
	{ "series: a thousand patches", a_thousand_patches },
	{ "series: mail without From_ line or Subject (fuzzer)", mail_without_from_line_or_subject },
	{ NULL, NULL },
};
