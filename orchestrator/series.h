/*
 * series: turn mbox files (git format-patch, b4) or directories of .patch
 * files into revisions of a patch series, without touching any tree.
 *
 * Mails are split at mbox "From " lines; each mail's Subject prefix
 * ("[PATCH v2 3/5]", "[RFC PATCH]") gives its revision and position.
 * Mails without a diff (cover letters, review replies) are not patches.
 * Patches are grouped by revision and ordered by N/M; a gap or a patch
 * listed twice is an error before anything is built (a later copy of the
 * same N/M replaces an earlier one, as a RESEND does).
 */
#ifndef KPIPE_SERIES_H
#define KPIPE_SERIES_H

#include <stddef.h>

#include "buf.h"
#include "kperror.h"
#include "strvec.h"

struct patch {
	unsigned index;  /* N of N/M (1 for a lone patch) */
	unsigned total;  /* M of N/M */
	char *subject;   /* without the "[PATCH ...]" prefix */
	char *author;    /* the From: header, "Name <email>" */
	char *date;      /* the Date: header as sent */
	char *message;   /* the commit message body: after the headers, up to "---" */
	char *diff;      /* from the first "diff --git" up to the signature */
	char *msgid;     /* the Message-ID without its <>, or "" */
	char *file;      /* the file the mail was read from */
	unsigned line;   /* the line the mail starts on in that file */
	long long when;  /* the Date: as seconds since the epoch, 0 if unreadable */
	size_t seq;      /* the order it was read in its revision: which of two N/M is later */
};

struct revision {
	unsigned version; /* v1 when the subjects say none */
	char *title;      /* the cover letter's subject, else the first patch's */
	char *name;       /* a slug of the title, for branch and directory names */
	char *source;     /* the file (or directory) it came from */
	char *base_commit; /* "base-commit:" from the cover letter or a patch, or NULL */
	/*
	 * The thread the revision was sent as, from its cover letter (else its
	 * first patch): what a reply goes to.  All owned; NULL for a revision
	 * made from commits, "" for a header the mail did not have.
	 */
	char *thread_msgid; /* Message-ID without <> */
	char *thread_subject; /* its Subject: as sent ("[PATCH v2 0/3] ...") */
	char *author;       /* From: */
	char *to, *cc;      /* To: and Cc:, as sent */
	char *change_id;    /* b4's "change-id:" trailer, or "" */
	unsigned thread_rank; /* which mail gave them: 1 cover letter, N + 1 patch N */
	struct patch *patches;
	size_t nr, alloc;
};

/* Bad input past these: a series holds v1..v256, one file 64 MiB, one patch 16 MiB. */
#define SERIES_MAX_REVISIONS 256
#define SERIES_MAX_FILE_MIB 64
#define SERIES_MAX_PATCH_MIB 16

struct series {
	struct revision *revs; /* ordered by version */
	size_t nr;
	unsigned skipped_mails; /* replies and other mails that are no patch */
	struct strvec problems; /* what is odd but not fatal (a duplicate patch) */
};

#define SERIES_INIT { NULL, 0, 0, STRVEC_INIT }

/*
 * Read every path (an mbox file, a single .patch, or a directory of
 * .patch/.mbox/.eml files) into *out.  With several paths and no version
 * in their subjects, the Nth path is vN.  Returns 0, or -1 with 'err'
 * (KPERROR_INPUT) naming the file, line or mail.  Free with
 * series_release().
 */
int series_parse(struct series *out, char *const *paths, size_t n, struct kperror *err);
void series_release(struct series *s);

/*
 * Parse mails held in memory (named 'name' in messages) as one source,
 * the way series_parse() parses one file.  For fuzzing and tests.
 */
int series_parse_buffer(struct series *out, const char *name, const char *data, size_t len,
			struct kperror *err);

/* What one mail is, for grouping mails into series (kpipe watch). */
enum series_mail_kind { SERIES_MAIL_OTHER, SERIES_MAIL_COVER, SERIES_MAIL_PATCH };

struct series_mail {
	enum series_mail_kind kind; /* a reply or a mail without a diff is OTHER */
	char *msgid;       /* Message-ID without <>, "" if none */
	char *thread;      /* the first id of References:, else In-Reply-To:, else "" */
	char *subject;     /* the Subject: as sent (decoded) */
	char *bare;        /* without its [...] prefixes */
	char *from;        /* the From: header */
	char *change_id;   /* b4's change-id: trailer, or "" */
	long long when;    /* its Date: in seconds since the epoch, 0 if unreadable */
	unsigned version;  /* from the subject, 0 if none */
	unsigned index, total; /* N/M, 0/0 if none */
	int resend;        /* the subject says RESEND */
};

/*
 * Read one mail (RFC 822, no mbox "From " line) into *out; free with
 * series_mail_release().  Never fails: what it cannot read stays empty.
 */
void series_read_mail(struct series_mail *out, const char *raw, size_t len);
void series_mail_release(struct series_mail *m);

/* Parse an RFC 2822 date; returns 0 and sets *when and *offset_minutes. */
int series_parse_date(const char *date, long long *when, int *offset_minutes);

/*
 * Parse one mail's Subject: strip "Re:" handling aside, read the bracket
 * prefixes.  Sets *version (0 if none), *index and *total (0 if none) and
 * returns the offset of the bare subject in 's'.  Exposed for unit tests.
 */
size_t series_parse_subject(const char *s, unsigned *version, unsigned *index,
			    unsigned *total);

/*
 * Where a unified diff that is not git's starts in 'text' (quilt, plain
 * diff -u: "--- a/F", "+++ b/F", "@@ ..." with no "diff --git" line),
 * with the "Index:", "=====" and "diff ..." lines right above it; NULL if
 * none.
 */
const char *series_find_unified_diff(const char *text);

/*
 * The unified diff 'diff' (len bytes) rewritten with git's file headers,
 * so libgit2 reads it: each file becomes "diff --git a/P b/P" (with "new
 * file mode 100644" or "deleted file mode 100644" against /dev/null),
 * paths lose their first component, as patch -p1 does, and any
 * tab-separated timestamp; what sits between files ("Index:", "=====",
 * "diff -urN ...", "Only in ...") is dropped.  Hunks are copied by their
 * line counts, so a removed line that reads "-- x" is no file header.
 * Returns 0, or -1 if a hunk is cut short or its header unreadable (then
 * *bad_line is its line in 'diff', from 1).
 */
int series_unified_to_git(struct buf *out, const char *diff, size_t len, unsigned *bad_line);

#endif
