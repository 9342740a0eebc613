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
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ktap.h"

#define FOLIO_KB 64
#define NR_FOLIOS 4
#define PM_PRESENT (1ULL << 63)
#define PM_UFFD_WP (1ULL << 57)
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16

static size_t page_size, folio_pages, nr_pages, len;
static int pagemap_fd, kpageflags_fd;

struct handler {
	int uffd;
	char *base;
	atomic_int stop;
	atomic_int faults[NR_FOLIOS * 512];
	atomic_int errors;
};

static uint64_t pagemap_entry(const void *addr)
{
	uint64_t e = 0;
	off_t off = (off_t)((uintptr_t)addr / page_size) * 8;
	if (pread(pagemap_fd, &e, sizeof(e), off) != sizeof(e))
		ktap_exit_fail_msg("pread /proc/self/pagemap: %s", strerror(errno));
	return e;
}

static uint64_t kpageflags(uint64_t pfn)
{
	uint64_t f = 0;
	if (pread(kpageflags_fd, &f, sizeof(f), (off_t)(pfn * 8)) != sizeof(f))
		return 0;
	return f;
}

static uint64_t pattern(size_t page, size_t word)
{
	return 0x6b70697065000000ULL ^ ((uint64_t)page << 20) ^ word;
}

static void fill(char *p)
{
	for (size_t i = 0; i < nr_pages; i++) {
		uint64_t *w = (uint64_t *)(p + i * page_size);
		for (size_t k = 0; k < page_size / 8; k++)
			w[k] = pattern(i, k);
	}
}

/* Returns the first page whose contents are wrong, or -1. */
static long check_data(const char *p, int expect_zero)
{
	for (size_t i = 0; i < nr_pages; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * page_size);
		for (size_t k = 0; k < page_size / 8; k++)
			if (w[k] != (expect_zero ? 0 : pattern(i, k)))
				return (long)i;
	}
	return -1;
}

/*
 * 1 if every FOLIO_KB chunk is backed by one large folio: a compound head
 * followed by its tails at consecutive PFNs.  'why' says what is not.
 */
static int backed_by_large_folios(const char *p, char *why, size_t why_len)
{
	for (size_t f = 0; f < NR_FOLIOS; f++) {
		uint64_t head_pfn = 0;
		for (size_t i = 0; i < folio_pages; i++) {
			size_t page = f * folio_pages + i;
			uint64_t e = pagemap_entry(p + page * page_size);
			if (!(e & PM_PRESENT)) {
				snprintf(why, why_len, "page %zu not present", page);
				return 0;
			}
			uint64_t pfn = e & PM_PFN_MASK;
			if (!pfn) {
				snprintf(why, why_len, "pagemap shows no PFNs (not root?)");
				return 0;
			}
			uint64_t flags = kpageflags(pfn);
			int want = i == 0 ? KPF_COMPOUND_HEAD : KPF_COMPOUND_TAIL;
			if (!(flags & (1ULL << want)) || (i && pfn != head_pfn + i)) {
				snprintf(why, why_len, "page %zu (pfn 0x%llx, flags 0x%llx) is not part of a %d KiB folio",
					 page, (unsigned long long)pfn, (unsigned long long)flags, FOLIO_KB);
				return 0;
			}
			if (i == 0)
				head_pfn = pfn;
		}
	}
	return 1;
}

static void *handle_faults(void *arg)
{
	struct handler *h = arg;
	while (!atomic_load(&h->stop)) {
		struct pollfd pfd = { .fd = h->uffd, .events = POLLIN };
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		struct uffd_msg msg;
		ssize_t r = read(h->uffd, &msg, sizeof(msg));
		if (r != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT) {
			atomic_fetch_add(&h->errors, 1);
			continue;
		}
		uintptr_t addr = (uintptr_t)msg.arg.pagefault.address & ~(page_size - 1);
		size_t page = (addr - (uintptr_t)h->base) / page_size;
		if (!(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) || page >= nr_pages) {
			atomic_fetch_add(&h->errors, 1);
			continue;
		}
		atomic_fetch_add(&h->faults[page], 1);
		struct uffdio_writeprotect wp = {
			.range = { .start = addr, .len = page_size },
			.mode = 0, /* resolve: drop the protection of this page */
		};
		if (ioctl(h->uffd, UFFDIO_WRITEPROTECT, &wp))
			atomic_fetch_add(&h->errors, 1);
	}
	return NULL;
}

static int open_uffd(uint64_t features, uint64_t *supported)
{
	int fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -1;
	}
	if (supported)
		*supported = api.features;
	return fd;
}

/* Map NR_FOLIOS folios at a FOLIO_KB-aligned address. */
static char *map_aligned(int shared)
{
	size_t align = FOLIO_KB * 1024;
	char *res = mmap(NULL, len + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		ktap_exit_fail_msg("mmap: %s", strerror(errno));
	char *p = (char *)(((uintptr_t)res + align - 1) & ~(uintptr_t)(align - 1));
	int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_FIXED;
	if (mmap(p, len, PROT_READ | PROT_WRITE, flags, -1, 0) != p)
		ktap_exit_fail_msg("mmap fixed: %s", strerror(errno));
	if (p > res)
		munmap(res, (size_t)(p - res));
	munmap(p + len, (size_t)(res + len + align - (p + len)));
	return p;
}

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

static void write_protect(int uffd, char *p, size_t page, int on)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)(p + page * page_size), .len = page_size },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
		ktap_exit_fail_msg("UFFDIO_WRITEPROTECT page %zu: %s", page, strerror(errno));
}

/* Compare pagemap's uffd-wp bits with the mask; describe the first mismatch. */
static int wp_bits_match(char *p, enum mask_kind k, int expect_none, char *why, size_t n)
{
	size_t bad = 0, first = 0;
	for (size_t i = 0; i < nr_pages; i++) {
		int want = expect_none ? 0 : masked(k, i);
		int have = !!(pagemap_entry(p + i * page_size) & PM_UFFD_WP);
		if (want != have) {
			if (!bad++)
				first = i;
		}
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
	char *p = map_aligned(shared);
	fill(p);
	if (shared && !backed_by_large_folios(p, why, sizeof(why))) {
		ktap_test_skip(why, "%s: %s: markers kept after MADV_DONTNEED", label, mask_names[k]);
		ktap_test_skip(why, "%s: %s: data intact", label, mask_names[k]);
		ktap_test_skip(why, "%s: %s: writes fault exactly on protected pages", label, mask_names[k]);
		munmap(p, len);
		return;
	}
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		ktap_exit_fail_msg("UFFDIO_REGISTER (%s): %s", label, strerror(errno));
	for (size_t i = 0; i < nr_pages; i++)
		if (masked(k, i))
			write_protect(uffd, p, i, 1);
	if (!wp_bits_match(p, k, 0, why, sizeof(why)))
		ktap_print_msg("%s: before the zap already: %s", label, why);

	if (madvise(p, len, MADV_DONTNEED))
		ktap_exit_fail_msg("madvise(MADV_DONTNEED): %s", strerror(errno));

	if (shared) {
		int ok = wp_bits_match(p, k, 0, why, sizeof(why));
		if (!ok)
			ktap_print_msg("%s", why);
		ktap_test_result(ok, "%s: %s: markers kept after MADV_DONTNEED", label, mask_names[k]);
	} else {
		int ok = wp_bits_match(p, k, 1, why, sizeof(why));
		if (!ok)
			ktap_print_msg("%s", why);
		ktap_test_result(ok, "%s: %s: protection dropped with the zap", label, mask_names[k]);
	}

	long bad = check_data(p, !shared);
	if (bad >= 0)
		ktap_print_msg("page %ld holds the wrong data", bad);
	ktap_test_result(bad < 0, "%s: %s: data %s", label, mask_names[k],
			 shared ? "intact" : "zeroed");

	if (shared) {
		struct handler *h = calloc(1, sizeof(*h));
		pthread_t thr;
		h->uffd = uffd;
		h->base = p;
		pthread_create(&thr, NULL, handle_faults, h);
		for (size_t i = 0; i < nr_pages; i++) {
			volatile uint64_t *w = (volatile uint64_t *)(p + i * page_size);
			*w = pattern(i, 0); /* same value: data stays checkable */
		}
		atomic_store(&h->stop, 1);
		pthread_join(thr, NULL);
		size_t wrong = 0, first = 0;
		for (size_t i = 0; i < nr_pages; i++) {
			int want = masked(k, i);
			if (atomic_load(&h->faults[i]) != want && !wrong++)
				first = i;
		}
		if (wrong)
			ktap_print_msg("%zu pages faulted wrongly, first: page %zu (%d faults, want %d)",
				       wrong, first, atomic_load(&h->faults[first]), masked(k, first));
		if (atomic_load(&h->errors))
			ktap_print_msg("%d unexpected userfaultfd events", atomic_load(&h->errors));
		ktap_test_result(!wrong && !atomic_load(&h->errors),
				 "%s: %s: writes fault exactly on protected pages", label, mask_names[k]);
		free(h);
	}
	struct uffdio_range range = { .start = (uintptr_t)p, .len = len };
	ioctl(uffd, UFFDIO_UNREGISTER, &range);
	munmap(p, len);
}

static char saved_shmem[64], saved_anon[64];

static int sysfs_swap(const char *path, const char *value, char *saved, size_t n)
{
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, saved, n - 1);
	saved[r > 0 ? r : 0] = '\0';
	/* "always [inherit] never" -> the bracketed word */
	char *l = strchr(saved, '['), *e = l ? strchr(l, ']') : NULL;
	if (l && e) {
		memmove(saved, l + 1, (size_t)(e - l - 1));
		saved[e - l - 1] = '\0';
	}
	int ok = pwrite(fd, value, strlen(value), 0) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -1;
}

static void sysfs_restore(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	if (fd >= 0 && *value) {
		if (write(fd, value, strlen(value)) < 0) {
			/* best effort */
		}
	}
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	char shmem_knob[128], anon_knob[128];
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	folio_pages = FOLIO_KB * 1024 / page_size;
	nr_pages = NR_FOLIOS * folio_pages;
	len = nr_pages * page_size;

	ktap_print_header();
	if (geteuid())
		ktap_exit_skip("needs root (pagemap PFNs, sysfs)");
	snprintf(shmem_knob, sizeof(shmem_knob),
		 "/sys/kernel/mm/transparent_hugepage/hugepages-%dkB/shmem_enabled", FOLIO_KB);
	snprintf(anon_knob, sizeof(anon_knob),
		 "/sys/kernel/mm/transparent_hugepage/hugepages-%dkB/enabled", FOLIO_KB);
	if (access(shmem_knob, W_OK))
		ktap_exit_skip("no %d KiB shmem mTHP in this kernel (%s)", FOLIO_KB, shmem_knob);

	uint64_t supported = 0;
	int probe = open_uffd(0, &supported);
	if (probe < 0)
		ktap_exit_skip("userfaultfd unavailable: %s", strerror(errno));
	close(probe);
	if (!(supported & UFFD_FEATURE_WP_HUGETLBFS_SHMEM))
		ktap_exit_skip("no UFFD_FEATURE_WP_HUGETLBFS_SHMEM (CONFIG_PTE_MARKER_UFFD_WP off?)");
	int uffd = open_uffd(UFFD_FEATURE_WP_HUGETLBFS_SHMEM, NULL);
	if (uffd < 0)
		ktap_exit_fail_msg("UFFDIO_API with WP_HUGETLBFS_SHMEM: %s", strerror(errno));

	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	kpageflags_fd = open("/proc/kpageflags", O_RDONLY);
	if (pagemap_fd < 0 || kpageflags_fd < 0)
		ktap_exit_skip("no /proc/self/pagemap or /proc/kpageflags (CONFIG_PROC_PAGE_MONITOR)");

	if (sysfs_swap(shmem_knob, "always", saved_shmem, sizeof(saved_shmem)))
		ktap_exit_fail_msg("cannot write %s", shmem_knob);
	int have_anon = sysfs_swap(anon_knob, "always", saved_anon, sizeof(saved_anon)) == 0;

	int kmsg = kmsg_mark();
	ktap_set_plan(MASK_NR * 3 + MASK_NR * 2 + 1);
	for (enum mask_kind k = 0; k < MASK_NR; k++)
		run_case(uffd, k, 1, "shmem");
	for (enum mask_kind k = 0; k < MASK_NR; k++)
		run_case(uffd, k, 0, "anon (control)");
	if (!have_anon)
		ktap_print_msg("anonymous mTHP knob missing: the control ran on small pages");

	int problems = kmsg_new_problems(kmsg);
	if (problems < 0)
		ktap_test_skip("cannot read /dev/kmsg", "no kernel warnings during the test");
	else
		ktap_test_result(problems == 0, "no kernel warnings during the test (%d found)", problems);

	sysfs_restore(shmem_knob, saved_shmem);
	if (have_anon)
		sysfs_restore(anon_knob, saved_anon);
	close(uffd);
	ktap_finished();
}
