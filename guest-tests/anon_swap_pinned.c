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
 * On 6.12 reclaim skips a maybe-pinned anonymous folio before it gives it
 * swap space (mm/vmscan.c, shrink_folio_list()), so the pinned folios stay
 * whole and only the partial-unmap path of a kernel that batches further
 * is reached; the checks hold either way.
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

int main(void)
{
	struct mthp_knob knob = { 0 };
	char why[256];
	const char *names[] = {
		"pinned pages stay mapped to the pinned page",
		"some unpinned pages went to swap",
		"smaps adds up: Rss + Swap covers every page once",
		"smaps Swap equals the swap entries in pagemap",
		"data intact in the parent after reclaim and writes",
		"data intact in the child",
		"no swap slot left in use after unpin and munmap (swapoff succeeds)",
	};
	const size_t nr_names = sizeof(names) / sizeof(names[0]);

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
	ktap_set_plan((unsigned)nr_names + 1);

	char *p = map_filled_folios(NR_FOLIOS, folio_pages, 0, 1, why, sizeof(why));
	if (!p) {
		for (size_t i = 0; i < nr_names; i++)
			ktap_test_skip(why, "%s", names[i]);
		goto done;
	}
	if (pipe(to_child) || pipe(from_child))
		ktap_exit_fail_msg("pipe: %s", strerror(errno));
	pid_t child = fork_sharing_first_halves(p, NR_FOLIOS, folio_pages, child_main, p);
	close(to_child[0]);
	close(from_child[1]);

	int ring = pin_pages(p, why, sizeof(why));
	if (ring < 0) {
		for (size_t i = 0; i < nr_names; i++)
			ktap_test_skip(why, "%s", names[i]);
		goto out_child;
	}
	uint64_t *pfn = calloc(pages, sizeof(*pfn));
	for (size_t i = 0; i < pages; i++)
		pfn[i] = pagemap_entry(p + i * page_size) & PM_PFN_MASK;

	memcg_reclaim(CGROUP, "64M");

	size_t moved = 0, first = 0, swapped = 0, present = 0;
	for (size_t i = 0; i < pages; i++) {
		uint64_t e = pagemap_entry(p + i * page_size);
		swapped += !!(e & PM_SWAP);
		present += !!(e & PM_PRESENT);
		if (pinned_page(i) && (!(e & PM_PRESENT) || (e & PM_PFN_MASK) != pfn[i]) && !moved++)
			first = i;
	}
	if (moved)
		ktap_print_msg("%zu pinned pages not mapped to their pinned page any more, first: page %zu",
			       moved, first);
	ktap_test_result(!moved, "%s", names[0]);
	ktap_print_msg("after reclaim: %zu pages present, %zu swap entries, %zu not mapped", present, swapped,
		       pages - present - swapped);
	ktap_test_result(swapped > 0, "%s", names[1]);

	long rss = smaps_kb(p, "Rss"), swap = smaps_kb(p, "Swap");
	long want_kb = (long)(len / 1024);
	if (rss + swap != want_kb)
		ktap_print_msg("smaps: Rss %ld kB + Swap %ld kB, want %ld in all", rss, swap, want_kb);
	ktap_test_result(rss + swap == want_kb && present + swapped == pages, "%s", names[2]);
	if (swap != (long)(swapped * page_size / 1024))
		ktap_print_msg("smaps Swap %ld kB, pagemap: %zu swap entries", swap, swapped);
	ktap_test_result(swap == (long)(swapped * page_size / 1024), "%s", names[3]);

	long bad = check_pages(p, 0, pages, 0);
	for (size_t i = 0; i < pages; i++)
		if (!shared_page(i))
			*(volatile uint64_t *)(p + i * page_size) = pattern(i, 0); /* same value, a real write */
	if (bad < 0)
		bad = check_pages(p, 0, pages, 0);
	if (bad >= 0)
		ktap_print_msg("the parent's page %ld holds the wrong data", bad);
	ktap_test_result(bad < 0, "%s", names[4]);
	long child_bad = child_check(to_child[1], from_child[0], 'c');
	if (child_bad != -1)
		ktap_print_msg("the child: %s %ld", child_bad == -3 ? "no answer" : "wrong data in page",
			       child_bad);
	ktap_test_result(child_bad == -1, "%s", names[5]);

	syscall(__NR_io_uring_register, ring, IORING_UNREGISTER_BUFFERS, NULL, 0);
	close(ring);
	free(pfn);
out_child:
	munmap(p, len);
	child_check(to_child[1], from_child[0], 'q');
	close(to_child[1]);
	close(from_child[0]);
	waitpid(child, NULL, 0);
	if (ring >= 0) {
		int ok = swap_off_on(20, why, sizeof(why)) == 0;
		if (!ok)
			ktap_print_msg("%s", why);
		ktap_test_result(ok, "%s", names[6]);
	}
done:
	ktap_test_kmsg(kmsg);
	mthp_restore(&knob);
	ktap_finished();
}
