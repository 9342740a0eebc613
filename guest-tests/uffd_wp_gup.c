// SPDX-License-Identifier: GPL-2.0
/*
 * uffd_wp_gup: the kernel writing into a uffd-wp-protected page on a
 * process's behalf (GUP with FOLL_WRITE) must respect the protection.
 *
 * A write-protected page may be written by the kernel through
 * get_user_pages() rather than by the CPU: process_vm_writev(), an
 * O_DIRECT read into the buffer, io_uring fixed buffers (pinned at
 * registration, written later), and the forced writes of a debugger,
 * /proc/PID/mem and ptrace(PTRACE_POKEDATA) (FOLL_FORCE).  Each must
 * fault to the userfaultfd handler first (which lifts the protection)
 * or fail; none may write behind the protection: new data in the page
 * while the handler never saw a fault on it is the bug.
 *
 * For anonymous and shmem pages: page 1 of 4 protected, the other three
 * not; after each write the protected page must have faulted to the
 * handler once and hold the new data, or the write failed and the page
 * is as it was and still protected; the unprotected pages never fault.
 * A kernel warning during the test fails it.
 */
#define _GNU_SOURCE
#include "mm_util.h"

#include <linux/io_uring.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#define PAGES 4
#define TARGET 1 /* the protected page */

static int only_target(void *arg, size_t page)
{
	(void)arg;
	return page == TARGET;
}

/* The new contents the writes bring: another pattern. */
static void new_data(char *buf)
{
	for (size_t k = 0; k < page_size / 8; k++)
		((uint64_t *)buf)[k] = pattern(1000 + TARGET, k);
}

static int holds_new_data(const char *page)
{
	for (size_t k = 0; k < page_size / 8; k++)
		if (((const uint64_t *)page)[k] != pattern(1000 + TARGET, k))
			return 0;
	return 1;
}

/* Each way writes buf (a page of new data) into 'page'; 0, or -1 with errno: the write failed. */

static int by_process_vm_writev(char *page, char *buf, char *why, size_t n)
{
	(void)why, (void)n;
	struct iovec local = {buf, page_size}, remote = {page, page_size};
	ssize_t r = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	return r == (ssize_t)page_size ? 0 : -1;
}

/* A loop device over a tmpfs file holding the new data, read with O_DIRECT into the page. */
#define GUP_DIR "/tmp/kpipe-uffd-wp-gup"
static int by_o_direct(char *page, char *buf, char *why, size_t n)
{
	char file[128], dev[32];
	mkdir(GUP_DIR, 0700);
	if (mount("tmpfs", GUP_DIR, "tmpfs", 0, "size=4m")) {
		snprintf(why, n, "mount tmpfs on %s: %s", GUP_DIR, strerror(errno));
		return -2;
	}
	snprintf(file, sizeof(file), "%s/data", GUP_DIR);
	int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600), loop = -1, ret = -2;
	if (fd < 0 || pwrite(fd, buf, page_size, 0) != (ssize_t)page_size ||
	    ftruncate(fd, 1 << 20)) {
		snprintf(why, n, "create %s: %s", file, strerror(errno));
		goto out;
	}
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int nr = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE);
	if (ctl >= 0)
		close(ctl);
	snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
	loop = nr < 0 ? -1 : open(dev, O_RDWR | O_CLOEXEC);
	if (loop < 0 || ioctl(loop, LOOP_SET_FD, fd)) {
		snprintf(why, n, "a loop device over %s: %s (CONFIG_BLK_DEV_LOOP?)", file,
			 strerror(errno));
		goto out;
	}
	int direct = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (direct < 0) {
		snprintf(why, n, "open %s O_DIRECT: %s", dev, strerror(errno));
		ioctl(loop, LOOP_CLR_FD, 0);
		goto out;
	}
	ssize_t r = pread(direct, page, page_size, 0);
	int saved = errno;
	close(direct);
	ioctl(loop, LOOP_CLR_FD, 0);
	errno = saved;
	ret = r == (ssize_t)page_size ? 0 : -1;
out:
	if (loop >= 0)
		close(loop);
	if (fd >= 0)
		close(fd);
	umount2(GUP_DIR, MNT_DETACH);
	return ret;
}

/*
 * io_uring: the page registered as a fixed buffer (pinned for writing at
 * registration), then IORING_OP_READ_FIXED from a memfd holding the new
 * data into it.
 */
static int by_io_uring_fixed(char *page, char *buf, char *why, size_t n)
{
	struct io_uring_params params;
	memset(&params, 0, sizeof(params));
	int ring = (int)syscall(__NR_io_uring_setup, 1, &params), src = -1, ret = -1;
	if (ring < 0) {
		snprintf(why, n, "io_uring_setup: %s (CONFIG_IO_URING?)", strerror(errno));
		return -2;
	}
	size_t sq_len = params.sq_off.array + params.sq_entries * sizeof(unsigned);
	size_t cq_len = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
	char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
			IORING_OFF_SQ_RING);
	char *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
			IORING_OFF_CQ_RING);
	struct io_uring_sqe *sqe =
	    mmap(NULL, params.sq_entries * sizeof(*sqe), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqe == MAP_FAILED) {
		snprintf(why, n, "mmap the io_uring rings: %s", strerror(errno));
		close(ring);
		return -2;
	}
	struct iovec iov = {page, page_size};
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1) < 0)
		goto out; /* the pin failed: a failed write */
	src = memfd_create("kpipe-gup", 0);
	if (src < 0 || pwrite(src, buf, page_size, 0) != (ssize_t)page_size) {
		snprintf(why, n, "memfd: %s", strerror(errno));
		ret = -2;
		goto out;
	}
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_READ_FIXED;
	sqe->fd = src;
	sqe->addr = (uintptr_t)page;
	sqe->len = (unsigned)page_size;
	sqe->off = 0;
	sqe->buf_index = 0;
	unsigned *tail = (unsigned *)(sq + params.sq_off.tail),
		 *array = (unsigned *)(sq + params.sq_off.array);
	array[*tail & *(unsigned *)(sq + params.sq_off.ring_mask)] = 0;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
		snprintf(why, n, "io_uring_enter: %s", strerror(errno));
		ret = -2;
		goto out;
	}
	unsigned head = *(unsigned *)(cq + params.cq_off.head);
	struct io_uring_cqe *cqe = (struct io_uring_cqe *)(cq + params.cq_off.cqes) +
				   (head & *(unsigned *)(cq + params.cq_off.ring_mask));
	if (cqe->res == (int)page_size)
		ret = 0;
	else
		errno = cqe->res < 0 ? -cqe->res : EIO;
out:
	if (src >= 0)
		close(src);
	munmap(sq, sq_len);
	munmap(cq, cq_len);
	munmap(sqe, params.sq_entries * sizeof(*sqe));
	close(ring);
	return ret;
}

/* FOLL_FORCE: a write through /proc/self/mem, as a debugger does. */
static int by_proc_mem(char *page, char *buf, char *why, size_t n)
{
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, n, "open /proc/self/mem: %s", strerror(errno));
		return -2;
	}
	ssize_t r = pwrite(fd, buf, page_size, (off_t)(uintptr_t)page);
	int saved = errno;
	close(fd);
	errno = saved;
	return r == (ssize_t)page_size ? 0 : -1;
}

/*
 * FOLL_FORCE from another process: a child attaches to this one (its
 * main thread stops; the userfaultfd handler thread goes on) and pokes
 * the page's words with PTRACE_POKEDATA.  The child's exit status: 0
 * written, 1 a poke failed, 2 it could not attach.
 */
static int by_ptrace_pokedata(char *page, char *buf, char *why, size_t n)
{
	pid_t parent = getpid();
	pid_t child = fork();
	if (child == 0) {
		if (ptrace(PTRACE_ATTACH, parent, NULL, NULL))
			_exit(2);
		waitpid(parent, NULL, __WALL);
		int failed = 0;
		for (size_t off = 0; off < page_size && !failed; off += sizeof(long))
			failed =
			    ptrace(PTRACE_POKEDATA, parent, page + off, *(long *)(buf + off)) != 0;
		ptrace(PTRACE_DETACH, parent, NULL, NULL);
		_exit(failed);
	}
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 2) {
		snprintf(
		    why, n,
		    "ptrace(PTRACE_ATTACH) of this process by a child failed (Yama ptrace_scope?)");
		return -2;
	}
	errno = EIO;
	return WEXITSTATUS(status) ? -1 : 0;
}

struct way {
	const char *name;
	int (*write)(char *page, char *buf, char *why, size_t n);
};

static const struct way ways[] = {
    {"process_vm_writev", by_process_vm_writev},
    {"O_DIRECT read", by_o_direct},
    {"io_uring fixed buffer", by_io_uring_fixed},
    {"/proc/self/mem (FOLL_FORCE)", by_proc_mem},
    {"ptrace POKEDATA (FOLL_FORCE)", by_ptrace_pokedata},
};
#define NWAYS (sizeof(ways) / sizeof(ways[0]))

static void run_case(int uffd, int shared, const struct way *w)
{
	char label[96], why[160] = "";
	snprintf(label, sizeof(label), "%s: %s", shared ? "shmem" : "anon", w->name);
	size_t len = PAGES * page_size;
	char *p = map_aligned(len, page_size, shared);
	fill_pages(p, 0, PAGES);
	protect_pages(uffd, p, 0, PAGES, only_target, NULL);
	char *buf = aligned_alloc(page_size, page_size);
	new_data(buf);

	struct wp_counter *h = wp_counter_start(uffd, p, PAGES);
	int r = w->write(p + TARGET * page_size, buf, why, sizeof(why));
	int err = errno;
	wp_counter_stop(h);

	if (r == -2) {
		ktap_test_skip(
		    why, "%s: faults to the handler or fails, never writes behind the protection",
		    label);
	} else {
		int faults = atomic_load(&h->faults[TARGET]), others = 0;
		for (size_t i = 0; i < PAGES; i++)
			if (i != TARGET)
				others += atomic_load(&h->faults[i]);
		int written = holds_new_data(p + TARGET * page_size);
		int unchanged = check_pages(p + TARGET * page_size, TARGET, 1, 0) < 0;
		int still_protected = !!(pagemap_entry(p + TARGET * page_size) & PM_UFFD_WP);
		int ok;
		if (r == 0) {
			ok = written && faults == 1;
			ktap_print_msg(
			    "%s: written; the handler saw %d fault(s) on the protected page%s",
			    label, faults, faults ? "" : ": the write went behind the protection");
		} else {
			ok = unchanged && (faults || still_protected);
			ktap_print_msg("%s: failed (%s); the page %s, %s", label, strerror(err),
				       written	   ? "holds the new data"
				       : unchanged ? "is as it was"
						   : "is damaged",
				       still_protected ? "still protected"
				       : faults	       ? "unprotected by the handler"
						       : "no longer protected");
		}
		if (others)
			ktap_print_msg("%s: %d fault(s) on pages that were not protected", label,
				       others);
		if (atomic_load(&h->errors))
			ktap_print_msg("%s: %d unexpected userfaultfd events", label,
				       atomic_load(&h->errors));
		ok = ok && !others && !atomic_load(&h->errors) &&
		     check_pages(p, 0, TARGET, 0) < 0 &&
		     check_pages(p + (TARGET + 1) * page_size, TARGET + 1, PAGES - TARGET - 1, 0) <
			 0;
		ktap_test_result(
		    ok, "%s: faults to the handler or fails, never writes behind the protection",
		    label);
	}
	free(h);
	free(buf);
	uffd_unregister(uffd, p, len);
	munmap(p, len);
}

int main(void)
{
	ktap_print_header();
	mm_util_init();
	int uffd = uffd_open_wp_shmem();
	int kmsg = kmsg_mark();
	ktap_set_plan(2 * NWAYS + 1);
	for (int shared = 0; shared < 2; shared++)
		for (size_t i = 0; i < NWAYS; i++)
			run_case(uffd, shared, &ways[i]);
	ktap_test_kmsg(kmsg);
	close(uffd);
	ktap_finished();
}
