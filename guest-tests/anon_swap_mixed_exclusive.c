// SPDX-License-Identifier: GPL-2.0
/*
 * anon_swap_mixed_exclusive: anonymous large folios whose pages differ in
 * "anon exclusive" go to swap and come back intact and isolated.
 *
 * Each 64K folio's second half is MADV_DONTFORK'ed before fork(), so the
 * child shares only the first halves; MADV_DOFORK then merges the VMAs
 * back, and the parent maps every folio with shared pages (first half)
 * and exclusive pages (second half) side by side.  try_to_unmap_one()
 * unmaps such a folio in sub-batches by PageAnonExclusive (mm/rmap.c):
 * the exclusive bit must travel into each swap PTE for exactly the pages
 * that had it, or a later swap-in maps a shared page writable.  The
 * folios are reclaimed through the test's memory cgroup (MADV_PAGEOUT
 * skips folios another process maps) and then checked: every page of the
 * parent is a swap entry (pagemap) and smaps' Swap/Rss are exact; after
 * swap-in the data is intact; parent and child each write their pages and
 * neither sees the other's writes; the counters are exact again; and
 * once both have unmapped, no swap slot stays in use (swapoff() can
 * finish).  A kernel warning ("Bad rss-counter", "Bad page") fails it.
 *
 * Also measured (never decides pass/fail): MADV_PAGEOUT of 64 MiB backed
 * by 64K folios vs 4K pages, as "# perf:" lines.
 */
#define _GNU_SOURCE
#include "mm_util.h"

#include <time.h>

#define FOLIO_KB 64
#define NR_FOLIOS 8
#define CGROUP "/sys/fs/cgroup/kpipe-anon-swap"
#define PERF_MIB 16 /* per sample */

static size_t folio_pages, pages, len;

static int shared_page(size_t i)
{
	return i % folio_pages < folio_pages / 2;
}

/* The value the parent (who = 1) or the child (who = 2) writes into word 0 of page i. */
static uint64_t written(size_t i, int who)
{
	return pattern(i, 0) ^ (0x1111111111111111ULL * (uint64_t)who);
}

/* The first page in 'p' whose word 0 is not what 'want(i)' says, or -1; rest of page: pattern. */
static long check_words(const char *p, int (*counts)(size_t), uint64_t (*want)(size_t))
{
	for (size_t i = 0; i < pages; i++) {
		if (counts && !counts(i))
			continue;
		const uint64_t *w = (const uint64_t *)(p + i * page_size);
		if (w[0] != want(i))
			return (long)i;
		for (size_t k = 1; k < page_size / 8; k++)
			if (w[k] != pattern(i, k))
				return (long)i;
	}
	return -1;
}

static uint64_t want_pattern(size_t i) { return pattern(i, 0); }
static uint64_t want_parent(size_t i) { return written(i, 1); }
static uint64_t want_child(size_t i) { return written(i, 2); }

/* Pages of the parent's range that are not swap entries; *first gets the first. */
static size_t not_swapped(const char *p, size_t *first)
{
	size_t n = 0;
	for (size_t i = 0; i < pages; i++)
		if (!(pagemap_entry(p + i * page_size) & PM_SWAP) && !n++)
			*first = i;
	return n;
}

/* Ask the child to do 'cmd' ('c' check pattern, 'w' write, 'v' verify own writes, 'q' quit). */
static long ask_child(int to, int from, char cmd)
{
	long r = -3;
	if (write(to, &cmd, 1) != 1 || read(from, &r, sizeof(r)) != sizeof(r))
		return -3;
	return r;
}

static void child_loop(char *p, int from, int to)
{
	char cmd;
	while (read(from, &cmd, 1) == 1) {
		long r = 0;
		if (cmd == 'c') {
			r = check_words(p, shared_page, want_pattern);
		} else if (cmd == 'w') {
			for (size_t i = 0; i < pages; i++)
				if (shared_page(i))
					*(volatile uint64_t *)(p + i * page_size) = written(i, 2);
			r = -1;
		} else if (cmd == 'v') {
			r = check_words(p, shared_page, want_child);
		} else if (cmd == 'u') {
			r = munmap(p, len) ? -2 : -1;
		} else {
			_exit(0);
		}
		if (write(to, &r, sizeof(r)) != sizeof(r))
			_exit(2);
	}
	_exit(0);
}

struct child_pipes {
	char *p;
	int to[2], from[2]; /* parent -> child, child -> parent */
};

static void child_main(void *arg)
{
	struct child_pipes *cp = arg;
	close(cp->to[1]);
	close(cp->from[0]);
	child_loop(cp->p, cp->to[0], cp->from[1]);
}

static const char *verdict_page(long r, char *buf, size_t n)
{
	if (r == -3)
		snprintf(buf, n, "the child did not answer");
	else
		snprintf(buf, n, "page %ld is wrong", r);
	return buf;
}

static void mixed_exclusive(int in_cgroup)
{
	char why[256], msg[96];
	char *p = map_filled_folios(NR_FOLIOS, folio_pages, 0, 1, why, sizeof(why));
	const char *names[] = {
		"every page of the parent went to swap",
		"smaps counters exact after reclaim (Rss 0, Swap all)",
		"data intact after swap-in, parent and child",
		"a parent write is not seen by the child",
		"a child write is not seen by the parent",
		"smaps counters exact after swap-in (Swap 0)",
		"no swap slot left in use after munmap (swapoff succeeds)",
	};
	const size_t nr_names = sizeof(names) / sizeof(names[0]);
	if (!p) {
		for (size_t i = 0; i < nr_names; i++)
			ktap_test_skip(why, "%s", names[i]);
		return;
	}
	struct child_pipes cp = { .p = p };
	if (pipe(cp.to) || pipe(cp.from))
		ktap_exit_fail_msg("pipe: %s", strerror(errno));
	pid_t child = fork_sharing_first_halves(p, NR_FOLIOS, folio_pages, child_main, &cp);
	close(cp.to[0]);
	close(cp.from[1]);
	int to = cp.to[1], from = cp.from[0];

	if (in_cgroup)
		memcg_reclaim(CGROUP, "256M");
	else
		madvise(p, len, MADV_PAGEOUT);
	size_t first = 0, left = not_swapped(p, &first);
	if (left)
		ktap_print_msg("%zu of %zu pages still mapped after reclaim, first: page %zu", left, pages,
			       first);
	ktap_test_result(!left, "%s", names[0]);

	long rss = smaps_kb(p, "Rss"), swap = smaps_kb(p, "Swap");
	long want_kb = (long)(len / 1024);
	if (rss != 0 || swap != want_kb)
		ktap_print_msg("smaps: Rss %ld kB, Swap %ld kB; want 0 and %ld", rss, swap, want_kb);
	ktap_test_result(rss == 0 && swap == want_kb, "%s", names[1]);

	long bad = check_words(p, NULL, want_pattern), child_bad = ask_child(to, from, 'c');
	if (bad >= 0)
		ktap_print_msg("the parent's page %ld came back wrong", bad);
	if (child_bad != -1)
		ktap_print_msg("the child: %s", verdict_page(child_bad, msg, sizeof(msg)));
	ktap_test_result(bad < 0 && child_bad == -1, "%s", names[2]);

	for (size_t i = 0; i < pages; i++)
		*(volatile uint64_t *)(p + i * page_size) = written(i, 1);
	child_bad = ask_child(to, from, 'c');
	if (child_bad != -1)
		ktap_print_msg("the child after the parent wrote: %s", verdict_page(child_bad, msg, sizeof(msg)));
	ktap_test_result(child_bad == -1, "%s", names[3]);

	long wrote = ask_child(to, from, 'w');
	child_bad = ask_child(to, from, 'v');
	bad = check_words(p, NULL, want_parent);
	if (bad >= 0)
		ktap_print_msg("the parent's page %ld changed after the child wrote", bad);
	if (wrote != -1 || child_bad != -1)
		ktap_print_msg("the child's own writes: %s", verdict_page(child_bad, msg, sizeof(msg)));
	ktap_test_result(bad < 0 && wrote == -1 && child_bad == -1, "%s", names[4]);

	rss = smaps_kb(p, "Rss");
	swap = smaps_kb(p, "Swap");
	if (rss != want_kb || swap != 0)
		ktap_print_msg("smaps: Rss %ld kB, Swap %ld kB; want %ld and 0", rss, swap, want_kb);
	ktap_test_result(rss == want_kb && swap == 0, "%s", names[5]);

	munmap(p, len);
	ask_child(to, from, 'u');
	ask_child(to, from, 'q');
	close(to);
	close(from);
	waitpid(child, NULL, 0);
	int swapped_in = swap_off_on(20, why, sizeof(why)) == 0;
	if (!swapped_in)
		ktap_print_msg("%s", why);
	ktap_test_result(swapped_in, "%s", names[6]);
}

/* MADV_PAGEOUT of PERF_MIB MiB with the mTHP knob at 'mode'; milliseconds, or -1. */
static double time_pageout(const char *knob, const char *mode)
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
	double t0 = seconds_now();
	int r = madvise(p, n, MADV_PAGEOUT);
	double ms = (seconds_now() - t0) * 1000;
	long swapped = smaps_swap_kb(p);
	munmap(p, n);
	return r || swapped <= 0 ? -1 : ms;
}

int main(void)
{
	struct mthp_knob knob = { 0 };

	ktap_print_header();
	mm_util_init();
	folio_pages = FOLIO_KB * 1024 / page_size;
	pages = NR_FOLIOS * folio_pages;
	len = pages * page_size;
	if (meminfo_kb("SwapTotal") <= 0)
		ktap_exit_skip("no swap (zram) in this guest");
	mthp_enable(&knob, FOLIO_KB, "enabled");

	int in_cgroup = memcg_enter(CGROUP);
	int kmsg = kmsg_mark();
	ktap_set_plan(7 + 1);
	mixed_exclusive(in_cgroup);
	/*
	 * "# perf: NAME VALUE UNIT", PERF_SAMPLES times each, the two kinds in
	 * turn so that a noisy moment falls on both: kpipe compares the sample
	 * sets, never one figure.
	 */
	for (int i = 0; i < PERF_SAMPLES; i++) {
		double large = time_pageout(knob.path, "always"), small = time_pageout(knob.path, "never");
		if (large >= 0)
			ktap_print_msg("perf: madv_pageout_%dmib_%dk_folios %.1f ms", PERF_MIB, FOLIO_KB, large);
		if (small >= 0)
			ktap_print_msg("perf: madv_pageout_%dmib_4k_pages %.1f ms", PERF_MIB, small);
	}
	ktap_test_kmsg(kmsg);
	mthp_restore(&knob);
	ktap_finished();
}
