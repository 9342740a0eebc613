/* feedback: the thread a revision came as, patchwork checks per patch, the reply mail. */
#include "harness.h"
#include "feedback.h"
#include "series.h"

#include <stdlib.h>

static const char thread_mbox[] =
	"From x Mon Sep 17 00:00:00 2001\n"
	"From: Ada Tester <ada@example.org>\n"
	"To: linux-mm@kvack.org\n"
	"Cc: Bob Maintainer <bob@example.org>,\n"
	" carol@example.org\n"
	"Subject: [PATCH v2 1/2] mm: one\n"
	"Date: Mon, 1 Dec 2026 10:00:00 +0000\n"
	"Message-ID: <20261201-one@example.org>\n"
	"\n"
	"One.\n"
	"---\n"
	"diff --git a/a.c b/a.c\n"
	"--- a/a.c\n"
	"+++ b/a.c\n"
	"@@ -1 +1 @@\n"
	"-a\n"
	"+b\n"
	"\n"
	"From x Mon Sep 17 00:00:00 2001\n"
	"From: Ada Tester <ada@example.org>\n"
	"To: linux-mm@kvack.org\n"
	"Subject: [PATCH v2 0/2] mm: the series\n"
	"Date: Mon, 1 Dec 2026 10:00:00 +0000\n"
	"Message-ID: <20261201-cover@example.org>\n"
	"\n"
	"The cover letter.\n"
	"\n"
	"---\n"
	"base-commit: 0123456789abcdef0123456789abcdef01234567\n"
	"change-id: 20261120-series-4f6a1b2c3d4e\n"
	"\n"
	"From x Mon Sep 17 00:00:00 2001\n"
	"From: Ada Tester <ada@example.org>\n"
	"Subject: [PATCH v2 2/2] mm: two\n"
	"Date: Mon, 1 Dec 2026 10:00:00 +0000\n"
	"Message-ID: <20261201-two@example.org>\n"
	"\n"
	"Two.\n"
	"---\n"
	"diff --git a/b.c b/b.c\n"
	"--- a/b.c\n"
	"+++ b/b.c\n"
	"@@ -1 +1 @@\n"
	"-a\n"
	"+b\n";

static int parse_thread(struct series *s)
{
	struct kperror err = KPERROR_INIT;
	int r = series_parse_buffer(s, "thread.mbox", thread_mbox, sizeof(thread_mbox) - 1, &err);
	if (r < 0)
		printf("#   %s\n", err.msg.data);
	kperror_release(&err);
	return r;
}

TEST(thread_of_a_revision)
{
	struct series s;
	CHECK(parse_thread(&s) == 0 && s.nr == 1);
	if (s.nr == 1) {
		const struct revision *r = &s.revs[0];
		/* the cover letter wins over patch 1, read before it */
		CHECK_STR(r->thread_msgid, "20261201-cover@example.org");
		CHECK_STR(r->thread_subject, "[PATCH v2 0/2] mm: the series");
		CHECK_STR(r->to, "linux-mm@kvack.org");
		CHECK_STR(r->cc, "");
		CHECK_STR(r->author, "Ada Tester <ada@example.org>");
		CHECK_STR(r->change_id, "20261120-series-4f6a1b2c3d4e");
		CHECK_STR(r->patches[0].msgid, "20261201-one@example.org");
		CHECK_STR(r->patches[1].msgid, "20261201-two@example.org");
	}
	series_release(&s);
}

static void make_cell(struct cell *c, const char *rev, enum cell_verdict v)
{
	memset(c, 0, sizeof(*c));
	strvec_init(&c->missing_options);
	strvec_init(&c->notes);
	c->revision = strdup(rev);
	c->arch = strdup("x86_64");
	c->verdict = v;
	c->baseline = strcmp(rev, "base") ? strdup("base") : NULL;
	c->nr_tests = 1;
	c->tests = calloc(1, sizeof(struct test_result));
	c->tests[0].name = strdup("t");
	c->tests[0].verdict = v == CELL_FAIL ? TEST_FAIL : TEST_PASS;
	c->tests[0].ktap.planned = -1;
	if (v == CELL_FAIL)
		c->detail = strdup("t failed");
	c->regressions = v == CELL_FAIL && strcmp(rev, "base");
}

static enum feedback_state state(struct buf *d, struct cell *c, unsigned index)
{
	return feedback_patch_state(d, c, 2, 1, index);
}

TEST(patch_states)
{
	struct cell c[2];
	struct buf d = BUF_INIT;
	make_cell(&c[0], "base", CELL_PASS);
	make_cell(&c[1], "v2", CELL_PASS);
	CHECK(state(&d, c, 1) == FEEDBACK_SUCCESS);
	CHECK_STR(d.data, "builds, boots and passes 1 test on x86_64");
	results_cell_release(&c[1]);

	/* a regression: without bisect every patch fails; with it, those before the first bad pass */
	make_cell(&c[1], "v2", CELL_FAIL);
	CHECK(state(&d, c, 1) == FEEDBACK_FAIL);
	CHECK_STR(d.data, "the series fails on x86_64: t failed");
	c[1].first_bad = strdup("2/2 'mm: two'");
	CHECK(state(&d, c, 1) == FEEDBACK_SUCCESS);
	CHECK_STR(d.data, "good on x86_64: the first bad patch is 2");
	CHECK(state(&d, c, 2) == FEEDBACK_FAIL);
	CHECK_STR(d.data, "first bad patch on x86_64: t failed");
	free(c[1].first_bad);
	c[1].first_bad = strdup("1/2 'mm: one'");
	CHECK(state(&d, c, 2) == FEEDBACK_FAIL);
	CHECK_STR(d.data, "fails on x86_64 from patch 1 on: t failed");
	free(c[1].first_bad);
	c[1].first_bad = strdup("undecided: patch 1/2 'mm: one' does not build; the first bad patch is one of 1..2");
	CHECK(state(&d, c, 1) == FEEDBACK_FAIL);
	results_cell_release(&c[1]);

	/* the base fails the same way: not the series' fault */
	results_cell_release(&c[0]);
	make_cell(&c[0], "base", CELL_FAIL);
	make_cell(&c[1], "v2", CELL_FAIL);
	c[1].regressions = 0;
	CHECK(state(&d, c, 1) == FEEDBACK_WARNING);
	CHECK_CONTAINS(d.data, "fails only as the unpatched base does");
	results_cell_release(&c[1]);

	/* patch 2 did not apply: it fails, the rest were not tested */
	make_cell(&c[1], "v2", CELL_APPLY_FAILED);
	c[1].detail = strdup("patch 2/2 'mm: two' does not apply: b.c: hunk #1 failed");
	CHECK(state(&d, c, 2) == FEEDBACK_FAIL);
	CHECK_STR(d.data, "patch 2/2 'mm: two' does not apply: b.c: hunk #1 failed");
	CHECK(state(&d, c, 1) == FEEDBACK_WARNING);
	CHECK_STR(d.data, "not tested: patch 2 of the series does not apply");
	results_cell_release(&c[1]);

	make_cell(&c[1], "v2", CELL_INFRA);
	c[1].detail = strdup("libvirt went away");
	CHECK(state(&d, c, 1) == FEEDBACK_WARNING);
	CHECK_STR(d.data, "no verdict: kpipe or the test machine failed: libvirt went away");
	results_cell_release(&c[1]);

	/* --each-patch: the patch that broke the build fails, one that warns is a warning */
	results_cell_release(&c[0]);
	make_cell(&c[0], "base", CELL_PASS);
	make_cell(&c[1], "v2", CELL_PASS);
	c[1].nr_patch_builds = 2;
	c[1].patch_builds = calloc(2, sizeof(struct patch_build));
	c[1].patch_builds[0].index = 1;
	c[1].patch_builds[0].ok = 1;
	strvec_init(&c[1].patch_builds[0].new_warnings);
	strvec_push(&c[1].patch_builds[0].new_warnings, "mm/a.c: warning: unused variable 'x'");
	c[1].patch_builds[1].index = 2;
	c[1].patch_builds[1].ok = 0;
	c[1].patch_builds[1].error = strdup("mm/b.c:3: error: expected ';'");
	strvec_init(&c[1].patch_builds[1].new_warnings);
	CHECK(state(&d, c, 1) == FEEDBACK_WARNING);
	CHECK_STR(d.data, "adds 1 build warning on x86_64: mm/a.c: warning: unused variable 'x'");
	CHECK(state(&d, c, 2) == FEEDBACK_FAIL);
	CHECK_STR(d.data, "does not build on x86_64: mm/b.c:3: error: expected ';'");
	results_cell_release(&c[0]);
	results_cell_release(&c[1]);
	buf_release(&d);
}

TEST(checks_json_and_reply)
{
	struct series s;
	struct cell c[2];
	struct buf out = BUF_INIT;
	CHECK(parse_thread(&s) == 0 && s.nr == 1);
	make_cell(&c[0], "base", CELL_PASS);
	make_cell(&c[1], "v2", CELL_FAIL);
	c[1].first_bad = strdup("2/2 'mm: two'");
	feedback_checks_json(&out, &s, c, 2, "https://ci.example.org/runs/r1");
	CHECK_CONTAINS(out.data, "{\"msgid\": \"<20261201-one@example.org>\", \"revision\": \"v2\", \"patch\": \"1/2\", "
				 "\"subject\": \"mm: one\", \"state\": \"success\", \"context\": \"kpipe-x86_64\", "
				 "\"description\": \"good on x86_64: the first bad patch is 2\", "
				 "\"target_url\": \"https://ci.example.org/runs/r1/report.html#v2-x86_64\"}");
	CHECK_CONTAINS(out.data, "\"msgid\": \"<20261201-two@example.org>\", \"revision\": \"v2\", \"patch\": \"2/2\", "
				 "\"subject\": \"mm: two\", \"state\": \"fail\"");
	CHECK(!strstr(out.data, "\"revision\": \"base\""));

	/* the reply: to the author, the list on Cc, in the cover letter's thread; no header broken */
	free(s.revs[0].cc);
	s.revs[0].cc = strdup("bob@example.org\r\nBcc: eve@example.org");
	buf_reset(&out);
	CHECK(feedback_reply(&out, &s, "kpipe <ci@example.org>", "Tue, 02 Dec 2026 10:00:00 +0000",
			     "kpipe-1@ci", "kpipe results: x\nFrom the base: pass\n", "https://ci/r1") == 0);
	static const char head[] = "From: kpipe <ci@example.org>\nTo: Ada Tester <ada@example.org>\n"
				   "Cc: linux-mm@kvack.org, bob@example.org  Bcc: eve@example.org\n"
				   "Subject: Re: [PATCH v2 0/2] mm: the series\n";
	CHECK(!strncmp(out.data, head, sizeof(head) - 1));
	CHECK(!strstr(out.data, "\nBcc:"));
	CHECK_CONTAINS(out.data, "\nIn-Reply-To: <20261201-cover@example.org>\nReferences: <20261201-cover@example.org>\n");
	CHECK_CONTAINS(out.data, "\nMessage-ID: <kpipe-1@ci>\n");
	CHECK_CONTAINS(out.data, "\n\nkpipe tested v2 of this series:\n\nkpipe results: x\n From the base: pass\n");
	CHECK_CONTAINS(out.data, "Full results: https://ci/r1/report.html\n");
	/* a revision from commits has no thread: no reply */
	free(s.revs[0].thread_msgid);
	s.revs[0].thread_msgid = NULL;
	CHECK(feedback_reply(&out, &s, "f", "d", "m", "", "u") == -1);
	results_cell_release(&c[0]);
	results_cell_release(&c[1]);
	series_release(&s);
	buf_release(&out);
}

const struct unit_test feedback_tests[] = {
	{ "feedback: a revision's thread: cover letter first, Message-ID, To/Cc, change-id", thread_of_a_revision },
	{ "feedback: the patchwork state of each patch, for every verdict", patch_states },
	{ "feedback: checks.json in patchwork's names, reply.eml in the thread", checks_json_and_reply },
	{ NULL, NULL },
};
