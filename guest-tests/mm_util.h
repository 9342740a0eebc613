/*
 * mm_util.h: what kpipe's mm guest tests share (after the kernel's
 * tools/testing/selftests/mm/vm_util.h): large folios placed on purpose
 * and checked through pagemap/kpageflags, a per-page data pattern,
 * userfaultfd write-protect set-up and a thread that counts WP faults,
 * and sysfs knobs set for the test and restored after.  Header-only, so
 * each test stays one C file plus headers.
 */
#ifndef KPIPE_GUEST_MM_UTIL_H
#define KPIPE_GUEST_MM_UTIL_H

#include <fcntl.h>
#include <linux/loop.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>

#include "ktap.h"

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_UFFD_WP (1ULL << 57)
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_SWAPCACHE 13
#define MAX_TEST_PAGES 4096

static size_t page_size;
static int pagemap_fd = -1, kpageflags_fd = -1;

/* Open pagemap and kpageflags; skip the whole test without them. */
static inline void mm_util_init(void)
{
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (geteuid())
		ktap_exit_skip("needs root (pagemap PFNs, sysfs)");
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	kpageflags_fd = open("/proc/kpageflags", O_RDONLY);
	if (pagemap_fd < 0 || kpageflags_fd < 0)
		ktap_exit_skip("no /proc/self/pagemap or /proc/kpageflags (CONFIG_PROC_PAGE_MONITOR)");
}

static inline uint64_t pagemap_entry(const void *addr)
{
	uint64_t e = 0;
	off_t off = (off_t)((uintptr_t)addr / page_size) * 8;
	if (pread(pagemap_fd, &e, sizeof(e), off) != sizeof(e))
		ktap_exit_fail_msg("pread /proc/self/pagemap: %s", strerror(errno));
	return e;
}

static inline uint64_t kpageflags(uint64_t pfn)
{
	uint64_t f = 0;
	if (pread(kpageflags_fd, &f, sizeof(f), (off_t)(pfn * 8)) != sizeof(f))
		return 0;
	return f;
}

/* How many times each "# perf:" figure is measured (kpipe needs at least 5 to compare). */
#define PERF_SAMPLES 5

/* A monotonic clock in seconds, for the "# perf:" figures. */
static inline double seconds_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The value of 64-bit word 'word' of page 'page' in the test pattern. */
static inline uint64_t pattern(size_t page, size_t word)
{
	return 0x6b70697065000000ULL ^ ((uint64_t)page << 20) ^ word;
}

static inline void fill_pages(char *p, size_t first_page, size_t pages)
{
	for (size_t i = 0; i < pages; i++) {
		uint64_t *w = (uint64_t *)(p + i * page_size);
		for (size_t k = 0; k < page_size / 8; k++)
			w[k] = pattern(first_page + i, k);
	}
}

/* The first page whose contents are not the pattern (or zero), or -1. */
static inline long check_pages(const char *p, size_t first_page, size_t pages, int expect_zero)
{
	for (size_t i = 0; i < pages; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * page_size);
		for (size_t k = 0; k < page_size / 8; k++)
			if (w[k] != (expect_zero ? 0 : pattern(first_page + i, k)))
				return (long)i;
	}
	return -1;
}

/*
 * 1 if each 'folio_pages' chunk of the 'folios' at 'p' is one large folio:
 * a compound head followed by its tails at consecutive PFNs; 'why' says
 * what is not.
 */
static inline int backed_by_large_folios(const char *p, size_t folios, size_t folio_pages,
					 char *why, size_t why_len)
{
	for (size_t f = 0; f < folios; f++) {
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
				snprintf(why, why_len, "page %zu (pfn 0x%llx, flags 0x%llx) is not part of a %zu KiB folio",
					 page, (unsigned long long)pfn, (unsigned long long)flags,
					 folio_pages * page_size / 1024);
				return 0;
			}
			if (i == 0)
				head_pfn = pfn;
		}
	}
	return 1;
}

/*
 * How many of the 'folios' chunks of 'folio_pages' pages at 'p' are not
 * one large folio (their first page a compound head, their last a tail
 * of it): quick, two pages a chunk, for a "# perf:" figure to say what it
 * measured.
 */
static inline size_t chunks_not_large(const char *p, size_t folios, size_t folio_pages)
{
	size_t bad = 0;
	for (size_t f = 0; f < folios; f++) {
		uint64_t first = pagemap_entry(p + f * folio_pages * page_size);
		uint64_t last = pagemap_entry(p + ((f + 1) * folio_pages - 1) * page_size);
		uint64_t head = first & PM_PFN_MASK, tail = last & PM_PFN_MASK;
		if (!(first & PM_PRESENT) || !(last & PM_PRESENT) || !head ||
		    !(kpageflags(head) & (1ULL << KPF_COMPOUND_HEAD)) ||
		    !(kpageflags(tail) & (1ULL << KPF_COMPOUND_TAIL)) || tail != head + folio_pages - 1)
			bad++;
	}
	return bad;
}

/*
 * For a "# perf:" sample over 'len' bytes at 'p' that the mTHP knob set
 * to 'mode': 1 if it measures what its name says ("always": every chunk a
 * 'folio_kb' KiB folio), else 0 after saying why the sample is dropped.
 */
static inline int perf_sample_backed(const char *p, size_t len, int folio_kb, const char *mode)
{
	size_t folios = len / ((size_t)folio_kb * 1024);
	size_t folio_pages = (size_t)folio_kb * 1024 / page_size;
	size_t small = strcmp(mode, "always") ? 0 : chunks_not_large(p, folios, folio_pages);
	if (small)
		ktap_print_msg("perf sample dropped: %zu of %zu chunks are no %d KiB folio", small, folios, folio_kb);
	return !small;
}

/*
 * Map 'len' bytes at an address aligned to 'align' (shared anonymous =
 * shmem, or private anonymous), so large folios can back it.
 */
static inline char *map_aligned(size_t len, size_t align, int shared)
{
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

/*
 * Map 'folios' folios of 'folio_pages' pages each (shmem if 'shared'), at
 * an address aligned to the folio size, and fill them with the pattern.
 * With 'need_large', check each is one large folio: if not, unmap, put
 * the reason in 'why' and return NULL (the caller skips, saying why).
 */
static inline char *map_filled_folios(size_t folios, size_t folio_pages, int shared, int need_large,
				      char *why, size_t why_len)
{
	size_t len = folios * folio_pages * page_size;
	char *p = map_aligned(len, folio_pages * page_size, shared);
	fill_pages(p, 0, folios * folio_pages);
	if (need_large && !backed_by_large_folios(p, folios, folio_pages, why, why_len)) {
		munmap(p, len);
		return NULL;
	}
	return p;
}

/* A userfaultfd with 'features' (0 to probe); *supported gets what the kernel offers. */
static inline int uffd_open(uint64_t features, uint64_t *supported)
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

/* A userfaultfd that can write-protect shmem, or skip the test. */
static inline int uffd_open_wp_shmem(void)
{
	uint64_t supported = 0;
	int probe = uffd_open(0, &supported);
	if (probe < 0)
		ktap_exit_skip("userfaultfd unavailable: %s", strerror(errno));
	close(probe);
	if (!(supported & UFFD_FEATURE_WP_HUGETLBFS_SHMEM))
		ktap_exit_skip("no UFFD_FEATURE_WP_HUGETLBFS_SHMEM (CONFIG_PTE_MARKER_UFFD_WP off?)");
	int uffd = uffd_open(UFFD_FEATURE_WP_HUGETLBFS_SHMEM, NULL);
	if (uffd < 0)
		ktap_exit_fail_msg("UFFDIO_API with WP_HUGETLBFS_SHMEM: %s", strerror(errno));
	return uffd;
}

static inline void uffd_register_wp(int uffd, void *p, size_t len)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		ktap_exit_fail_msg("UFFDIO_REGISTER: %s", strerror(errno));
}

static inline void uffd_unregister(int uffd, void *p, size_t len)
{
	struct uffdio_range range = { .start = (uintptr_t)p, .len = len };
	ioctl(uffd, UFFDIO_UNREGISTER, &range);
}

static inline void write_protect(int uffd, char *page_addr, int on)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)page_addr, .len = page_size },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
		ktap_exit_fail_msg("UFFDIO_WRITEPROTECT %p: %s", (void *)page_addr, strerror(errno));
}

/*
 * Register 'pages' pages at 'p' (pattern pages first.. first+pages-1) for
 * write-protect and protect those 'want' says.
 */
static inline void protect_pages(int uffd, char *p, size_t first, size_t pages,
				 int (*want)(void *arg, size_t page), void *arg)
{
	uffd_register_wp(uffd, p, pages * page_size);
	for (size_t i = 0; i < pages; i++)
		if (want(arg, first + i))
			write_protect(uffd, p + i * page_size, 1);
}

/*
 * A thread that resolves userfaultfd faults in [base, base + pages) and
 * counts them per page.  A fault whose flags lack 'fault_flag'
 * (UFFD_PAGEFAULT_FLAG_WP, ...) or that lies outside the range counts as
 * an error; resolve(uffd, page address) lifts the page's protection and
 * wakes the faulting thread, returning 0 or -1.
 */
struct wp_counter {
	int uffd;
	char *base;
	size_t pages;
	uint64_t fault_flag;
	int (*resolve)(int uffd, uintptr_t page_addr);
	pthread_t thread;
	atomic_int stop;
	atomic_int errors;
	atomic_int faults[MAX_TEST_PAGES];
};

static inline void *wp_counter_run(void *arg)
{
	struct wp_counter *h = arg;
	while (!atomic_load(&h->stop)) {
		struct pollfd pfd = { .fd = h->uffd, .events = POLLIN };
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		struct uffd_msg msg;
		if (read(h->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT) {
			atomic_fetch_add(&h->errors, 1);
			continue;
		}
		uintptr_t addr = (uintptr_t)msg.arg.pagefault.address & ~(page_size - 1);
		size_t page = (addr - (uintptr_t)h->base) / page_size;
		if (!(msg.arg.pagefault.flags & h->fault_flag) || addr < (uintptr_t)h->base ||
		    page >= h->pages) {
			atomic_fetch_add(&h->errors, 1);
			continue;
		}
		atomic_fetch_add(&h->faults[page], 1);
		/* resolve: drop this page's protection and let the faulting thread go on */
		if (h->resolve(h->uffd, addr))
			atomic_fetch_add(&h->errors, 1);
	}
	return NULL;
}

static inline int wp_resolve(int uffd, uintptr_t page_addr)
{
	struct uffdio_writeprotect wp = { .range = { .start = page_addr, .len = page_size }, .mode = 0 };
	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? -1 : 0;
}

/* Count and resolve faults of kind 'fault_flag' with resolve(); free with wp_counter_stop() + free(). */
static inline struct wp_counter *fault_counter_start(int uffd, char *base, size_t pages, uint64_t fault_flag,
						     int (*resolve)(int, uintptr_t))
{
	struct wp_counter *h = calloc(1, sizeof(*h));
	h->uffd = uffd;
	h->base = base;
	h->pages = pages;
	h->fault_flag = fault_flag;
	h->resolve = resolve;
	pthread_create(&h->thread, NULL, wp_counter_run, h);
	return h;
}

/* Count and resolve write-protect faults. */
static inline struct wp_counter *wp_counter_start(int uffd, char *base, size_t pages)
{
	return fault_counter_start(uffd, base, pages, UFFD_PAGEFAULT_FLAG_WP, wp_resolve);
}

static inline void wp_counter_stop(struct wp_counter *h)
{
	atomic_store(&h->stop, 1);
	pthread_join(h->thread, NULL);
}

/* Set a sysfs knob, keeping its current value ("[always] never" -> "always") in 'saved'. */
static inline int sysfs_swap(const char *path, const char *value, char *saved, size_t n)
{
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, saved, n - 1);
	saved[r > 0 ? r : 0] = '\0';
	char *l = strchr(saved, '['), *e = l ? strchr(l, ']') : NULL;
	if (l && e) {
		memmove(saved, l + 1, (size_t)(e - l - 1));
		saved[e - l - 1] = '\0';
	}
	int ok = pwrite(fd, value, strlen(value), 0) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -1;
}

static inline void sysfs_restore(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	if (fd >= 0) {
		if (*value && write(fd, value, strlen(value)) < 0) {
			/* best effort */
		}
		close(fd);
	}
}

/* An mTHP size switched on for a test and restored after. */
struct mthp_knob {
	char path[128];
	char saved[64];
	int set;
};

/*
 * Set the 'kb' KiB mTHP size to "always" for anonymous memory ('which' =
 * "enabled") or shmem ("shmem_enabled"); skip the whole test if the
 * kernel has no such knob, fail it if it cannot be written.
 */
static inline void mthp_enable(struct mthp_knob *k, int kb, const char *which)
{
	snprintf(k->path, sizeof(k->path), "/sys/kernel/mm/transparent_hugepage/hugepages-%dkB/%s", kb,
		 which);
	if (access(k->path, W_OK))
		ktap_exit_skip("no %d KiB %s mTHP in this kernel (%s)", kb,
			       strcmp(which, "enabled") ? "shmem" : "anonymous", k->path);
	if (sysfs_swap(k->path, "always", k->saved, sizeof(k->saved)))
		ktap_exit_fail_msg("cannot write %s", k->path);
	k->set = 1;
}

static inline void mthp_restore(struct mthp_knob *k)
{
	if (k->set)
		sysfs_restore(k->path, k->saved);
	k->set = 0;
}

/*
 * For a "# perf:" figure: 'mib' MiB of private anonymous memory at an
 * address aligned to 'align', every page written once, with the mTHP
 * knob 'knob' set to 'mode' first ("always": large folios, "never": 4K
 * pages); NULL if the knob cannot be set.  The caller munmap()s it.
 */
static inline char *map_touched_with_mthp(size_t mib, size_t align, const char *knob, const char *mode)
{
	size_t n = mib << 20;
	if (sysfs_swap(knob, mode, (char[64]){ 0 }, 64))
		return NULL;
	char *p = map_aligned(n, align, 0);
	for (size_t i = 0; i < n; i += page_size)
		*(volatile uint64_t *)(p + i) = i;
	return p;
}

/*
 * fork() so that the child shares only the first half of each of the
 * 'folios' folios at 'p' (the second halves are MADV_DONTFORK while it
 * forks), then merge the VMAs back (MADV_DOFORK): the parent maps every
 * folio with shared pages (first half) and exclusive ones (second half)
 * side by side.  The child runs child(arg) and exits; the parent gets
 * its pid.
 */
static inline pid_t fork_sharing_first_halves(char *p, size_t folios, size_t folio_pages,
					      void (*child)(void *), void *arg)
{
	size_t half = folio_pages / 2 * page_size;
	for (size_t f = 0; f < folios; f++)
		if (madvise(p + f * folio_pages * page_size + half, half, MADV_DONTFORK))
			ktap_exit_fail_msg("madvise(MADV_DONTFORK): %s", strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		ktap_exit_fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		child(arg);
		_exit(0);
	}
	if (madvise(p, folios * folio_pages * page_size, MADV_DOFORK))
		ktap_exit_fail_msg("madvise(MADV_DOFORK): %s", strerror(errno));
	return pid;
}

/*
 * Write every page of [p, p + pages) once (the same value: the data
 * stays) while a wp_counter resolves the faults; the number of pages
 * whose fault count is not want(arg, page) (0 or 1), *first the first of
 * them, *errors the unexpected userfaultfd events.
 */
static inline size_t wp_writes_fault_wrongly(int uffd, char *p, size_t pages, int (*want)(void *, size_t),
					     void *arg, size_t first_page, size_t *first, int *errors)
{
	size_t wrong = 0;
	struct wp_counter *h = wp_counter_start(uffd, p, pages);
	for (size_t i = 0; i < pages; i++)
		*(volatile uint64_t *)(p + i * page_size) = pattern(first_page + i, 0);
	wp_counter_stop(h);
	for (size_t i = 0; i < pages; i++)
		if (atomic_load(&h->faults[i]) != want(arg, first_page + i) && !wrong++)
			*first = first_page + i;
	*errors = atomic_load(&h->errors);
	free(h);
	return wrong;
}

/*
 * A field ("Rss", "Swap", ...) of the mapping that contains 'addr', in KiB,
 * from /proc/self/smaps; -1 if there is no such mapping or field.
 */
static inline long smaps_kb(const void *addr, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	size_t flen = strlen(field);
	int in = 0;
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (in && !strncmp(line, field, flen) && line[flen] == ':' &&
		    sscanf(line + flen + 1, "%ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static inline long smaps_swap_kb(const void *addr)
{
	return smaps_kb(addr, "Swap");
}

/* A /proc/meminfo field ("SwapFree") in KiB, or -1. */
static inline long meminfo_kb(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t flen = strlen(field);
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':' &&
		    sscanf(line + flen + 1, "%ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * swapoff(dev) in a child stopped after 'seconds': swapoff() finishes
 * only when every slot is free again (in-use slots are read back in
 * first), so a slot that no page table and no swap cache owns - a leak -
 * keeps it looping.  Returns 0, or -1 with the reason in 'why'.
 */
static inline int swapoff_within(const char *dev, int seconds, char *why, size_t n)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		alarm((unsigned)seconds);
		_exit(swapoff(dev) ? errno : 0);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		snprintf(why, n, "cannot run swapoff: %s", strerror(errno));
		return -1;
	}
	if (WIFSIGNALED(status)) {
		snprintf(why, n, "swapoff(%s) did not finish in %d s: swap slots nobody owns?", dev, seconds);
		return -1;
	}
	if (WEXITSTATUS(status)) {
		snprintf(why, n, "swapoff(%s): %s", dev, strerror(WEXITSTATUS(status)));
		return -1;
	}
	return 0;
}

/*
 * Turn the guest's (first) swap device off within 'seconds' and on
 * again: a leaked slot shows (see swapoff_within()).  This is the only
 * exact check: SwapFree lags behind by the per-CPU slot caches.  Returns
 * 0, or -1 with the reason in 'why'.
 */
static inline int swap_off_on(int seconds, char *why, size_t n)
{
	char dev[128] = "";
	FILE *f = fopen("/proc/swaps", "r");
	char line[256];
	if (f) {
		if (fgets(line, sizeof(line), f) && fgets(line, sizeof(line), f))
			sscanf(line, "%127s", dev);
		fclose(f);
	}
	if (!*dev) {
		snprintf(why, n, "no swap device in /proc/swaps");
		return -1;
	}
	if (swapoff_within(dev, seconds, why, n))
		return -1;
	if (swapon(dev, 0)) {
		snprintf(why, n, "swapon(%s) after swapoff: %s", dev, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A swap device that is not SWP_SYNCHRONOUS_IO (zram is): a loop device
 * over a file on a tmpfs of its own, switched on with the highest
 * priority so the next swap-out goes there.  Swap-in from it goes
 * through the swap cache, and a folio read back after a swap-out stays
 * there while it is mapped, as on a disk.  'mib' MiB; fills 'dev'
 * ("/dev/loopN") and returns 0, or -1 with the reason in 'why'.
 */
#define LOOP_SWAP_DIR "/tmp/kpipe-loop-swap"
static inline int loop_swap_on(int mib, char *dev, size_t devlen, char *why, size_t n)
{
	char file[128];
	size_t size = (size_t)mib << 20;
	mkdir(LOOP_SWAP_DIR, 0700);
	if (mount("tmpfs", LOOP_SWAP_DIR, "tmpfs", 0, "size=256m")) {
		snprintf(why, n, "mount tmpfs on %s: %s", LOOP_SWAP_DIR, strerror(errno));
		return -1;
	}
	snprintf(file, sizeof(file), "%s/swap", LOOP_SWAP_DIR);
	int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *header = calloc(1, page_size);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		snprintf(why, n, "create %s: %s", file, strerror(errno));
		goto fail;
	}
	/* mkswap: version 1, last page, no bad pages, "SWAPSPACE2" at the end of page 0 */
	uint32_t *info = (uint32_t *)(header + 1024);
	info[0] = 1;
	info[1] = (uint32_t)(size / page_size - 1);
	memcpy(header + page_size - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, header, page_size, 0) != (ssize_t)page_size) {
		snprintf(why, n, "write the swap header: %s", strerror(errno));
		goto fail;
	}
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int nr = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE);
	if (ctl >= 0)
		close(ctl);
	if (nr < 0) {
		snprintf(why, n, "no free loop device: %s (CONFIG_BLK_DEV_LOOP?)", strerror(errno));
		goto fail;
	}
	snprintf(dev, devlen, "/dev/loop%d", nr);
	int loop = open(dev, O_RDWR | O_CLOEXEC);
	if (loop < 0 || ioctl(loop, LOOP_SET_FD, fd)) {
		snprintf(why, n, "attach %s to %s: %s", file, dev, strerror(errno));
		if (loop >= 0)
			close(loop);
		goto fail;
	}
	close(loop);
	/* non-rotational: swap then keeps clusters, so large folios go out whole */
	char rot[96], saved[16];
	snprintf(rot, sizeof(rot), "/sys/block/loop%d/queue/rotational", nr);
	sysfs_swap(rot, "0", saved, sizeof(saved));
	if (swapon(dev, SWAP_FLAG_PREFER | (32767 & SWAP_FLAG_PRIO_MASK))) {
		snprintf(why, n, "swapon(%s): %s", dev, strerror(errno));
		loop = open(dev, O_RDWR | O_CLOEXEC);
		if (loop >= 0) {
			ioctl(loop, LOOP_CLR_FD, 0);
			close(loop);
		}
		goto fail;
	}
	close(fd);
	free(header);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(header);
	umount2(LOOP_SWAP_DIR, MNT_DETACH);
	return -1;
}

/*
 * Switch the loop swap off within 'seconds' (swapoff_within(): a leaked
 * slot shows) and take it down.  Returns 0, or -1 with the reason in 'why'.
 */
static inline int loop_swap_off(const char *dev, int seconds, char *why, size_t n)
{
	if (swapoff_within(dev, seconds, why, n))
		return -1;
	int loop = open(dev, O_RDWR | O_CLOEXEC);
	if (loop >= 0) {
		ioctl(loop, LOOP_CLR_FD, 0);
		close(loop);
	}
	umount2(LOOP_SWAP_DIR, MNT_DETACH);
	return 0;
}

/*
 * Move this process into the memory cgroup 'path' (created), so its
 * memory can be reclaimed on demand; children inherit it.  Returns 1 if
 * that worked, else 0 (and says so).
 */
static inline int memcg_enter(const char *path)
{
	char procs[256], pid[32];
	mkdir(path, 0755);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	int fd = open(procs, O_WRONLY);
	snprintf(pid, sizeof(pid), "%d", getpid());
	int ok = fd >= 0 && write(fd, pid, strlen(pid)) > 0;
	if (fd >= 0)
		close(fd);
	if (!ok)
		ktap_print_msg("no memory cgroup (%s): MADV_PAGEOUT only", path);
	return ok;
}

/* Ask the memory cgroup 'path' to reclaim 'amount' ("64M"): through try_to_unmap(). */
static inline void memcg_reclaim(const char *path, const char *amount)
{
	char file[256];
	snprintf(file, sizeof(file), "%s/memory.reclaim", path);
	int fd = open(file, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, amount, strlen(amount)) < 0) {
			/* EAGAIN: less than asked was reclaimed; callers check what went */
		}
		close(fd);
	}
}

#endif
