/* kpipe apply SERIES...: apply each revision onto the base as commits on a branch. */
#include "cmd.h"
#include "../run_plan.h"
#include "../apply.h"
#include "../series.h"

#include <stdio.h>

int cmd_apply(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct series s = SERIES_INIT;
	struct tree *t = NULL;
	int ret = -1;
	int failed = 0;

	if (argc < 2)
		return kperror_set(err, KPERROR_INPUT, "usage: kpipe apply SERIES...");
	if (series_parse(&s, argv + 1, (size_t)argc - 1, err) < 0)
		return -1;
	for (size_t i = 0; i < s.nr; i++)
		if (apply_check_revision(&s.revs[i], err) < 0)
			goto out;
	if (tree_open(&t, &ctx->cfg, ui_tree_progress, NULL, err) < 0)
		goto out;
	printf("base: %s\n", t->base_desc);
	for (size_t i = 0; i < s.nr; i++) {
		struct apply_result ar = { 0 };
		struct buf why = BUF_INIT;
		git_oid onto;
		run_revision_base(&onto, &why, t, &s.revs[i]);
		printf("v%u: onto %s\n", s.revs[i].version, why.data);
		buf_release(&why);
		if (apply_revision(&ar, t, &s.revs[i], &onto, err) < 0) {
			printf("v%u: FAILED: %s\n", s.revs[i].version, err->msg.data);
			if (err->kind != KPERROR_INPUT)
				goto out;
			failed++;
			continue;
		}
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), &ar.head);
		printf("v%u: %s -> %s (%zu patch%s)\n", s.revs[i].version, ar.branch, hex,
		       s.revs[i].nr, s.revs[i].nr == 1 ? "" : "es");
		apply_result_release(&ar);
	}
	printf("branches are in %s\n", t->workdir);
	if (failed) {
		ret = kperror_set(err, KPERROR_INPUT, "%d revision%s did not apply", failed,
				  failed == 1 ? "" : "s");
		goto out;
	}
	ret = 0;
out:
	tree_free(t);
	series_release(&s);
	return ret;
}
