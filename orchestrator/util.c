#include "util.h"
#include "buf.h"

#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Declared in util.h and proc.h: every loop over untrusted input checks it. */
volatile sig_atomic_t proc_interrupted;

double util_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int util_mkdir_p(const char *path, unsigned mode)
{
	struct buf b = BUF_INIT;
	int ret = 0;
	buf_adds(&b, path);
	for (char *p = b.data + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(b.data, mode) < 0 && errno != EEXIST) {
				ret = -errno;
				break;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	buf_release(&b);
	return ret;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int util_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

int util_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int util_copy_file(const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	int ret = buf_read_file(&b, from);
	if (!ret)
		ret = buf_write_file(&b, to);
	buf_release(&b);
	return ret;
}

char *util_slug(const char *s, size_t max_len)
{
	struct buf b = BUF_INIT;
	int dash = 0;
	for (; *s && b.len < max_len; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '_') { /* no '.': "..", a leading '.' or ".lock" break a ref */
			if (dash && b.len)
				buf_addch(&b, '-');
			dash = 0;
			buf_addch(&b, (char)tolower(c));
		} else {
			dash = 1;
		}
	}
	/* cut at a word boundary rather than inside a word */
	if (*s && b.len == max_len) {
		char *dash = strrchr(b.data, '-');
		if (dash && dash > b.data + max_len / 2)
			buf_truncate(&b, (size_t)(dash - b.data));
	}
	if (!b.len)
		buf_adds(&b, "series");
	return buf_detach(&b, NULL);
}

const char *util_duration(double seconds)
{
	static _Thread_local char out[32]; /* the builder and the tester both print */
	long s = (long)(seconds + 0.5);
	if (s < 60)
		snprintf(out, sizeof(out), "%.1fs", seconds);
	else if (s < 3600)
		snprintf(out, sizeof(out), "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(out, sizeof(out), "%ldh%02ldm", s / 3600, (s / 60) % 60);
	return out;
}

void util_hash(uint64_t *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		*h ^= p[i];
		*h *= 0x100000001b3ULL;
	}
	*h ^= 0xff; /* separate the pieces */
	*h *= 0x100000001b3ULL;
}

int util_hash_file(uint64_t *h, const char *path)
{
	struct buf b = BUF_INIT;
	int e = buf_read_file(&b, path);
	if (e == 0)
		util_hash(h, b.data, b.len);
	buf_release(&b);
	return e;
}

char *util_strfmt(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}
