/*
 * baseline: the unpatched base's results, cached so a base is built,
 * booted and tested once per base commit, arch, kernel configuration,
 * guest image and test set, and reused by every later run that would
 * test the same thing.  Stored under <cache>/baselines/<key>/: the cell's
 * directory (logs, outputs) and a one-cell summary.tsv.
 */
#ifndef KPIPE_BASELINE_H
#define KPIPE_BASELINE_H

#include <git2.h>

#include "config.h"
#include "kperror.h"
#include "results.h"

/*
 * The cache key for 'base' on 'arch' with these test binaries: the base
 * commit, the kconfig fragments' contents, the guest image's sources, the
 * kernel command line and each test binary's contents.
 */
int baseline_key(struct buf *out, const git_oid *base, const char *arch,
		 const struct config *cfg, const struct strvec *tests, struct kperror *err);
/* 1 if a baseline is cached under 'key' (baseline_load() would find it). */
int baseline_cached(const char *cache_dir, const char *key);
/*
 * Load a cached baseline into *out (its dir must already be made: the
 * cached files are copied into it).  Returns 1 if found, 0 if not, -1
 * with 'err' on a broken cache entry.
 */
int baseline_load(struct cell *out, const char *cache_dir, const char *key, struct kperror *err);
/*
 * A revision tested in an earlier run (kpipe run --tested RUN_DIR): load
 * the cell of 'arch' whose patches hash to 'patchset' (a real verdict,
 * not infra) from 'run_dir' into *out, whose dir must be made (the files
 * are copied in).  With 'out' NULL only tell whether it is there.
 * Returns 1 if found, 0 if not, -1 with 'err' if the run cannot be read.
 */
int baseline_load_tested(struct cell *out, const char *run_dir, const char *arch, const char *patchset,
			 struct kperror *err);
/* Store 'c' (a finished baseline cell with a real verdict) under 'key'. */
int baseline_store(const struct cell *c, const char *cache_dir, const char *key,
		   struct kperror *err);

#endif
