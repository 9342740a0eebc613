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

#endif
