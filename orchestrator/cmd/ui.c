#include "cmd.h"
#include "../report.h"
#include "../verdict.h"

#include <errno.h>
#include "../util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void cell_tag(char *out, size_t n, const struct cell *c)
{
	snprintf(out, n, "[%s %s]", c->revision, c->arch);
}

static void on_start(void *data, const struct cell *c, enum stage s, const char *what)
{
	(void)data;
	char tag[64];
	cell_tag(tag, sizeof(tag), c);
	printf("%s %s: started%s%s\n", tag, results_stage_name(s), what ? " in " : "", what ? what : "");
	fflush(stdout);
}

static void on_end(void *data, const struct cell *c, enum stage s, double seconds, const char *outcome)
{
	(void)data;
	char tag[64];
	cell_tag(tag, sizeof(tag), c);
	printf("%s %s: %s in %s\n", tag, results_stage_name(s), outcome, util_duration(seconds));
	fflush(stdout);
}

static void on_alive(void *data, const struct cell *c, enum stage s, double elapsed, const char *what)
{
	(void)data;
	char tag[64];
	cell_tag(tag, sizeof(tag), c);
	printf("%s %s: %s%s%s\n", tag, results_stage_name(s), util_duration(elapsed),
	       what && *what ? "  " : "", what ? what : "");
	fflush(stdout);
}

static void on_note(void *data, const struct cell *c, const char *msg)
{
	(void)data;
	char tag[64];
	cell_tag(tag, sizeof(tag), c);
	printf("%s %s\n", tag, msg);
	fflush(stdout);
}

static void on_patch_built(void *data, const struct cell *c, const struct patch_build *pb)
{
	(void)data;
	char tag[64];
	cell_tag(tag, sizeof(tag), c);
	printf("%s each-patch: %u/%u '%s': %s in %s%s%s\n", tag, pb->index, pb->total, pb->subject,
	       pb->ok ? "builds" : "DOES NOT BUILD", util_duration(pb->seconds),
	       pb->error ? ": " : "", pb->error ? pb->error : "");
	for (size_t w = 0; w < pb->new_warnings.nr; w++)
		printf("%s each-patch: %u/%u adds a warning: %s\n", tag, pb->index, pb->total,
		       pb->new_warnings.v[w]);
	fflush(stdout);
}

const struct pipeline_ui ui_pipeline = { on_start, on_end, on_alive, on_note, on_patch_built, NULL };

void ui_tree_progress(void *data, const char *what)
{
	(void)data;
	printf("==> %s\n", what);
	fflush(stdout);
}

void ui_step(const char *fmt, ...)
{
	va_list ap;
	fputs("==> ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A failure the baseline has too is shown in lower case with "(base)". */
static const char *test_cell(const struct cell *c, const char *name, int baseline)
{
	for (size_t i = 0; i < c->nr_tests; i++)
		if (!strcmp(c->tests[i].name, name)) {
			int pre = c->tests[i].preexisting;
			if (baseline)
				return results_test_verdict_name(c->tests[i].verdict);
			switch (c->tests[i].verdict) {
			case TEST_PASS: return "pass";
			case TEST_SKIP: return "skip";
			case TEST_FAIL: return pre ? "fail (base)" : "FAIL";
			case TEST_TIMEOUT: return pre ? "timeout (base)" : "TIMEOUT";
			case TEST_LOST: return pre ? "lost (base)" : "LOST";
			case TEST_FLAKY: return "flaky";
			case TEST_NOT_RUN: return "not run";
			}
		}
	return "-";
}


void ui_print_matrix(FILE *f, const struct cell *cells, size_t n)
{
	struct strvec names = STRVEC_INIT;
	int w = 8;
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; t < cells[i].nr_tests; t++)
			if (!strvec_contains(&names, cells[i].tests[t].name)) {
				strvec_push(&names, cells[i].tests[t].name);
				if ((int)strlen(cells[i].tests[t].name) > w)
					w = (int)strlen(cells[i].tests[t].name);
			}
	fprintf(f, "\n%-*s", w + 2, "");
	for (size_t i = 0; i < n; i++) {
		char head[64];
		snprintf(head, sizeof(head), "%s/%s", cells[i].revision, cells[i].arch);
		fprintf(f, "  %-14s", head);
	}
	fputc('\n', f);
	for (size_t t = 0; t < names.nr; t++) {
		fprintf(f, "%-*s", w + 2, names.v[t]);
		for (size_t i = 0; i < n; i++)
			fprintf(f, "  %-14s", test_cell(&cells[i], names.v[t], results_is_baseline(cells, n, i)));
		fputc('\n', f);
	}
	fprintf(f, "%-*s", w + 2, "splats");
	for (size_t i = 0; i < n; i++) {
		char s[16];
		unsigned total = 0;
		unsigned pre = 0;
		for (size_t k = 0; k < cells[i].splats.nr; k++) {
			if (cells[i].splats.v[k].ignored)
				continue; /* known noise is listed below, not counted */
			total += cells[i].splats.v[k].count;
			pre += cells[i].splats.v[k].preexisting ? cells[i].splats.v[k].count : 0;
		}
		if (pre && pre == total)
			snprintf(s, sizeof(s), "%u (base)", total);
		else
			snprintf(s, sizeof(s), "%u", total);
		fprintf(f, "  %-14s", total ? s : "-");
	}
	fputc('\n', f);
	int any_patch_builds = 0;
	for (size_t i = 0; i < n; i++)
		any_patch_builds |= cells[i].nr_patch_builds > 0;
	if (any_patch_builds) {
		fprintf(f, "%-*s", w + 2, "each patch");
		for (size_t i = 0; i < n; i++) {
			char v[32];
			unsigned broken = 0, warn = 0;
			for (size_t k = 0; k < cells[i].nr_patch_builds; k++) {
				broken += !cells[i].patch_builds[k].ok;
				warn += (unsigned)cells[i].patch_builds[k].new_warnings.nr;
			}
			if (!cells[i].nr_patch_builds)
				snprintf(v, sizeof(v), "-");
			else if (broken)
				snprintf(v, sizeof(v), "%u BROKEN", broken);
			else
				snprintf(v, sizeof(v), "build%s", warn ? "" : "s");
			if (cells[i].nr_patch_builds && warn && !broken)
				snprintf(v, sizeof(v), "+%u warning%s", warn, warn == 1 ? "" : "s");
			fprintf(f, "  %-14s", v);
		}
		fputc('\n', f);
	}
	fprintf(f, "%-*s", w + 2, "verdict");
	for (size_t i = 0; i < n; i++) {
		char scratch[32];
		fprintf(f, "  %-14s", verdict_label(cells, n, i, scratch));
	}
	fprintf(f, "\n\n");
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		int failing = 0;
		for (size_t t = 0; t < c->nr_tests; t++) {
			const struct test_result *r = &c->tests[t];
			if (!results_test_failed(r))
				continue;
			failing++;
			fprintf(f, "%s/%s: %s: %s%s%s%s", c->revision, c->arch, r->name,
			       results_test_verdict_name(r->verdict), r->reason ? ": " : "",
			       r->reason ? r->reason : "", r->preexisting ? " (also on the base)" : "");
			if (r->new_cases)
				fprintf(f, " (fails on the base too, but not %s)", r->new_cases);
			fputc('\n', f);
		}
		for (size_t k = 0; k < c->nr_patch_builds; k++) {
			const struct patch_build *pb = &c->patch_builds[k];
			if (!pb->ok)
				fprintf(f, "%s/%s: patch %u/%u '%s' does not build: %s\n", c->revision, c->arch,
				       pb->index, pb->total, pb->subject, pb->error ? pb->error : "");
			for (size_t q = 0; q < pb->new_warnings.nr; q++)
				fprintf(f, "%s/%s: patch %u/%u '%s' adds a warning: %s\n", c->revision, c->arch,
				       pb->index, pb->total, pb->subject, pb->new_warnings.v[q]);
		}
		if (c->first_bad)
			fprintf(f, "%s/%s: bisect: first bad patch: %s\n", c->revision, c->arch, c->first_bad);
		/* what is not a test's failure: build, boot, apply, infrastructure */
		if (c->detail && (c->verdict != CELL_FAIL || !failing))
			fprintf(f, "%s/%s: %s\n", c->revision, c->arch, c->detail);
		for (size_t k = 0; k < c->splats.nr; k++)
			fprintf(f, "%s/%s: splat: %s (x%u)%s%s\n", c->revision, c->arch, c->splats.v[k].title,
			       c->splats.v[k].count, c->splats.v[k].preexisting ? " (also on the base)" : "",
			       c->splats.v[k].ignored ? " (ignored: known noise)" : "");
		for (size_t t = 0; t < c->nr_tests; t++)
			if (c->tests[t].verdict == TEST_FLAKY)
				fprintf(f, "%s/%s: %s is flaky: %s\n", c->revision, c->arch, c->tests[t].name,
				       c->tests[t].reason);
		for (size_t t = 0; t < c->nr_tests; t++)
			if (c->tests[t].verdict == TEST_SKIP)
				fprintf(f, "%s/%s: %s skipped: %s\n", c->revision, c->arch, c->tests[t].name,
				       c->tests[t].reason ? c->tests[t].reason : "");
		size_t not_run = 0;
		for (size_t t = 0; t < c->nr_tests; t++)
			not_run += c->tests[t].verdict == TEST_NOT_RUN;
		for (size_t t = 0; t < c->nr_tests && not_run; t++)
			if (c->tests[t].verdict == TEST_NOT_RUN) {
				fprintf(f, "%s/%s: %zu test%s not run: %s\n", c->revision, c->arch, not_run,
				       not_run == 1 ? "" : "s", c->tests[t].reason ? c->tests[t].reason : "");
				break;
			}
	}
	struct strvec changes = STRVEC_INIT;
	results_changes(&changes, cells, n);
	if (changes.nr)
		fprintf(f, "\nchanges between revisions:\n");
	for (size_t i = 0; i < changes.nr; i++)
		fprintf(f, "  %s\n", changes.v[i]);
	strvec_clear(&changes);
	strvec_clear(&names);
	fflush(f);
}

const char *ui_run_id(void)
{
	static char id[32];
	if (!id[0])
		snprintf(id, sizeof(id), "%ld-%ld", (long)getpid(), (long)time(NULL) % 100000);
	return id;
}

int ui_resolve_ref(git_oid *out, struct tree *t, const char *ref, struct kperror *err)
{
	git_object *obj = NULL, *commit = NULL;
	if (!ref || !strcmp(ref, "base")) {
		git_oid_cpy(out, &t->base);
		return 0;
	}
	if (git_revparse_single(&obj, t->repo, ref) < 0 ||
	    git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		git_object_free(obj);
		return kperror_set(err, KPERROR_INPUT,
				   "'%s' is not a commit in '%s' (try 'base' or a kpipe/... branch from 'kpipe apply')",
				   ref, t->workdir);
	}
	git_oid_cpy(out, git_object_id(commit));
	git_object_free(commit);
	git_object_free(obj);
	return 0;
}

const char *ui_pick_arch(const struct config *cfg, const char *wanted, struct kperror *err)
{
	if (!wanted)
		return cfg->arches.v[0];
	if (!strvec_contains(&cfg->arches, wanted)) {
		kperror_set(err, KPERROR_INPUT, "arch '%s' is not in [build] arches", wanted);
		return NULL;
	}
	return wanted;
}

void ui_revision_base(git_oid *out, struct buf *why, struct tree *t, const struct revision *rev)
{
	buf_reset(why);
	if (t)
		git_oid_cpy(out, &t->base);
	if (!rev->base_commit) {
		buf_addf(why, "the configured base%s%s (the series names no base-commit)",
			 t ? ": " : "", t ? t->base_desc : "");
		return;
	}
	if (t && tree_find_commit(out, t, rev->base_commit) == 0) {
		char hex[13];
		git_oid_tostr(hex, sizeof(hex), out);
		buf_addf(why, "base-commit %s from the series", hex);
		return;
	}
	buf_addf(why, "the configured base%s%s: base-commit %.12s %s", t ? ": " : "",
		 t ? t->base_desc : "", rev->base_commit,
		 t ? "is not in the tree" : "cannot be checked before the tree is imported");
}

int ui_write_reports(const char *run_dir, const char *title, const char *base_desc,
		     const struct cell *cells, size_t n, struct kperror *err)
{
	struct buf path = BUF_INIT;
	if (report_write_all(run_dir, title, cells, n, err) < 0)
		return -1;
	buf_addf(&path, "%s/summary.txt", run_dir);
	FILE *f = fopen(path.data, "w");
	if (!f) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot write '%s'", path.data);
		buf_release(&path);
		return -1;
	}
	fprintf(f, "kpipe results: %s\n", title);
	if (base_desc)
		fprintf(f, "base: %s\n", base_desc);
	ui_print_matrix(f, cells, n);
	fclose(f);
	buf_release(&path);
	return 0;
}
