#include "cmd.h"
#include "../history.h"
#include "../plan.h"
#include "../proc.h"
#include "../feedback.h"
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

static void on_say(void *data, const char *tag, const char *msg)
{
	(void)data;
	if (tag)
		printf("[%s] %s\n", tag, msg);
	else
		printf("==> %s\n", msg);
	fflush(stdout);
}

const struct run_ui ui_run = { on_start, on_end, on_alive, on_note, on_patch_built, on_say, NULL };

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
		/* what happened on the way: a host that went down, a rerun not made, output cut */
		for (size_t k = 0; k < c->notes.nr; k++)
			fprintf(f, "%s/%s: %s\n", c->revision, c->arch, c->notes.v[k]);
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
	/* a reason several cells share is said once, so what differs stands out */
	struct strvec skips = STRVEC_INIT;
	results_skip_reasons(&skips, cells, n);
	for (size_t i = 0; i < skips.nr; i++)
		fprintf(f, "%s\n", skips.v[i]);
	strvec_clear(&skips);
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

static char run_id[48];

void ui_new_run_id(void)
{
	static unsigned runs;
	if (runs++)
		snprintf(run_id, sizeof(run_id), "%ld-%ld-%u", (long)getpid(), (long)time(NULL) % 100000, runs);
	else
		snprintf(run_id, sizeof(run_id), "%ld-%ld", (long)getpid(), (long)time(NULL) % 100000);
}

const char *ui_run_id(void)
{
	if (!run_id[0])
		ui_new_run_id();
	return run_id;
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

int ui_write_reports(const char *run_dir, const char *title, const char *base_desc,
		     const struct cell *cells, size_t n, struct kperror *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	char *mem = NULL;
	size_t len = 0;
	int ret = -1;
	if (report_write_all(run_dir, title, cells, n, err) < 0)
		goto out;
	buf_addf(&path, "%s/summary.txt", run_dir);
	FILE *f = open_memstream(&mem, &len);
	if (!f) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot write '%s'", path.data);
		goto out;
	}
	fprintf(f, "kpipe results: %s\n", title);
	if (base_desc)
		fprintf(f, "base: %s\n", base_desc);
	ui_print_matrix(f, cells, n);
	struct buf range = BUF_INIT;
	report_range_diffs(&range, run_dir, cells, n, 0, 200);
	fputs(range.data, f);
	buf_release(&range);
	fclose(f);
	/* the subjects, titles and reasons in it are untrusted: no control character reaches the file */
	buf_add_printable(&text, mem, len, 0);
	int e = buf_write_file(&text, path.data);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot write '%s'", path.data);
		goto out;
	}
	ret = 0;
out:
	free(mem);
	buf_release(&text);
	buf_release(&path);
	return ret;
}

int ui_prepare_arches(struct run_ctx *rc, struct kperror *err)
{
	ui_step("arches: %zu", rc->cfg->arches.nr);
	for (size_t a = 0; a < rc->cfg->arches.nr; a++) {
		const char *arch = rc->cfg->arches.v[a];
		double t0 = util_now();
		if (run_ctx_prepare_arch(rc, arch, err) < 0)
			return -1;
		printf("    %s: compiler, emulator, guest tests and image ready (%s)\n", arch,
		       util_duration(util_now() - t0));
	}
	return 0;
}

int ui_open_tree(struct run_ctx *rc, struct kperror *err)
{
	ui_step("base tree");
	double t0 = util_now();
	if (tree_open(&rc->tree, rc->cfg, ui_tree_progress, NULL, err) < 0)
		return -1;
	printf("    %s (from %s) in %s\n", rc->tree->base_desc, rc->tree->origin, util_duration(util_now() - t0));
	return 0;
}

void ui_print_series(const struct series *s, int from_commits)
{
	ui_step("series: %zu revision%s of '%s'", s->nr, s->nr == 1 ? "" : "s", s->revs[s->nr - 1].title);
	for (size_t i = 0; i < s->nr; i++)
		printf("    v%u: %zu %s from %s\n", s->revs[i].version, s->revs[i].nr,
		       from_commits ? "commit(s)" : s->revs[i].nr == 1 ? "patch" : "patches", s->revs[i].source);
	for (size_t i = 0; i < s->problems.nr; i++)
		printf("    problem: %s\n", s->problems.v[i]);
}

void ui_print_plan(const struct plan *p)
{
	struct buf text = BUF_INIT;
	plan_describe(&text, p);
	fputs(text.data, stdout);
	buf_release(&text);
}

/*
 * What running builds and guests side by side saved: the stages' times
 * summed (what doing one after the other would take) against the wall time.
 */
static void print_overlap(const struct cell *cells, size_t n, double wall)
{
	double summed = 0;
	for (size_t i = 0; i < n; i++)
		for (int st = STAGE_PATCHES; st < STAGE_NR; st++)
			summed += cells[i].seconds[st];
	printf("builds and guests: %.1fs of work in %.1fs: the overlap saved %.1fs\n", summed, wall,
	       summed > wall ? summed - wall : 0.0);
}

int ui_report_run(const char *history_path, const char *run_dir, const struct results_run *run,
		  const struct cell *cells, size_t n, double cells_wall, double started)
{
	struct kperror err = KPERROR_INIT;
	int ret = 0;
	if (results_write_summary(run_dir, run, cells, n, &err) < 0 ||
	    ui_write_reports(run_dir, run->title, run->base, cells, n, &err) < 0) {
		printf("error: %s\n", err.msg.data);
		ret = -1;
	}
	kperror_clear(&err);
	if (history_path && history_record(history_path, run_dir, run->title, run->base, cells, n, &err) < 0) {
		printf("error: %s\n", err.msg.data);
		ret = -1;
	}
	kperror_release(&err);
	ui_print_matrix(stdout, cells, n);
	/* what each revision cost; after the first, the incremental cost */
	printf("time per revision:");
	for (size_t i = 0; i < n; i++) {
		double total = 0;
		for (int st = 0; st < STAGE_NR; st++)
			total += cells[i].seconds[st];
		printf(" %s %.1fs%s", cells[i].revision, total, i + 1 < n ? "," : "\n");
	}
	print_overlap(cells, n, cells_wall);
	printf("results: %s (%s)\n", run_dir, util_duration(util_now() - started));
	return ret;
}

int ui_write_feedback(const struct config *cfg, const char *run_dir, const struct series *s,
		      const struct cell *cells, size_t n)
{
	struct buf url = BUF_INIT, path = BUF_INIT, out = BUF_INIT, summary = BUF_INIT, v = BUF_INIT;
	char host[256] = "localhost", date[64];
	char *real = realpath(run_dir, NULL);
	const char *dir = real ? real : run_dir;
	const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	int ret = 0;
	if (cfg->report_url && *cfg->report_url) {
		buf_adds(&url, cfg->report_url);
		while (url.len && url.data[url.len - 1] == '/')
			buf_truncate(&url, url.len - 1);
		buf_addf(&url, "/%s", base);
	} else {
		buf_addf(&url, "file://%s", dir);
	}
	size_t checks = feedback_checks_json(&out, s, cells, n, url.data);
	buf_addf(&path, "%s/checks.json", run_dir);
	int e = buf_write_file(&out, path.data);
	if (e < 0) {
		printf("error: cannot write '%s': %s\n", path.data, strerror(-e));
		ret = -1;
	}
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	time_t now = time(NULL);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", localtime(&now));
	if (cfg->report_from && *cfg->report_from)
		buf_adds(&v, cfg->report_from);
	else
		buf_addf(&v, "kpipe <kpipe@%s>", host);
	struct buf msgid = BUF_INIT;
	buf_addf(&msgid, "kpipe-%s-%s@%s", ui_run_id(), base, host);
	buf_reset(&path);
	buf_addf(&path, "%s/summary.txt", run_dir);
	buf_read_file_max(&summary, path.data, 1u << 20);
	buf_reset(&out);
	int replied = feedback_reply(&out, s, v.data, date, msgid.data, summary.data, url.data) == 0;
	if (replied) {
		buf_reset(&path);
		buf_addf(&path, "%s/reply.eml", run_dir);
		e = buf_write_file(&out, path.data);
		if (e < 0) {
			printf("error: cannot write '%s': %s\n", path.data, strerror(-e));
			ret = -1;
		}
	}
	printf("for the list: checks.json (%zu patchwork check%s)", checks, checks == 1 ? "" : "s");
	if (replied)
		printf(", reply.eml (to %s)\n", s->revs[s->nr - 1].author);
	else
		printf("; no reply.eml: the newest revision came without a Message-ID\n");
	buf_release(&msgid);
	buf_release(&url);
	buf_release(&path);
	buf_release(&out);
	buf_release(&summary);
	buf_release(&v);
	free(real);
	return ret;
}

int ui_run_exit(struct kperror *err, int code, int failed, const char *run_dir)
{
	if (failed && code < 3)
		code = 3;
	if (proc_interrupted)
		return kperror_set(err, KPERROR_INTERRUPTED, "interrupted; results so far are in '%s'", run_dir);
	if (code >= 2)
		return kperror_set(err, code == 2 ? KPERROR_INPUT : KPERROR_INFRA, "%s",
				   code == 2 ? "a revision did not apply (see above)" : "the run could not finish (see above)");
	return code;
}
