/* verdict: every cell verdict of a revision against every state of its baseline. */
#include "harness.h"
#include "report.h"
#include "verdict.h"

#include <stdlib.h>

/* A cell in state 'v'; "fail" cells fail test 't', the others pass it or have no tests. */
static void make_cell(struct cell *c, const char *rev, enum cell_verdict v)
{
	memset(c, 0, sizeof(*c));
	strvec_init(&c->missing_options);
	c->revision = strdup(rev);
	c->arch = strdup("x86_64");
	c->dir = strdup("/nonexistent");
	c->verdict = v;
	if (v != CELL_PASS && v != CELL_FAIL)
		return;
	c->nr_tests = 1;
	c->tests = calloc(2, sizeof(struct test_result));
	c->tests[0].name = strdup("t");
	c->tests[0].verdict = v == CELL_FAIL ? TEST_FAIL : TEST_PASS;
	c->tests[0].ktap.planned = -1;
}

static const enum cell_verdict all_verdicts[] = { CELL_PASS, CELL_FAIL, CELL_APPLY_FAILED, CELL_BUILD_FAILED,
						  CELL_BOOT_FAILED, CELL_INFRA, CELL_NOT_RUN };
#define NR_VERDICTS (sizeof(all_verdicts) / sizeof(all_verdicts[0]))

/* What a revision in state 'r' is against a baseline in state 'b' (-1: no baseline). */
static enum verdict_class expected(enum cell_verdict r, int b)
{
	switch (r) {
	case CELL_PASS: return VERDICT_PASS;
	case CELL_APPLY_FAILED: return VERDICT_BAD_INPUT;
	case CELL_INFRA: case CELL_NOT_RUN: return VERDICT_INFRA;
	default: break;
	}
	/* a failure is the series' unless the baseline failed the very same way */
	return b == (int)r ? VERDICT_PREEXISTING : VERDICT_REGRESSION;
}

TEST(every_verdict_against_every_baseline)
{
	for (size_t bi = 0; bi <= NR_VERDICTS; bi++) {
		int b = bi < NR_VERDICTS ? (int)all_verdicts[bi] : -1; /* last round: no baseline */
		if (b == CELL_APPLY_FAILED)
			continue; /* the base is never applied */
		for (size_t ri = 0; ri < NR_VERDICTS; ri++) {
			enum cell_verdict r = all_verdicts[ri];
			struct cell c[2];
			make_cell(&c[0], "base", b < 0 ? CELL_PASS : (enum cell_verdict)b);
			make_cell(&c[1], "v1", r);
			if (b >= 0)
				c[1].baseline = strdup("base");
			size_t n = b < 0 ? 1 : 2;
			struct cell *cells = b < 0 ? &c[1] : c;
			results_compare(cells, n);
			enum verdict_class got = verdict_classify(cells, n, n - 1), want = expected(r, b);
			if (got != want)
				printf("#   revision %s against baseline %s: class %d, want %d\n",
				       results_cell_verdict_name(r), b < 0 ? "(none)" : results_cell_verdict_name(b),
				       got, want);
			CHECK(got == want);
			int code = verdict_exit_code(cells, n);
			int want_code = want == VERDICT_REGRESSION ? 1 : want == VERDICT_BAD_INPUT ? 2 :
					want == VERDICT_INFRA ? 3 : 0;
			if (b == CELL_INFRA || b == CELL_NOT_RUN)
				want_code = 3; /* the baseline itself has no verdict */
			CHECK(code == want_code);
			/* the matrix and report.html say the same thing */
			char scratch[32];
			const char *label = verdict_label(cells, n, n - 1, scratch);
			struct buf html = BUF_INIT, cellhtml = BUF_INIT;
			report_html(&html, "s", NULL, cells, n);
			buf_addf(&cellhtml, "<td class=\"%s\"><a href=\"v1-x86_64/console.log\">%s</a></td>",
				 verdict_html_class(cells, n, n - 1), label);
			CHECK_CONTAINS(html.data, cellhtml.data);
			if (want == VERDICT_REGRESSION || want == VERDICT_BAD_INPUT || want == VERDICT_INFRA)
				CHECK(label[0] >= 'A' && label[0] <= 'Z');
			else if (want == VERDICT_PREEXISTING)
				CHECK_STR(label, "pre-existing");
			else
				CHECK_STR(label, "pass");
			buf_release(&html);
			buf_release(&cellhtml);
			results_cell_release(&c[0]);
			results_cell_release(&c[1]);
		}
	}
}

TEST(baseline_cells_and_apply_failures)
{
	struct cell c[3];
	make_cell(&c[0], "base", CELL_FAIL);
	make_cell(&c[1], "v1", CELL_APPLY_FAILED);
	make_cell(&c[2], "v2", CELL_FAIL);
	c[1].baseline = strdup("base");
	c[2].baseline = strdup("base");
	results_compare(c, 3);
	char scratch[32];
	/* the base's own failure is what revisions are compared with: shown, not blamed */
	CHECK(verdict_classify(c, 3, 0) == VERDICT_BASELINE);
	CHECK_STR(verdict_label(c, 3, 0, scratch), "fail");
	CHECK_STR(verdict_html_class(c, 3, 0), "base");
	/* a revision that did not apply is bad input everywhere, never pre-existing */
	CHECK(verdict_classify(c, 3, 1) == VERDICT_BAD_INPUT);
	CHECK_STR(verdict_label(c, 3, 1, scratch), "APPLY-FAILED");
	CHECK_STR(verdict_html_class(c, 3, 1), "fail");
	CHECK(verdict_classify(c, 3, 2) == VERDICT_PREEXISTING);
	CHECK(verdict_exit_code(c, 3) == 2);
	struct buf junit = BUF_INIT;
	report_junit(&junit, "s", c, 3);
	CHECK_CONTAINS(junit.data, "<testsuite name=\"v1/x86_64\" tests=\"1\" failures=\"1\" errors=\"0\"");
	buf_release(&junit);
	for (int i = 0; i < 3; i++)
		results_cell_release(&c[i]);
}

TEST(a_cell_that_did_not_run_all_its_tests_is_no_pass)
{
	struct cell c[2];
	make_cell(&c[0], "base", CELL_FAIL);
	make_cell(&c[1], "v1", CELL_FAIL);
	c[1].baseline = strdup("base");
	/* v1 fails t as the base does, but a second test never ran */
	c[1].tests[1].name = strdup("u");
	c[1].tests[1].verdict = TEST_NOT_RUN;
	c[1].tests[1].ktap.planned = -1;
	c[1].nr_tests = 2;
	results_compare(c, 2);
	CHECK(c[1].regressions == 0);
	CHECK(verdict_classify(c, 2, 1) == VERDICT_REGRESSION);
	CHECK(verdict_exit_code(c, 2) == 1);
	/* not even a cell whose tests that ran all passed */
	c[1].verdict = CELL_PASS;
	c[1].tests[0].verdict = TEST_PASS;
	results_compare(c, 2);
	CHECK(verdict_classify(c, 2, 1) == VERDICT_REGRESSION);
	/* an infrastructure error is no verdict, and says so in JUnit */
	c[1].verdict = CELL_INFRA;
	results_set_detail(&c[1], "lost the connection to libvirt");
	CHECK(verdict_classify(c, 2, 1) == VERDICT_INFRA);
	CHECK(verdict_exit_code(c, 2) == 3);
	struct buf junit = BUF_INIT;
	report_junit(&junit, "s", c, 2);
	CHECK_CONTAINS(junit.data, "errors=\"1\"");
	CHECK_CONTAINS(junit.data, "<error message=\"lost the connection to libvirt\"/>");
	buf_release(&junit);
	for (int i = 0; i < 2; i++)
		results_cell_release(&c[i]);
}

TEST(settle_from_tests_splats_and_patch_builds)
{
	struct cell c;
	make_cell(&c, "v1", CELL_PASS);
	c.verdict = CELL_NOT_RUN;
	verdict_settle(&c, 0);
	CHECK(c.verdict == CELL_PASS && !c.detail);

	c.tests[0].verdict = TEST_TIMEOUT;
	c.tests[0].reason = strdup("still running after 8 s");
	verdict_settle(&c, 0);
	CHECK(c.verdict == CELL_FAIL);
	CHECK_STR(c.detail, "t: timeout: still running after 8 s");
	results_cell_release(&c);

	/* an ignored splat is no failure, a counted one is */
	make_cell(&c, "v1", CELL_PASS);
	splat_add(&c.splats, "WARNING in zap_pte_range", "report");
	c.splats.v[0].ignored = 1;
	verdict_settle(&c, 0);
	CHECK(c.verdict == CELL_PASS);
	c.splats.v[0].ignored = 0;
	verdict_settle(&c, 0);
	CHECK(c.verdict == CELL_FAIL);
	CHECK_STR(c.detail, "kernel splat: WARNING in zap_pte_range");
	results_cell_release(&c);

	/* the guest died with every test passed: a failure */
	make_cell(&c, "v1", CELL_PASS);
	verdict_settle(&c, 1);
	CHECK(c.verdict == CELL_FAIL);
	CHECK_STR(c.detail, "the guest died during the tests");
	results_cell_release(&c);

	/* a verdict already reached stays */
	make_cell(&c, "v1", CELL_BOOT_FAILED);
	verdict_settle(&c, 1);
	CHECK(c.verdict == CELL_BOOT_FAILED);
	results_cell_release(&c);
}

const struct unit_test verdict_tests[] = {
	{ "verdict: every revision verdict against every baseline", every_verdict_against_every_baseline },
	{ "verdict: baselines and apply failures", baseline_cells_and_apply_failures },
	{ "verdict: a cell that did not run all its tests is no pass", a_cell_that_did_not_run_all_its_tests_is_no_pass },
	{ "verdict: settled from tests, splats and patch builds", settle_from_tests_splats_and_patch_builds },
	{ NULL, NULL },
};
