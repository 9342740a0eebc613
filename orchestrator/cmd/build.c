/* kpipe build [--arch A] [REF]: build one commit's kernel. */
#include "single.h"

#include <stdio.h>

int cmd_build(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct single s;
	struct cell_run r;
	int started = 0, ret = -1;
	if (single_setup(&s, argc, argv, ctx, "usage: kpipe build [--arch ARCH] [REF]\n", err) < 0 || s.help)
		goto out;
	if (cell_run_init(&r, &s.ctx, &s.cell, &s.commit, err) < 0)
		goto out;
	started = 1;
	if (stage_build(&r, err) < 0)
		goto out;
	if (!r.kb.ok) {
		printf("build failed; first errors:\n%s\nfull log: %s/build.log\n", r.kb.errors.data, s.cell.dir);
		ret = 1;
		goto out;
	}
	printf("kernel: %s\nbuild log: %s/build.log\n", r.kb.image, s.cell.dir);
	ret = 0;
out:
	if (s.help)
		ret = 0;
	if (started)
		cell_run_release(&r);
	single_release(&s);
	return ret;
}
