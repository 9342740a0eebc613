/*
 * kperror: how kpipe's library modules report failure (after crun's
 * libcrun_error_t and libgit2's error handling).
 *
 * A module function returns 0 on success or a negative value on failure,
 * and on failure fills the 'struct kperror *err' passed as its last
 * argument.  The message names its subject in quotes, lower case, no full
 * stop: "cannot open 'series.mbox': No such file or directory".  Callers
 * add context on the way up with kperror_wrap().  The kind says whose
 * fault it was, and only main() turns the kind into an exit code.
 */
#ifndef KPIPE_KPERROR_H
#define KPIPE_KPERROR_H

#include "buf.h"

enum kperror_kind {
	KPERROR_NONE = 0,
	KPERROR_INPUT,       /* the user's input is wrong: exit 2 */
	KPERROR_INFRA,       /* the machine or a service failed: exit 3 */
	KPERROR_INTERRUPTED, /* the user pressed Ctrl-C: exit 130 */
	KPERROR_HOST,        /* a guest host failed (unreachable, libvirtd gone, lost): exit 3;
			      * the runner moves the cell to another host if it has one */
};

struct kperror {
	enum kperror_kind kind;
	struct buf msg;
};

#define KPERROR_INIT { KPERROR_NONE, BUF_INIT }

/* Set the error (replacing any earlier one).  Always returns -1. */
int kperror_set(struct kperror *err, enum kperror_kind kind,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like kperror_set(), then append ": strerror(errnum)" (errnum >= 0). */
int kperror_errno(struct kperror *err, enum kperror_kind kind, int errnum,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Prefix the existing message with "CONTEXT: ".  Always returns -1. */
int kperror_wrap(struct kperror *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Forget the error, keep the memory. */
void kperror_clear(struct kperror *err);
void kperror_release(struct kperror *err);
/* The exit code main() uses for an error of this kind. */
int kperror_exit_code(const struct kperror *err);

#endif
