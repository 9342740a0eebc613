/*
 * runner: takes cells through the stages (stage.h), in lanes, after git's
 * run_processes_parallel(): the caller submits cells and is told when each
 * is final; it never juggles threads.
 *
 * Lanes: the caller's thread is the build lane (build, kernel, guest
 * tests: one kernel build at a time, builds do not share 2 cores well);
 * 'guest_slots' threads boot and test the built kernels, in the order they
 * were built, while the build lane goes on with the next cell.  Every cell
 * ends the same way whatever happened: stage_verdict() (guest destroyed,
 * console kept, splats, verdict), then its result.json, then done().
 *
 * After an infrastructure error in a guest slot (other than a host's
 * failure with another host to go to) no more guests are
 * started: cells still queued are written as not run, runner_failed()
 * says 1, and runner_finish() returns that error.
 */
#ifndef KPIPE_RUNNER_H
#define KPIPE_RUNNER_H

#include "plan.h"
#include "stage.h"

struct runner_cell_opts {
	const struct strvec *only_tests; /* run just these tests (a bisect probe), NULL: all */
	/* --each-patch: build every patch of 'rev' (commits[i] = patch i applied) from 'base' first */
	const struct revision *rev;
	const git_oid *base;
	const git_oid *commits;
	/* called once when the cell is final (from a guest slot's thread for cells that booted) */
	void (*done)(void *data, struct cell *c);
	void *done_data;
	size_t host;      /* the host the plan put its guest on (plan_cell.host; PLAN_NONE or 0: the first) */
	size_t notes;     /* (the runner's) the cell's notes before its guest lane */
};

/*
 * The guest slots [vm] guests asks for: a number, or 0 (auto) for what
 * this machine's cores and free memory allow (1 on 2 cores: a kernel build
 * and one emulated guest already fill them).
 */
size_t runner_guest_slots(const struct config *cfg);

struct runner;
/*
 * Start the guest slots: each host's slots (plan.h: at least 1).  A
 * guest slot takes the cells planned for its host first, then any whose
 * host is busy or down.  A stage failing with KPERROR_HOST marks that
 * host down for the run: its slots stop, and the cell starts its guest
 * lane again on another host (a note in the cell says so); with no host
 * left, that error ends the run as any guest error does.
 */
int runner_start(struct runner **out, struct run_ctx *ctx, const struct plan_host *hosts, size_t nr_hosts,
		 struct kperror *err);
/*
 * Run the build lane of cell 'c' at 'commit' in this thread and queue it
 * for a guest slot (or finish it here when it did not build).  done() is
 * called once whatever happens; 'c' must stay put until runner_finish().
 * Returns -1 with 'err' when the build lane failed for the machine's
 * reasons (the cell is then written as infra).
 */
int runner_submit(struct runner *rn, struct cell *c, const git_oid *commit,
		  const struct runner_cell_opts *o, struct kperror *err);
/* 1 once a guest slot met an infrastructure error. */
int runner_failed(struct runner *rn);
/* Wait until every queued cell is final, free the runner; -1 with the first guest error. */
int runner_finish(struct runner *rn, struct kperror *err);

/*
 * Every stage of one cell in this thread, then its result.json: for
 * 'kpipe test' and bisect probes.  0 with the verdict in 'c', -1 with
 * 'err' (the cell written as infra or not run).
 */
int runner_run_cell(struct run_ctx *ctx, struct cell *c, const git_oid *commit,
		    const struct runner_cell_opts *o, struct kperror *err);

#endif
