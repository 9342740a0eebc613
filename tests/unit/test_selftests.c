#include "buf.h"
#include <stdlib.h>
#include <string.h>
#include "selftests.h"
#include "tests.h"

static const char *const mm_programs[] = {
	"cow", "khugepaged", "migration", "protection_keys_32", "protection_keys_64", "uffd-unit-tests",
};

static void programs(struct strvec *out)
{
	for (size_t i = 0; i < sizeof(mm_programs) / sizeof(mm_programs[0]); i++)
		strvec_push(out, mm_programs[i]);
}

static void mode(struct strvec *out, const char *words)
{
	strvec_clear(out);
	strvec_split(out, words);
}

TEST(selftests_touched_picks_programs_whose_source_changed)
{
	struct strvec progs = STRVEC_INIT, m = STRVEC_INIT, changed = STRVEC_INIT, out = STRVEC_INIT,
		      unmatched = STRVEC_INIT;
	programs(&progs);
	mode(&m, "touched");
	strvec_pushl(&changed, "mm/memory.c", "tools/testing/selftests/mm/cow.c",
		     "tools/testing/selftests/mm/protection_keys.c", "tools/testing/selftests/mm/vm_util.c",
		     "tools/testing/selftests/mm/Makefile", "tools/testing/selftests/mm/cow.c",
		     "tools/testing/selftests/mm/new_batch_test.c", "tools/testing/selftests/x86/cow.c", NULL);
	selftests_pick(&out, &unmatched, &m, &progs, &changed);
	CHECK(out.nr == 3);
	if (out.nr == 3) {
		CHECK_STR(out.v[0], "cow");
		CHECK_STR(out.v[1], "protection_keys_32");
		CHECK_STR(out.v[2], "protection_keys_64");
	}
	/* shared sources and a .c that is no program (not in the Makefile) */
	CHECK(unmatched.nr == 3);
	if (unmatched.nr == 3) {
		CHECK_STR(unmatched.v[0], "vm_util.c");
		CHECK_STR(unmatched.v[1], "Makefile");
		CHECK_STR(unmatched.v[2], "new_batch_test.c");
	}
	strvec_clear(&out);
	strvec_clear(&unmatched);

	/* a revision that touches no selftest runs none */
	strvec_clear(&changed);
	strvec_push(&changed, "mm/mprotect.c");
	selftests_pick(&out, &unmatched, &m, &progs, &changed);
	CHECK(out.nr == 0 && unmatched.nr == 0);
	strvec_clear(&progs);
	strvec_clear(&m);
	strvec_clear(&changed);
}

TEST(selftests_all_none_and_names)
{
	struct strvec progs = STRVEC_INIT, m = STRVEC_INIT, out = STRVEC_INIT, unmatched = STRVEC_INIT;
	programs(&progs);
	mode(&m, "all");
	selftests_pick(&out, &unmatched, &m, &progs, NULL);
	CHECK(out.nr == progs.nr && unmatched.nr == 0);
	strvec_clear(&out);

	mode(&m, "none");
	selftests_pick(&out, &unmatched, &m, &progs, NULL);
	CHECK(out.nr == 0 && unmatched.nr == 0);

	mode(&m, "uffd-unit-tests no-such-test cow");
	selftests_pick(&out, &unmatched, &m, &progs, NULL);
	CHECK(out.nr == 2 && unmatched.nr == 1);
	if (out.nr == 2 && unmatched.nr == 1) {
		CHECK_STR(out.v[0], "uffd-unit-tests");
		CHECK_STR(out.v[1], "cow");
		CHECK_STR(unmatched.v[0], "no-such-test");
	}
	strvec_clear(&out);
	strvec_clear(&unmatched);
	strvec_clear(&progs);
	strvec_clear(&m);
}

TEST(selftests_build_error_names_the_first_error)
{
	/* make -k output of 6.12.117's mm selftests built statically on Debian 12 */
	struct buf log = BUF_INIT;
	CHECK(buf_read_file(&log, "tests/fixtures/logs/selftests-mm-build-x86_64.log") == 0);
	char *why = selftests_build_error(log.data, "migration");
	CHECK_STR(why, "migration.c:12: fatal error: numa.h: No such file or directory");
	free(why);
	why = selftests_build_error(log.data, "khugepaged");
	CHECK_STR(why, "khugepaged.c:1195: error: ‘KSFT_SKIP’ undeclared (first use in this function)");
	free(why);
	why = selftests_build_error(log.data, "memfd_secret");
	CHECK_STR(why, "memfd_secret.c:16: fatal error: sys/capability.h: No such file or directory");
	free(why);
	why = selftests_build_error(log.data, "cow");
	CHECK_STR(why, "cow did not build (see selftests.log)");
	free(why);
	why = selftests_build_error("/usr/bin/ld: /tmp/ccX.o: in function `main':\n"
				    "/usr/bin/ld: ksm_tests.c:(.text+0x2f): undefined reference to `numa_available'\n",
				    "ksm_tests");
	CHECK_STR(why, "ksm_tests: link error: undefined reference to `numa_available'");
	free(why);
	buf_release(&log);
}

static const struct selftest_run *run_named(const struct selftest_runs *runs, const char *name)
{
	for (size_t i = 0; i < runs->nr; i++)
		if (!strcmp(runs->v[i].name, name))
			return &runs->v[i];
	return NULL;
}

TEST(selftests_runs_read_from_run_vmtests)
{
	/* 6.12's own tools/testing/selftests/mm/run_vmtests.sh */
	struct buf script = BUF_INIT;
	struct selftest_runs runs;
	CHECK(buf_read_file(&script, "tests/fixtures/selftests/run_vmtests-6.12.sh") == 0);
	selftests_parse_runner(&runs, script.data);
	CHECK(runs.hookable);
	CHECK(runs.nr == 60); /* the top-level run_test calls; run_gup_matrix's (only with -a) are not */
	const struct selftest_run *r = run_named(&runs, "uffd-stress_anon_20_16");
	CHECK(r && !strcmp(r->program, "uffd-stress") && !strcmp(r->category, "userfaultfd") && r->line == 300);
	CHECK(r && !strcmp(r->pattern, "./uffd-stress anon 20 16") && r->nth == 1);
	r = run_named(&runs, "uffd-stress_hugetlb_half_ufd_size_MB_32"); /* computed: kept by name, any word */
	CHECK(r && !strcmp(r->pattern, "./uffd-stress hugetlb?( *) 32"));
	r = run_named(&runs, "transhuge-stress_-d_20");
	CHECK(r && !strcmp(r->category, "thp") && r->line == 431);
	r = run_named(&runs, "on-fault-limit"); /* 'sudo -u nobody' in front */
	CHECK(r && !strcmp(r->program, "on-fault-limit") && !strcmp(r->category, "mlock") &&
	      !strcmp(r->pattern, "sudo -u nobody ./on-fault-limit"));
	r = run_named(&runs, "va_high_addr_switch.sh"); /* 'bash ./va_high_addr_switch.sh' */
	CHECK(r && !strcmp(r->program, "va_high_addr_switch.sh") && !strcmp(r->category, "hugevm"));
	CHECK(run_named(&runs, "khugepaged") && run_named(&runs, "khugepaged_-s_2"));
	CHECK(run_named(&runs, "gup_test_-ct_-F_0x1_0_19_0x1000") && !run_named(&runs, "gup_test_-U_-w_-n_1"));
	r = run_named(&runs, "split_huge_page_test_SPLIT_HUGE_PAGE_TEST_XFS_PATH"); /* an empty variable is no word */
	CHECK(r && !strcmp(r->pattern, "./split_huge_page_test?( *)"));

	/* which runs a pick means */
	const struct selftest_run *want[64];
	size_t n = 0;
	struct strvec picked = STRVEC_INIT, bare = STRVEC_INIT;
	strvec_pushl(&picked, "khugepaged", "va_high_addr_switch", "pte_batch_smoke", NULL);
	selftests_runs_for(want, &n, &bare, &runs, &picked, 0);
	CHECK(n == 3 && !strcmp(want[0]->name, "va_high_addr_switch.sh") && !strcmp(want[1]->name, "khugepaged") &&
	      !strcmp(want[2]->name, "khugepaged_-s_2"));
	CHECK(bare.nr == 1 && !strcmp(bare.v[0], "pte_batch_smoke")); /* new: the script does not know it */
	strvec_clear(&bare);
	selftests_runs_for(want, &n, &bare, &runs, &picked, 1);
	CHECK(n == runs.nr && bare.nr == 0);

	/* the hooked script: the same lines, run_test() runs one call */
	char *hooked = selftests_runner_script(script.data);
	CHECK(hooked && strstr(hooked, "run_test() { if [ -n \"${KPIPE_RUN_ARGS:-}\" ]; then"));
	size_t lines = 0, hooked_lines = 0;
	for (const char *p = script.data; *p; p++)
		lines += *p == '\n';
	for (const char *p = hooked; p && *p; p++)
		hooked_lines += *p == '\n';
	CHECK(lines == hooked_lines);
	free(hooked);
	CHECK(selftests_runner_script("#!/bin/bash\n./cow\n") == NULL);

	/* a script of a series': names made safe, the same name twice told apart, functions left out */
	struct selftest_runs mine;
	selftests_parse_runner(&mine, "bin=./pte_batch_smoke\n"
				      "helper() {\n\tCATEGORY=\"x\" run_test ./in_function\n}\n"
				      "CATEGORY=\"pte\" run_test ${bin} -n 'a b;c'\n"
				      "if true; then\n  CATEGORY=pte run_test ./pte_batch_smoke -n 'a b;c'\nfi\n"
				      "CATEGORY=\"pte\" run_tests ./not_a_run\n"
				      "CATEGORY=\"a;b\" run_test ./odd_category\n");
	CHECK(!mine.hookable && mine.nr == 2);
	if (mine.nr == 2) {
		CHECK_STR(mine.v[0].name, "pte_batch_smoke_-n_a_b_c");
		CHECK_STR(mine.v[1].name, "pte_batch_smoke_-n_a_b_c#2");
		CHECK(mine.v[0].line == 5 && mine.v[1].line == 7);
		CHECK_STR(mine.v[0].pattern, "./pte_batch_smoke -n a b;c");
		CHECK(mine.v[0].nth == 1 && mine.v[1].nth == 2); /* the same call twice: the second is the 2nd match */
	}
	selftest_runs_release(&mine);
	strvec_clear(&picked);
	selftest_runs_release(&runs);
	buf_release(&script);
}

const struct unit_test selftests_tests[] = {
	{ "selftests: touched picks the programs whose source changed",
	  selftests_touched_picks_programs_whose_source_changed },
	{ "selftests: all, none and names", selftests_all_none_and_names },
	{ "selftests: a build failure names the first error", selftests_build_error_names_the_first_error },
	{ "selftests: the runs of the tree's run_vmtests.sh, their names and the hook", selftests_runs_read_from_run_vmtests },
	{ NULL, NULL },
};
