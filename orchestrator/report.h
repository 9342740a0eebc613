/*
 * report: the machine-readable and shareable reports of a run, written
 * into its results directory from its cells (live, or read back with
 * results_load_summary(), so an old run's reports can be made again):
 *   junit.xml    one testcase per revision/arch/test (plus build, boot and
 *                splats), the console attached to failures (GitLab, Jenkins)
 *   kcidb.json   KCIDB v4: checkouts (with patchset hashes), builds, tests
 *   report.html  one self-contained page: the coloured matrix linking to
 *                each output, the splats with their stacks, stage times
 * summary.json and summary.tsv are written by results_write_summary().
 */
#ifndef KPIPE_REPORT_H
#define KPIPE_REPORT_H

#include "buf.h"
#include "kperror.h"
#include "results.h"

/* Write junit.xml, kcidb.json and report.html into 'run_dir'. */
int report_write_all(const char *run_dir, const char *title, const struct cell *cells, size_t n,
		     struct kperror *err);

void report_junit(struct buf *out, const char *title, const struct cell *cells, size_t n);
void report_kcidb(struct buf *out, const char *run_id, const struct cell *cells, size_t n);
/* report.html; 'run_dir' (or NULL) holds the range-diff-vN.txt files it shows. */
void report_html(struct buf *out, const char *title, const char *run_dir, const struct cell *cells, size_t n);
/*
 * The range-diff of every revision in 'cells' that has one in 'run_dir'
 * (range-diff-vN.txt), after its reroll line: as text (summary.txt) or as
 * HTML; each cut after 'max_lines' lines, saying how many more there are.
 */
void report_range_diffs(struct buf *out, const char *run_dir, const struct cell *cells, size_t n,
			int html, size_t max_lines);

#endif
