// SPDX-License-Identifier: GPL-2.0
/*
 * mprotect_shared_anon: mprotect() making anonymous large folios writable
 * again must not give write access to pages shared with a child.
 *
 * After fork() the pages of a private mapping are shared with the child
 * and no longer "anon exclusive".  When mprotect() turns PROT_READ back
 * into PROT_READ|PROT_WRITE it may set the write bit right away only on
 * exclusive anonymous pages (mm/mprotect.c: can_change_pte_writable());
 * a shared page must stay write-protected so the next write faults and
 * copies it.  A batch of PTEs over a large folio must keep that rule page
 * by page.  Checked over 64K folios with the child alive, on a range that
 * starts and ends inside folios: every write faults (ru_minflt), the
 * child's copy does not change, the parent sees its own writes, pages
 * outside the range keep their data.  Without a child (exclusive pages)
 * the writes may skip the fault: only the data is checked and the fault
 * count is printed.  A kernel warning during the test fails it.
 *
 * Also measured (never decides pass/fail): mprotect() RO->RW of 256 MiB
 * backed by 64K folios vs 4K pages, as "# perf:" lines.
 */
#define _GNU_SOURCE
#include "mm_util.h"

#include <sys/resource.h>
#include <sys/wait.h>

#define FOLIO_KB 64
#define NR_FOLIOS 4

static size_t folio_pages, pages, len, first, last; /* [first, last) is made writable */

static long minor_faults(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Write a new value into word 0 of every page in [first, last); return the faults it took. */
static long write_range(char *p)
{
	long before = minor_faults();
	for (size_t i = first; i < last; i++)
		*(volatile uint64_t *)(p + i * page_size) = ~pattern(i, 0);
	return minor_faults() - before;
}

/* The first page that does not hold what the parent should see, or -1. */
static long check_parent(const char *p)
{
	for (size_t i = 0; i < pages; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * page_size);
		int written = i >= first && i < last;
		if (w[0] != (written ? ~pattern(i, 0) : pattern(i, 0)))
			return (long)i;
		for (size_t k = 1; k < page_size / 8; k++)
			if (w[k] != pattern(i, k))
				return (long)i;
	}
	return -1;
}

static void shared_with_child(void)
{
	char why[256];
	const char *label = "shared with a live child";
	char *p = map_filled_folios(NR_FOLIOS, folio_pages, 0, 1, why, sizeof(why));
	if (!p) {
		ktap_test_skip(why, "%s: every write to a shared page faults", label);
		ktap_test_skip(why, "%s: the child's copy is unchanged", label);
		ktap_test_skip(why, "%s: the parent sees exactly its own writes", label);
		return;
	}
	int go[2], result[2];
	if (pipe(go) || pipe(result))
		ktap_exit_fail_msg("pipe: %s", strerror(errno));
	fflush(stdout);
	pid_t child = fork();
	if (child < 0)
		ktap_exit_fail_msg("fork: %s", strerror(errno));
	if (child == 0) {
		/* keep the pages shared until the parent has written, then check our copy */
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) < 0)
			_exit(2);
		long bad = check_pages(p, 0, pages, 0);
		if (write(result[1], &bad, sizeof(bad)) < 0)
			_exit(2);
		_exit(0);
	}
	close(go[0]);
	close(result[1]);

	if (mprotect(p, len, PROT_READ) ||
	    mprotect(p + first * page_size, (last - first) * page_size, PROT_READ | PROT_WRITE))
		ktap_exit_fail_msg("mprotect: %s", strerror(errno));
	long faults = write_range(p);
	size_t written = last - first;
	if (faults < (long)written)
		ktap_print_msg("%ld faults for %zu writes to pages shared with the child: some pages were writable",
			       faults, written);
	ktap_test_result(faults >= (long)written, "%s: every write to a shared page faults", label);

	long child_bad = -2;
	if (write(go[1], "x", 1) < 0 || read(result[0], &child_bad, sizeof(child_bad)) != sizeof(child_bad))
		child_bad = -2;
	int status = 0;
	waitpid(child, &status, 0);
	if (child_bad >= 0)
		ktap_print_msg("the child's page %ld changed: the parent wrote into a shared page", child_bad);
	else if (child_bad == -2)
		ktap_print_msg("the child did not report (status 0x%x)", status);
	ktap_test_result(child_bad == -1, "%s: the child's copy is unchanged", label);

	long bad = check_parent(p);
	if (bad >= 0)
		ktap_print_msg("the parent's page %ld holds the wrong data", bad);
	ktap_test_result(bad < 0, "%s: the parent sees exactly its own writes", label);
	close(go[1]);
	close(result[0]);
	munmap(p, len);
}

static void exclusive(void)
{
	char why[256];
	const char *label = "exclusive (no child)";
	char *p = map_filled_folios(NR_FOLIOS, folio_pages, 0, 1, why, sizeof(why));
	if (!p) {
		ktap_test_skip(why, "%s: the data is right after the writes", label);
		return;
	}
	if (mprotect(p, len, PROT_READ) ||
	    mprotect(p + first * page_size, (last - first) * page_size, PROT_READ | PROT_WRITE))
		ktap_exit_fail_msg("mprotect: %s", strerror(errno));
	long faults = write_range(p);
	ktap_print_msg("%s: %ld faults for %zu writes (exclusive pages may be made writable at once)",
		       label, faults, last - first);
	long bad = check_parent(p);
	if (bad >= 0)
		ktap_print_msg("page %ld holds the wrong data", bad);
	ktap_test_result(bad < 0, "%s: the data is right after the writes", label);
	munmap(p, len);
}

#define PERF_MIB 64 /* per sample */

/*
 * mprotect() PROT_READ -> PROT_READ|PROT_WRITE over PERF_MIB MiB of
 * exclusive anonymous memory with the mTHP knob at 'mode' (64K folios or
 * 4K pages): the path a batching patch speeds up.  Milliseconds, or -1.
 */
static double time_mprotect_rw(const char *knob, const char *mode)
{
	size_t n = (size_t)PERF_MIB << 20;
	char *p = map_touched_with_mthp(PERF_MIB, FOLIO_KB * 1024, knob, mode);
	if (!p)
		return -1;
	/* a figure of "64k_folios" that 4K pages backed would measure something else */
	if (!perf_sample_backed(p, n, FOLIO_KB, mode)) {
		munmap(p, n);
		return -1;
	}
	if (mprotect(p, n, PROT_READ)) {
		munmap(p, n);
		return -1;
	}
	double t0 = seconds_now();
	int r = mprotect(p, n, PROT_READ | PROT_WRITE);
	double ms = (seconds_now() - t0) * 1000;
	munmap(p, n);
	return r ? -1 : ms;
}

int main(void)
{
	struct mthp_knob knob = { 0 };

	ktap_print_header();
	mm_util_init();
	folio_pages = FOLIO_KB * 1024 / page_size;
	pages = NR_FOLIOS * folio_pages;
	len = pages * page_size;
	/* from the middle of the first folio to the middle of the last */
	first = folio_pages / 2;
	last = pages - folio_pages / 2;
	mthp_enable(&knob, FOLIO_KB, "enabled");

	int kmsg = kmsg_mark();
	ktap_set_plan(3 + 1 + 1);
	shared_with_child();
	exclusive();
	/* "# perf: NAME VALUE UNIT", PERF_SAMPLES times each, in turn: never a verdict */
	for (int i = 0; i < PERF_SAMPLES; i++) {
		double large = time_mprotect_rw(knob.path, "always"), small = time_mprotect_rw(knob.path, "never");
		if (large >= 0)
			ktap_print_msg("perf: mprotect_rw_%dmib_%dk_folios %.2f ms", PERF_MIB, FOLIO_KB, large);
		if (small >= 0)
			ktap_print_msg("perf: mprotect_rw_%dmib_4k_pages %.2f ms", PERF_MIB, small);
	}
	ktap_test_kmsg(kmsg);
	mthp_restore(&knob);
	ktap_finished();
}
