/*
 * revmatch: the mails of a mailing list grouped into series and their
 * revisions, the way b4 finds them.
 *
 *   - A sending is the patches and cover letter of one thread (the first
 *     id of References:, else In-Reply-To:, else the mail's own id) with
 *     one version; mails without any thread header group by author,
 *     version and N/M total.
 *   - Sendings are one series when they carry the same b4 change-id:
 *     trailer; else when their title (the cover letter's subject, else
 *     patch 1's, without prefixes) and author's address are the same and
 *     the newer came within REVMATCH_WINDOW of the series' last one.
 *   - The same version sent again (a RESEND, or one patch resent) is the
 *     same revision: a later copy of patch N replaces the earlier one.
 *   - A revision missing patches is complete when the previous revision
 *     has them (same N/M total) and REVMATCH_GRACE has passed since its
 *     newest mail (a partial reroll: v3 resending patches 2 and 4 only);
 *     else it waits for the rest.
 *
 * Pure: mails in, indices into them out.
 */
#ifndef KPIPE_REVMATCH_H
#define KPIPE_REVMATCH_H

#include <stddef.h>

#include "series.h"

#define REVMATCH_NONE ((size_t)-1)
#define REVMATCH_WINDOW (366LL * 24 * 3600)
#define REVMATCH_GRACE (30LL * 60)

struct revmatch_rev {
	unsigned version;       /* 1 when the subjects say none */
	unsigned total;         /* M of N/M */
	size_t cover;           /* the cover letter's mail, or REVMATCH_NONE */
	size_t *patches;        /* [total]: patch N's mail at N-1, REVMATCH_NONE if missing */
	unsigned sent;          /* how many patches were sent as this version */
	unsigned borrowed;      /* how many were taken from the previous revision */
	unsigned borrowed_from; /* that revision's version */
	int complete;           /* every patch is known, sent or borrowed */
	int resend;             /* a mail of it said RESEND */
	long long when;         /* its newest mail's date */
};

struct revmatch_series {
	char *key;              /* "change-id:ID", or "subject:ADDRESS:TITLE" */
	char *title;            /* the newest revision's title */
	char *author;           /* the From: of its first mail */
	char *change_id;        /* "" if none */
	struct revmatch_rev *revs; /* by version */
	size_t nr;
	long long last;         /* the newest mail of any revision */
};

struct revmatch {
	struct revmatch_series *series; /* in the order their first mail came */
	size_t nr;
};

#define REVMATCH_INIT { NULL, 0 }

/*
 * Group 'mails' (other mails are ignored) into out; 'now' decides the
 * partial rerolls' grace.  Cost: linear in the mails (threads and series
 * are found through hash maps), plus sorting the sendings.  Free with
 * revmatch_release().
 */
void revmatch_group(struct revmatch *out, const struct series_mail *mails, size_t n, long long now);
void revmatch_release(struct revmatch *rm);

#endif
