#ifndef KPIPE_TESTS_H
#define KPIPE_TESTS_H
#include "harness.h"
extern const struct unit_test buf_tests[], config_tests[], series_tests[], apply_tests[],
	ktap_tests[], splat_tests[], kbuild_tests[], vm_tests[], proc_tests[], results_tests[],
	selftests_tests[], verdict_tests[], plan_tests[], sandbox_tests[], feedback_tests[], revmatch_tests[], inbox_tests[], merge_tests[];
static const struct unit_test *const all_tests[] = {
	buf_tests, config_tests, series_tests, apply_tests, ktap_tests, splat_tests,
	kbuild_tests, vm_tests, proc_tests, results_tests, selftests_tests, verdict_tests, plan_tests, sandbox_tests, feedback_tests, revmatch_tests, inbox_tests, merge_tests, NULL,
};
#endif
