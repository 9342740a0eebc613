/* plan: the run decided before anything runs. */
#include "harness.h"
#include "plan.h"
#include "run_plan.h"

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

/* A plan of v1..v3 on two arches with the base (none cached): 8 cells. */
static void three_revisions(struct plan *p, struct strvec *arches, const char *v2_patches)
{
	struct plan_revision revs[] = {
		{ "v1", 1, 2, 1, 0, 0, "aaaa" },
		{ "v2", 2, 3, 1, 0, 0, (char *)v2_patches },
		{ "v3", 3, 3, 1, 0, 0, "cccc" },
	};
	struct plan_input in = { .arches = arches, .revs = revs, .nr_revs = 3, .with_baseline = 1,
				 .base = "0123abcd" };
	plan_make(p, &in);
}

TEST(shards_split_by_arch_and_keep_their_baselines)
{
	struct strvec arches = two_arches();
	struct plan whole, p1, p2, other;
	three_revisions(&whole, &arches, "bbbb");
	three_revisions(&p1, &arches, "bbbb");
	three_revisions(&p2, &arches, "bbbb");
	three_revisions(&other, &arches, "another v2");
	struct buf why = BUF_INIT;
	/* one id for one run: the same series on the same base; other patches, another run */
	CHECK(strlen(whole.id) == 16);
	CHECK_STR(p1.id, whole.id);
	CHECK(strcmp(other.id, whole.id) != 0);
	CHECK(whole.whole.nr == 8);
	CHECK_STR(whole.whole.v[0], "base/x86_64");
	CHECK_STR(whole.whole.v[7], "v3/arm64");

	CHECK(plan_select(&p1, NULL, 1, 2, &why) == 0);
	CHECK(plan_select(&p2, NULL, 2, 2, &why) == 0);
	/* 2 shards of 6 revision cells: x86_64's three, then arm64's, each with its base */
	CHECK(p1.nr_cells == 4 && p2.nr_cells == 4);
	if (p1.nr_cells == 4 && p2.nr_cells == 4) {
		CHECK_STR(p1.cells[0].revision, "base");
		CHECK(p1.cells[0].arch == 0 && p1.cells[0].whole == 0);
		for (size_t i = 1; i < 4; i++) {
			CHECK(p1.cells[i].arch == 0 && p1.cells[i].baseline == 0);
			CHECK(p2.cells[i].arch == 1 && p2.cells[i].baseline == 0);
		}
		CHECK(p1.cells[2].prev == 1 && p1.cells[3].prev == 2 && p1.cells[1].prev == PLAN_NONE);
		CHECK(p2.cells[0].whole == 1 && p2.cells[3].whole == 7);
	}
	CHECK(p1.selected && p1.shard == 1 && p1.nr_shards == 2);
	struct buf text = BUF_INIT;
	plan_describe(&text, &p2);
	CHECK_CONTAINS(text.data, "plan: shard 2/2 of run ");
	CHECK_CONTAINS(text.data, ", 4 of its 8 cells: 4 kernel builds");
	CHECK_CONTAINS(text.data, "  left to the other parts: base/x86_64, v1/x86_64, v2/x86_64, v3/x86_64\n");
	buf_release(&text);
	plan_release(&p1);
	plan_release(&p2);

	/* 4 shards of 6 cells: 1, 2, 1, 2 cells each; together every cell once */
	size_t seen[8] = { 0 };
	for (unsigned s = 1; s <= 4; s++) {
		struct plan q;
		three_revisions(&q, &arches, "bbbb");
		CHECK(plan_select(&q, NULL, s, 4, &why) == 0);
		for (size_t i = 0; i < q.nr_cells; i++)
			if (q.cells[i].rev != PLAN_NONE)
				seen[q.cells[i].whole]++;
			else
				CHECK(q.cells[i].arch == q.cells[q.nr_cells - 1].arch); /* only its own arch's base */
		/* a cell whose previous revision is in another shard has none here */
		for (size_t i = 0; i < q.nr_cells; i++)
			CHECK(q.cells[i].prev == PLAN_NONE || q.cells[q.cells[i].prev].rev + 1 == q.cells[i].rev);
		plan_release(&q);
	}
	for (size_t w = 2; w < 8; w++)
		CHECK(seen[w] == 1);

	/* more shards than cells: some get nothing, and say so */
	struct plan empty;
	three_revisions(&empty, &arches, "bbbb");
	CHECK(plan_select(&empty, NULL, 1, 7, &why) == 0);
	CHECK(empty.nr_cells == 0);
	plan_describe(&text, &empty);
	CHECK_CONTAINS(text.data, "nothing to do here: every cell is in another part");
	buf_release(&text);
	plan_release(&empty);
	plan_release(&whole);
	plan_release(&other);
	buf_release(&why);
	strvec_clear(&arches);
}

TEST(cells_by_pattern)
{
	struct strvec arches = two_arches(), pats = STRVEC_INIT;
	struct plan p;
	struct buf why = BUF_INIT;
	three_revisions(&p, &arches, "bbbb");
	strvec_pushl(&pats, "v2/*", "*/arm64", NULL);
	CHECK(plan_select(&p, &pats, 0, 0, &why) == 0);
	/* v2 on both arches, every revision on arm64, and both bases they compare with */
	CHECK(p.nr_cells == 6);
	const char *want[] = { "base/x86_64", "base/arm64", "v1/arm64", "v2/x86_64", "v2/arm64", "v3/arm64" };
	for (size_t i = 0; i < p.nr_cells && i < 6; i++) {
		struct buf name = BUF_INIT;
		buf_addf(&name, "%s/%s", p.cells[i].revision, p.arches.v[p.cells[i].arch]);
		CHECK_STR(name.data, want[i]);
		buf_release(&name);
	}
	CHECK(p.selected && !p.nr_shards);
	plan_release(&p);

	/* a pattern that names no cell is the user's mistake, said with the cells there are */
	three_revisions(&p, &arches, "bbbb");
	strvec_clear(&pats);
	strvec_push(&pats, "v4/*");
	CHECK(plan_select(&p, &pats, 0, 0, &why) < 0);
	CHECK_CONTAINS(why.data, "--cells 'v4/*' matches no cell of the plan (base/x86_64, base/arm64, v1/x86_64");
	CHECK(p.nr_cells == 8); /* left whole */
	buf_reset(&why);
	CHECK(plan_select(&p, NULL, 3, 2, &why) < 0);
	CHECK_CONTAINS(why.data, "shard 3/2");
	plan_release(&p);
	strvec_clear(&pats);
	buf_release(&why);
	strvec_clear(&arches);
}

/* --cells checked on the series' names alone, before the tree or the cache: the revisions' own numbers */
TEST(cells_checked_by_name_before_the_run)
{
	struct strvec arches = two_arches(), pats = STRVEC_INIT;
	struct revision revs[2] = { { .version = 1 }, { .version = 3 } };
	struct series s = { revs, 2, 0, STRVEC_INIT };
	struct kperror err = KPERROR_INIT;
	CHECK(run_plan_check_cells(&s, &arches, 1, &pats, 0, 0, &err) == 0); /* no --cells: nothing to check */
	strvec_push(&pats, "v3/arm64");
	CHECK(run_plan_check_cells(&s, &arches, 1, &pats, 0, 0, &err) == 0);
	strvec_push(&pats, "v2/*");
	CHECK(run_plan_check_cells(&s, &arches, 1, &pats, 1, 2, &err) < 0);
	CHECK(err.kind == KPERROR_INPUT);
	CHECK_CONTAINS(err.msg.data, "--cells 'v2/*' matches no cell of the plan (base/x86_64, base/arm64, v1/x86_64");
	CHECK_CONTAINS(err.msg.data, "v3/arm64");
	kperror_release(&err);
	strvec_clear(&pats);
	strvec_clear(&arches);
}

TEST(guests_spread_over_hosts_by_slots)
{
	struct strvec arches = STRVEC_INIT;
	strvec_push(&arches, "x86_64");
	struct plan_revision revs[] = { { "v1", 1, 1, 1, 0 }, { "v2", 2, 1, 1, 0 }, { "v3", 3, 1, 1, 0 },
					 { "v4", 4, 1, 1, 0 } };
	int cached[] = { 1 };
	struct plan_host hosts[] = { { "qemu:///system", "qemu:///system", 1 },
				     { "qemu+ssh://k/system?keyfile=/x", "qemu+ssh://k/system", 3 } };
	struct plan_input in = { .arches = &arches, .revs = revs, .nr_revs = 4, .base_cached = cached,
				 .with_baseline = 1, .guest_slots = 9, .hosts = hosts, .nr_hosts = 2 };
	struct plan p;
	plan_make(&p, &in);
	CHECK(p.guest_slots == 4 && p.nr_hosts == 2);
	CHECK(p.cells[0].host == PLAN_NONE); /* the cached base boots nothing */
	size_t on[2] = { 0, 0 };
	for (size_t i = 1; i < p.nr_cells; i++)
		on[p.cells[i].host]++;
	CHECK(on[0] == 1 && on[1] == 3); /* in proportion to the slots */
	struct buf d = BUF_INIT;
	plan_describe(&d, &p);
	CHECK_CONTAINS(d.data, "hosts: qemu:///system (1 slot), qemu+ssh://k/system (3 slots)");
	CHECK_CONTAINS(d.data, "[on qemu+ssh://k/system]");
	CHECK(!strstr(d.data, "keyfile"));
	buf_release(&d);
	plan_release(&p);
	/* one host: the plan reads as before */
	in.nr_hosts = 0;
	in.guest_slots = 2;
	plan_make(&p, &in);
	CHECK(p.guest_slots == 2 && p.nr_hosts == 1 && p.cells[1].host == 0);
	plan_describe(&d, &p);
	CHECK(!strstr(d.data, "hosts:") && !strstr(d.data, "[on "));
	buf_release(&d);
	plan_release(&p);
	strvec_clear(&arches);
}

const struct unit_test plan_tests[] = {
	{ "plan: guests spread over the hosts by their slots", guests_spread_over_hosts_by_slots },
	{ "plan: cells, baselines and previous revisions", cells_baselines_and_previous_revisions },
	{ "plan: options shape the steps", options_shape_the_steps },
	{ "plan: a revision tested in an earlier run is applied and loaded, not built", a_revision_tested_before_is_loaded },
	{ "plan: shards split by arch, each with the baselines it needs", shards_split_by_arch_and_keep_their_baselines },
	{ "plan: --cells patterns, and patterns matching nothing", cells_by_pattern },
	{ "plan: --cells checked on the series' names before the run", cells_checked_by_name_before_the_run },
	{ NULL, NULL },
};
