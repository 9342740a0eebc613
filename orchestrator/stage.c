/* What the stage files share: the cell_run and run_ctx, progress, build options. */
#include "stage.h"
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cell_run_init(struct cell_run *r, struct run_ctx *ctx, struct cell *c, const git_oid *commit,
		  struct kperror *err)
{
	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->cell = c;
	r->kb = (struct kbuild_result)KBUILD_RESULT_INIT;
	strvec_init(&r->tests);
	strvec_init(&r->unbuilt);
	if (commit)
		git_oid_cpy(&r->commit, commit);
	r->arch = run_ctx_arch(ctx, c->arch);
	if (!r->arch)
		return kperror_set(err, KPERROR_INPUT, "arch '%s' is not prepared for this run", c->arch);
	return 0;
}

void cell_run_release(struct cell_run *r)
{
	stage_verdict(r);
	kbuild_result_release(&r->kb);
	free(r->write_path);
	r->write_path = NULL;
	strvec_clear(&r->tests);
	strvec_clear(&r->unbuilt);
	free(r->selftests_dir);
	r->selftests_dir = NULL;
	sandbox_release(&r->sandbox);
	free(r->builddir);
	free(r->ccache_dir);
	free(r->ccache_remote);
	free(r->make_builddir);
	r->builddir = r->ccache_dir = r->ccache_remote = r->make_builddir = NULL;
}

void stage_guest_forget(struct cell_run *r, size_t notes)
{
	struct cell *c = r->cell;
	vm_destroy(r->vm);
	r->vm = NULL;
	if (r->key)
		ssh_key_free(r->key);
	r->key = NULL;
	free(r->console);
	r->console = NULL;
	c->verdict = CELL_NOT_RUN;
	free(c->detail);
	free(c->accel);
	free(c->host);
	c->detail = c->accel = c->host = NULL;
	results_clear_tests(c);
	splat_list_release(&c->splats);
	c->splats = (struct splat_list)SPLAT_LIST_INIT;
	while (c->notes.nr > notes)
		free(c->notes.v[--c->notes.nr]);
	if (c->notes.v)
		c->notes.v[c->notes.nr] = NULL;
	c->seconds[STAGE_BOOT] = c->seconds[STAGE_TEST] = 0;
	/* the outputs of the tests it ran there: the next host writes its own */
	char *tests = util_strfmt("%s/tests", c->dir), *dmesg = util_strfmt("%s/dmesg.txt", c->dir);
	util_rm_rf(tests);
	util_mkdir_p(tests, 0755);
	unlink(dmesg);
	free(tests);
	free(dmesg);
}

static void keep_result(struct cell_run *r, int e, const char *path)
{
	if (e >= 0 || r->write_errno)
		return;
	r->write_errno = -e;
	r->write_path = strdup(path);
}

void stage_keep_file(struct cell_run *r, const struct buf *b, const char *path)
{
	keep_result(r, buf_write_file(b, path), path);
}

const struct arch_ready *run_ctx_arch(const struct run_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->nr_ready; i++)
		if (!strcmp(ctx->ready[i].arch->name, name))
			return &ctx->ready[i];
	return NULL;
}

void run_ctx_release(struct run_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_ready; i++) {
		strvec_clear(&ctx->ready[i].tests);
		free(ctx->ready[i].image);
	}
	free(ctx->ready);
	ctx->ready = NULL;
	ctx->nr_ready = 0;
}

void stage_ui_start(struct cell_run *r, enum stage s, const char *what)
{
	const struct run_ui *ui = r->ctx->ui;
	if (ui && ui->stage_start)
		ui->stage_start(ui->data, r->cell, s, what);
}

void stage_ui_end(struct cell_run *r, enum stage s, const char *outcome)
{
	const struct run_ui *ui = r->ctx->ui;
	if (ui && ui->stage_end)
		ui->stage_end(ui->data, r->cell, s, r->cell->seconds[s], outcome);
}

void stage_ui_alive(struct cell_run *r, enum stage s, double elapsed, const char *what)
{
	const struct run_ui *ui = r->ctx->ui;
	if (ui && ui->alive)
		ui->alive(ui->data, r->cell, s, elapsed, what);
}

void stage_ui_note(struct cell_run *r, const char *msg)
{
	const struct run_ui *ui = r->ctx->ui;
	if (ui && ui->note)
		ui->note(ui->data, r->cell, msg);
}

void run_ctx_say(const struct run_ctx *ctx, const char *tag, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	if (!ctx->ui || !ctx->ui->say)
		return;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	ctx->ui->say(ctx->ui->data, tag, msg.data);
	buf_release(&msg);
}

/* The last line of a log that says what make is doing ("CC mm/memory.o"). */
static void last_log_line(struct buf *out, const char *path)
{
	struct buf text = BUF_INIT;
	if (buf_read_file(&text, path) == 0) {
		buf_rtrim(&text);
		const char *nl = strrchr(text.data, '\n');
		const char *l = nl ? nl + 1 : text.data;
		while (*l == ' ')
			l++;
		buf_add(out, l, strlen(l) > 70 ? 70 : strlen(l));
	}
	buf_release(&text);
}

static void tick(void *data, double elapsed)
{
	struct cell_run *r = data;
	struct buf what = BUF_INIT;
	if (r->tick_log)
		last_log_line(&what, r->tick_log);
	stage_ui_alive(r, r->tick_stage, elapsed, what.data);
	buf_release(&what);
}

/* The name of the cell's series for its own ccache: "kpipe/NAME/v2" -> NAME. */
static void series_key(struct buf *out, const struct cell *c)
{
	const char *b = c->branch, *last = b ? strrchr(b, '/') : NULL;
	if (b && !strncmp(b, "kpipe/", 6) && last > b + 6)
		buf_add(out, b + 6, (size_t)(last - b - 6));
	else
		buf_adds(out, "commits");
	for (size_t i = 0; i < out->len; i++)
		if (out->data[i] == '/' || out->data[i] == '.')
			out->data[i] = '-';
}

/*
 * The series' builds happen in a copy of the base's build directory, made
 * afresh at the first such build of a run (what an earlier series left
 * there is gone), so nothing a series writes reaches the base's build,
 * its kernel or the baselines.  Its compiles go to a ccache of its own
 * (kept for the next run of the same series); the shared one is read-only.
 */
static int prepare_series_builddir(struct cell_run *r, const char *trusted, const char *copy,
				   struct kperror *err)
{
	struct arch_ready *ar = &r->ctx->ready[r->arch - r->ctx->ready];
	if (ar->series_builddir_ready)
		return 0;
	int e;
	if (util_rm_rf(copy) < 0)
		return kperror_errno(err, KPERROR_INFRA, errno, "cannot remove '%s'", copy);
	if (util_exists(trusted)) {
		if (results_copy(trusted, copy, err) < 0)
			return -1;
	} else if ((e = util_mkdir_p(copy, 0755)) < 0) {
		return kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", copy);
	}
	ar->series_builddir_ready = 1;
	return 0;
}

/* The shared ccache's directory: [build] ccache_shared, else <cache>/ccache-shared (made). */
static int shared_ccache(struct buf *path, const struct config *cfg, struct kperror *err)
{
	if (cfg->ccache_shared && *cfg->ccache_shared) {
		buf_adds(path, cfg->ccache_shared);
		if (!util_exists(path->data))
			return kperror_set(err, KPERROR_INPUT, "%s: [build] ccache_shared: '%s' does not exist",
					   cfg->source, path->data);
		return 0;
	}
	buf_addf(path, "%s/ccache-shared", cfg->cache_dir);
	int e = util_mkdir_p(path->data, 0755);
	return e < 0 ? kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", path->data) : 0;
}

int stage_build_opts(struct kbuild_opts *o, struct cell_run *r, struct buf *kconfigs,
		     const char *log_path, enum stage s, struct kperror *err)
{
	const struct config *cfg = r->ctx->cfg;
	struct buf trusted = BUF_INIT, path = BUF_INIT, key = BUF_INIT;
	int ret = -1;

	buf_reset(kconfigs);
	buf_addf(kconfigs, "%s/kconfigs", cfg->data_dir);
	memset(o, 0, sizeof(*o));
	o->arch = r->cell->arch;
	o->srcdir = r->ctx->tree->workdir;
	o->cache_dir = cfg->cache_dir;
	o->kconfig_dir = kconfigs->data;
	o->fragments = &cfg->fragments;
	o->jobs = cfg->build_jobs > 0 ? cfg->build_jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	o->timeout_seconds = cfg->build_timeout;
	o->log_path = log_path;
	o->tick = tick;
	o->tick_data = r;
	r->tick_stage = s;
	r->tick_log = log_path;
	int is_base = git_oid_equal(&r->commit, &r->ctx->tree->base);
	const char *remote = cfg->ccache_remote && *cfg->ccache_remote ? cfg->ccache_remote : NULL;
	if (!cfg->build_sandbox) {
		/* no sandbox: the series' code runs as kpipe, but it still only reads the shared store */
		free(r->ccache_remote);
		r->ccache_remote = remote ? util_strfmt("%s%s", remote, is_base ? "" : "|read-only") : NULL;
		o->ccache_remote = r->ccache_remote;
		return 0;
	}

	free(r->builddir);
	free(r->ccache_dir);
	free(r->ccache_remote);
	free(r->make_builddir);
	r->builddir = r->ccache_dir = r->ccache_remote = r->make_builddir = NULL;
	sandbox_release(&r->sandbox);
	buf_addf(&trusted, "%s/build/%s", cfg->cache_dir, o->arch);
	int e;
	if (shared_ccache(&path, cfg, err) < 0)
		goto out;
	/* another user's store (root's, from an ordinary user) is only read */
	int shared_writable = access(path.data, W_OK) == 0;
	if (is_base) {
		/*
		 * The base tree is the user's own: it fills the shared ccache, and
		 * the machines' remote one ([build] ccache_remote) through the
		 * network; a series' code never reaches either.
		 */
		r->ccache_remote = util_strfmt("file:%s%s%s%s", path.data, shared_writable ? "" : "|read-only",
					       remote ? " " : "", remote ? remote : "");
		if (remote && !strncmp(remote, "redis+unix:", 11)) {
			/* redis+unix:SOCKET[?db=N]: the socket alone, no network */
			char *socket = strndup(remote + 11, strcspn(remote + 11, "?"));
			sandbox_write(&r->sandbox, socket);
			free(socket);
		} else if (remote) {
			sandbox_share_net(&r->sandbox);
		}
		r->ccache_dir = util_strfmt("%s/ccache", cfg->cache_dir);
		if ((e = util_mkdir_p(trusted.data, 0755)) < 0) {
			kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", trusted.data);
			goto out;
		}
		if (shared_writable)
			sandbox_write(&r->sandbox, path.data);
		else
			sandbox_read(&r->sandbox, path.data);
	} else {
		r->ccache_remote = util_strfmt("file:%s|read-only", path.data);
		sandbox_read(&r->sandbox, path.data);
		series_key(&key, r->cell);
		r->ccache_dir = util_strfmt("%s/ccache-series/%s", cfg->cache_dir, key.data);
		r->builddir = util_strfmt("%s.series", trusted.data);
		if (prepare_series_builddir(r, trusted.data, r->builddir, err) < 0)
			goto out;
	}
	if ((e = util_mkdir_p(r->ccache_dir, 0755)) < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", r->ccache_dir);
		goto out;
	}
	sandbox_write(&r->sandbox, r->ccache_dir);
	/*
	 * The tree and the build directory at the same fixed paths for every
	 * build: root's, another user's, another machine's compile of one
	 * source is one ccache entry (the shared store is of use to them all).
	 */
	r->make_builddir = util_strfmt("%s/%s", STAGE_SANDBOX_BUILD, o->arch);
	sandbox_read_at(&r->sandbox, o->srcdir, STAGE_SANDBOX_SRC);
	sandbox_write_at(&r->sandbox, r->builddir ? r->builddir : trusted.data, r->make_builddir);
	sandbox_read(&r->sandbox, kconfigs->data);
	o->make_srcdir = STAGE_SANDBOX_SRC;
	o->make_builddir = r->make_builddir;
	o->builddir = r->builddir;
	o->ccache_dir = r->ccache_dir;
	o->ccache_remote = r->ccache_remote;
	o->sandbox = &r->sandbox;
	ret = 0;
out:
	buf_release(&trusted);
	buf_release(&path);
	buf_release(&key);
	return ret;
}
