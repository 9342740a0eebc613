// SPDX-License-Identifier: GPL-2.0
/*
 * uffd_wp_collapse: collapsing small pages into a huge page must not
 * drop userfaultfd write-protection.
 *
 * khugepaged and MADV_COLLAPSE turn a 2 MiB-aligned range of small pages
 * into one PMD-mapped huge page.  A range that carries uffd-wp state
 * must survive that, whatever the kernel decides:
 *  - anonymous memory: the collapse scan must refuse a range with a
 *    write-protected PTE (mm/khugepaged.c: hpage_collapse_scan_pmd(),
 *    SCAN_PTE_UFFD_WP), or the new huge PMD must carry the protection;
 *  - shmem: a collapse may build the huge page in the page cache, but the
 *    page table must not be retracted (retract_page_tables(),
 *    collapse_pte_mapped_thp()) while uffd-wp PTE markers sit in it: the
 *    markers are the only record of the protection of zapped pages.
 *
 * For anonymous and shmem ranges faulted in as small pages, with one
 * protected page and with every page protected, after MADV_COLLAPSE and
 * after khugepaged at a short scan interval, this test checks:
 *  - pagemap's uffd-wp bit on every protected page (marker or present);
 *  - the data of every page;
 *  - every write to a protected page faults to the handler exactly once,
 *    and no other write faults.
 * Whether the range was collapsed is printed, never judged; a control
 * first shows that an unprotected range does collapse in this guest (if
 * not, it is a skip saying why).  A kernel warning during the test fails
 * it.
 */
#define _GNU_SOURCE
#include "mm_util.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define THP "/sys/kernel/mm/transparent_hugepage/"
#define KHUGEPAGED THP "khugepaged/"
#define RANGE (2UL << 20) /* one PMD with 4K pages, x86_64 and arm64 */

static size_t nr_pages;

enum mask_kind { ONE_PAGE, ALL_PAGES, MASK_NR };
static const char *const mask_names[] = {"one protected page", "all pages protected"};
enum method { BY_MADV_COLLAPSE, BY_KHUGEPAGED, METHOD_NR };
static const char *const method_names[] = {"MADV_COLLAPSE", "khugepaged"};

static int masked(enum mask_kind k, size_t page)
{
	return k == ALL_PAGES || page == 100;
}

static int want_mask(void *arg, size_t page)
{
	return masked(*(enum mask_kind *)arg, page);
}

/* Whether the range is mapped by a huge PMD now (smaps), for the record. */
static const char *mapped_huge(const char *p, int shared)
{
	long kb = smaps_kb(p, shared ? "ShmemPmdMapped" : "AnonHugePages");
	return kb > 0 ? "a huge PMD maps it" : "small pages still map it";
}

/* Let khugepaged scan every few milliseconds and wait for two full scans (30 s at most). */
static int khugepaged_two_scans(char *why, size_t n)
{
	char buf[32];
	int fd = open(KHUGEPAGED "full_scans", O_RDONLY);
	if (fd < 0) {
		snprintf(why, n, "no %sfull_scans: %s", KHUGEPAGED, strerror(errno));
		return -1;
	}
	long start = -1, now = -1;
	for (int i = 0; i < 300; i++) {
		ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[r > 0 ? r : 0] = '\0';
		now = atol(buf);
		if (start < 0)
			start = now;
		if (now >= start + 2)
			break;
		usleep(100 * 1000);
	}
	close(fd);
	if (now < start + 2) {
		snprintf(why, n, "khugepaged did not finish two scans in 30 s (%ld -> %ld)", start,
			 now);
		return -1;
	}
	return 0;
}

/* The pages whose uffd-wp bit is not what the mask says; *first the first of them. */
static size_t wp_bits_wrong(const char *p, enum mask_kind k, size_t *first)
{
	size_t bad = 0;
	for (size_t i = 0; i < nr_pages; i++) {
		uint64_t e = pagemap_entry(p + i * page_size);
		int have = !!(e & PM_UFFD_WP);
		/* an unprotected page may be unmapped (shmem after the zap): no bit either way */
		if (masked(k, i) ? !have : have)
			if (!bad++)
				*first = i;
	}
	return bad;
}

static void run_case(int uffd, int shared, enum mask_kind k, enum method m)
{
	char label[128], why[160];
	snprintf(label, sizeof(label), "%s, %s, %s", shared ? "shmem" : "anon", mask_names[k],
		 method_names[m]);
	const char *checks[] = {"uffd-wp kept", "data intact",
				"writes fault exactly on protected pages"};

	char *p = map_aligned(RANGE, RANGE, shared);
	/* faulted in as small pages */
	madvise(p, RANGE, MADV_NOHUGEPAGE);
	fill_pages(p, 0, nr_pages);
	protect_pages(uffd, p, 0, nr_pages, want_mask, &k);
	if (shared) {
		/* zap: the protected pages keep only their markers; map the others again */
		madvise(p, RANGE, MADV_DONTNEED);
		for (size_t i = 0; i < nr_pages; i++)
			if (!masked(k, i))
				(void)*(volatile uint64_t *)(p + i * page_size);
	}
	madvise(p, RANGE, MADV_HUGEPAGE);

	if (m == BY_MADV_COLLAPSE) {
		int r = madvise(p, RANGE, MADV_COLLAPSE);
		ktap_print_msg("%s: MADV_COLLAPSE: %s, %s", label, r ? strerror(errno) : "done",
			       mapped_huge(p, shared));
	} else if (khugepaged_two_scans(why, sizeof(why))) {
		ktap_print_msg("%s: %s", label, why);
	} else {
		ktap_print_msg("%s: after two khugepaged scans %s", label, mapped_huge(p, shared));
	}

	size_t first = 0;
	size_t bad = wp_bits_wrong(p, k, &first);
	if (bad)
		ktap_print_msg(
		    "%s: %zu pages with the wrong uffd-wp bit, first: page %zu (wants %d)", label,
		    bad, first, masked(k, first));
	ktap_test_result(!bad, "%s: %s", label, checks[0]);

	long wrong_data = check_pages(p, 0, nr_pages, 0);
	if (wrong_data >= 0)
		ktap_print_msg("%s: page %ld lost its data", label, wrong_data);
	ktap_test_result(wrong_data < 0, "%s: %s", label, checks[1]);

	int errors = 0;
	size_t wrong =
	    wp_writes_fault_wrongly(uffd, p, nr_pages, want_mask, &k, 0, &first, &errors);
	if (wrong)
		ktap_print_msg("%s: %zu pages faulted wrongly, first: page %zu (wants %d faults)",
			       label, wrong, first, masked(k, first));
	if (errors)
		ktap_print_msg("%s: %d unexpected userfaultfd events", label, errors);
	ktap_test_result(!wrong && !errors, "%s: %s", label, checks[2]);

	uffd_unregister(uffd, p, RANGE);
	munmap(p, RANGE);
}

/*
 * The control: a range of small pages without userfaultfd collapses
 * (MADV_COLLAPSE, then a huge PMD maps it).  If it cannot here, the
 * cases above prove nothing about the uffd-wp checks: say so.
 */
static void control(int shared)
{
	const char *name = shared ? "shmem" : "anon";
	char *p = map_aligned(RANGE, RANGE, shared);
	madvise(p, RANGE, MADV_NOHUGEPAGE);
	fill_pages(p, 0, nr_pages);
	madvise(p, RANGE, MADV_HUGEPAGE);
	int r = madvise(p, RANGE, MADV_COLLAPSE);
	long kb = smaps_kb(p, shared ? "ShmemPmdMapped" : "AnonHugePages");
	long wrong = check_pages(p, 0, nr_pages, 0);
	if (r || kb <= 0) {
		char why[128];
		snprintf(why, sizeof(why),
			 "MADV_COLLAPSE %s, %ld kB huge: collapse does not happen here",
			 r ? strerror(errno) : "done", kb);
		ktap_test_skip(why, "%s control: an unprotected range collapses", name);
	} else {
		ktap_test_result(wrong < 0, "%s control: an unprotected range collapses", name);
	}
	munmap(p, RANGE);
}

int main(void)
{
	char saved_sleep[64], saved_alloc[64], saved_scan[64], saved_shmem[64], saved_enabled[64];
	char *saved[] = {saved_sleep, saved_alloc, saved_scan, saved_shmem, saved_enabled};
	static const char *const knobs[] = {
	    KHUGEPAGED "scan_sleep_millisecs", KHUGEPAGED "alloc_sleep_millisecs",
	    KHUGEPAGED "pages_to_scan", THP "shmem_enabled", THP "enabled"};
	static const char *const values[] = {"10", "10", "4096", "advise", "madvise"};
	int set[5] = {0};

	ktap_print_header();
	mm_util_init();
	nr_pages = RANGE / page_size;
	if (nr_pages > MAX_TEST_PAGES || page_size != 4096)
		ktap_exit_skip("a %zu-byte page: the 2 MiB ranges need 4K pages", page_size);
	if (access(KHUGEPAGED "full_scans", R_OK))
		ktap_exit_skip("no khugepaged (CONFIG_TRANSPARENT_HUGEPAGE off?)");
	int uffd = uffd_open_wp_shmem();
	for (int i = 0; i < 5; i++)
		set[i] = sysfs_swap(knobs[i], values[i], saved[i], 64) == 0;

	int kmsg = kmsg_mark();
	ktap_set_plan(2 + 2 * MASK_NR * METHOD_NR * 3 + 1);
	control(0);
	control(1);
	for (int shared = 0; shared < 2; shared++)
		for (enum mask_kind k = 0; k < MASK_NR; k++)
			for (enum method m = 0; m < METHOD_NR; m++)
				run_case(uffd, shared, k, m);
	ktap_test_kmsg(kmsg);
	for (int i = 0; i < 5; i++)
		if (set[i])
			sysfs_restore(knobs[i], saved[i]);
	close(uffd);
	ktap_finished();
}
