/* kpipe build [--arch A] [REF]: build one commit's kernel. */
#include "single.h"

#include <stdio.h>

int cmd_build(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct single s;
	struct kbuild_result kb = KBUILD_RESULT_INIT;
	int ret = -1;
	if (single_setup(&s, argc, argv, ctx, "usage: kpipe build [--arch ARCH] [REF]\n", err) < 0 || s.help)
		goto out;
	if (pipeline_build(&kb, &s.pipeline, &s.cell, &s.commit, err) < 0)
		goto out;
	if (!kb.ok) {
		printf("build failed; first errors:\n%s\nfull log: %s/build.log\n", kb.errors.data, s.cell.dir);
		ret = 1;
		goto out;
	}
	printf("kernel: %s\nbuild log: %s/build.log\n", kb.image, s.cell.dir);
	ret = 0;
out:
	if (s.help)
		ret = 0;
	kbuild_result_release(&kb);
	single_release(&s);
	return ret;
}
