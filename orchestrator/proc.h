/*
 * proc: the one way kpipe starts other programs (after git's run-command).
 *
 * Fill a struct proc (PROC_INIT, then argv and the options you need) and
 * call proc_run().  The child runs in its own process group with stdin
 * from /dev/null.  Its stdout and stderr go, interleaved, to 'out' (a
 * buffer the caller owns) and/or appended to the file 'log_path'; with
 * neither they are discarded.  While it runs, 'tick' (if set) is called
 * about every 'tick_seconds' seconds so a command can show the user that
 * a long step is alive.  On timeout or when proc_interrupted is set (by a
 * signal handler), the whole process group is killed.
 */
#ifndef KPIPE_PROC_H
#define KPIPE_PROC_H

#include <signal.h>

#include "buf.h"
#include "kperror.h"
#include "strvec.h"

/* Set by main()'s SIGINT/SIGTERM handler; every wait loop in kpipe checks it. */
extern volatile sig_atomic_t proc_interrupted;

struct proc {
	struct strvec argv;   /* argv[0] is looked up in PATH */
	struct strvec env;    /* extra "NAME=value" entries for the child */
	const char *cwd;      /* NULL: the current directory */
	int timeout_seconds;  /* 0: no limit */
	const char *log_path; /* append output here (created 0644) */
	struct buf *out;      /* capture output here (caller owns) */
	void (*tick)(void *data, double elapsed_seconds);
	void *tick_data;
	int tick_seconds;     /* 0: 10 s */
	int nice;             /* added to the child's niceness (PROC_NICE_BUILD, or 0) */

	/* Results, valid after proc_run() returned 0. */
	int exit_code;        /* exit status, or 128 + signal number */
	int timed_out;        /* 1 if killed for running over the limit */
	double elapsed;       /* wall time in seconds */
};

/*
 * Builds (kernel, guest tests, selftests) run at the lowest priority: a
 * guest measuring "# perf:" figures beside a build gets the CPU first, so
 * the build does not slow the figures of one cell and not of the next;
 * the build takes what is left.
 */
#define PROC_NICE_BUILD 19

#define PROC_INIT { STRVEC_INIT, STRVEC_INIT, NULL, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0.0 }

/*
 * Run the program and wait for it.  Returns 0 when it ran to an end
 * (check exit_code and timed_out), or -1 with 'err' set when it could not
 * be started (not installed, cwd missing), the log could not be opened or
 * written (KPERROR_INFRA: a log cut short is no result), or the user
 * interrupted kpipe (kind KPERROR_INTERRUPTED).
 */
int proc_run(struct proc *p, struct kperror *err);
/* Free argv and env; the struct can be reused after PROC_INIT. */
void proc_release(struct proc *p);
/* Return 1 if 'name' is an executable found in PATH (or is a path to one). */
int proc_in_path(const char *name);

#endif
