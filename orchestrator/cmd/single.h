/* Shared set-up of the commands that work on one commit on one arch. */
#ifndef KPIPE_CMD_SINGLE_H
#define KPIPE_CMD_SINGLE_H

#include "cmd.h"

struct single {
	struct tree *tree;
	git_oid commit;
	struct cell cell;
	char *run_dir;
	struct run_ctx ctx;
	int help; /* --help was printed: nothing else to do */
};

/* Parse "[--arch A] [REF]", open the tree, make the results directory. */
int single_setup(struct single *s, int argc, char **argv, struct cmd_ctx *ctx,
		 const char *usage, struct kperror *err);
void single_release(struct single *s);

#endif
