/* kpipe test [--arch A] [REF]: build, boot and run the guest tests on one commit. */
#include "single.h"
#include "../verdict.h"

#include <stdio.h>

int cmd_test(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct single s;
	int ret = -1;
	if (single_setup(&s, argc, argv, ctx, "usage: kpipe test [--arch ARCH] [REF]\n", err) < 0 || s.help)
		goto out;
	/* whatever happens, the cell is reported: an infrastructure error is a result too */
	struct kperror run_err = KPERROR_INIT;
	int failed = runner_run_cell(&s.ctx, &s.cell, &s.commit, NULL, &run_err) < 0;
	if (failed)
		printf("%s: %s\n", run_err.kind == KPERROR_INTERRUPTED ? "interrupted" : "error", run_err.msg.data);
	kperror_release(&run_err);
	struct kperror serr = KPERROR_INIT;
	results_compare(&s.cell, 1);
	if (results_write_summary(s.run_dir, &(struct results_run){ .title = s.cell.revision, .base = s.tree->base_desc },
				  &s.cell, 1, &serr) < 0 ||
	    ui_write_reports(s.run_dir, s.cell.revision, s.tree->base_desc, &s.cell, 1, &serr) < 0) {
		printf("error: %s\n", serr.msg.data);
		failed = 1;
	}
	kperror_release(&serr);
	ui_print_matrix(stdout, &s.cell, 1);
	printf("results: %s\n", s.run_dir);
	ret = ui_run_exit(err, verdict_exit_code(&s.cell, 1), failed, s.run_dir);
out:
	if (s.help)
		ret = 0;
	single_release(&s);
	return ret;
}
