#include "verdict.h"

#include <ctype.h>
#include <string.h>

static int test_bad(enum test_verdict v)
{
	return v == TEST_FAIL || v == TEST_TIMEOUT || v == TEST_LOST;
}

void verdict_settle(struct cell *c, int guest_died)
{
	if (c->verdict != CELL_NOT_RUN && c->verdict != CELL_PASS)
		return;
	int bad = 0;
	for (size_t i = 0; i < c->nr_tests; i++) {
		const struct test_result *t = &c->tests[i];
		if (!test_bad(t->verdict))
			continue;
		if (!bad++)
			results_set_detail(c, "%s: %s%s%s", t->name, results_test_verdict_name(t->verdict),
					   t->reason ? ": " : "", t->reason ? t->reason : "");
	}
	for (size_t k = 0; k < c->nr_patch_builds; k++) {
		if (c->patch_builds[k].ok)
			continue;
		if (!bad++)
			results_set_detail(c, "patch %u/%u does not build: the series is not bisectable",
					   c->patch_builds[k].index, c->patch_builds[k].total);
	}
	if (guest_died && !bad)
		results_set_detail(c, "the guest died during the tests");
	int splats = 0;
	for (size_t i = 0; i < c->splats.nr; i++) {
		if (c->splats.v[i].ignored)
			continue;
		if (!splats++ && !bad && !guest_died)
			results_set_detail(c, "kernel splat: %s", c->splats.v[i].title);
	}
	c->verdict = (bad || guest_died || splats) ? CELL_FAIL : CELL_PASS;
}

static int all_tests_ran(const struct cell *c)
{
	for (size_t t = 0; t < c->nr_tests; t++)
		if (c->tests[t].verdict == TEST_NOT_RUN)
			return 0;
	return 1;
}

enum verdict_class verdict_classify(const struct cell *cells, size_t n, size_t i)
{
	const struct cell *c = &cells[i];
	switch (c->verdict) {
	case CELL_INFRA:
	case CELL_NOT_RUN:
		return VERDICT_INFRA;
	case CELL_APPLY_FAILED:
		return VERDICT_BAD_INPUT;
	case CELL_PASS:
		if (all_tests_ran(c))
			return VERDICT_PASS;
		/* a "pass" that skipped tests is no pass: a baseline shows it, a revision fails */
		return results_is_baseline(cells, n, i) ? VERDICT_BASELINE : VERDICT_REGRESSION;
	case CELL_FAIL:
	case CELL_BUILD_FAILED:
	case CELL_BOOT_FAILED:
		break;
	}
	if (results_is_baseline(cells, n, i))
		return VERDICT_BASELINE;
	/* pre-existing only when compared with a baseline that fails the same way, all tests run */
	if (c->baseline && !c->regressions && all_tests_ran(c))
		return VERDICT_PREEXISTING;
	return VERDICT_REGRESSION;
}

int verdict_is_regression(const struct cell *cells, size_t n, size_t i)
{
	return verdict_classify(cells, n, i) == VERDICT_REGRESSION;
}

const char *verdict_label(const struct cell *cells, size_t n, size_t i, char *scratch)
{
	const char *name = results_cell_verdict_name(cells[i].verdict);
	switch (verdict_classify(cells, n, i)) {
	case VERDICT_PASS:
	case VERDICT_BASELINE:
		return name;
	case VERDICT_PREEXISTING:
		return "pre-existing";
	case VERDICT_REGRESSION:
	case VERDICT_BAD_INPUT:
	case VERDICT_INFRA:
		break;
	}
	size_t k = 0;
	for (; name[k] && k < 31; k++)
		scratch[k] = (char)toupper((unsigned char)name[k]);
	scratch[k] = '\0';
	return scratch;
}

const char *verdict_html_class(const struct cell *cells, size_t n, size_t i)
{
	switch (verdict_classify(cells, n, i)) {
	case VERDICT_PASS:
		return "pass";
	case VERDICT_BASELINE:
	case VERDICT_PREEXISTING:
		return "base";
	default:
		return "fail";
	}
}

int verdict_cell_exit_code(const struct cell *cells, size_t n, size_t i)
{
	switch (verdict_classify(cells, n, i)) {
	case VERDICT_REGRESSION:
		return 1;
	case VERDICT_BAD_INPUT:
		return 2;
	case VERDICT_INFRA:
		return 3;
	case VERDICT_PASS:
	case VERDICT_BASELINE:
	case VERDICT_PREEXISTING:
		break;
	}
	return 0;
}

int verdict_exit_code(const struct cell *cells, size_t n)
{
	int code = 0;
	for (size_t i = 0; i < n; i++) {
		int c = verdict_cell_exit_code(cells, n, i);
		if (c > code)
			code = c;
	}
	return code;
}
