/* What the stage files share: the cell_run and run_ctx, progress, build options. */
#include "stage.h"
#include "util.h"

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

void stage_keep_copy(struct cell_run *r, const char *from, const char *path)
{
	keep_result(r, util_copy_file(from, path), path);
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

void stage_build_opts(struct kbuild_opts *o, struct cell_run *r, struct buf *kconfigs,
		      const char *log_path, enum stage s)
{
	const struct config *cfg = r->ctx->cfg;
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
}
