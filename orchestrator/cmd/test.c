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
	if (runner_run_cell(&s.ctx, &s.cell, &s.commit, NULL, err) < 0)
		goto out;
	struct kperror serr = KPERROR_INIT;
	results_compare(&s.cell, 1);
	if (results_write_summary(s.run_dir, s.cell.revision, &s.cell, 1, &serr) < 0 ||
	    ui_write_reports(s.run_dir, s.cell.revision, s.tree->base_desc, &s.cell, 1, &serr) < 0)
		fprintf(stderr, "kpipe: %s\n", serr.msg.data);
	kperror_release(&serr);
	ui_print_matrix(stdout, &s.cell, 1);
	printf("results: %s\n", s.run_dir);
	ret = verdict_exit_code(&s.cell, 1);
	if (ret > 1)
		ret = kperror_set(err, KPERROR_INFRA, "%s", s.cell.detail ? s.cell.detail : "no verdict");
out:
	if (s.help)
		ret = 0;
	single_release(&s);
	return ret;
}
