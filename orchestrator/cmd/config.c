/* kpipe config: print the built-in default configuration (a starting point). */
#include "cmd.h"

#include <stdio.h>

int cmd_config(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	(void)argv;
	(void)ctx;
	if (argc > 1)
		return kperror_set(err, KPERROR_INPUT, "usage: kpipe config");
	fputs(config_default_ini, stdout);
	return 0;
}
