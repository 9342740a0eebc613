/*
 * bisect: the first patch of a revision at which its regressions appear.
 */
#ifndef KPIPE_BISECT_H
#define KPIPE_BISECT_H

#include "stage.h"

/*
 * For a revision cell with regressions (results_compare() has run):
 * binary search over commits[] (commits[i] = patches 1..i+1 applied),
 * each probe a cell run through every stage (runner_run_cell()), running
 * only the tests that failed (all of them when a splat is among the
 * regressions).  A probe is bad when one of those tests regresses against
 * 'baseline' (c's baseline cell, or NULL) as results_test_regressed()
 * says, or has one of those splats.  Sets c->first_bad ("N/M 'subject'",
 * or why it is undecided).  Probe results go to
 * <run_dir>/<rev>-bisect-<N>-<arch>/.
 */
int bisect_first_bad(struct run_ctx *ctx, struct cell *c, const struct cell *baseline,
		     const struct revision *rev, const git_oid *commits, const char *run_dir,
		     struct kperror *err);

#endif
