// SPDX-License-Identifier: GPL-2.0
/*
 * uffd_rwp: the userfaultfd read-write-protect mode (RWP) over anonymous
 * large folios, when the kernel offers it.
 *
 * RWP (UFFDIO_REGISTER_MODE_RWP, UFFDIO_RWPROTECT, UFFD_FEATURE_RWP) makes
 * present PTEs inaccessible and delivers a UFFD_PAGEFAULT_FLAG_RWP fault on
 * any access, read or write; UFFDIO_RWPROTECT without MODE_RWP resolves it.
 * The state is per page, so every path that handles a large folio in
 * batches must keep it page by page, and nothing may reach the data
 * behind the kernel's back.  Checked over 64K folios with per-page masks:
 *   - protecting keeps the pages resident (same PFNs, still present);
 *   - reads and writes fault exactly on the protected pages, data intact,
 *     and a resolved page does not fault again;
 *   - GUP (process_vm_readv, vmsplice) faults on a protected page instead
 *     of reading it silently; /proc/self/mem faults or fails the read;
 *   - mprotect() round trips from mid folio keep the protection;
 *   - reclaim: folios whose pages differ in protection go to swap and,
 *     after swap-in, exactly the protected pages fault (an rmap batch that
 *     mixed them would lose or invent protection);
 *   - MADV_COLLAPSE does not collapse a protected range into a PMD THP
 *     (the same range unprotected does, as the control).
 * A kernel warning during the test fails it.
 *
 * The uAPI comes from the headers the test is built against: kpipe builds
 * it against each revision's own exported headers, so a series that adds
 * RWP is tested with its constants.  Without UFFD_FEATURE_RWP there, or if
 * UFFDIO_API (probed with no features) does not offer it, the test skips
 * saying which; it never requests a bit the kernel did not offer.
 */
#define _GNU_SOURCE
#include "mm_util.h"

#ifndef UFFD_FEATURE_RWP

int main(void)
{
	ktap_print_header();
	ktap_exit_skip("the uAPI headers it was built against have no UFFD_FEATURE_RWP "
		       "(this tree has no userfaultfd RWP mode)");
}

#else

#include <sys/uio.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define FOLIO_KB 64
#define NR_FOLIOS 4
#define PMD_KB 2048

static size_t folio_pages, nr_pages, len;

static int rwprotect(int uffd, uintptr_t addr, size_t bytes, int on)
{
	struct uffdio_rwprotect rwp = {
		.range = { .start = addr, .len = bytes },
		.mode = on ? UFFDIO_RWPROTECT_MODE_RWP : 0,
	};
	return ioctl(uffd, UFFDIO_RWPROTECT, &rwp) ? -1 : 0;
}

static int rwp_resolve(int uffd, uintptr_t page_addr)
{
	return rwprotect(uffd, page_addr, page_size, 0);
}

static void register_rwp(int uffd, char *p, size_t bytes)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = bytes },
		.mode = UFFDIO_REGISTER_MODE_RWP,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		ktap_exit_fail_msg("UFFDIO_REGISTER(MODE_RWP): %s", strerror(errno));
}

/* Per-page masks: which page (of the whole range) is protected. */
static int mask_alternate(size_t page)
{
	return page % 2;
}

static int mask_first_half(size_t page)
{
	return page % folio_pages < folio_pages / 2;
}

static int mask_middle(size_t page)
{
	size_t in = page % folio_pages;
	return in >= folio_pages / 4 && in < folio_pages * 3 / 4;
}

static int mask_every_fourth(size_t page)
{
	return page % 4 == 0;
}

/* Register [p, p + pages) for RWP and protect the pages 'mask' picks. */
static void protect_by_mask(int uffd, char *p, size_t pages, int (*mask)(size_t))
{
	register_rwp(uffd, p, pages * page_size);
	for (size_t i = 0; i < pages; i++)
		if (mask(i) && rwprotect(uffd, (uintptr_t)(p + i * page_size), page_size, 1))
			ktap_exit_fail_msg("UFFDIO_RWPROTECT page %zu: %s", i, strerror(errno));
}

/*
 * Touch every page once (read all of it, or write word 0 back unchanged)
 * while a counter resolves RWP faults.  Returns the number of pages whose
 * fault count is not mask(page), the first in *first; *bad_data is the
 * first page with wrong data (-1 if none), *errors the unexpected
 * userfaultfd events.
 */
static size_t access_faults_wrongly(int uffd, char *p, size_t pages, int write, int (*mask)(size_t),
				    size_t *first, long *bad_data, int *errors)
{
	size_t wrong = 0;
	struct wp_counter *h = fault_counter_start(uffd, p, pages, UFFD_PAGEFAULT_FLAG_RWP, rwp_resolve);
	if (write)
		for (size_t i = 0; i < pages; i++)
			*(volatile uint64_t *)(p + i * page_size) = pattern(i, 0);
	*bad_data = check_pages(p, 0, pages, 0);
	wp_counter_stop(h);
	for (size_t i = 0; i < pages; i++)
		if (atomic_load(&h->faults[i]) != mask(i) && !wrong++)
			*first = i;
	*errors = atomic_load(&h->errors);
	free(h);
	return wrong;
}

static int report_access(const char *name, size_t wrong, size_t first, long bad_data, int errors,
			 int (*mask)(size_t))
{
	if (wrong)
		ktap_print_msg("%s: %zu pages faulted wrongly, first: page %zu (want %d fault)", name, wrong, first,
			       mask(first));
	if (bad_data >= 0)
		ktap_print_msg("%s: page %ld holds the wrong data", name, bad_data);
	if (errors)
		ktap_print_msg("%s: %d userfaultfd events that were not RWP faults in the range", name, errors);
	int ok = !wrong && bad_data < 0 && !errors;
	ktap_test_result(ok, "%s", name);
	return ok;
}

static int never(size_t page)
{
	(void)page;
	return 0;
}

/* Folios mapped, filled and checked to be large, or the named cases skipped. */
static char *folios_or_skip(const char *const *names, size_t n)
{
	char why[256];
	char *p = map_filled_folios(NR_FOLIOS, folio_pages, 0, 1, why, sizeof(why));
	if (!p)
		for (size_t i = 0; i < n; i++)
			ktap_test_skip(why, "%s", names[i]);
	return p;
}

static void stays_resident_and_faults(int uffd)
{
	static const char *const names[] = {
		"anon: protected pages stay present at the same PFNs",
		"anon: reads fault exactly on the protected pages (alternate)",
		"anon: a resolved page does not fault again",
		"anon: writes fault exactly on the protected pages (middle of each folio)",
	};
	char *p = folios_or_skip(names, 4);
	if (!p)
		return;
	uint64_t pfn[MAX_TEST_PAGES];
	for (size_t i = 0; i < nr_pages; i++)
		pfn[i] = pagemap_entry(p + i * page_size) & PM_PFN_MASK;
	protect_by_mask(uffd, p, nr_pages, mask_alternate);
	size_t moved = 0, first = 0;
	for (size_t i = 0; i < nr_pages; i++) {
		uint64_t e = pagemap_entry(p + i * page_size);
		if ((!(e & PM_PRESENT) || (e & PM_PFN_MASK) != pfn[i]) && !moved++)
			first = i;
	}
	if (moved)
		ktap_print_msg("%zu pages not present or moved after UFFDIO_RWPROTECT, first: page %zu", moved, first);
	ktap_test_result(!moved, "%s", names[0]);

	long bad;
	int errors;
	size_t wrong = access_faults_wrongly(uffd, p, nr_pages, 0, mask_alternate, &first, &bad, &errors);
	report_access(names[1], wrong, first, bad, errors, mask_alternate);
	wrong = access_faults_wrongly(uffd, p, nr_pages, 0, never, &first, &bad, &errors);
	report_access(names[2], wrong, first, bad, errors, never);

	for (size_t i = 0; i < nr_pages; i++)
		if (mask_middle(i) && rwprotect(uffd, (uintptr_t)(p + i * page_size), page_size, 1))
			ktap_exit_fail_msg("UFFDIO_RWPROTECT page %zu: %s", i, strerror(errno));
	wrong = access_faults_wrongly(uffd, p, nr_pages, 1, mask_middle, &first, &bad, &errors);
	report_access(names[3], wrong, first, bad, errors, mask_middle);
	uffd_unregister(uffd, p, len);
	munmap(p, len);
}

/* Read one page through a GUP path into 'buf'; 0, or -1 with errno. */
typedef int (*gup_read_fn)(char *page, char *buf);

static int read_process_vm(char *page, char *buf)
{
	struct iovec local = { .iov_base = buf, .iov_len = page_size };
	struct iovec remote = { .iov_base = page, .iov_len = page_size };
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)page_size ? 0 : -1;
}

static int read_proc_self_mem(char *page, char *buf)
{
	int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = pread(fd, buf, page_size, (off_t)(uintptr_t)page);
	close(fd);
	return r == (ssize_t)page_size ? 0 : -1;
}

static int read_vmsplice(char *page, char *buf)
{
	int fds[2];
	if (pipe(fds))
		return -1;
	struct iovec iov = { .iov_base = page, .iov_len = page_size };
	int ok = vmsplice(fds[1], &iov, 1, 0) == (ssize_t)page_size &&
		 read(fds[0], buf, page_size) == (ssize_t)page_size;
	close(fds[0]);
	close(fds[1]);
	return ok ? 0 : -1;
}

/*
 * Each GUP path must not read a protected page behind the protection:
 * it faults (one RWP message, then the right data).  /proc/self/mem goes
 * through access_remote_vm(), whose GUP cannot drop mmap_lock, and a
 * userfault cannot wait there: the read fails (EIO) instead, as for
 * uffd-wp and missing faults, which is as good, as long as no data came
 * back without a fault.
 */
static void gup_faults(int uffd)
{
	static const struct {
		const char *name;
		gup_read_fn read;
		int may_fail_instead; /* a failed read without a fault is right too */
	} paths[] = {
		{ "anon: process_vm_readv of a protected page faults", read_process_vm, 0 },
		{ "anon: /proc/self/mem does not read a protected page behind the protection", read_proc_self_mem,
		  1 },
		{ "anon: vmsplice of a protected page faults", read_vmsplice, 0 },
	};
	const char *names[3] = { paths[0].name, paths[1].name, paths[2].name };
	char *p = folios_or_skip(names, 3);
	if (!p)
		return;
	char *buf = malloc(page_size);
	register_rwp(uffd, p, len);
	for (size_t k = 0; k < 3; k++) {
		/* a page in the middle of folio k */
		size_t page = k * folio_pages + folio_pages / 2 + 1;
		char *addr = p + page * page_size;
		if (rwprotect(uffd, (uintptr_t)addr, page_size, 1))
			ktap_exit_fail_msg("UFFDIO_RWPROTECT page %zu: %s", page, strerror(errno));
		struct wp_counter *h = fault_counter_start(uffd, p, nr_pages, UFFD_PAGEFAULT_FLAG_RWP, rwp_resolve);
		memset(buf, 0, page_size);
		int r = paths[k].read(addr, buf);
		int saved = errno;
		wp_counter_stop(h);
		long bad = check_pages(buf, page, 1, 0);
		int faults = atomic_load(&h->faults[page]), errors = atomic_load(&h->errors);
		free(h);
		int faulted = !r && bad < 0 && faults == 1;
		int refused = r && !faults && paths[k].may_fail_instead;
		if (r && !refused)
			ktap_print_msg("%s: the read failed: %s", paths[k].name, strerror(saved));
		else if (refused)
			ktap_print_msg("%s: the read failed (%s) without a fault: nothing read behind the protection",
				       paths[k].name, strerror(saved));
		else if (bad >= 0)
			ktap_print_msg("%s: it read the wrong data", paths[k].name);
		if (!refused && faults != 1)
			ktap_print_msg("%s: %d RWP faults on page %zu, want 1 (%s)", paths[k].name, faults, page,
				       faults ? "more than once" : r ? "no fault" : "GUP read it behind the protection");
		if (errors)
			ktap_print_msg("%s: %d unexpected userfaultfd events", paths[k].name, errors);
		ktap_test_result((faulted || refused) && !errors, "%s", paths[k].name);
	}
	free(buf);
	uffd_unregister(uffd, p, len);
	munmap(p, len);
}

static void mprotect_round_trip(int uffd)
{
	static const char *const names[] = {
		"anon: protection survives mprotect RO->RW from mid folio 0 to mid folio 3",
	};
	char *p = folios_or_skip(names, 1);
	if (!p)
		return;
	protect_by_mask(uffd, p, nr_pages, mask_alternate);
	char *from = p + (folio_pages / 2) * page_size;
	size_t bytes = (3 * folio_pages) * page_size;
	for (int round = 0; round < 3; round++)
		if (mprotect(from, bytes, PROT_READ) || mprotect(from, bytes, PROT_READ | PROT_WRITE))
			ktap_exit_fail_msg("mprotect: %s", strerror(errno));
	size_t first = 0;
	long bad;
	int errors;
	size_t wrong = access_faults_wrongly(uffd, p, nr_pages, 1, mask_alternate, &first, &bad, &errors);
	report_access(names[0], wrong, first, bad, errors, mask_alternate);
	uffd_unregister(uffd, p, len);
	munmap(p, len);
}

static void reclaim_keeps_state(int uffd)
{
	static const char *const names[] = {
		"anon: folios half protected all go to swap (MADV_PAGEOUT)",
		"anon: after swap-in exactly the protected pages fault, data intact",
	};
	char *p = folios_or_skip(names, 2);
	if (!p)
		return;
	char why[160];
	if (meminfo_kb("SwapTotal") <= 0) {
		snprintf(why, sizeof(why), "no swap in the guest");
		for (size_t i = 0; i < 2; i++)
			ktap_test_skip(why, "%s", names[i]);
		munmap(p, len);
		return;
	}
	protect_by_mask(uffd, p, nr_pages, mask_first_half);
	for (int tries = 0; tries < 3; tries++)
		madvise(p, len, MADV_PAGEOUT);
	size_t left = 0, first = 0;
	for (size_t i = 0; i < nr_pages; i++)
		if (!(pagemap_entry(p + i * page_size) & PM_SWAP) && !left++)
			first = i;
	if (left)
		ktap_print_msg("%zu pages not swap entries after MADV_PAGEOUT, first: page %zu", left, first);
	ktap_test_result(!left, "%s", names[0]);
	long bad;
	int errors;
	size_t wrong = access_faults_wrongly(uffd, p, nr_pages, 0, mask_first_half, &first, &bad, &errors);
	report_access(names[1], wrong, first, bad, errors, mask_first_half);
	uffd_unregister(uffd, p, len);
	munmap(p, len);
}

/* A PMD-sized range of small pages at a PMD-aligned address, filled, THP allowed. */
static char *map_pmd_range(void)
{
	size_t bytes = (size_t)PMD_KB * 1024;
	char *p = map_aligned(bytes, bytes, 0);
	madvise(p, bytes, MADV_NOHUGEPAGE);
	fill_pages(p, 0, bytes / page_size);
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

static void collapse_refused(int uffd)
{
	static const char *const names[] = {
		"anon: MADV_COLLAPSE does not collapse a protected range",
		"anon: after MADV_COLLAPSE the protected pages still fault, data intact",
	};
	size_t bytes = (size_t)PMD_KB * 1024, pages = bytes / page_size;
	char why[200];
	if (pages > MAX_TEST_PAGES) {
		snprintf(why, sizeof(why), "a %d KiB PMD range is more than %d pages here", PMD_KB, MAX_TEST_PAGES);
		goto skip;
	}
	/* the control: the same range unprotected collapses */
	char *c = map_pmd_range();
	int r = madvise(c, bytes, MADV_COLLAPSE), saved = errno;
	long huge = smaps_kb(c, "AnonHugePages");
	munmap(c, bytes);
	if (r || huge < PMD_KB) {
		snprintf(why, sizeof(why), "MADV_COLLAPSE does not collapse an unprotected range either (%s, %ld kB huge)",
			 r ? strerror(saved) : "no error", huge);
		goto skip;
	}

	char *p = map_pmd_range();
	protect_by_mask(uffd, p, pages, mask_every_fourth);
	r = madvise(p, bytes, MADV_COLLAPSE);
	saved = errno;
	huge = smaps_kb(p, "AnonHugePages");
	if (huge > 0)
		ktap_print_msg("MADV_COLLAPSE (%s) made %ld kB AnonHugePages out of a protected range",
			       r ? strerror(saved) : "returned 0", huge);
	ktap_test_result(huge == 0, "%s", names[0]);
	size_t first = 0;
	long bad;
	int errors;
	size_t wrong = access_faults_wrongly(uffd, p, pages, 0, mask_every_fourth, &first, &bad, &errors);
	report_access(names[1], wrong, first, bad, errors, mask_every_fourth);
	uffd_unregister(uffd, p, bytes);
	munmap(p, bytes);
	return;
skip:
	for (size_t i = 0; i < 2; i++)
		ktap_test_skip(why, "%s", names[i]);
}

int main(void)
{
	struct mthp_knob anon_knob = { 0 };
	uint64_t supported = 0;

	ktap_print_header();
	mm_util_init();
	int probe = uffd_open(0, &supported);
	if (probe < 0)
		ktap_exit_skip("userfaultfd unavailable: %s", strerror(errno));
	close(probe);
	if (!(supported & UFFD_FEATURE_RWP))
		ktap_exit_skip("the kernel does not offer UFFD_FEATURE_RWP (features 0x%llx)",
			       (unsigned long long)supported);
	int uffd = uffd_open(UFFD_FEATURE_RWP, NULL);
	if (uffd < 0)
		ktap_exit_fail_msg("UFFDIO_API with UFFD_FEATURE_RWP, which it offered: %s", strerror(errno));
	folio_pages = FOLIO_KB * 1024 / page_size;
	nr_pages = NR_FOLIOS * folio_pages;
	len = nr_pages * page_size;
	mthp_enable(&anon_knob, FOLIO_KB, "enabled");

	int kmsg = kmsg_mark();
	ktap_set_plan(4 + 3 + 1 + 2 + 2 + 1);
	stays_resident_and_faults(uffd);
	gup_faults(uffd);
	mprotect_round_trip(uffd);
	reclaim_keeps_state(uffd);
	collapse_refused(uffd);
	ktap_test_kmsg(kmsg);
	mthp_restore(&anon_knob);
	close(uffd);
	ktap_finished();
}

#endif
