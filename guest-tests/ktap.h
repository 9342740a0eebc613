/*
 * ktap.h: header-only KTAP output for kpipe's guest tests, after the
 * kernel's tools/testing/selftests/kselftest.h.
 *
 * Exit codes as in kselftest: 0 pass, 1 fail, 4 skip.  Diagnostics are
 * "# " lines.  kmsg_mark()/kmsg_new_problems() report kernel log lines
 * (WARNING, BUG, Oops, Bad page, Bad rss-counter ...) printed while the
 * test ran, so a test fails when the kernel complains even if the data
 * looked right.
 */
#ifndef KPIPE_GUEST_KTAP_H
#define KPIPE_GUEST_KTAP_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The test's name in whole-program results: its source file. */
#define KTAP_TEST_NAME __BASE_FILE__

#define KSFT_PASS 0
#define KSFT_FAIL 1
#define KSFT_SKIP 4

static unsigned ktap_nr, ktap_passed, ktap_failed, ktap_skipped;

static inline void ktap_print_header(void)
{
	printf("KTAP version 1\n");
	fflush(stdout);
}

static inline void ktap_set_plan(unsigned n)
{
	printf("1..%u\n", n);
	fflush(stdout);
}

static inline void ktap_print_msg(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void ktap_vresult(const char *status, const char *directive, const char *fmt, va_list ap)
{
	printf("%s %u ", status, ++ktap_nr);
	vprintf(fmt, ap);
	if (directive)
		printf(" # %s", directive);
	printf("\n");
	fflush(stdout);
}

static inline void ktap_test_result(int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ktap_vresult(ok ? "ok" : "not ok", NULL, fmt, ap);
	va_end(ap);
	if (ok)
		ktap_passed++;
	else
		ktap_failed++;
}

/* "ok N name # SKIP reason" */
static inline void ktap_test_skip(const char *reason, const char *fmt, ...)
{
	char directive[512];
	va_list ap;
	snprintf(directive, sizeof(directive), "SKIP %s", reason);
	va_start(ap, fmt);
	ktap_vresult("ok", directive, fmt, ap);
	va_end(ap);
	ktap_skipped++;
}

/* Skip the whole program before any result: one skipped case, exit 4. */
static inline void __attribute__((noreturn)) ktap_exit_skip(const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (!ktap_nr)
		ktap_set_plan(1);
	printf("ok %u %s # SKIP %s\n", ++ktap_nr, KTAP_TEST_NAME, reason);
	fflush(stdout);
	exit(KSFT_SKIP);
}

static inline void __attribute__((noreturn)) ktap_exit_fail_msg(const char *fmt, ...)
{
	va_list ap;
	printf("# error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	printf("not ok %u %s: setup failed\n", ++ktap_nr, KTAP_TEST_NAME);
	fflush(stdout);
	exit(KSFT_FAIL);
}

/* Totals: 1 if anything failed, 4 if everything skipped, else 0. */
static inline int __attribute__((noreturn)) ktap_finished(void)
{
	ktap_print_msg("Totals: pass:%u fail:%u skip:%u", ktap_passed, ktap_failed, ktap_skipped);
	exit(ktap_failed ? KSFT_FAIL : (ktap_passed ? KSFT_PASS : KSFT_SKIP));
}

/* Open /dev/kmsg positioned at its end: what is read later is new. */
static inline int kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Read the kernel log records since kmsg_mark(), print the suspicious
 * ones as diagnostics, close 'fd', and return how many there were
 * (-1 if /dev/kmsg cannot be read).
 */
static inline int kmsg_new_problems(int fd)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "general protection fault", "Bad page",
		"Bad rss-counter", "kernel BUG", "Unable to handle", "lockdep", "RCU stall",
		"soft lockup", "hung task", "KASAN", "UBSAN", "KFENCE", "possible circular",
	};
	char rec[8192];
	int n = 0;
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0) {
			if (errno == EPIPE)
				continue; /* overwritten records: keep reading */
			break;
		}
		if (r == 0)
			break;
		rec[r] = '\0';
		const char *msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(msg, bad[i])) {
				char *nl = strchr(msg, '\n');
				if (nl)
					*nl = '\0';
				ktap_print_msg("kernel: %s", msg);
				n++;
				break;
			}
		}
	}
	close(fd);
	return n;
}

/*
 * The closing case of a test: "no kernel warnings during the test", failed
 * by any problem line since kmsg_mark() (skipped if /dev/kmsg is
 * unreadable).  Closes 'fd'.  Case names carry no counts (those go in "# "
 * lines), so kpipe can compare a case by name between kernels.
 */
static inline void ktap_test_kmsg(int fd)
{
	int problems = kmsg_new_problems(fd);
	if (problems < 0)
		ktap_test_skip("cannot read /dev/kmsg", "no kernel warnings during the test");
	else {
		if (problems)
			ktap_print_msg("%d kernel warning/BUG lines during the test", problems);
		ktap_test_result(problems == 0, "no kernel warnings during the test");
	}
}

#endif
