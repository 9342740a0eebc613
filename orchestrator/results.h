/*
 * results: what a run found, and where it is kept.
 *
 * A run gets a directory <results>/<YYYYmmdd-HHMMSS>-<label>/ with one
 * subdirectory per cell (a revision of the series, or the base, on one
 * arch): build.log, console.log, dmesg.txt, tests/<name>.out/.err and
 * result.json.  The run directory holds summary.json (everything) and
 * summary.tsv (what 'kpipe report' reads back).  <results>/latest points
 * at the newest run.
 */
#ifndef KPIPE_RESULTS_H
#define KPIPE_RESULTS_H

#include <stddef.h>

#include "kperror.h"
#include "ktap.h"
#include "splat.h"
#include "strvec.h"

enum test_verdict {
	TEST_PASS, TEST_FAIL, TEST_SKIP, TEST_TIMEOUT, TEST_LOST,
	TEST_FLAKY, /* failed, then passed when run again: reported, not a regression */
	TEST_NOT_RUN, /* the guest died (or hung) before it: not a verdict on the test */
};

struct test_result {
	char *name;
	enum test_verdict verdict;
	int exit_code;
	double seconds;
	char *reason;     /* skip reason or what failed (owned, may be NULL) */
	struct ktap ktap;
	int preexisting;  /* fails on the baseline too, no KTAP case failing only here (results_compare) */
	char *new_cases;  /* fails on the baseline too, but these cases only here: "'A', 'B'" (results_compare, owned) */
	int runs;         /* how often it ran (reruns after a failure) */
	int failures;     /* how many of those runs failed */
};

/* One patch of a revision built on its own (kpipe run --each-patch). */
struct patch_build {
	unsigned index, total;
	char *subject;
	int ok;                      /* the tree built with this patch applied */
	char *error;                 /* the first error when !ok (owned) */
	struct strvec new_warnings;  /* warnings this patch added ("FILE: warning: MSG") */
	double seconds;
};

enum cell_verdict {
	CELL_PASS,          /* built, booted, every test passed or skipped, no splat */
	CELL_FAIL,          /* a test failed or the kernel splatted */
	CELL_APPLY_FAILED,  /* a patch did not apply */
	CELL_BUILD_FAILED,
	CELL_BOOT_FAILED,   /* panicked or sshd never came up */
	CELL_INFRA,         /* kpipe or the machine failed: no verdict */
	CELL_NOT_RUN,
};

enum stage { STAGE_APPLY, STAGE_PATCHES, STAGE_BUILD, STAGE_BOOT, STAGE_TEST, STAGE_NR };

struct cell {
	char *revision;   /* "v1", "v2", "base" */
	char *arch;
	char *dir;        /* this cell's results directory */
	char *commit;     /* hex id of the tested commit, or NULL */
	char *onto;       /* hex id the revision's patches were applied onto (onto..commit), or NULL */
	char *branch;
	char *baseline;   /* the revision name of this cell's baseline ("base"), or NULL */
	char *patchset;   /* KCIDB patchset hash of the revision's patches, or NULL */
	char *accel;      /* "kvm" or "tcg": how its guest ran (owned), NULL if it never booted */
	char *host;       /* the libvirt host its guest ran on (URI without query), NULL if none */
	char *reroll;     /* what its revision changed from the one before (revcmp_describe()), or NULL */
	enum cell_verdict verdict;
	char *detail;     /* one line: why it failed (owned, may be NULL) */
	struct test_result *tests;
	size_t nr_tests;
	struct splat_list splats;
	struct strvec missing_options;
	struct strvec notes; /* what the user should know about the cell's results (output truncated...) */
	double seconds[STAGE_NR];
	char *first_bad;  /* with --bisect: "N/M 'subject'" of the first bad patch, or why not */
	struct patch_build *patch_builds; /* with --each-patch, one per patch */
	size_t nr_patch_builds;
	int regressions;  /* what fails here but not on the baseline (results_compare) */
};

const char *results_cell_verdict_name(enum cell_verdict v);
const char *results_test_verdict_name(enum test_verdict v);
const char *results_stage_name(enum stage s);

/*
 * Create <root>/<timestamp>-<label>/ and point <root>/latest at it.
 * *out is the new directory's path (caller frees).
 */
int results_make_run_dir(char **out, const char *root, const char *label, struct kperror *err);
/*
 * Copy the file or directory 'from' to 'to' (cp -a, times kept, reflinks
 * where the filesystem has them; a directory's contents go into 'to',
 * made with its parents): results, baselines, build trees.  -1 with 'err'
 * (infra).
 */
int results_copy(const char *from, const char *to, struct kperror *err);
/*
 * The series' files as given, into <run_dir>/series/NNN-NAME (results_copy()):
 * what 'kpipe report --merge' answers the list from.
 */
int results_keep_series(const char *run_dir, char *const *files, size_t nr, struct kperror *err);
/* Create <run_dir>/<revision>-<arch>/ (and tests/) and set cell->dir. */
int results_make_cell_dir(struct cell *c, const char *run_dir, struct kperror *err);
/* Drop the cell's test results (c->tests, c->nr_tests). */
void results_clear_tests(struct cell *c);
/* Write cell->dir/result.json. */
int results_write_cell(const struct cell *c, struct kperror *err);
/*
 * What a summary says of its run as a whole.  Every field may be NULL or
 * empty; a loaded one owns its strings (results_run_release()).
 */
struct results_run {
	char *title;
	char *base;              /* the base tree, as the user was told ("v6.12.9 (tag ...)") */
	char *plan;              /* the plan's id: one for every shard of one run (plan.id) */
	char *shard;             /* "I/N" when the run was part I of N of its plan, else NULL */
	struct strvec plan_cells; /* "REV/ARCH" of every cell of the whole plan, in its order */
};

#define RESULTS_RUN_INIT { NULL, NULL, NULL, NULL, STRVEC_INIT }

void results_run_release(struct results_run *r);

/*
 * Write summary.json and summary.tsv for the whole run: its cells and
 * 'run' (title, base, plan; 'run' may be NULL).
 */
int results_write_summary(const char *run_dir, const struct results_run *run, const struct cell *cells,
			  size_t n, struct kperror *err);
/*
 * Read summary.tsv back into cells (verdicts, tests and their reruns,
 * failing KTAP cases, perf samples, splats, patch builds, notes, missing
 * options, branches, stage times; not every KTAP case).  Splat reports
 * are found again in each cell's kept console log.  *run (if not NULL)
 * gets what the summary says of the run; release it.
 */
int results_load_summary(struct cell **out, size_t *n, struct results_run *run, const char *run_dir,
			 struct kperror *err);

/* 1 if another cell names cell i as its baseline. */
int results_is_baseline(const struct cell *cells, size_t n, size_t i);
/* 1 if the test result is a failure (fail, timeout, lost). */
int results_test_failed(const struct test_result *t);
/*
 * Whether 'r' failed in a way 'base' (the same test on the baseline, or
 * NULL) did not: 'base' passed or is missing, or 'r' fails a KTAP case that
 * 'base' does not fail (when 'base' recorded its failing cases).
 */
int results_test_regressed(const struct test_result *r, const struct test_result *base);
/* The test named 'name' in 'c', or NULL. */
/*
 * 'probe' becomes a cell of its own for probing 'arch' (a bisect step, a
 * second boot): named 'revision' (copied), not run yet; release it with
 * results_cell_release().
 */
void results_probe_init(struct cell *probe, const char *arch, const char *revision);
/*
 * The cell whose perf figures cell i's are compared with: the previous
 * revision of its arch that has results, else the base; -1 for none.
 */
long results_perf_reference(const struct cell *cells, size_t n, size_t i);
/*
 * The tests of cell i whose perf figures differ beyond noise from its
 * reference's in one boot each, with no second boot's samples on both
 * sides yet: a change to measure again in fresh boots of both kernels
 * (until then results_changes() lists it as seen in "one boot each").
 * Pushed onto 'out'.
 */
void results_perf_to_confirm(struct strvec *out, const struct cell *cells, size_t n, size_t i);
const struct test_result *results_find_test(const struct cell *c, const char *name);
/* The baseline cell of cells[i] (same arch, named by its 'baseline'), or NULL. */
const struct cell *results_baseline_of(const struct cell *cells, size_t n, size_t i);
/*
 * Compare every cell with its baseline cell (same arch, revision named by
 * cell->baseline): mark tests and splats the baseline has too as
 * pre-existing and count the rest in cell->regressions.  A test that
 * fails on the baseline too is pre-existing only if none of its failing
 * KTAP cases passes (or is missing) there; otherwise those cases are in
 * its new_cases.  A cell with no baseline counts every failure.
 */
void results_compare(struct cell *cells, size_t n);
/*
 * What changed from one revision to the next on the same arch, one line
 * each ("v2 x86_64: fixed: uffd_wp_zap_shmem", "new splat", "splat still
 * present", "splat gone"; a test failing in both that fails other KTAP
 * cases: "v3 x86_64: uffd_rwp fails differently: now 'A', 'B'; no longer
 * 'C'"), appended to 'out'.
 */
void results_changes(struct strvec *out, const struct cell *cells, size_t n);
/*
 * Why tests were skipped, each reason said once with the cells it holds
 * for: "v1/arm64, v2/arm64: uffd_rwp skipped: REASON", or "every cell:
 * ..." when all of several cells share it; in the order first met.
 */
void results_skip_reasons(struct strvec *out, const struct cell *cells, size_t n);

void results_set_detail(struct cell *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add a line to c->notes (result.json's "notes") unless it is there: 1 if it was added. */
int results_add_note(struct cell *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * KCIDB's patchset hash: sha256 over the newline-terminated hex sha256 of
 * each patch, in order ("" for none).  'out' gets 64 hex digits.
 */
void results_patchset_hash(struct buf *out, const char *const *patches, size_t n);
void results_cell_release(struct cell *c);

#endif
