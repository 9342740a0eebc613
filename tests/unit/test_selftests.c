#include "buf.h"
#include <stdlib.h>
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

const struct unit_test selftests_tests[] = {
	{ "selftests: touched picks the programs whose source changed",
	  selftests_touched_picks_programs_whose_source_changed },
	{ "selftests: all, none and names", selftests_all_none_and_names },
	{ "selftests: a build failure names the first error", selftests_build_error_names_the_first_error },
	{ NULL, NULL },
};
