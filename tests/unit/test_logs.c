#include "harness.h"
#include "buf.h"
#include "kbuild.h"
#include "ktap.h"
#include "splat.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static void read_fixture(struct buf *b, const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", harness_fixtures, name);
	CHECK(buf_read_file(b, path) == 0);
}

TEST(ktap_results_directives_and_subtests)
{
	struct ktap k = KTAP_INIT;
	ktap_parse(&k, "KTAP version 1\n1..5\n# diag\n"
		       "ok 1 shmem: all pages: markers kept\n"
		       "not ok 2 shmem: half: markers kept\n"
		       "  KTAP version 1\n  1..1\n  not ok 1 nested failure ignored\n"
		       "ok 3 - dashed name # SKIP no mTHP here\n"
		       "not ok 4 known # XFAIL upstream bug\n"
		       "ok 5 last\n");
	CHECK(k.has_header);
	CHECK(k.planned == 5);
	CHECK(k.nr == 5);
	CHECK(k.passed == 3 && k.failed == 1 && k.skipped == 1);
	if (k.nr == 5) {
		CHECK_STR(k.cases[1].name, "shmem: half: markers kept");
		CHECK(k.cases[2].status == KTAP_SKIP);
		CHECK_STR(k.cases[2].name, "dashed name");
		CHECK_STR(k.cases[2].directive, "no mTHP here");
		CHECK(k.cases[3].status == KTAP_XFAIL);
	}
	ktap_release(&k);
	struct ktap empty = KTAP_INIT;
	ktap_parse(&empty, "Segmentation fault\n");
	CHECK(!empty.has_header && empty.nr == 0 && empty.planned == -1);
	ktap_release(&empty);
}

TEST(ktap_perf_lines_become_metrics)
{
	struct ktap k = KTAP_INIT;
	ktap_parse(&k, "KTAP version 1\n1..1\n"
		       "# perf: madv_pageout_64mib_64k_folios 379.1 ms\n"
		       "# perf: no_value_here ms\n"
		       "# perf: count 12\n"
		       "# perfect: not a metric 1\n"
		       "  # perf: nested 1 ms\n"
		       "# perf: count 13\n"
		       "ok 1 x\n");
	CHECK(k.nr_metrics == 2);
	if (k.nr_metrics == 2) {
		CHECK_STR(k.metrics[0].name, "madv_pageout_64mib_64k_folios");
		CHECK(k.metrics[0].value > 379.09 && k.metrics[0].value < 379.11);
		CHECK_STR(k.metrics[0].unit, "ms");
		CHECK_STR(k.metrics[1].name, "count");
		CHECK(k.metrics[1].nr_samples == 2); /* a repeated name is another sample */
		CHECK(k.metrics[1].samples[0] == 12 && k.metrics[1].samples[1] == 13);
		CHECK(k.metrics[1].value == 12.5); /* the median */
		CHECK_STR(k.metrics[1].unit, "");
	}
	CHECK(k.nr == 1 && k.passed == 1);
	ktap_release(&k);
}

TEST(splat_titles_counts_and_reports)
{
	struct buf log = BUF_INIT;
	struct splat_list l = SPLAT_LIST_INIT;
	read_fixture(&log, "logs/x86-warn-zap.log");
	splat_scan(&l, log.data);
	CHECK(l.nr == 1);
	if (l.nr == 1) {
		CHECK_STR(l.v[0].title, "WARNING in zap_pte_range");
		CHECK(l.v[0].count == 2);
		CHECK_CONTAINS(l.v[0].report, "madvise_vma_behavior");
		CHECK_CONTAINS(l.v[0].report, "end trace");
		CHECK(!strstr(l.v[0].report, "crng init"));
	}
	CHECK(!splat_has_panic(&l));
	splat_list_release(&l);

	buf_reset(&log);
	read_fixture(&log, "logs/x86-panic-oops.log");
	splat_scan(&l, log.data);
	CHECK(l.nr == 2); /* the Oops after the BUG is the same event */
	if (l.nr == 2) {
		CHECK_STR(l.v[0].title, "BUG: unable to handle kernel paging request in change_pte_range");
		CHECK_STR(l.v[1].title, "kernel panic: Fatal exception");
	}
	CHECK(splat_has_panic(&l));
	splat_list_release(&l);

	buf_reset(&log);
	read_fixture(&log, "logs/arm64-bad-rss.log");
	splat_scan(&l, log.data);
	CHECK(l.nr == 3);
	if (l.nr == 3) {
		CHECK_STR(l.v[0].title, "BUG: Bad rss-counter state");
		CHECK_STR(l.v[1].title, "BUG: Bad page state in corrupted"); /* no "page last allocated" stack */
		CHECK_STR(l.v[2].title, "BUG: unable to handle kernel paging request in folio_remove_rmap_ptes");
	}
	splat_list_release(&l);
	buf_release(&log);
}

TEST(kbuild_option_check_finds_what_did_not_stick)
{
	struct strvec missing = STRVEC_INIT;
	const char *frag = "# comment\nCONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n"
			   "CONFIG_D=\"x\"\n# CONFIG_E is not set\nCONFIG_F=y";
	const char *dot = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_D=\"x\"\nCONFIG_FX=y\n";
	kbuild_check_options(&missing, frag, dot);
	CHECK(missing.nr == 3);
	if (missing.nr == 3) {
		CHECK_STR(missing.v[0], "CONFIG_B=y");
		CHECK_STR(missing.v[1], "# CONFIG_C is not set");
		CHECK_STR(missing.v[2], "CONFIG_F=y");
	}
	strvec_clear(&missing);
}

TEST(kbuild_first_errors_are_picked)
{
	struct buf out = BUF_INIT;
	kbuild_first_errors(&out, "  CC mm/a.o\nmm/memory.c:12:5: error: 'x' undeclared\n"
			    "mm/memory.c:12:5: note: each\nmake[3]: *** [scripts/Makefile.build:229: mm/memory.o] Error 1\n", 10);
	CHECK_STR(out.data, "mm/memory.c:12:5: error: 'x' undeclared\nmake[3]: *** [scripts/Makefile.build:229: mm/memory.o] Error 1\n");
	buf_release(&out);
}

const struct unit_test ktap_tests[] = {
	{ "ktap: results, directives and subtests", ktap_results_directives_and_subtests },
	{ "ktap: '# perf:' lines become metrics", ktap_perf_lines_become_metrics },
	{ NULL, NULL },
};
static void expect_titles(const char *fixture, const char *const *want, size_t n)
{
	struct buf log = BUF_INIT;
	struct splat_list l = SPLAT_LIST_INIT;
	read_fixture(&log, fixture);
	splat_scan(&l, log.data);
	CHECK(l.nr == n);
	for (size_t i = 0; i < n && i < l.nr; i++)
		CHECK_STR(l.v[i].title, want[i]);
	for (size_t i = n; i < l.nr; i++)
		printf("#   unexpected: %s\n", l.v[i].title);
	splat_list_release(&l);
	buf_release(&log);
}

TEST(splat_kasan_and_lockdep)
{
	static const char *const want[] = {
		"KASAN: slab-use-after-free Read in folio_remove_rmap_ptes",
		"possible deadlock in collapse_huge_page",
		"inconsistent lock state in zap_pte_range",
	};
	expect_titles("logs/x86-kasan-lockdep.log", want, 3);
}

TEST(splat_stalls_lockups_hangs_ubsan_kfence)
{
	static const char *const want[] = {
		"INFO: rcu detected stall in change_pte_range",
		"BUG: soft lockup in change_pte_range",
		"INFO: task hung in collapse_huge_page",
		"UBSAN: array-index-out-of-bounds in corrupted" /* no call trace */,
		"KFENCE: use-after-free read in try_to_unmap_one",
		"BUG: hard lockup in page_vma_mapped_walk",
	};
	expect_titles("logs/x86-stalls-hangs.log", want, 6);
}

TEST(splat_arm64_warning_bug_and_panic)
{
	static const char *const want[] = {
		"WARNING in change_pte_range",
		"kernel BUG in try_to_unmap_one",
		"kernel panic: Oops - BUG: Fatal exception",
	};
	expect_titles("logs/arm64-warn-truncated.log", want, 3);
}

TEST(splat_arm64_kasan_lockdep_stalls_hangs)
{
	static const char *const want[] = {
		"KASAN: slab-use-after-free Read in folio_remove_rmap_ptes",
		"possible deadlock in collapse_huge_page",
		"BUG: soft lockup in change_pte_range",
		"INFO: rcu detected stall in change_pte_range",
		"INFO: task hung in collapse_huge_page",
	};
	expect_titles("logs/arm64-kasan-lockdep-stalls.log", want, 5);
}

TEST(splat_known_noise_is_marked)
{
	struct buf log = BUF_INIT;
	struct splat_list l = SPLAT_LIST_INIT;
	struct strvec noise = STRVEC_INIT;
	read_fixture(&log, "logs/x86-stalls-hangs.log");
	splat_scan(&l, log.data);
	strvec_push(&noise, "INFO: task hung in *");
	strvec_push(&noise, "UBSAN: *");
	splat_ignore(&l, &noise);
	int ignored = 0;
	for (size_t i = 0; i < l.nr; i++)
		ignored += l.v[i].ignored;
	CHECK(ignored == 2);
	CHECK(l.nr == 6 && l.v[2].ignored && l.v[3].ignored && !l.v[0].ignored);
	strvec_clear(&noise);
	splat_list_release(&l);
	buf_release(&log);
}

/*
 * The corpus: tests/fixtures/splats/ holds kernel reports as consoles
 * print them (syzbot's public reports and 6.x mm/lockdep/lkdtm reports
 * in every console format: caller ids, no timestamps, dmesg -x, CR and
 * ANSI, interleaved CPUs, cut short), each headed by "# title: " and the
 * title syzbot gives it ("(none)": no report at all).  Every one must be
 * titled so; the hit rate is printed.
 */
TEST(splat_corpus_titles_as_syzbot_does)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/splats", harness_fixtures);
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	unsigned total = 0, right = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strstr(e->d_name, ".log"))
			continue;
		struct buf file = BUF_INIT, log = BUF_INIT, want = BUF_INIT;
		char name[300];
		snprintf(name, sizeof(name), "splats/%s", e->d_name);
		read_fixture(&file, name);
		/* the "# " header lines are the fixture's, not the console's */
		for (const char *p = file.data; *p;) {
			const char *eol = strchr(p, '\n');
			size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);
			if (!strncmp(p, "# title: ", 9))
				buf_add(&want, p + 9, n - 9);
			else if (strncmp(p, "# ", 2))
				buf_add(&log, p, n);
			p += n;
		}
		buf_rtrim(&want);
		struct splat_list l = SPLAT_LIST_INIT;
		splat_scan(&l, log.data);
		total++;
		if (!strcmp(want.data, "(none)") ? l.nr == 0 : l.nr && !strcmp(l.v[0].title, want.data))
			right++;
		else
			printf("#   %s: '%s', not '%s'\n", e->d_name, l.nr ? l.v[0].title : "(none)", want.data);
		splat_list_release(&l);
		buf_release(&file);
		buf_release(&log);
		buf_release(&want);
	}
	closedir(d);
	printf("# splat corpus: %u of %u reports titled as syzbot titles them\n", right, total);
	CHECK(total >= 30);
	CHECK(right == total);
}

/* A clean boot of each arch, as kpipe's guests print it: no report at all. */
TEST(splat_clean_boots_have_none)
{
	static const char *const clean[] = { "logs/x86_64-clean-boot.log", "logs/arm64-clean-boot.log" };
	for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		struct buf log = BUF_INIT;
		struct splat_list l = SPLAT_LIST_INIT;
		read_fixture(&log, clean[i]);
		CHECK(log.len > 1000);
		splat_scan(&l, log.data);
		CHECK(l.nr == 0);
		for (size_t k = 0; k < l.nr; k++)
			printf("#   %s: false alarm '%s'\n", clean[i], l.v[k].title);
		splat_list_release(&l);
		buf_release(&log);
	}
}

/*
 * Hostile consoles: 2,000 reports from 2,000 callers, then 50,000 lines of
 * another caller (each report looks ahead a bounded way, not to the end);
 * a report line 10,000 characters long.
 */
TEST(splat_hostile_consoles)
{
	struct buf log = BUF_INIT;
	for (int i = 0; i < 2000; i++)
		buf_addf(&log, "[    1.%06d][T%d] WARNING: CPU: 0 PID: %d at mm/x.c:1 f%d+0x1/0x2\n", i, i + 100, i, i);
	for (int i = 0; i < 50000; i++)
		buf_addf(&log, "[    2.%06d][    C1] other line %d\n", i, i);
	struct splat_list l = SPLAT_LIST_INIT;
	splat_scan(&l, log.data);
	CHECK(l.nr == 2000);
	if (l.nr == 2000)
		CHECK_STR(l.v[1999].title, "WARNING in f1999");
	splat_list_release(&l);
	buf_reset(&log);
	buf_adds(&log, "[    1.000000] BUG: KASAN: slab-out-of-bounds in ");
	for (int i = 0; i < 10000; i++)
		buf_addch(&log, 'a');
	buf_adds(&log, "+0x1/0x2\n[    1.000001] Read of size 8\n");
	splat_scan(&l, log.data);
	CHECK(l.nr == 1); /* a function name too long to be one is no frame: "in corrupted" */
	if (l.nr == 1)
		CHECK_STR(l.v[0].title, "KASAN: slab-out-of-bounds Read in corrupted");
	splat_list_release(&l);
	buf_release(&log);
}

/* A test printing endless "# perf:" names or samples is capped, not quadratic. */
TEST(ktap_perf_lines_are_capped)
{
	struct buf out = BUF_INIT;
	for (int i = 0; i < 2000; i++)
		buf_addf(&out, "# perf: name%d %d ms\n", i, i);
	for (int i = 0; i < 5000; i++)
		buf_addf(&out, "# perf: name0 %d ms\n", i);
	struct ktap k = KTAP_INIT;
	ktap_parse(&k, out.data);
	CHECK(k.nr_metrics == KTAP_MAX_METRICS);
	CHECK(k.nr_metrics && k.metrics[0].nr_samples == KTAP_MAX_SAMPLES);
	ktap_release(&k);
	buf_release(&out);
}

const struct unit_test splat_tests[] = {
	{ "splat: hostile consoles stay bounded", splat_hostile_consoles },
	{ "ktap: endless '# perf:' lines are capped", ktap_perf_lines_are_capped },
	{ "splat: corpus titled as syzbot titles it", splat_corpus_titles_as_syzbot_does },
	{ "splat: clean boots have no report", splat_clean_boots_have_none },
	{ "splat: titles, counts and reports", splat_titles_counts_and_reports },
	{ "splat: KASAN and lockdep", splat_kasan_and_lockdep },
	{ "splat: stalls, lockups, hangs, UBSAN, KFENCE", splat_stalls_lockups_hangs_ubsan_kfence },
	{ "splat: arm64 WARNING, BUG and panic", splat_arm64_warning_bug_and_panic },
	{ "splat: arm64 KASAN, lockdep, stalls, hangs", splat_arm64_kasan_lockdep_stalls_hangs },
	{ "splat: known noise is marked", splat_known_noise_is_marked },
	{ NULL, NULL },
};
const struct unit_test kbuild_tests[] = {
	{ "kbuild: option check finds what did not stick", kbuild_option_check_finds_what_did_not_stick },
	{ "kbuild: first errors are picked", kbuild_first_errors_are_picked },
	{ NULL, NULL },
};
