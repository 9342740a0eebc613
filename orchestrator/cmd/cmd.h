/*
 * The command layer: one file per subcommand, each exporting cmd_<name>(),
 * all listed in the table in main.c.  Commands parse their arguments and
 * print; the modules below them do the work quietly.  A command returns
 * 0 (all good) or 1 (tests failed, splats, a broken revision), or -1 with
 * 'err' set; main() turns the error's kind into the exit code.
 */
#ifndef KPIPE_CMD_H
#define KPIPE_CMD_H

#include <stdio.h>

#include "../config.h"
#include "../kperror.h"
#include "../runner.h"
#include "../stage.h"
#include "../results.h"
#include "../series.h"

struct cmd_ctx {
	struct config cfg;       /* loaded by main() for commands that need it */
	const char *config_path; /* -c FILE, or NULL */
	int lock_fd;             /* <cache>/kpipe.lock held (NEED_LOCK), or -1 */
};

/*
 * Let other kpipe commands use the cache (worktree, build directories)
 * from now on: for a command that only keeps a guest running.
 */
void cmd_unlock_cache(struct cmd_ctx *ctx);
/*
 * Take <cache>/kpipe.lock (a second kpipe waits, saying so): for commands
 * that check their input first and lock only then (LOCK_AFTER_INPUT).
 */
int cmd_lock_cache(struct cmd_ctx *ctx, struct kperror *err);

int cmd_run(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
int cmd_watch(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
int cmd_series(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
int cmd_tree(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
int cmd_apply(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
int cmd_build(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
int cmd_boot(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
int cmd_test(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
int cmd_report(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
int cmd_splats(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
int cmd_config(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);

/* ui.c: what every command prints the same way. */
extern const struct run_ui ui_run;
/* Print "kpipe: <what>" progress for the import of the base tree. */
void ui_tree_progress(void *data, const char *what);
/* One line: "==> <fmt>" for a top-level step. */
void ui_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The revision x arch x test matrix, what failed, what changed, to 'f'. */
void ui_print_matrix(FILE *f, const struct cell *cells, size_t n);
/*
 * Write every report of a run into 'run_dir': junit.xml, kcidb.json,
 * report.html and summary.txt (the matrix as text, to paste into a reply).
 */
int ui_write_reports(const char *run_dir, const char *title, const char *base_desc,
		     const struct cell *cells, size_t n, struct kperror *err);
/* A unique id for this run (guest names), "<pid>-<time>". */
const char *ui_run_id(void);
/* A new id for the next run of this process (kpipe watch runs several). */
void ui_new_run_id(void);
/* kpipe run's steps that print (ui.c) */
struct plan;
/* "==> arches": every arch of the config made ready in 'rc', each saying so. */
int ui_prepare_arches(struct run_ctx *rc, struct kperror *err);
/* "==> base tree": open (or import) it into rc->tree. */
int ui_open_tree(struct run_ctx *rc, struct kperror *err);
/* "==> series": the revisions found and the problems seen. */
void ui_print_series(const struct series *s, int from_commits);
/* The plan, as kpipe run --dry-run shows it. */
void ui_print_plan(const struct plan *p);
/*
 * The end of a run: summary.json/.tsv, the reports, the history record
 * (into the database 'history_path'), then the matrix, the time per revision and what the
 * overlap saved, and where the results are.  -1 (said in the output) if
 * a report or the history could not be written.
 */
int ui_report_run(const char *history_path, const char *run_dir, const struct results_run *run,
		  const struct cell *cells, size_t n, double cells_wall, double started);
/*
 * What a CI step hands back to the list, into 'run_dir': checks.json (a
 * patchwork check per patch, revision and arch) and reply.eml (to the
 * newest revision's thread, summary.txt as its body), linked to [report]
 * url.  Says what it wrote; -1 (said) if a file could not be written.
 */
int ui_write_feedback(const struct config *cfg, const char *run_dir, const struct series *s,
		      const struct cell *cells, size_t n);
/*
 * The command's return for a run whose cells' exit code is 'code' and
 * which 'failed' (kpipe or the machine): 0 or 1, or -1 with 'err' for
 * bad input (2), infrastructure (3) or an interruption.
 */
int ui_run_exit(struct kperror *err, int code, int failed, const char *run_dir);
/* Parse "--arch A" style options shared by build/boot/test; returns the arch. */
const char *ui_pick_arch(const struct config *cfg, const char *wanted, struct kperror *err);

#endif
