/*
 * run_plan: carry out a plan (plan.h) with the runner: load or test the
 * base, apply each revision once, build its cells in the build lane while
 * guest slots boot and test the ones built, keep new baselines in the
 * cache, compare every cell with its baseline, and bisect the revisions
 * that regress when the plan says so.  Quiet: what it does goes through
 * ctx->ui.
 */
#ifndef KPIPE_RUN_PLAN_H
#define KPIPE_RUN_PLAN_H

#include "apply.h"
#include "plan.h"
#include "stage.h"

/* What carrying out a revision needs beyond the plan. */
struct run_revision {
	const struct revision *rev;
	git_oid onto;              /* the commit its patches go onto */
	char *onto_why;            /* for the user: where 'onto' comes from (owned) */
	struct apply_result commits; /* --commits: given; else filled by the apply step */
	char *range;               /* --commits: the range as given, else NULL */
	double apply_seconds;      /* how long applying took */
	char *tested_dir;          /* the earlier run that tested these very patches (--tested), or NULL */
};

/* What the runner keeps of a base cell: its cache key. */
struct run_base {
	char *key;
	int cached;
};

/*
 * What each revision needs before the plan: for a series, the commit its
 * patches go onto (its base-commit: when the tree has it, else the
 * configured base) and why; for --commits ('ranges', one per revision, or
 * NULL), the commits and the one before the first.  *out gets 's->nr'
 * run_revisions (release each, then free()); s->revs are made from the
 * ranges in that case.  The base of the run is the first revision's.
 */
int run_plan_revisions(struct run_revision **out, git_oid *base, struct series *s,
		       const struct strvec *ranges, struct tree *t, struct kperror *err);
/*
 * The base cells' cache keys, and whether each is cached, one per arch of
 * the config (ctx must have every arch ready).  Release with
 * run_bases_free().
 */
int run_plan_bases(struct run_base **out, const struct run_ctx *ctx, const git_oid *base,
		   struct kperror *err);
void run_bases_free(struct run_base *bases, size_t n);
/*
 * The commit 'rev' goes onto: its base-commit: when the tree has it,
 * else the configured base; 'why' says which and why (for the user).
 * 't' may be NULL when there is no tree yet.
 */
void run_revision_base(git_oid *out, struct buf *why, struct tree *t, const struct revision *rev);

/*
 * Decide the run: the plan (plan_make()) for these revisions on every arch
 * of the config, with the base cells cached or not as 'bases' says, the
 * tests ctx has ready per arch, and [vm] guests guest slots.
 */
void run_plan_make(struct plan *out, const struct run_ctx *ctx, const struct run_revision *revs,
		   size_t nr_revs, const struct run_base *bases, int with_baseline, int each_patch,
		   int bisect);

/*
 * Keep the part of 'p' that kpipe run --cells 'patterns' and --shard
 * 'shard'/'nr_shards' (0 0: none) ask for (plan_select()); a pattern that
 * matches no cell is KPERROR_INPUT.  Neither given: 'p' stays whole.
 */
int run_plan_select(struct plan *p, const struct strvec *patterns, unsigned shard, unsigned nr_shards,
		    struct kperror *err);
/*
 * The same check on the series' cells by name alone (no tree, no cache
 * yet), so a --cells pattern that matches no cell is said before anything
 * waits for the cache or builds.
 */
int run_plan_check_cells(const struct series *s, const struct strvec *arches, int with_baseline,
			 const struct strvec *patterns, unsigned shard, unsigned nr_shards, struct kperror *err);

/*
 * Carry out 'plan' into *out_cells (plan->nr_cells of them, in the plan's
 * order, each with its directory under 'run_dir'; release each with
 * results_cell_release(), then free()).  Returns 0 when every cell got its
 * verdict (apply failures and broken kernels included), or -1 with 'err'
 * when kpipe or the machine failed or the run was interrupted: the cells
 * not reached are then infra or not run, and the caller still reports.
 * *cells_wall gets the seconds from the first cell to the last.
 */
int run_plan_execute(struct cell **out_cells, double *cells_wall, struct run_ctx *ctx,
		     const struct plan *plan, struct run_revision *revs, const struct run_base *bases,
		     const git_oid *base, const char *run_dir, struct kperror *err);

/*
 * For each revision of 'revs' (none from commits), the first of the runs
 * 'dirs' whose cells tested its very patches (the same patchset hash)
 * on every arch of the config: rr->tested_dir.  A run that cannot be read
 * is an error (bad input: it was named by the user).
 */
int run_plan_find_tested(struct run_revision *revs, size_t nr, const struct strvec *arches,
			 const struct strvec *dirs, struct kperror *err);

/* The KCIDB patchset hash of 'rev' (results_patchset_hash() of its diffs), as its cells carry it. */
void run_revision_patchset(struct buf *out, const struct revision *rev);

void run_revision_release(struct run_revision *r);

#endif
