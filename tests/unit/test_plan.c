/* plan: the run decided before anything runs. */
#include "harness.h"
#include "plan.h"

#include <stdlib.h>

static struct strvec two_arches(void)
{
	struct strvec a = STRVEC_INIT;
	strvec_pushl(&a, "x86_64", "arm64", NULL);
	return a;
}

TEST(cells_baselines_and_previous_revisions)
{
	struct strvec arches = two_arches();
	struct plan_revision revs[] = {
		{ "v1", 1, 2, 1, 0 },
		{ "v2", 2, 3, 1, 0 },
		{ "v3", 3, 3, 0, 0 }, /* names a base-commit of its own: nothing to compare with */
	};
	int cached[] = { 1, 0 };
	struct strvec tests[2] = { STRVEC_INIT, STRVEC_INIT };
	strvec_pushl(&tests[0], "mm_stress", "uffd_rwp", NULL);
	strvec_push(&tests[1], "mm_stress");
	struct plan_input in = { .arches = &arches, .revs = revs, .nr_revs = 3, .base_cached = cached,
				 .with_baseline = 1, .guest_slots = 2, .tests = tests, .selftests = "touched" };
	struct plan p;
	plan_make(&p, &in);
	CHECK(p.nr_cells == 8);
	if (p.nr_cells == 8) {
		/* the base first, once per arch: x86_64 from the cache, arm64 tested and kept */
		CHECK_STR(p.cells[0].revision, "base");
		CHECK(p.cells[0].arch == 0 && p.cells[0].steps == PLAN_LOAD);
		CHECK(p.cells[1].arch == 1 && p.cells[1].steps == (PLAN_BUILD | PLAN_GUEST | PLAN_STORE));
		/* then each revision on each arch, compared with the base and the revision before */
		CHECK_STR(p.cells[2].revision, "v1");
		CHECK(p.cells[2].steps == (PLAN_APPLY | PLAN_BUILD | PLAN_GUEST));
		CHECK(p.cells[2].baseline == 0 && p.cells[2].prev == PLAN_NONE);
		CHECK(p.cells[3].baseline == 1 && p.cells[3].arch == 1);
		CHECK_STR(p.cells[5].revision, "v2");
		CHECK(p.cells[5].baseline == 1 && p.cells[5].prev == 3);
		CHECK(p.cells[6].baseline == PLAN_NONE && p.cells[6].prev == 4);
		CHECK(plan_find(&p, 1, 1) == 5 && plan_find(&p, PLAN_NONE, 1) == 1 && plan_find(&p, 7, 0) == PLAN_NONE);
	}
	struct buf text = BUF_INIT;
	plan_describe(&text, &p);
	CHECK_CONTAINS(text.data, "plan: 8 cells: 7 kernel builds (one at a time), 7 guests (2 at a time), 1 cached\n");
	CHECK_CONTAINS(text.data, "  1. base/x86_64: cached: loaded, not built\n");
	CHECK_CONTAINS(text.data, "  2. base/arm64: build, boot and test, keep in the cache\n");
	CHECK_CONTAINS(text.data, "  6. v2/arm64: apply, build, boot and test (3 patches); compared with base/arm64; changes since v1\n");
	CHECK_CONTAINS(text.data, "  7. v3/x86_64: apply, build, boot and test (3 patches); no baseline: every failure counts; changes since v2\n");
	CHECK_CONTAINS(text.data, "  tests on x86_64 (2): mm_stress uffd_rwp; mm selftests: touched\n");
	buf_release(&text);
	plan_release(&p);
	CHECK(p.nr_cells == 0 && !p.cells);
	strvec_clear(&tests[0]);
	strvec_clear(&tests[1]);
	strvec_clear(&arches);
}

TEST(a_revision_tested_before_is_loaded)
{
	struct strvec arches = STRVEC_INIT;
	strvec_push(&arches, "x86_64");
	struct plan_revision revs[] = { { "v1", 1, 2, 1, 0, 1 }, { "v2", 2, 2, 1, 0, 0 } };
	int cached[] = { 1 };
	struct plan_input in = { .arches = &arches, .revs = revs, .nr_revs = 2, .base_cached = cached,
				 .with_baseline = 1, .each_patch = 1, .bisect = 1 };
	struct plan p;
	plan_make(&p, &in);
	CHECK(p.nr_cells == 3);
	if (p.nr_cells == 3) {
		/* applied (its commits are what v2 is compared with), neither built, bisected nor built per patch */
		CHECK(p.cells[1].steps == (PLAN_LOAD | PLAN_APPLY));
		CHECK(p.cells[2].steps == (PLAN_APPLY | PLAN_EACH_PATCH | PLAN_BUILD | PLAN_GUEST | PLAN_BISECT));
		CHECK(p.cells[2].prev == 1);
	}
	struct buf text = BUF_INIT;
	plan_describe(&text, &p);
	CHECK_CONTAINS(text.data, "  2. v1/x86_64: tested in an earlier run: loaded, not built, apply (2 patches); "
				  "compared with base/x86_64\n");
	buf_release(&text);
	plan_release(&p);
	strvec_clear(&arches);
}

TEST(options_shape_the_steps)
{
	struct strvec arches = STRVEC_INIT;
	strvec_push(&arches, "x86_64");
	struct plan_revision revs[] = { { "v1", 1, 1, 1, 1 } }; /* --commits: nothing to apply */
	struct plan_input in = { .arches = &arches, .revs = revs, .nr_revs = 1, .with_baseline = 0,
				 .each_patch = 1, .bisect = 1 };
	struct plan p;
	plan_make(&p, &in);
	/* no baseline: no base cell, nothing to compare with */
	CHECK(p.nr_cells == 1);
	if (p.nr_cells == 1) {
		CHECK(p.cells[0].steps == (PLAN_EACH_PATCH | PLAN_BUILD | PLAN_GUEST | PLAN_BISECT));
		CHECK(p.cells[0].baseline == PLAN_NONE);
	}
	CHECK(p.guest_slots == 1); /* 0 asked: at least one */
	struct buf text = BUF_INIT;
	plan_describe(&text, &p);
	CHECK_CONTAINS(text.data, "  1. v1/x86_64: build each patch, build, boot and test, bisect if it regresses; no baseline");
	CHECK_CONTAINS(text.data, "mm selftests: none");
	buf_release(&text);
	plan_release(&p);
	strvec_clear(&arches);
}

const struct unit_test plan_tests[] = {
	{ "plan: cells, baselines and previous revisions", cells_baselines_and_previous_revisions },
	{ "plan: options shape the steps", options_shape_the_steps },
	{ "plan: a revision tested in an earlier run is applied and loaded, not built", a_revision_tested_before_is_loaded },
	{ NULL, NULL },
};
