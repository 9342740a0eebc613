// SPDX-License-Identifier: GPL-2.0
/*
 * uffd_wp_zap_shmem: uffd-wp protection on shmem large folios must survive
 * MADV_DONTNEED.
 *
 * Zapping a file-backed (here: shmem) range that userfaultfd
 * write-protects must leave a PTE marker on every protected PTE, so the
 * protection outlives the zap: when the kernel zaps a whole large folio in
 * one batch (zap_present_folio_ptes -> zap_install_uffd_wp_if_needed) it
 * must install a marker for each PTE of the batch, and only for those
 * that were protected.
 *
 * For several per-page masks over 64K shmem folios (all, first half,
 * alternating, middle pages) this test checks, after MADV_DONTNEED:
 *  - pagemap's uffd-wp bit (57) equals the mask, page by page;
 *  - the data is intact (shmem keeps it in the page cache);
 *  - a write faults to userfaultfd exactly on the masked pages;
 * and, as the control, that anonymous memory loses its protection with the
 * zap (no markers).  A kernel warning during the test fails it.
 */
#define _GNU_SOURCE
#include "mm_util.h"

#define FOLIO_KB 64
#define NR_FOLIOS 4

static size_t folio_pages, nr_pages, len;

enum mask_kind { MASK_ALL, MASK_FIRST_HALF, MASK_ALTERNATE, MASK_MIDDLE, MASK_NR };
static const char *const mask_names[] = { "all pages", "first half of each folio",
					  "alternating pages", "middle pages of each folio" };

static int masked(enum mask_kind k, size_t page)
{
	size_t i = page % folio_pages;
	switch (k) {
	case MASK_ALL: return 1;
	case MASK_FIRST_HALF: return i < folio_pages / 2;
	case MASK_ALTERNATE: return i % 2 == 0;
	case MASK_MIDDLE: return i >= folio_pages / 4 && i < folio_pages * 3 / 4;
	default: return 0;
	}
}

static int want_mask(void *arg, size_t page)
{
	return masked(*(enum mask_kind *)arg, page);
}

/* Compare pagemap's uffd-wp bits with the mask; describe the first mismatch. */
static int wp_bits_match(char *p, enum mask_kind k, int expect_none, char *why, size_t n)
{
	size_t bad = 0, first = 0;
	for (size_t i = 0; i < nr_pages; i++) {
		int want = expect_none ? 0 : masked(k, i);
		int have = !!(pagemap_entry(p + i * page_size) & PM_UFFD_WP);
		if (want != have && !bad++)
			first = i;
	}
	if (bad)
		snprintf(why, n, "%zu of %zu pages wrong, first: page %zu (folio %zu, page %zu in it) wants uffd-wp=%d",
			 bad, nr_pages, first, first / folio_pages, first % folio_pages,
			 expect_none ? 0 : masked(k, first));
	return bad == 0;
}

static void run_case(int uffd, enum mask_kind k, int shared, const char *label)
{
	char why[256];
	char *p = map_filled_folios(NR_FOLIOS, folio_pages, shared, shared, why, sizeof(why));
	if (!p) {
		ktap_test_skip(why, "%s: %s: markers kept after MADV_DONTNEED", label, mask_names[k]);
		ktap_test_skip(why, "%s: %s: data intact", label, mask_names[k]);
		ktap_test_skip(why, "%s: %s: writes fault exactly on protected pages", label, mask_names[k]);
		return;
	}
	protect_pages(uffd, p, 0, nr_pages, want_mask, &k);
	if (!wp_bits_match(p, k, 0, why, sizeof(why)))
		ktap_print_msg("%s: before the zap already: %s", label, why);

	if (madvise(p, len, MADV_DONTNEED))
		ktap_exit_fail_msg("madvise(MADV_DONTNEED): %s", strerror(errno));

	int ok = wp_bits_match(p, k, !shared, why, sizeof(why));
	if (!ok)
		ktap_print_msg("%s", why);
	if (shared)
		ktap_test_result(ok, "%s: %s: markers kept after MADV_DONTNEED", label, mask_names[k]);
	else
		ktap_test_result(ok, "%s: %s: protection dropped with the zap", label, mask_names[k]);

	long bad = check_pages(p, 0, nr_pages, !shared);
	if (bad >= 0)
		ktap_print_msg("page %ld holds the wrong data", bad);
	ktap_test_result(bad < 0, "%s: %s: data %s", label, mask_names[k], shared ? "intact" : "zeroed");

	if (shared) {
		size_t first = 0;
		int errors = 0;
		size_t wrong = wp_writes_fault_wrongly(uffd, p, nr_pages, want_mask, &k, 0, &first, &errors);
		if (wrong)
			ktap_print_msg("%zu pages faulted wrongly, first: page %zu (want %d faults)", wrong, first,
				       masked(k, first));
		if (errors)
			ktap_print_msg("%d unexpected userfaultfd events", errors);
		ktap_test_result(!wrong && !errors, "%s: %s: writes fault exactly on protected pages", label,
				 mask_names[k]);
	}
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
	ktap_set_plan(MASK_NR * 3 + MASK_NR * 2 + 1);
	for (enum mask_kind k = 0; k < MASK_NR; k++)
		run_case(uffd, k, 1, "shmem");
	for (enum mask_kind k = 0; k < MASK_NR; k++)
		run_case(uffd, k, 0, "anon (control)");
	ktap_test_kmsg(kmsg);

	mthp_restore(&shmem_knob);
	mthp_restore(&anon_knob);
	close(uffd);
	ktap_finished();
}
