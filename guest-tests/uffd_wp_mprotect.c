// SPDX-License-Identifier: GPL-2.0
/*
 * uffd_wp_mprotect: uffd-wp protection survives mprotect() round trips
 * over large folios, on ranges that start and end inside a folio.
 *
 * mprotect() walks the PTEs in batches over a large folio
 * (mm/mprotect.c: change_pte_range()); each PTE must keep its own uffd-wp
 * bit, a uffd-wp PTE marker (what a zapped shmem page keeps) must stay a
 * marker, and making a range writable again must not make a
 * write-protected page writable (can_change_pte_writable()).  Per-page
 * masks over 64K folios, PROT_READ then PROT_READ|PROT_WRITE from the
 * middle of folio 0 to the middle of the last folio:
 *   - shmem, pages present: pagemap's uffd-wp bits equal the mask after
 *     the round trip, and writes fault exactly on the masked pages;
 *   - shmem, pages zapped (markers): the same after the round trip;
 *   - anonymous (exclusive pages, which mprotect may make writable at
 *     once): the same.
 * Data is checked with the per-page pattern; a kernel warning fails it.
 */
#define _GNU_SOURCE
#include "mm_util.h"

#define FOLIO_KB 64
#define NR_FOLIOS 4

static size_t folio_pages, nr_pages, len;

enum mask_kind { MASK_ALL, MASK_ALTERNATE, MASK_MIDDLE, MASK_NR };
static const char *const mask_names[] = { "all pages", "alternating pages", "middle pages of each folio" };

static int masked(enum mask_kind k, size_t page)
{
	size_t i = page % folio_pages;
	return k == MASK_ALL || (k == MASK_ALTERNATE && i % 2 == 0) ||
	       (k == MASK_MIDDLE && i >= folio_pages / 4 && i < folio_pages * 3 / 4);
}

static int want_mask(void *arg, size_t page)
{
	return masked(*(enum mask_kind *)arg, page);
}

/* mprotect() RO then RW over [middle of folio 0, middle of the last folio). */
static void round_trip(char *p, int times)
{
	char *start = p + folio_pages / 2 * page_size;
	size_t n = (nr_pages - folio_pages) * page_size;
	for (int i = 0; i < times; i++)
		if (mprotect(start, n, PROT_READ) || mprotect(start, n, PROT_READ | PROT_WRITE))
			ktap_exit_fail_msg("mprotect: %s", strerror(errno));
}

static void run_case(int uffd, enum mask_kind k, const char *label, int shared, int zap)
{
	char why[256];
	const char *checks[] = { "uffd-wp bits kept", "data intact", "writes fault exactly on protected pages" };
	char *p = map_filled_folios(NR_FOLIOS, folio_pages, shared, 1, why, sizeof(why));
	if (!p) {
		for (int i = 0; i < 3; i++)
			ktap_test_skip(why, "%s: %s: %s", label, mask_names[k], checks[i]);
		return;
	}
	protect_pages(uffd, p, 0, nr_pages, want_mask, &k);
	if (zap && madvise(p, len, MADV_DONTNEED))
		ktap_exit_fail_msg("madvise(MADV_DONTNEED): %s", strerror(errno));
	round_trip(p, 3);

	size_t bad = 0, first = 0;
	for (size_t i = 0; i < nr_pages; i++)
		if (masked(k, i) != !!(pagemap_entry(p + i * page_size) & PM_UFFD_WP) && !bad++)
			first = i;
	if (bad)
		ktap_print_msg("%zu of %zu pages wrong, first: page %zu (folio %zu, page %zu in it) wants uffd-wp=%d",
			       bad, nr_pages, first, first / folio_pages, first % folio_pages, masked(k, first));
	ktap_test_result(!bad, "%s: %s: %s", label, mask_names[k], checks[0]);

	long wrong_data = check_pages(p, 0, nr_pages, 0);
	if (wrong_data >= 0)
		ktap_print_msg("page %ld holds the wrong data", wrong_data);
	ktap_test_result(wrong_data < 0, "%s: %s: %s", label, mask_names[k], checks[1]);

	int errors = 0;
	size_t wrong = wp_writes_fault_wrongly(uffd, p, nr_pages, want_mask, &k, 0, &first, &errors);
	if (wrong)
		ktap_print_msg("%zu pages faulted wrongly, first: page %zu (want %d faults)", wrong, first,
			       masked(k, first));
	if (errors)
		ktap_print_msg("%d unexpected userfaultfd events", errors);
	ktap_test_result(!wrong && !errors, "%s: %s: %s", label, mask_names[k], checks[2]);
	uffd_unregister(uffd, p, len);
	munmap(p, len);
}

int main(void)
{
	struct mthp_knob shmem_knob = { 0 }, anon_knob = { 0 };

	ktap_print_header();
	mm_util_init();
	folio_pages = FOLIO_KB * 1024 / page_size;
	nr_pages = NR_FOLIOS * folio_pages;
	len = nr_pages * page_size;
	int uffd = uffd_open_wp_shmem();
	mthp_enable(&shmem_knob, FOLIO_KB, "shmem_enabled");
	mthp_enable(&anon_knob, FOLIO_KB, "enabled");

	int kmsg = kmsg_mark();
	ktap_set_plan(MASK_NR * 3 * 3 + 1);
	for (enum mask_kind k = 0; k < MASK_NR; k++)
		run_case(uffd, k, "shmem, present", 1, 0);
	for (enum mask_kind k = 0; k < MASK_NR; k++)
		run_case(uffd, k, "shmem, zapped (markers)", 1, 1);
	for (enum mask_kind k = 0; k < MASK_NR; k++)
		run_case(uffd, k, "anon", 0, 0);
	ktap_test_kmsg(kmsg);
	mthp_restore(&shmem_knob);
	mthp_restore(&anon_knob);
	close(uffd);
	ktap_finished();
}
