#include "kperror.h"

#include <errno.h>

#include <stdarg.h>
#include <string.h>

int kperror_set(struct kperror *err, enum kperror_kind kind,
		const char *fmt, ...)
{
	va_list ap;
	err->kind = kind;
	buf_reset(&err->msg);
	va_start(ap, fmt);
	buf_vaddf(&err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int kperror_errno(struct kperror *err, enum kperror_kind kind, int errnum,
		  const char *fmt, ...)
{
	va_list ap;
	err->kind = kind;
	buf_reset(&err->msg);
	va_start(ap, fmt);
	buf_vaddf(&err->msg, fmt, ap);
	va_end(ap);
	int e = errnum < 0 ? -errnum : errnum;
	buf_addf(&err->msg, ": %s", strerror(e));
	if (e == ENOSPC || e == EDQUOT)
		buf_adds(&err->msg, " (the filesystem it is on is full: free space there and run again)");
	return -1;
}

int kperror_wrap(struct kperror *err, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	buf_adds(&b, ": ");
	buf_add(&b, err->msg.data, err->msg.len);
	buf_release(&err->msg);
	err->msg = b;
	if (err->kind == KPERROR_NONE)
		err->kind = KPERROR_INFRA;
	return -1;
}

void kperror_clear(struct kperror *err)
{
	err->kind = KPERROR_NONE;
	buf_reset(&err->msg);
}

void kperror_release(struct kperror *err)
{
	buf_release(&err->msg);
	err->kind = KPERROR_NONE;
}

int kperror_exit_code(const struct kperror *err)
{
	switch (err->kind) {
	case KPERROR_NONE: return 0;
	case KPERROR_INPUT: return 2;
	case KPERROR_INTERRUPTED: return 130;
	case KPERROR_INFRA:
	case KPERROR_HOST:
	default: return 3;
	}
}
