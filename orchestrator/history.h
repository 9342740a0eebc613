/*
 * history: every run recorded in an SQLite database, so a nightly job can
 * tell what changed since the last run of the same series: per run its
 * series title, base and results directory; per cell the verdict, commit
 * and stage times; per test its verdict; per splat its title and count.
 */
#ifndef KPIPE_HISTORY_H
#define KPIPE_HISTORY_H

#include "kperror.h"
#include "results.h"
#include "strvec.h"

/* Record a finished run.  Creates the database and its tables if needed. */
int history_record(const char *db_path, const char *run_dir, const char *series,
		   const char *base, const struct cell *cells, size_t n, struct kperror *err);
/*
 * What changed between the two newest runs of 'series' (the newest run's
 * series when NULL): one line each into 'out', e.g. "v2 x86_64
 * uffd_wp_zap_shmem: fail -> pass", "v1 x86_64 new splat: WARNING in x".
 * *about gets a line naming the two runs.  Returns 0 (no earlier run:
 * *about says so), or -1 with 'err'.
 */
int history_changes(struct strvec *out, struct buf *about, const char *db_path,
		    const char *series, struct kperror *err);

/*
 * kpipe watch's state, in the same database: the position each inbox
 * was read up to, the patch and cover-letter mails kept (a series may
 * arrive over several watches), and each revision tested (by series and
 * patchset hash: a RESEND of the same patches is not tested again).
 * Positions and mails are kept in a transaction (begin .. end) so a watch
 * that fails or only looks (--dry-run) leaves them as they were.
 */
struct history_watch;
int history_watch_open(struct history_watch **out, const char *db_path, struct kperror *err);
void history_watch_close(struct history_watch *w); /* an open transaction is rolled back */
int history_watch_begin(struct history_watch *w, struct kperror *err);
int history_watch_end(struct history_watch *w, int keep, struct kperror *err);
/* The position 'inbox' was read up to into 'out' ("" if never). */
int history_watch_position(struct history_watch *w, const char *inbox, struct buf *out, struct kperror *err);
int history_watch_set_position(struct history_watch *w, const char *inbox, const char *position,
			       struct kperror *err);
/* Keep a mail: 1 if new, 0 if its Message-ID is known, -1 with 'err'. */
int history_watch_add_mail(struct history_watch *w, const char *inbox, const char *msgid, const char *raw,
			   size_t len, struct kperror *err);
/* Every mail kept, in the order kept. */
int history_watch_each_mail(struct history_watch *w, int (*fn)(void *data, const char *raw, size_t len),
			    void *data, struct kperror *err);
/* 1 and the run, its verdict and version if 'series' was tested with 'patchset', 0 if not, -1. */
int history_watch_tested(struct history_watch *w, const char *series, const char *patchset, struct buf *run_dir,
			 struct buf *verdict, unsigned *version, struct kperror *err);
int history_watch_record(struct history_watch *w, const char *series, const char *patchset, unsigned version,
			 const char *run_dir, const char *verdict, struct kperror *err);

#endif
