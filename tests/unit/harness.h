/*
 * A minimal unit-test harness: each TEST() is one case; CHECK() records a
 * failure with file and line and carries on.  The runner prints one
 * "PASS: name" / "FAIL: name" line per case for tests/run to count.
 */
#ifndef KPIPE_TEST_HARNESS_H
#define KPIPE_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

extern int harness_failures;
extern const char *harness_fixtures; /* tests/fixtures */

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		harness_failures++; \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_)) { \
		printf("#   %s:%d: '%s' != '%s'\n", __FILE__, __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
		harness_failures++; \
	} \
} while (0)

#define CHECK_CONTAINS(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (!h_ || !strstr(h_, n_)) { \
		printf("#   %s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, h_ ? h_ : "(null)", n_); \
		harness_failures++; \
	} \
} while (0)

struct unit_test {
	const char *name;
	void (*fn)(void);
};

#define TEST(name) static void name(void)

#endif
