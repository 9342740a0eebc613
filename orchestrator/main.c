/*
 * kpipe: test every revision of a kernel patch series: apply, build, boot,
 * run guest tests, compare.  This file is the command table (after git.c):
 * it does the shared set-up a command asks for and turns errors into exit
 * codes: 0 all good, 1 tests failed or splats found, 2 bad input,
 * 3 infrastructure failure, 130 interrupted.
 */
#include "cmd/cmd.h"
#include "proc.h"

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NEED_CONFIG 1

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
	unsigned flags;
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, NEED_CONFIG, "SERIES...     apply, build, boot and test every revision" },
	{ "series", cmd_series, 0, "FILE...    show the revisions and patches found, touch nothing" },
	{ "tree", cmd_tree, NEED_CONFIG, "              import (once) and show the base tree" },
	{ "apply", cmd_apply, NEED_CONFIG, "SERIES...   apply each revision as commits on a branch" },
	{ "build", cmd_build, NEED_CONFIG, "[REF]       build a kernel (REF: base or a kpipe/... branch)" },
	{ "boot", cmd_boot, NEED_CONFIG, "[REF]        build, boot and leave the guest up for ssh" },
	{ "test", cmd_test, NEED_CONFIG, "[REF]        build, boot and run the guest tests" },
	{ "report", cmd_report, NEED_CONFIG, "[RUN_DIR]  print the results of a run again" },
	{ "config", cmd_config, 0, "             print the default configuration" },
};

static void usage(FILE *f)
{
	fputs("usage: kpipe [-c CONFIG.ini] COMMAND [ARGS]\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s %s\n", commands[i].name, commands[i].help);
	fputs("\nexit codes: 0 all good, 1 tests failed or splats found, 2 bad input,\n"
	      "            3 infrastructure failure, 130 interrupted\n", f);
}

static void on_signal(int sig)
{
	(void)sig;
	proc_interrupted = 1;
}

/* Where kconfigs/, images/ and guest-tests/ are: beside the binary. */
static char *find_data_dir(void)
{
	const char *env = getenv("KPIPE_DATA_DIR");
	if (env)
		return strdup(env);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return strdup(".");
	exe[n] = '\0';
	return strdup(dirname(exe));
}

int main(int argc, char **argv)
{
	struct cmd_ctx ctx = { 0 };
	struct kperror err = KPERROR_INIT;
	const struct command *cmd = NULL;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
			ctx.config_path = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "kpipe: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (!strcmp(commands[k].name, argv[i]))
			cmd = &commands[k];
	if (!cmd) {
		fprintf(stderr, "kpipe: '%s' is not a kpipe command\n", argv[i]);
		usage(stderr);
		return 2;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	char *data_dir = find_data_dir();
	int ret;
	if (config_load(&ctx.cfg, ctx.config_path, data_dir, &err) < 0) {
		ret = -1;
	} else {
		(void)NEED_CONFIG;
		ret = cmd->fn(argc - i, argv + i, &ctx, &err);
	}
	if (ret < 0) {
		fprintf(stderr, "kpipe %s: %s\n", cmd->name, err.msg.data);
		ret = kperror_exit_code(&err);
	}
	config_release(&ctx.cfg);
	kperror_release(&err);
	free(data_dir);
	return ret;
}
