/*
 * util: small filesystem and time helpers shared by the modules.
 * They return 0 or -errno and never print.
 */
#ifndef KPIPE_UTIL_H
#define KPIPE_UTIL_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

/* Monotonic clock in seconds. */
double util_now(void);
/* mkdir -p with the given mode for directories it creates. */
int util_mkdir_p(const char *path, unsigned mode);
/* rm -rf; a missing path is not an error. */
int util_rm_rf(const char *path);
int util_exists(const char *path);
/* Copy a regular file (mode 0644). */
int util_copy_file(const char *from, const char *to);
/* Turn 's' into something safe in a file or branch name ("[a-z0-9_-]", never empty). */
char *util_slug(const char *s, size_t max_len);
/*
 * Set by main()'s SIGINT/SIGTERM handler (defined here so that every
 * module, the parsers too, can stop at Ctrl-C: kperror KPERROR_INTERRUPTED).
 */
extern volatile sig_atomic_t proc_interrupted;
/* A new string (caller frees) formatted as printf() would (git's xstrfmt). */
char *util_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Content keys: FNV-1a over 'data' into *h (start from UTIL_HASH_INIT),
 * each piece closed by a separator so "ab"+"c" differs from "a"+"bc".
 * util_hash_file() adds a file's contents: 0, or -errno if unreadable.
 */
#define UTIL_HASH_INIT 0xcbf29ce484222325ULL
void util_hash(uint64_t *h, const void *data, size_t len);
int util_hash_file(uint64_t *h, const char *path);
/* "1m05s" style duration; returns a static buffer (not thread safe). */
const char *util_duration(double seconds);

#endif
