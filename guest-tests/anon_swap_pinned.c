// SPDX-License-Identifier: GPL-2.0
/*
 * anon_swap_pinned: reclaim of anonymous large folios that can only
 * partly be unmapped, because some of their pages are pinned.
 *
 * Each 64K folio has a first half shared with a child (fork with the
 * second half MADV_DONTFORK, then MADV_DOFORK to merge the VMAs back) and
 * an exclusive second half.  In folios 0 and 2 the exclusive pages are
 * pinned with io_uring registered buffers (FOLL_PIN | FOLL_LONGTERM).  An
 * exclusive page of a maybe-pinned folio cannot be unmapped
 * (folio_try_share_anon_rmap_pte() fails), so try_to_unmap_one() gives up
 * part way through the folio and must put back every PTE it had cleared
 * in that batch (mm/rmap.c).  After reclaim through the test's memory
 * cgroup:
 *   - every pinned page is still mapped, to the very page that is pinned
 *     (same PFN as before: the pin and the mapping see the same memory);
 *   - the data is intact in the parent and the child, also after writes;
 *   - smaps adds up: Rss + Swap covers every page once, and Swap equals
 *     the pages pagemap shows as swap entries;
 *   - once the buffers are unregistered and everything is unmapped, no
 *     swap slot stays in use (swapoff() can finish);
 *   - no kernel warning ("Bad rss-counter", "Bad page", ...).
 * Reclaim skips a maybe-pinned anonymous folio that has no swap space
 * yet (mm/vmscan.c, shrink_folio_list()), so in 6.12 the case above keeps
 * the pinned folios whole.  The second case reaches the partial unmap on
 * any kernel: the folios go out whole (MADV_PAGEOUT) to a loop-device
 * swap, which unlike zram keeps them in the swap cache; after the fork
 * they are read back from there, still 64K folios, and pinned.  Reclaim
 * does not skip them now (they have swap space), so try_to_unmap_one()
 * turns the shared half of each pinned folio into swap entries and must
 * put back the PTE of the first pinned page it cannot unmap.  The same
 * checks follow, with the loop swap's swapoff() as the leak check.
 */
#define _GNU_SOURCE
#include "mm_util.h"

#include <linux/io_uring.h>
#include <sys/uio.h>

#define FOLIO_KB 64
#define NR_FOLIOS 4
#define CGROUP "/sys/fs/cgroup/kpipe-anon-swap-pinned"

static size_t folio_pages, pages, len;

static int shared_page(size_t i)
{
	return i % folio_pages < folio_pages / 2;
}

static int pinned_page(size_t i)
{
	size_t folio = i / folio_pages;
	return !shared_page(i) && (folio == 0 || folio == 2);
}

/* Pin the exclusive halves of folios 0 and 2 with io_uring; returns the ring fd or -1. */
static int pin_pages(char *p, char *why, size_t n)
{
	struct io_uring_params params;
	memset(&params, 0, sizeof(params));
	int ring = (int)syscall(__NR_io_uring_setup, 1, &params);
	if (ring < 0) {
		snprintf(why, n, "io_uring_setup: %s (CONFIG_IO_URING?)", strerror(errno));
		return -1;
	}
	struct iovec iov[2];
	for (int k = 0; k < 2; k++) {
		iov[k].iov_base = p + (k * 2 * folio_pages + folio_pages / 2) * page_size;
		iov[k].iov_len = folio_pages / 2 * page_size;
	}
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, iov, 2) < 0) {
		snprintf(why, n, "IORING_REGISTER_BUFFERS: %s", strerror(errno));
		close(ring);
		return -1;
	}
	return ring;
}

static int to_child[2], from_child[2];

/* The child: on each 'c', check its (shared) pages and answer the first bad one or -1. */
static void child_main(void *arg)
{
	char *p = arg, cmd;
	close(to_child[1]);
	close(from_child[0]);
	while (read(to_child[0], &cmd, 1) == 1 && cmd == 'c') {
		long bad = -1;
		for (size_t i = 0; i < pages && bad < 0; i++)
			if (shared_page(i) && check_pages(p + i * page_size, i, 1, 0) >= 0)
				bad = (long)i;
		if (write(from_child[1], &bad, sizeof(bad)) != sizeof(bad))
			_exit(2);
	}
}

static long child_check(int to, int from, char cmd)
{
	long r = -3;
	if (write(to, &cmd, 1) != 1 || read(from, &r, sizeof(r)) != sizeof(r))
		return -3;
	return r;
}

/* Report 'n' results as skipped for 'why'. */
static void skip_all(const char *const *names, size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++)
		ktap_test_skip(why, "%s", names[i]);
}

/* What pagemap shows of the parent's pages after reclaim. */
struct after_reclaim {
	size_t present, swapped;
	size_t moved, first_moved; /* pinned pages no longer mapped to the pinned page */
	size_t partial;            /* shared pages of pinned folios that went to swap */
};

static void scan_after_reclaim(struct after_reclaim *r, const char *p, const uint64_t *pfn)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < pages; i++) {
		uint64_t e = pagemap_entry(p + i * page_size);
		r->swapped += !!(e & PM_SWAP);
		r->present += !!(e & PM_PRESENT);
		if (pinned_page(i) && (!(e & PM_PRESENT) || (e & PM_PFN_MASK) != pfn[i]) && !r->moved++)
			r->first_moved = i;
		r->partial += shared_page(i) && pinned_page(i - i % folio_pages + folio_pages / 2) && (e & PM_SWAP);
	}
	ktap_print_msg("after reclaim: %zu pages present, %zu swap entries, %zu not mapped", r->present,
		       r->swapped, pages - r->present - r->swapped);
	if (r->moved)
		ktap_print_msg("%zu pinned pages not mapped to their pinned page any more, first: page %zu",
			       r->moved, r->first_moved);
}

/* smaps' Rss + Swap of the range covers every page once; *swap_kb gets Swap. */
static int smaps_adds_up(const char *p, const struct after_reclaim *r, long *swap_kb)
{
	long rss = smaps_kb(p, "Rss"), swap = smaps_kb(p, "Swap");
	long want_kb = (long)(len / 1024);
	if (rss + swap != want_kb)
		ktap_print_msg("smaps: Rss %ld kB + Swap %ld kB, want %ld in all", rss, swap, want_kb);
	*swap_kb = swap;
	return rss + swap == want_kb && r->present + r->swapped == pages;
}

/*
 * The parent reads every page, writes its exclusive ones (the same
 * values: a real write) and reads again; the child checks its shared
 * pages.  Two results.
 */
static void check_parent_and_child(char *p, const char *parent_name, const char *child_name)
{
	long bad = check_pages(p, 0, pages, 0);
	for (size_t i = 0; i < pages; i++)
		if (!shared_page(i))
			*(volatile uint64_t *)(p + i * page_size) = pattern(i, 0);
	if (bad < 0)
		bad = check_pages(p, 0, pages, 0);
	if (bad >= 0)
		ktap_print_msg("the parent's page %ld holds the wrong data", bad);
	ktap_test_result(bad < 0, "%s", parent_name);
	long child_bad = child_check(to_child[1], from_child[0], 'c');
	if (child_bad != -1)
		ktap_print_msg("the child: %s %ld", child_bad == -3 ? "no answer" : "wrong data in page",
			       child_bad);
	ktap_test_result(child_bad == -1, "%s", child_name);
}

/* Unpin (ring >= 0), unmap, and let the child go. */
static void unpin_unmap_end_child(char *p, int ring, pid_t child)
{
	if (ring >= 0) {
		syscall(__NR_io_uring_register, ring, IORING_UNREGISTER_BUFFERS, NULL, 0);
		close(ring);
	}
	munmap(p, len);
	child_check(to_child[1], from_child[0], 'q');
	close(to_child[1]);
	close(from_child[0]);
	waitpid(child, NULL, 0);
}

/* Map the folios and fork the child that shares their first halves; NULL (and 'why') if not large. */
static char *folios_with_child(pid_t *child, char *why, size_t n)
{
	char *p = map_filled_folios(NR_FOLIOS, folio_pages, 0, 1, why, n);
	if (!p)
		return NULL;
	if (pipe(to_child) || pipe(from_child))
		ktap_exit_fail_msg("pipe: %s", strerror(errno));
	*child = fork_sharing_first_halves(p, NR_FOLIOS, folio_pages, child_main, p);
	close(to_child[0]);
	close(from_child[1]);
	return p;
}

static uint64_t *pfns(const char *p)
{
	uint64_t *pfn = calloc(pages, sizeof(*pfn));
	for (size_t i = 0; i < pages; i++)
		pfn[i] = pagemap_entry(p + i * page_size) & PM_PFN_MASK;
	return pfn;
}

/*
 * Pinned before reclaim: 6.12 skips a maybe-pinned folio that is not in
 * the swap cache yet, a kernel that batches further may not.
 */
static void pinned_before_reclaim(void)
{
	char why[256];
	static const char *const names[] = {
		"pinned pages stay mapped to the pinned page",
		"some unpinned pages went to swap",
		"smaps adds up: Rss + Swap covers every page once",
		"smaps Swap equals the swap entries in pagemap",
		"data intact in the parent after reclaim and writes",
		"data intact in the child",
		"no swap slot left in use after unpin and munmap (swapoff succeeds)",
	};
	const size_t nr_names = sizeof(names) / sizeof(names[0]);
	pid_t child;

	char *p = folios_with_child(&child, why, sizeof(why));
	if (!p) {
		skip_all(names, nr_names, why);
		return;
	}
	int ring = pin_pages(p, why, sizeof(why));
	if (ring < 0) {
		skip_all(names, nr_names, why);
		unpin_unmap_end_child(p, ring, child);
		return;
	}
	uint64_t *pfn = pfns(p);
	memcg_reclaim(CGROUP, "64M");

	struct after_reclaim r;
	long swap;
	scan_after_reclaim(&r, p, pfn);
	ktap_test_result(!r.moved, "%s", names[0]);
	ktap_test_result(r.swapped > 0, "%s", names[1]);
	ktap_test_result(smaps_adds_up(p, &r, &swap), "%s", names[2]);
	if (swap != (long)(r.swapped * page_size / 1024))
		ktap_print_msg("smaps Swap %ld kB, pagemap: %zu swap entries", swap, r.swapped);
	ktap_test_result(swap == (long)(r.swapped * page_size / 1024), "%s", names[3]);
	check_parent_and_child(p, names[4], names[5]);
	free(pfn);
	unpin_unmap_end_child(p, ring, child);
	int ok = swap_off_on(20, why, sizeof(why)) == 0;
	if (!ok)
		ktap_print_msg("%s", why);
	ktap_test_result(ok, "%s", names[6]);
}

/*
 * Pinned while in the swap cache: folios swapped out to a swap device
 * that is not synchronous (a loop device; zram skips the swap cache) and
 * read back stay in the swap cache while mapped.  Pinned there, reclaim
 * does not skip them (they already have swap space), so try_to_unmap()
 * runs: the shared first half of a pinned folio becomes swap entries,
 * then the first pinned exclusive page fails folio_try_share_anon_rmap_pte()
 * and the PTEs of that batch must be put back: a partial unmap.
 */
static void pinned_in_swap_cache(void)
{
	char why[256], dev[64];
	static const char *const names[] = {
		"swap cache: pinned pages stay mapped to the pinned page after reclaim",
		"swap cache: reclaim unmapped the shared pages of the pinned folios (partial unmap)",
		"swap cache: smaps adds up: Rss + Swap covers every page once",
		"swap cache: data intact in the parent after reclaim and writes",
		"swap cache: data intact in the child",
		"swap cache: no swap slot left in use after unpin and munmap (swapoff succeeds)",
	};
	const size_t nr_names = sizeof(names) / sizeof(names[0]);
	int ring = -1;
	pid_t child;

	if (loop_swap_on(128, dev, sizeof(dev), why, sizeof(why))) {
		skip_all(names, nr_names, why);
		return;
	}
	char *p = map_filled_folios(NR_FOLIOS, folio_pages, 0, 1, why, sizeof(why));
	if (!p) {
		skip_all(names, nr_names, why);
		goto out_swap;
	}
	/*
	 * Out to the loop swap while nothing is shared (MADV_PAGEOUT takes
	 * whole folios: they wait in the swap cache), then fork: the child
	 * gets swap entries for the first halves.  Read back, the folios are
	 * mapped again from the swap cache.
	 */
	if (madvise(p, len, MADV_PAGEOUT))
		ktap_exit_fail_msg("madvise(MADV_PAGEOUT): %s", strerror(errno));
	size_t out = 0, cached = 0;
	for (size_t i = 0; i < pages; i++)
		out += !!(pagemap_entry(p + i * page_size) & PM_SWAP);
	if (pipe(to_child) || pipe(from_child))
		ktap_exit_fail_msg("pipe: %s", strerror(errno));
	child = fork_sharing_first_halves(p, NR_FOLIOS, folio_pages, child_main, p);
	close(to_child[0]);
	close(from_child[1]);
	long bad = check_pages(p, 0, pages, 0);
	for (size_t i = 0; i < pages; i++) {
		uint64_t e = pagemap_entry(p + i * page_size);
		cached += (e & PM_PRESENT) && (kpageflags(e & PM_PFN_MASK) & (1ULL << KPF_SWAPCACHE));
	}
	ktap_print_msg("swap cache: %zu of %zu pages went to swap, %zu are back mapped from the swap cache", out,
		       pages, cached);
	if (bad >= 0)
		ktap_exit_fail_msg("page %ld wrong after swap-in from %s", bad, dev);
	if (out != pages || cached != pages) {
		snprintf(why, sizeof(why), "could not get the folios mapped from the swap cache (%zu swapped, %zu cached)",
			 out, cached);
		goto skip;
	}
	if (!backed_by_large_folios(p, NR_FOLIOS, folio_pages, why, sizeof(why)))
		goto skip;
	ring = pin_pages(p, why, sizeof(why));
	if (ring < 0)
		goto skip;
	uint64_t *pfn = pfns(p);
	/*
	 * MADV_PAGEOUT: the folios are mapped by the parent alone now (the
	 * child has swap entries), and it ignores the references the
	 * read-back just made, which would let memcg reclaim keep the
	 * pinned folios on the active list.
	 */
	if (madvise(p, len, MADV_PAGEOUT))
		ktap_exit_fail_msg("madvise(MADV_PAGEOUT): %s", strerror(errno));

	struct after_reclaim r;
	long swap;
	scan_after_reclaim(&r, p, pfn);
	ktap_test_result(!r.moved, "%s", names[0]);
	ktap_print_msg("%zu shared pages of pinned folios are swap entries", r.partial);
	ktap_test_result(r.partial > 0, "%s", names[1]);
	ktap_test_result(smaps_adds_up(p, &r, &swap), "%s", names[2]);
	check_parent_and_child(p, names[3], names[4]);
	free(pfn);
	unpin_unmap_end_child(p, ring, child);
	goto out_swap;
skip:
	skip_all(names, nr_names, why);
	unpin_unmap_end_child(p, ring, child);
out_swap:;
	int ok = loop_swap_off(dev, 20, why, sizeof(why)) == 0;
	if (ring >= 0) {
		if (!ok)
			ktap_print_msg("%s", why);
		ktap_test_result(ok, "%s", names[5]);
	} else if (!ok) {
		ktap_print_msg("taking the loop swap down: %s", why);
	}
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
	if (!memcg_enter(CGROUP)) {
		mthp_restore(&knob);
		ktap_exit_skip("needs a memory cgroup to reclaim pinned folios (MADV_PAGEOUT skips them)");
	}
	int kmsg = kmsg_mark();
	ktap_set_plan(7 + 6 + 1);
	pinned_before_reclaim();
	pinned_in_swap_cache();
	ktap_test_kmsg(kmsg);
	mthp_restore(&knob);
	ktap_finished();
}
