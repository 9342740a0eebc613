/*
 * plan: a run decided before anything runs.  Its cells (the base and
 * each revision, times each arch) in the order they are built, each with
 * the cell it is compared with (its baseline) and the previous
 * revision's, whether its result comes from the cache, which steps it
 * needs and which tests it runs.  Plain data, made by a pure function and
 * printed by 'kpipe run --dry-run'; the runner carries it out
 * (run_plan.c).
 */
#ifndef KPIPE_PLAN_H
#define KPIPE_PLAN_H

#include <stddef.h>

#include "buf.h"
#include "strvec.h"

/* What a cell needs done, as bits of plan_cell.steps. */
enum plan_step {
	PLAN_LOAD = 1 << 0,       /* the result is known: the base's cached, or a revision tested before */
	PLAN_APPLY = 1 << 1,      /* the revision's patches applied as commits (once per revision) */
	PLAN_EACH_PATCH = 1 << 2, /* every patch built on its own (--each-patch) */
	PLAN_BUILD = 1 << 3,      /* kernel, guest tests and selftests built (build lane) */
	PLAN_GUEST = 1 << 4,      /* booted and tested (a guest slot) */
	PLAN_STORE = 1 << 5,      /* the base's result kept in the cache for later runs */
	PLAN_BISECT = 1 << 6,     /* searched for its first bad patch if it regresses (--bisect) */
};

#define PLAN_NONE ((size_t)-1)

struct plan_revision {
	char *name;       /* "v2" */
	unsigned version;
	size_t nr_patches;
	int on_base;      /* applied onto the run's base: compared with the base cells */
	int from_commits; /* --commits: already in the tree, nothing to apply */
	int tested;       /* tested in an earlier run (kpipe run --tested): applied, then loaded */
};

struct plan_cell {
	char *revision;   /* "base", "v1", ... */
	size_t rev;       /* index into plan.revs, PLAN_NONE for the base */
	size_t arch;      /* index into plan.arches */
	size_t baseline;  /* index of the cell it is compared with, or PLAN_NONE */
	size_t prev;      /* the previous revision's cell on this arch, or PLAN_NONE */
	unsigned steps;   /* enum plan_step bits */
};

struct plan_input {
	const struct strvec *arches;
	const struct plan_revision *revs; /* copied */
	size_t nr_revs;
	const int *base_cached;           /* per arch: the base's result is in the cache */
	int with_baseline, each_patch, bisect;
	size_t guest_slots;
	const struct strvec *tests;       /* per arch: the test names each cell runs */
	const char *selftests;            /* "[test] selftests" as configured, for the description */
};

struct plan {
	struct strvec arches;
	struct plan_revision *revs;
	size_t nr_revs;
	struct plan_cell *cells; /* base cells first (one per arch), then each revision x arch */
	size_t nr_cells;
	struct strvec *tests;    /* per arch */
	char *selftests;
	size_t guest_slots;
};

#define PLAN_INIT { STRVEC_INIT, NULL, 0, NULL, 0, NULL, NULL, 0 }

/* Decide the run 'in' describes into *out (release with plan_release()). */
void plan_make(struct plan *out, const struct plan_input *in);
/* The index of the cell of revision 'rev' (PLAN_NONE: the base) on arch 'arch', or PLAN_NONE. */
size_t plan_find(const struct plan *p, size_t rev, size_t arch);
/*
 * The plan as text for the user: what is cached, what will be built and
 * booted and in what order, what each cell is compared with.
 */
void plan_describe(struct buf *out, const struct plan *p);
void plan_release(struct plan *p);

#endif
