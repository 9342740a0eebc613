// SPDX-License-Identifier: GPL-2.0
/*
 * mm_stress: a bounded stress run over shmem and anonymous 64K folios
 * with every batching path of the series running at once.
 *
 * For a few seconds, threads race on the same folios:
 *   - two writers, each owning every other page, store a per-page counter
 *     and read it straight back;
 *   - a zapper (MADV_DONTNEED, shmem: uffd-wp markers are installed for
 *     whole batches), a pager (MADV_PAGEOUT: try_to_unmap_one() batches)
 *     and a protector (UFFDIO_WRITEPROTECT on and off over ranges starting
 *     mid-folio) on random ranges;
 *   - the anonymous folios get MADV_PAGEOUT and writes the same way;
 *   - a userfaultfd thread resolves the write-protect faults.
 * Then: every page holds its last counter and the rest of its pattern, no
 * read-back ever saw a stale value, the writers made progress, and the
 * kernel log has no WARNING/BUG/"Bad rss-counter"/"Bad page".
 */
#define _GNU_SOURCE
#include "mm_util.h"

#include <time.h>

#define FOLIO_KB 64
#define NR_FOLIOS 16
#define SECONDS 4

static size_t folio_pages, pages, len;
static char *shm, *anon;
static atomic_int stop;
static atomic_long stale, ops[6];
static uint64_t expect_shm[MAX_TEST_PAGES], expect_anon[MAX_TEST_PAGES];
static int uffd = -1;

enum { OP_WRITE, OP_ZAP, OP_PAGEOUT, OP_PROTECT, OP_ANON_PAGEOUT, OP_UNPROTECT };

static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* A random range of 1..2 folios' worth of pages, starting anywhere (often mid-folio). */
static void random_range(unsigned *seed, size_t *first, size_t *n)
{
	*first = next_rand(seed) % pages;
	*n = 1 + next_rand(seed) % (2 * folio_pages);
	if (*first + *n > pages)
		*n = pages - *first;
}

static void *writer(void *arg)
{
	size_t me = (size_t)(uintptr_t)arg;
	unsigned seed = 1234u + (unsigned)me;
	while (!atomic_load(&stop)) {
		size_t i = (next_rand(&seed) % (pages / 2)) * 2 + me;
		char *region = next_rand(&seed) % 2 ? shm : anon;
		uint64_t *expect = region == shm ? expect_shm : expect_anon;
		uint64_t v = ++expect[i];
		volatile uint64_t *w = (volatile uint64_t *)(region + i * page_size);
		*w = v;
		if (*w != v)
			atomic_fetch_add(&stale, 1);
		atomic_fetch_add(&ops[OP_WRITE], 1);
	}
	return NULL;
}

static void *meddler(void *arg)
{
	int kind = (int)(uintptr_t)arg;
	unsigned seed = 99u + (unsigned)kind;
	while (!atomic_load(&stop)) {
		size_t first, n;
		random_range(&seed, &first, &n);
		char *p = shm + first * page_size;
		size_t bytes = n * page_size;
		if (kind == OP_ZAP) {
			madvise(p, bytes, MADV_DONTNEED);
		} else if (kind == OP_PAGEOUT) {
			madvise(p, bytes, MADV_PAGEOUT);
		} else if (kind == OP_ANON_PAGEOUT) {
			madvise(anon + first * page_size, bytes, MADV_PAGEOUT);
		} else {
			struct uffdio_writeprotect wp = {
				.range = { .start = (uintptr_t)p, .len = bytes },
				.mode = kind == OP_PROTECT ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
			};
			ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
		}
		atomic_fetch_add(&ops[kind], 1);
		usleep(1000);
	}
	return NULL;
}

static long check_region(const char *p, const uint64_t *expect)
{
	for (size_t i = 0; i < pages; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * page_size);
		if (w[0] != (expect[i] ? expect[i] : pattern(i, 0)))
			return (long)i;
		for (size_t k = 1; k < page_size / 8; k++)
			if (w[k] != pattern(i, k))
				return (long)i;
	}
	return -1;
}

int main(void)
{
	struct mthp_knob shmem_knob = { 0 }, anon_knob = { 0 };
	char why[256];

	ktap_print_header();
	mm_util_init();
	folio_pages = FOLIO_KB * 1024 / page_size;
	pages = NR_FOLIOS * folio_pages;
	len = pages * page_size;
	uffd = uffd_open_wp_shmem();
	mthp_enable(&shmem_knob, FOLIO_KB, "shmem_enabled");
	mthp_enable(&anon_knob, FOLIO_KB, "enabled");

	int kmsg = kmsg_mark();
	ktap_set_plan(4 + 1);
	shm = map_filled_folios(NR_FOLIOS, folio_pages, 1, 1, why, sizeof(why));
	anon = shm ? map_filled_folios(NR_FOLIOS, folio_pages, 0, 1, why, sizeof(why)) : NULL;
	if (!shm || !anon) {
		ktap_test_skip(why, "shmem data intact after the stress");
		ktap_test_skip(why, "anon data intact after the stress");
		ktap_test_skip(why, "no write ever read back a stale value");
		ktap_test_skip(why, "every thread made progress");
		goto out;
	}
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)shm, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		ktap_exit_fail_msg("UFFDIO_REGISTER: %s", strerror(errno));
	struct wp_counter *h = wp_counter_start(uffd, shm, pages);

	pthread_t t[7];
	pthread_create(&t[0], NULL, writer, (void *)0);
	pthread_create(&t[1], NULL, writer, (void *)1);
	pthread_create(&t[2], NULL, meddler, (void *)OP_ZAP);
	pthread_create(&t[3], NULL, meddler, (void *)OP_PAGEOUT);
	pthread_create(&t[4], NULL, meddler, (void *)OP_PROTECT);
	pthread_create(&t[5], NULL, meddler, (void *)OP_UNPROTECT);
	pthread_create(&t[6], NULL, meddler, (void *)OP_ANON_PAGEOUT);
	sleep(SECONDS);
	atomic_store(&stop, 1);
	for (int i = 0; i < 7; i++)
		pthread_join(t[i], NULL);
	/* let every write through, then stop the fault thread */
	struct uffdio_writeprotect all = { .range = { .start = (uintptr_t)shm, .len = len }, .mode = 0 };
	ioctl(uffd, UFFDIO_WRITEPROTECT, &all);
	wp_counter_stop(h);
	long faults = 0;
	for (size_t i = 0; i < pages; i++)
		faults += atomic_load(&h->faults[i]);
	ktap_print_msg("%d s: %ld writes, %ld zaps, %ld shmem pageouts, %ld protects, %ld unprotects, "
		       "%ld anon pageouts, %ld write-protect faults",
		       SECONDS, atomic_load(&ops[OP_WRITE]), atomic_load(&ops[OP_ZAP]),
		       atomic_load(&ops[OP_PAGEOUT]), atomic_load(&ops[OP_PROTECT]),
		       atomic_load(&ops[OP_UNPROTECT]), atomic_load(&ops[OP_ANON_PAGEOUT]), faults);

	long bad = check_region(shm, expect_shm);
	if (bad >= 0)
		ktap_print_msg("shmem page %ld holds the wrong data", bad);
	ktap_test_result(bad < 0, "shmem data intact after the stress");
	bad = check_region(anon, expect_anon);
	if (bad >= 0)
		ktap_print_msg("anon page %ld holds the wrong data", bad);
	ktap_test_result(bad < 0, "anon data intact after the stress");
	if (atomic_load(&stale))
		ktap_print_msg("%ld writes read back a different value", atomic_load(&stale));
	ktap_test_result(!atomic_load(&stale), "no write ever read back a stale value");
	int progress = 1;
	for (int k = 0; k < 6; k++)
		progress &= atomic_load(&ops[k]) > 0;
	if (atomic_load(&h->errors))
		ktap_print_msg("%d userfaultfd errors", atomic_load(&h->errors));
	ktap_test_result(progress && !atomic_load(&h->errors), "every thread made progress");
	free(h);
	uffd_unregister(uffd, shm, len);
	munmap(shm, len);
	munmap(anon, len);
out:
	ktap_test_kmsg(kmsg);
	mthp_restore(&shmem_knob);
	mthp_restore(&anon_knob);
	close(uffd);
	ktap_finished();
}
