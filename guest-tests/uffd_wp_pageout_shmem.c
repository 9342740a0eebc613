// SPDX-License-Identifier: GPL-2.0
/*
 * uffd_wp_pageout_shmem: uffd-wp protection on shmem large folios must
 * survive MADV_PAGEOUT to swap (zram).
 *
 * Reclaim unmaps a shmem folio with try_to_unmap_one(); for a VMA that
 * userfaultfd write-protects it must leave a PTE marker on each PTE that
 * was protected (mm/rmap.c: pte_install_uffd_wp_if_needed()), so the
 * protection outlives the trip to swap.  Checked for several per-page
 * masks over 64K folios, and for folios mapped only in part (half of a
 * folio moved away with mremap(), so the unmap works on pieces shorter
 * than the folio): after the pageout, pagemap's uffd-wp bit must equal
 * the mask, the data must come back from swap intact, and a write must
 * fault to userfaultfd exactly on the protected pages.  A kernel warning
 * during the test fails it.
 */
#define _GNU_SOURCE
#include "mm_util.h"

#include <sys/stat.h>

#define FOLIO_KB 64
#define NR_FOLIOS 4

static size_t folio_pages;

enum mask_kind { MASK_ALL, MASK_FIRST_HALF, MASK_ALTERNATE, MASK_NR };
static const char *const mask_names[] = { "all pages", "first half of each folio", "alternating pages" };

static int masked(enum mask_kind k, size_t page)
{
	size_t i = page % folio_pages;
	return k == MASK_ALL || (k == MASK_FIRST_HALF && i < folio_pages / 2) ||
	       (k == MASK_ALTERNATE && i % 2 == 0);
}

/* One mapped piece: 'pages' pages at 'p' holding pattern pages from 'first'. */
struct piece {
	char *p;
	size_t first, pages;
};

#define CGROUP "/sys/fs/cgroup/kpipe-uffd-wp-pageout"
static int in_cgroup;

static long swapped_kb(struct piece *pc, size_t n)
{
	long swapped = 0;
	for (size_t i = 0; i < n; i++) {
		long kb = smaps_swap_kb(pc[i].p);
		swapped += kb > 0 ? kb : 0;
	}
	return swapped;
}

/*
 * MADV_PAGEOUT first; where it leaves the folios in memory (6.12 does for
 * large folios whose PTEs differ in their uffd-wp bit), reclaim the
 * cgroup: both unmap through try_to_unmap_one().
 */
static const char *pageout(struct piece *pc, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (madvise(pc[i].p, pc[i].pages * page_size, MADV_PAGEOUT))
			ktap_exit_fail_msg("madvise(MADV_PAGEOUT): %s", strerror(errno));
	if (swapped_kb(pc, n) > 0 || !in_cgroup)
		return "MADV_PAGEOUT";
	memcg_reclaim(CGROUP, "64M");
	return "memcg reclaim";
}

/* The checks after the pageout; 'want' says which pattern pages are protected. */
static void check_pieces(int uffd, struct piece *pc, size_t n, int (*want)(void *, size_t), void *arg,
			 const char *label, const char *how)
{
	char why[256] = "";
	size_t bad = 0, total = 0;
	long swapped = swapped_kb(pc, n);
	if (swapped <= 0) {
		snprintf(why, sizeof(why), "%s swapped nothing out (no swap? smaps Swap: 0)", how);
		ktap_test_skip(why, "%s: markers kept after MADV_PAGEOUT", label);
		ktap_test_skip(why, "%s: data intact after swap-in", label);
		ktap_test_skip(why, "%s: writes fault exactly on protected pages", label);
		return;
	}
	ktap_print_msg("%s: %ld KiB went to swap by %s", label, swapped, how);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < pc[i].pages; k++, total++) {
			int w = want(arg, pc[i].first + k);
			int have = !!(pagemap_entry(pc[i].p + k * page_size) & PM_UFFD_WP);
			if (w != have && !bad++)
				snprintf(why, sizeof(why), "page %zu of the folios wants uffd-wp=%d after pageout",
					 pc[i].first + k, w);
		}
	}
	if (bad)
		ktap_print_msg("%zu of %zu pages wrong, first: %s", bad, total, why);
	ktap_test_result(!bad, "%s: markers kept after MADV_PAGEOUT", label);

	long wrong_data = -1;
	for (size_t i = 0; i < n && wrong_data < 0; i++) {
		long b = check_pages(pc[i].p, pc[i].first, pc[i].pages, 0);
		if (b >= 0)
			wrong_data = (long)pc[i].first + b;
	}
	if (wrong_data >= 0)
		ktap_print_msg("page %ld came back from swap with the wrong data", wrong_data);
	ktap_test_result(wrong_data < 0, "%s: data intact after swap-in", label);

	size_t wrong = 0, first = 0;
	int errors = 0;
	for (size_t i = 0; i < n; i++) {
		struct wp_counter *h = wp_counter_start(uffd, pc[i].p, pc[i].pages);
		for (size_t k = 0; k < pc[i].pages; k++)
			*(volatile uint64_t *)(pc[i].p + k * page_size) = pattern(pc[i].first + k, 0);
		wp_counter_stop(h);
		for (size_t k = 0; k < pc[i].pages; k++)
			if (atomic_load(&h->faults[k]) != want(arg, pc[i].first + k) && !wrong++)
				first = pc[i].first + k;
		errors += atomic_load(&h->errors);
		free(h);
	}
	if (wrong)
		ktap_print_msg("%zu pages faulted wrongly, first: page %zu", wrong, first);
	if (errors)
		ktap_print_msg("%d unexpected userfaultfd events", errors);
	ktap_test_result(!wrong && !errors, "%s: writes fault exactly on protected pages", label);
}

static int want_mask(void *arg, size_t page)
{
	return masked(*(enum mask_kind *)arg, page);
}

static int want_all(void *arg, size_t page)
{
	(void)arg;
	(void)page;
	return 1;
}

static void skip_case(const char *why, const char *label)
{
	ktap_test_skip(why, "%s: markers kept after MADV_PAGEOUT", label);
	ktap_test_skip(why, "%s: data intact after swap-in", label);
	ktap_test_skip(why, "%s: writes fault exactly on protected pages", label);
}

static void whole_folios(int uffd, enum mask_kind k)
{
	char why[256], label[96];
	size_t pages = NR_FOLIOS * folio_pages, len = pages * page_size;
	snprintf(label, sizeof(label), "%s", mask_names[k]);
	char *p = map_filled_folios(NR_FOLIOS, folio_pages, 1, 1, why, sizeof(why));
	if (!p) {
		skip_case(why, label);
		return;
	}
	protect_pages(uffd, p, 0, pages, want_mask, &k);
	struct piece pc = { p, 0, pages };
	const char *how = pageout(&pc, 1);
	check_pieces(uffd, &pc, 1, want_mask, &k, label, how);
	uffd_unregister(uffd, p, len);
	munmap(p, len);
}

/*
 * Two folios; the second half of folio 0 is moved elsewhere with mremap(),
 * so folio 0 is mapped by two VMAs and each unmap batch is half a folio.
 */
static void partly_mapped(int uffd)
{
	char why[256];
	const char *label = "folio mapped in two halves (mremap)";
	size_t half = folio_pages / 2;
	char *p = map_filled_folios(2, folio_pages, 1, 1, why, sizeof(why));
	if (!p) {
		skip_case(why, label);
		return;
	}
	char *dest = map_aligned(half * page_size, FOLIO_KB * 1024, 0);
	if (mremap(p + half * page_size, half * page_size, half * page_size,
		   MREMAP_MAYMOVE | MREMAP_FIXED, dest) != dest)
		ktap_exit_fail_msg("mremap: %s", strerror(errno));
	struct piece pc[3] = {
		{ p, 0, half },                                  /* folio 0, first half */
		{ dest, half, half },                            /* folio 0, second half, moved */
		{ p + folio_pages * page_size, folio_pages, folio_pages }, /* folio 1 */
	};
	for (size_t i = 0; i < 3; i++)
		protect_pages(uffd, pc[i].p, pc[i].first, pc[i].pages, want_all, NULL);
	const char *how = pageout(pc, 3);
	check_pieces(uffd, pc, 3, want_all, NULL, label, how);
	for (size_t i = 0; i < 3; i++) {
		uffd_unregister(uffd, pc[i].p, pc[i].pages * page_size);
		munmap(pc[i].p, pc[i].pages * page_size);
	}
}

int main(void)
{
	struct mthp_knob knob = { 0 };

	ktap_print_header();
	mm_util_init();
	folio_pages = FOLIO_KB * 1024 / page_size;
	int uffd = uffd_open_wp_shmem();
	mthp_enable(&knob, FOLIO_KB, "shmem_enabled");

	in_cgroup = memcg_enter(CGROUP);
	int kmsg = kmsg_mark();
	ktap_set_plan(MASK_NR * 3 + 3 + 1);
	for (enum mask_kind k = 0; k < MASK_NR; k++)
		whole_folios(uffd, k);
	partly_mapped(uffd);
	ktap_test_kmsg(kmsg);
	mthp_restore(&knob);
	close(uffd);
	ktap_finished();
}
