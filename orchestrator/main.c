/*
 * kpipe: test every revision of a kernel patch series: apply, build, boot,
 * run guest tests, compare.  This file is the command table (after git.c):
 * it does the shared set-up a command asks for and turns errors into exit
 * codes: 0 all good, 1 tests failed or splats found, 2 bad input,
 * 3 infrastructure failure, 130 interrupted.
 */
#include "cmd/cmd.h"
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NEED_CONFIG 1
/* works in the shared worktree and build directories: one such kpipe at a time */
#define NEED_LOCK 2
/* like NEED_LOCK, but the command checks its input first and calls cmd_lock_cache() */
#define LOCK_AFTER_INPUT 4

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err);
	unsigned flags;
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, NEED_CONFIG | LOCK_AFTER_INPUT, "SERIES...     apply, build, boot and test every revision" },
	{ "watch", cmd_watch, NEED_CONFIG | LOCK_AFTER_INPUT, "INBOX...    test every new revision arriving in a public-inbox or maildir" },
	{ "series", cmd_series, 0, "FILE...    show the revisions and patches found, touch nothing" },
	{ "tree", cmd_tree, NEED_CONFIG | NEED_LOCK, "              import (once) and show the base tree" },
	{ "apply", cmd_apply, NEED_CONFIG | NEED_LOCK, "SERIES...   apply each revision as commits on a branch" },
	{ "build", cmd_build, NEED_CONFIG | NEED_LOCK, "[REF]       build a kernel (REF: base or a kpipe/... branch)" },
	{ "boot", cmd_boot, NEED_CONFIG | NEED_LOCK, "[REF]        build, boot and leave the guest up for ssh" },
	{ "test", cmd_test, NEED_CONFIG | NEED_LOCK, "[REF]        build, boot and run the guest tests" },
	{ "report", cmd_report, NEED_CONFIG, "[RUN_DIR] | --merge PART...  print a run's results again, or join its parts" },
	{ "splats", cmd_splats, NEED_CONFIG, "LOG...    the kernel splats in console logs or dmesg" },
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

/*
 * Take <cache>/kpipe.lock: kpipe commands that check out the tree or
 * build share one worktree and build directory per arch.  A second one
 * waits and says so.  The lock goes with the process.
 */
static int lock_cache(int *out, const char *cache_dir, struct kperror *err)
{
	struct buf path = BUF_INIT;
	int e = util_mkdir_p(cache_dir, 0755);
	if (e < 0) {
		buf_release(&path);
		return kperror_errno(err, KPERROR_INFRA, e, "cannot create cache '%s'", cache_dir);
	}
	buf_addf(&path, "%s/kpipe.lock", cache_dir);
	int fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot open '%s'", path.data);
		buf_release(&path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char holder[32] = "";
		ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		printf("==> waiting for another kpipe (pid %s) that uses %s\n",
		       *holder ? holder : "?", cache_dir);
		fflush(stdout);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR || proc_interrupted) {
				buf_release(&path);
				return kperror_set(err, KPERROR_INTERRUPTED, "interrupted while waiting for the lock");
			}
		}
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) < 0) {
		/* the pid is only a hint for the waiting user */
	}
	buf_release(&path);
	*out = fd; /* the lock lives as long as the process, or until cmd_unlock_cache() */
	return 0;
}

int cmd_lock_cache(struct cmd_ctx *ctx, struct kperror *err)
{
	if (ctx->lock_fd >= 0)
		return 0;
	return lock_cache(&ctx->lock_fd, ctx->cfg.cache_dir, err);
}

void cmd_unlock_cache(struct cmd_ctx *ctx)
{
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);
	ctx->lock_fd = -1;
}

static void on_signal(int sig)
{
	(void)sig;
	proc_interrupted = 1;
}

/*
 * Everything kpipe prints goes through here: subjects, author names,
 * splat titles and test output are a stranger's text, and a terminal obeys
 * the escape sequences in them (retitle, clear, forged links).  Control
 * characters are shown as "\x1b" instead (buf_add_printable()).
 */
struct clean_stream {
	int fd;
	char carry[4]; /* the start of a UTF-8 character the next write completes */
	size_t ncarry;
};

static ssize_t clean_write(void *cookie, const char *data, size_t n)
{
	struct clean_stream *cs = cookie;
	struct buf in = BUF_INIT, out = BUF_INIT;
	buf_add(&in, cs->carry, cs->ncarry);
	buf_add(&in, data, n);
	size_t used = buf_add_printable(&out, in.data, in.len, 1);
	cs->ncarry = in.len - used;
	memcpy(cs->carry, in.data + used, cs->ncarry);
	for (size_t off = 0; off < out.len;) {
		ssize_t w = write(cs->fd, out.data + off, out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* a closed pipe or a full disk: nothing more to say there */
		off += (size_t)w;
	}
	buf_release(&in);
	buf_release(&out);
	return (ssize_t)n;
}

static FILE *clean_stream_open(int fd, struct clean_stream *cs)
{
	cs->fd = fd;
	cs->ncarry = 0;
	cookie_io_functions_t io = { .write = clean_write };
	FILE *f = fopencookie(cs, "w", io);
	return f ? f : fdopen(fd, "w");
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
	struct cmd_ctx ctx = { .lock_fd = -1 };
	struct kperror err = KPERROR_INIT;
	const struct command *cmd = NULL;
	static struct clean_stream clean_out, clean_err;
	int i = 1;

	stdout = clean_stream_open(STDOUT_FILENO, &clean_out);
	stderr = clean_stream_open(STDERR_FILENO, &clean_err);
	setvbuf(stderr, NULL, _IONBF, 0);

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
	} else if ((cmd->flags & NEED_LOCK) && lock_cache(&ctx.lock_fd, ctx.cfg.cache_dir, &err) < 0) {
		ret = -1;
	} else {
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
