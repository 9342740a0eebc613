/*
 * inbox: the mails that arrived in a mailing-list archive since a
 * position, read without changing the archive:
 *   - a public-inbox v2 inbox (what lore.kernel.org serves and
 *     public-inbox-clone or lei mirror): the git/N.git epochs, one
 *     message per commit as the blob "m" of its tree, read with libgit2;
 *     the position is the last commit read in each epoch;
 *   - a maildir (new/ and cur/): the position is the newest change time
 *     read, so a mail delivered at that very time is read again (callers
 *     drop what they already have by Message-ID).
 * Quiet: errors come back in 'err'.
 */
#ifndef KPIPE_INBOX_H
#define KPIPE_INBOX_H

#include <stddef.h>

#include "buf.h"
#include "kperror.h"

/* A mail bigger than this is not read (and counted in *too_big). */
#define INBOX_MAX_MAIL_MIB 16

enum inbox_kind { INBOX_PUBLIC_INBOX, INBOX_MAILDIR };

/* What 'path' is; -1 with 'err' (KPERROR_INPUT) when it is neither. */
int inbox_kind(enum inbox_kind *out, const char *path, struct kperror *err);

/* Called for each mail, oldest first; a negative return stops the read. */
typedef int (*inbox_mail_fn)(void *data, const char *raw, size_t len);

/*
 * Call 'fn' for every mail of 'path' after position 'since' ("" reads
 * all); *next gets the position after the last mail read (the same as
 * 'since' when nothing came).  A position that no longer fits the
 * inbox (an epoch rewritten by a purge) reads that epoch again from its
 * start, and *note says so.  Returns 0, or -1 with 'err'.
 */
int inbox_read(const char *path, const char *since, inbox_mail_fn fn, void *data, struct buf *next,
	       unsigned *too_big, struct buf *note, struct kperror *err);

#endif
