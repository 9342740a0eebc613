/*
 * verdict: the rules that turn what a cell found into what kpipe says
 * about it, each in exactly one place.  The terminal matrix, summary.txt,
 * report.html, JUnit, KCIDB and the exit code all ask these functions;
 * none decides "is this a regression" on its own.
 *
 * Pure functions over struct cell: no I/O, unit-tested for every cell
 * verdict against every baseline situation.
 */
#ifndef KPIPE_VERDICT_H
#define KPIPE_VERDICT_H

#include <stddef.h>

#include "results.h"

enum verdict_class {
	VERDICT_PASS,        /* built, booted, every test ran and passed (or skipped) */
	VERDICT_BASELINE,    /* the unpatched base's own failure: what revisions are compared with */
	VERDICT_PREEXISTING, /* fails only as its baseline does: not the series' fault */
	VERDICT_REGRESSION,  /* fails where its baseline does not (or there is no baseline) */
	VERDICT_BAD_INPUT,   /* the revision did not apply */
	VERDICT_INFRA,       /* kpipe or the machine failed, or it never ran: no verdict */
};

/*
 * Settle the verdict of a cell whose kernel built (and maybe booted) from
 * its tests, patch builds and splats: CELL_FAIL when a test failed, hung
 * or was lost, a patch of the series did not build, the guest died during
 * the tests ('guest_died') or an unignored splat was found; else
 * CELL_PASS.  A verdict already set (build or boot failed, infra) stays.
 * The first reason becomes c->detail.
 */
void verdict_settle(struct cell *c, int guest_died);

/*
 * What cells[i] is, with the other cells as its context (results_compare()
 * must have run): see enum verdict_class.  A cell that did not run all its
 * tests is never PASS or PREEXISTING.
 */
enum verdict_class verdict_classify(const struct cell *cells, size_t n, size_t i);

/* 1 if cells[i] is a regression of the series (VERDICT_REGRESSION). */
int verdict_is_regression(const struct cell *cells, size_t n, size_t i);

/*
 * How the verdict row shows cells[i]: "pass", "pre-existing", the base's
 * own verdict in lower case, or the verdict in upper case ("FAIL",
 * "APPLY-FAILED", "INFRA-ERROR") when it is a regression, bad input or no
 * verdict at all.  Points into static storage or 'scratch' (>= 32 bytes).
 */
const char *verdict_label(const struct cell *cells, size_t n, size_t i, char *scratch);

/* The HTML class of the verdict cell: "pass", "base" or "fail". */
const char *verdict_html_class(const struct cell *cells, size_t n, size_t i);

/*
 * The exit code of a run: 0 no regression, 1 a regression, 2 a revision
 * did not apply (bad input), 3 no verdict for some cell (infrastructure);
 * the highest over all cells.
 */
int verdict_exit_code(const struct cell *cells, size_t n);
/* The same for cells[i] alone (kpipe watch judges one revision of a run). */
int verdict_cell_exit_code(const struct cell *cells, size_t n, size_t i);

#endif
