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
	char *patchset;   /* the KCIDB hash of its patches (run_revision_patchset()), or NULL */
};

struct plan_cell {
	char *revision;   /* "base", "v1", ... */
	size_t rev;       /* index into plan.revs, PLAN_NONE for the base */
	size_t arch;      /* index into plan.arches */
	size_t baseline;  /* index of the cell it is compared with, or PLAN_NONE */
	size_t prev;      /* the previous revision's cell on this arch, or PLAN_NONE */
	unsigned steps;   /* enum plan_step bits */
	size_t whole;     /* its index in the whole run's plan (plan.whole), kept by plan_select() */
	size_t host;      /* with PLAN_GUEST: the host its guest is planned on (plan.hosts), else PLAN_NONE */
};

/* A libvirt host guests run on, with its slots (guests at once). */
struct plan_host {
	char *uri;        /* as configured, query and all */
	char *name;       /* for the user: the URI without its query */
	size_t slots;
};

struct plan_input {
	const struct strvec *arches;
	const struct plan_revision *revs; /* copied */
	size_t nr_revs;
	const int *base_cached;           /* per arch: the base's result is in the cache */
	int with_baseline, each_patch, bisect;
	size_t guest_slots;               /* with no hosts: one host "local" with these slots */
	const struct plan_host *hosts;    /* copied; slots 0 count as 1 */
	size_t nr_hosts;
	const struct strvec *tests;       /* per arch: the test names each cell runs */
	const char *selftests;            /* "[test] selftests" as configured, for the description */
	const char *base;                 /* the base commit (hex), for the plan's id */
};

struct plan {
	struct strvec arches;
	struct plan_revision *revs;
	size_t nr_revs;
	struct plan_cell *cells; /* base cells first (one per arch), then each revision x arch */
	size_t nr_cells;
	struct strvec *tests;    /* per arch */
	char *selftests;
	size_t guest_slots;      /* every host's slots together */
	struct plan_host *hosts;
	size_t nr_hosts;
	char *id;             /* 16 hex digits of the base, arches and every revision's patches: one per run */
	struct strvec whole;  /* "REV/ARCH" of every cell of the whole run, before plan_select() */
	unsigned shard, nr_shards; /* plan_select() kept part 'shard' of 'nr_shards' (0 0: no sharding) */
	int selected;         /* plan_select() left out cells: this plan is part of a run */
};

#define PLAN_INIT { STRVEC_INIT, NULL, 0, NULL, 0, NULL, NULL, 0, NULL, 0, NULL, STRVEC_INIT, 0, 0, 0 }

/*
 * Decide the run 'in' describes into *out (release with plan_release()).
 * The cells that boot a guest are spread over the hosts in build order,
 * in proportion to their slots (smooth weighted round robin): where each
 * goes when every guest takes as long.  The runner keeps to it while the
 * planned host has a free slot, and moves a cell to another host's free
 * slot when its own are busy or the host is down.
 */
void plan_make(struct plan *out, const struct plan_input *in);
/*
 * Keep only part of the plan, for one job of several running one run
 * (kpipe run --cells PATTERN... --shard I/N): the cells whose "REV/ARCH"
 * matches one of 'patterns' (fnmatch(3) patterns: every arch of v2, every
 * revision on arm64; none: every revision's cell), then of those revision cells, in the order of arch
 * then revision (so one job builds one arch's kernels one after the
 * other), the I-th of N nearly equal runs ('nr_shards' 0: all of them);
 * and the base cells those compare with.  A cell's baseline and previous
 * revision are renumbered, the previous one is PLAN_NONE when it is left
 * out.  -1 with 'why' (one line, for the user) if a pattern matches no
 * cell of the plan or the shard is out of range.  A shard may get no cell
 * at all (more shards than revision cells).
 */
int plan_select(struct plan *p, const struct strvec *patterns, unsigned shard, unsigned nr_shards,
		struct buf *why);
/* The index of the cell of revision 'rev' (PLAN_NONE: the base) on arch 'arch', or PLAN_NONE. */
size_t plan_find(const struct plan *p, size_t rev, size_t arch);
/*
 * The plan as text for the user: what is cached, what will be built and
 * booted and in what order, what each cell is compared with.
 */
void plan_describe(struct buf *out, const struct plan *p);
void plan_release(struct plan *p);

#endif
