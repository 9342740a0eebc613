/* merge: the parts of one run joined; and what a summary keeps of a run for it. */
#include "harness.h"
#include "merge.h"
#include "util.h"
#include "verdict.h"

#include <stdlib.h>
#include <string.h>

static void make_cell(struct cell *c, const char *rev, const char *arch, enum cell_verdict v)
{
	memset(c, 0, sizeof(*c));
	strvec_init(&c->missing_options);
	strvec_init(&c->notes);
	c->revision = strdup(rev);
	c->arch = strdup(arch);
	c->verdict = v;
	if (strcmp(rev, "base"))
		c->baseline = strdup("base");
	c->nr_tests = 1;
	c->tests = calloc(1, sizeof(*c->tests));
	c->tests[0].name = strdup("uffd_wp_zap");
	c->tests[0].verdict = v == CELL_FAIL ? TEST_FAIL : TEST_PASS;
	c->tests[0].ktap.planned = -1;
	c->tests[0].runs = 1;
}

static void part_run(struct results_run *r, const char *plan, const char *shard)
{
	static const char *const whole[] = { "base/x86_64", "base/arm64", "v1/x86_64", "v1/arm64", "v2/x86_64",
					     "v2/arm64" };
	*r = (struct results_run)RESULTS_RUN_INIT;
	r->title = strdup("mm: batch PTEs");
	r->plan = strdup(plan);
	r->shard = shard ? strdup(shard) : NULL;
	for (size_t i = 0; i < 6; i++)
		strvec_push(&r->plan_cells, whole[i]);
}

static void parts_release(struct merge_part *parts, size_t nr)
{
	for (size_t p = 0; p < nr; p++) {
		for (size_t i = 0; i < parts[p].nr; i++)
			results_cell_release(&parts[p].cells[i]);
		free(parts[p].cells);
		results_run_release(&parts[p].run);
	}
}

TEST(summary_keeps_the_run_and_what_merging_needs)
{
	char dir[] = "/tmp/kpipe-merge-XXXXXX";
	struct kperror err = KPERROR_INIT;
	struct cell c;
	struct results_run run, back_run = RESULTS_RUN_INIT;
	struct cell *back = NULL;
	size_t n = 0;
	CHECK(mkdtemp(dir) != NULL);
	make_cell(&c, "v1", "arm64", CELL_FAIL);
	c.tests[0].runs = 3;
	c.tests[0].failures = 2;
	c.tests[0].exit_code = 1;
	results_add_note(&c, "uffd_wp_zap failed on a kernel tainted W: not run again");
	strvec_push(&c.missing_options, "CONFIG_USERFAULTFD");
	c.branch = strdup("kpipe/mm-batch-abc123/v1");
	c.onto = strdup("0123456789abcdef0123456789abcdef01234567");
	part_run(&run, "00c0ffee00c0ffee", "2/2");
	run.base = strdup("v6.12.9\t(tag)");
	CHECK(results_write_summary(dir, &run, &c, 1, &err) == 0);
	CHECK(results_load_summary(&back, &n, &back_run, dir, &err) == 0);
	CHECK(n == 1);
	if (n == 1) {
		CHECK(back[0].tests[0].runs == 3 && back[0].tests[0].failures == 2 && back[0].tests[0].exit_code == 1);
		CHECK(back[0].notes.nr == 1 && back[0].missing_options.nr == 1);
		CHECK_STR(back[0].missing_options.v[0], "CONFIG_USERFAULTFD");
		CHECK_STR(back[0].branch, "kpipe/mm-batch-abc123/v1");
		CHECK_STR(back[0].onto, c.onto);
	}
	CHECK_STR(back_run.title, "mm: batch PTEs");
	CHECK_STR(back_run.base, "v6.12.9 (tag)"); /* one line, one field */
	CHECK_STR(back_run.plan, "00c0ffee00c0ffee");
	CHECK_STR(back_run.shard, "2/2");
	CHECK(back_run.plan_cells.nr == 6 && !strcmp(back_run.plan_cells.v[5], "v2/arm64"));
	struct buf json = BUF_INIT;
	char *path = util_strfmt("%s/summary.json", dir);
	CHECK(buf_read_file(&json, path) == 0);
	CHECK_CONTAINS(json.data, "\"plan\": \"00c0ffee00c0ffee\"");
	CHECK_CONTAINS(json.data, "\"plan_cells\": [\"base/x86_64\", \"base/arm64\"");
	CHECK_CONTAINS(json.data, "\"changes\": [");
	free(path);
	buf_release(&json);
	for (size_t i = 0; i < n; i++)
		results_cell_release(&back[i]);
	free(back);
	results_cell_release(&c);
	results_run_release(&run);
	results_run_release(&back_run);
	util_rm_rf(dir);
	kperror_release(&err);
}

TEST(parts_joined_in_the_plans_order)
{
	struct merge_part parts[2] = { { "shard-1" }, { "shard-2" } };
	part_run(&parts[0].run, "00c0ffee00c0ffee", "1/2");
	part_run(&parts[1].run, "00c0ffee00c0ffee", "2/2");
	parts[0].cells = calloc(3, sizeof(struct cell));
	parts[0].nr = 3;
	make_cell(&parts[0].cells[0], "v2", "x86_64", CELL_PASS); /* any order in a part */
	make_cell(&parts[0].cells[1], "base", "x86_64", CELL_PASS);
	make_cell(&parts[0].cells[2], "v1", "x86_64", CELL_FAIL);
	parts[1].cells = calloc(3, sizeof(struct cell));
	parts[1].nr = 3;
	make_cell(&parts[1].cells[0], "base", "arm64", CELL_PASS);
	make_cell(&parts[1].cells[1], "base", "x86_64", CELL_INFRA); /* a second base: the first with a verdict wins */
	make_cell(&parts[1].cells[2], "v1", "arm64", CELL_PASS);
	struct cell *cells = NULL;
	long *from = NULL;
	size_t n = 0;
	struct buf why = BUF_INIT;
	CHECK(merge_cells(&cells, &from, &n, parts, 2, &why) == 0);
	CHECK(n == 6);
	if (n == 6) {
		const char *want[] = { "base", "base", "v1", "v1", "v2", "v2" };
		for (size_t i = 0; i < 6; i++)
			CHECK_STR(cells[i].revision, want[i]);
		CHECK(from[0] == 0 && cells[0].verdict == CELL_PASS);
		CHECK(from[1] == 1 && from[2] == 0 && from[3] == 1 && from[4] == 0);
		/* v2/arm64 came in no part: not run, so no verdict for the run */
		CHECK(from[5] == -1 && cells[5].verdict == CELL_NOT_RUN);
		CHECK_STR(cells[5].arch, "arm64");
		CHECK_CONTAINS(cells[5].detail, "none of the 2 merged parts held it");
		results_compare(cells, n);
		CHECK(verdict_exit_code(cells, n) == 3);
		CHECK(verdict_is_regression(cells, n, 2));
	}
	for (size_t i = 0; i < n; i++)
		results_cell_release(&cells[i]);
	free(cells);
	free(from);
	parts_release(parts, 2);
	buf_release(&why);
}

TEST(parts_that_are_not_one_run)
{
	struct merge_part parts[2] = { { "a" }, { "b" } };
	struct cell *cells = NULL;
	long *from = NULL;
	size_t n = 0;
	struct buf why = BUF_INIT;
	/* one revision cell in two parts */
	for (size_t p = 0; p < 2; p++) {
		part_run(&parts[p].run, "00c0ffee00c0ffee", NULL);
		parts[p].cells = calloc(1, sizeof(struct cell));
		parts[p].nr = 1;
		make_cell(&parts[p].cells[0], "v1", "arm64", CELL_PASS);
	}
	CHECK(merge_cells(&cells, &from, &n, parts, 2, &why) < 0);
	CHECK_STR(why.data, "v1/arm64 is in both 'a' and 'b'");
	CHECK(!cells && !n);
	/* another run's part */
	free(parts[1].run.plan);
	parts[1].run.plan = strdup("badbadbadbadbad0");
	buf_reset(&why);
	CHECK(merge_cells(&cells, &from, &n, parts, 2, &why) < 0);
	CHECK_STR(why.data, "'b' is part of run badbadbadbadbad0, 'a' of run 00c0ffee00c0ffee: not one run");
	/* a cell the plan does not have */
	free(parts[0].cells[0].revision);
	parts[0].cells[0].revision = strdup("v7");
	buf_reset(&why);
	CHECK(merge_cells(&cells, &from, &n, parts, 1, &why) < 0);
	CHECK_STR(why.data, "'a' holds v7/arm64, which run 00c0ffee00c0ffee does not have");
	/* a summary from before plans */
	results_run_release(&parts[0].run);
	buf_reset(&why);
	CHECK(merge_cells(&cells, &from, &n, parts, 1, &why) < 0);
	CHECK_CONTAINS(why.data, "'a' has no plan in its summary");
	parts_release(parts, 2);
	buf_release(&why);
}

const struct unit_test merge_tests[] = {
	{ "merge: a summary keeps the run's plan, notes, reruns and branches", summary_keeps_the_run_and_what_merging_needs },
	{ "merge: parts joined in the plan's order, a missing cell not run", parts_joined_in_the_plans_order },
	{ "merge: parts of two runs, one cell twice, a cell of no plan", parts_that_are_not_one_run },
	{ NULL, NULL },
};
