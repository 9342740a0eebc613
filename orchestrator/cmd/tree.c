/* kpipe tree: import (once) and show the base tree. */
#include "cmd.h"
#include "../tree.h"

#include <stdio.h>

int cmd_tree(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct tree *t = NULL;
	(void)argc;
	(void)argv;
	if (tree_open(&t, &ctx->cfg, ui_tree_progress, NULL, err) < 0)
		return -1;
	printf("base:    %s\n", t->base_desc);
	printf("from:    %s\n", t->origin);
	printf("source:  %s\n", t->workdir);
	tree_free(t);
	return 0;
}
