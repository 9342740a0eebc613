#include "results.h"
#include "perfstat.h"
#include "proc.h"
#include "buf.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/evp.h>

static const char *cell_names[] = { "pass", "fail", "apply-failed", "build-failed",
				    "boot-failed", "infra-error", "not-run" };
static const char *test_names[] = { "pass", "fail", "skip", "timeout", "lost", "flaky", "not-run" };
static const char *stage_names[] = { "apply", "each-patch", "build", "boot", "test" };
#define NAMES_NR(names) ((int)(sizeof(names) / sizeof(*(names))))

const char *results_cell_verdict_name(enum cell_verdict v) { return cell_names[v]; }
const char *results_test_verdict_name(enum test_verdict v) { return test_names[v]; }
const char *results_stage_name(enum stage s) { return stage_names[s]; }

int results_make_run_dir(char **out, const char *root, const char *label, struct kperror *err)
{
	struct buf dir = BUF_INIT, link = BUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	char *slug = util_slug(label, 40);
	buf_addf(&dir, "%s/%s-%s", root, stamp, slug);
	free(slug);
	for (int i = 2; util_exists(dir.data); i++) {
		buf_truncate(&dir, strlen(root) + 1 + strlen(stamp));
		buf_addf(&dir, "-%d", i);
	}
	int e = util_mkdir_p(dir.data, 0755);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create results directory '%s'", dir.data);
		buf_release(&dir);
		return -1;
	}
	buf_addf(&link, "%s/latest", root);
	unlink(link.data);
	if (symlink(strrchr(dir.data, '/') + 1, link.data) < 0) {
		/* not fatal: 'latest' is a convenience */
	}
	buf_release(&link);
	*out = buf_detach(&dir, NULL);
	return 0;
}

int results_copy(const char *from, const char *to, struct kperror *err)
{
	struct proc p = PROC_INIT;
	struct buf src = BUF_INIT, out = BUF_INIT, parent = BUF_INIT;
	struct stat st;
	int ret = -1, dir = stat(from, &st) == 0 && S_ISDIR(st.st_mode);
	buf_adds(&parent, to);
	if (!dir && strrchr(parent.data, '/'))
		buf_truncate(&parent, (size_t)(strrchr(parent.data, '/') - parent.data));
	int e = util_mkdir_p(parent.data, 0755);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", parent.data);
		goto done;
	}
	buf_addf(&src, dir ? "%s/." : "%s", from);
	strvec_pushl(&p.argv, "cp", "-a", "--reflink=auto", "--", src.data, to, NULL);
	p.out = &out;
	if (proc_run(&p, err) < 0)
		goto done;
	if (p.exit_code) {
		buf_rtrim(&out);
		kperror_set(err, KPERROR_INFRA, "cannot copy '%s' to '%s': %s", from, to, out.data);
		goto done;
	}
	ret = 0;
done:
	proc_release(&p);
	buf_release(&src);
	buf_release(&out);
	buf_release(&parent);
	return ret;
}

int results_keep_series(const char *run_dir, char *const *files, size_t nr, struct kperror *err)
{
	int ret = 0;
	for (size_t i = 0; i < nr && !ret; i++) {
		const char *slash = strrchr(files[i], '/');
		const char *name = slash && slash[1] ? slash + 1 : files[i];
		char *to = util_strfmt("%s/series/%03zu-%s", run_dir, i + 1, name);
		ret = results_copy(files[i], to, err);
		free(to);
	}
	return ret;
}

int results_make_cell_dir(struct cell *c, const char *run_dir, struct kperror *err)
{
	struct buf dir = BUF_INIT, tests = BUF_INIT;
	buf_addf(&dir, "%s/%s-%s", run_dir, c->revision, c->arch);
	buf_addf(&tests, "%s/tests", dir.data);
	int e = util_mkdir_p(tests.data, 0755);
	buf_release(&tests);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", dir.data);
		buf_release(&dir);
		return -1;
	}
	free(c->dir);
	c->dir = buf_detach(&dir, NULL);
	return 0;
}

static void json_str(struct buf *b, const char *key, const char *v)
{
	buf_addf(b, "\"%s\": ", key);
	if (!v) {
		buf_adds(b, "null");
		return;
	}
	buf_addch(b, '"');
	buf_add_json_escaped(b, v);
	buf_addch(b, '"');
}

static void cell_json(struct buf *b, const struct cell *c, const char *indent)
{
	buf_addf(b, "%s{\n%s  ", indent, indent);
	json_str(b, "revision", c->revision);
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "arch", c->arch);
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "commit", c->commit);
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "branch", c->branch);
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "baseline", c->baseline);
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "first_bad_patch", c->first_bad);
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "patchset_hash", c->patchset);
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "accel", c->accel);
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "host", c->host);
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "reroll", c->reroll);
	buf_addf(b, ",\n%s  \"regressions\": %d", indent, c->regressions);
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "verdict", results_cell_verdict_name(c->verdict));
	buf_addf(b, ",\n%s  ", indent);
	json_str(b, "detail", c->detail);
	buf_addf(b, ",\n%s  \"seconds\": {", indent);
	double total = 0;
	for (int s = 0; s < STAGE_NR; s++) {
		buf_addf(b, "%s\"%s\": %.1f", s ? ", " : "", stage_names[s], c->seconds[s]);
		total += c->seconds[s];
	}
	buf_addf(b, ", \"total\": %.1f", total);
	buf_addf(b, "},\n%s  \"missing_options\": [", indent);
	for (size_t i = 0; i < c->missing_options.nr; i++) {
		buf_adds(b, i ? ", \"" : "\"");
		buf_add_json_escaped(b, c->missing_options.v[i]);
		buf_addch(b, '"');
	}
	buf_addf(b, "],\n%s  \"notes\": [", indent);
	for (size_t i = 0; i < c->notes.nr; i++) {
		buf_adds(b, i ? ", \"" : "\"");
		buf_add_json_escaped(b, c->notes.v[i]);
		buf_addch(b, '"');
	}
	buf_addf(b, "],\n%s  \"tests\": [", indent);
	for (size_t i = 0; i < c->nr_tests; i++) {
		const struct test_result *t = &c->tests[i];
		buf_addf(b, "%s\n%s    {", i ? "," : "", indent);
		json_str(b, "name", t->name);
		buf_adds(b, ", ");
		json_str(b, "verdict", results_test_verdict_name(t->verdict));
		buf_addf(b, ", \"exit_code\": %d, \"seconds\": %.2f, \"preexisting\": %s, \"runs\": %d, \"failed_runs\": %d, ",
			 t->exit_code, t->seconds, t->preexisting ? "true" : "false", t->runs, t->failures);
		json_str(b, "reason", t->reason);
		buf_adds(b, ", ");
		json_str(b, "new_cases", t->new_cases);
		buf_adds(b, ", \"cases\": [");
		for (size_t k = 0; k < t->ktap.nr; k++) {
			buf_adds(b, k ? ", {" : "{");
			json_str(b, "name", t->ktap.cases[k].name);
			buf_adds(b, ", ");
			json_str(b, "status", ktap_status_name(t->ktap.cases[k].status));
			buf_adds(b, ", ");
			json_str(b, "directive", t->ktap.cases[k].directive);
			buf_adds(b, "}");
		}
		buf_adds(b, "], \"perf\": [");
		for (size_t k = 0; k < t->ktap.nr_metrics; k++) {
			const struct ktap_metric *m = &t->ktap.metrics[k];
			buf_adds(b, k ? ", {" : "{");
			json_str(b, "name", m->name);
			buf_addf(b, ", \"value\": %.6g, ", m->value);
			json_str(b, "unit", m->unit);
			buf_adds(b, ", \"samples\": [");
			for (size_t n = 0; n < m->nr_samples; n++)
				buf_addf(b, "%s%.6g", n ? ", " : "", m->samples[n]);
			buf_adds(b, "], \"confirm_samples\": [");
			for (size_t n = 0; n < m->nr_confirm; n++)
				buf_addf(b, "%s%.6g", n ? ", " : "", m->confirm[n]);
			buf_adds(b, "]}");
		}
		buf_adds(b, "]}");
	}
	buf_addf(b, "%s],\n%s  \"patch_builds\": [", c->nr_tests ? "\n  " : "", indent);
	for (size_t i = 0; i < c->nr_patch_builds; i++) {
		const struct patch_build *pb = &c->patch_builds[i];
		buf_addf(b, "%s{\"patch\": \"%u/%u\", ", i ? ", " : "", pb->index, pb->total);
		json_str(b, "subject", pb->subject);
		buf_addf(b, ", \"builds\": %s, \"seconds\": %.1f, ", pb->ok ? "true" : "false", pb->seconds);
		json_str(b, "error", pb->error);
		buf_adds(b, ", \"new_warnings\": [");
		for (size_t w = 0; w < pb->new_warnings.nr; w++) {
			buf_adds(b, w ? ", \"" : "\"");
			buf_add_json_escaped(b, pb->new_warnings.v[w]);
			buf_addch(b, '"');
		}
		buf_adds(b, "]}");
	}
	buf_addf(b, "],\n%s  \"splats\": [", indent);
	for (size_t i = 0; i < c->splats.nr; i++) {
		buf_addf(b, "%s\n%s    {", i ? "," : "", indent);
		json_str(b, "title", c->splats.v[i].title);
		buf_addf(b, ", \"count\": %u, \"preexisting\": %s, \"ignored\": %s, ", c->splats.v[i].count,
			 c->splats.v[i].preexisting ? "true" : "false", c->splats.v[i].ignored ? "true" : "false");
		json_str(b, "report", c->splats.v[i].report);
		buf_adds(b, "}");
	}
	buf_addf(b, "]\n%s}", indent);
}

int results_write_cell(const struct cell *c, struct kperror *err)
{
	struct buf b = BUF_INIT, path = BUF_INIT;
	cell_json(&b, c, "");
	buf_addch(&b, '\n');
	buf_addf(&path, "%s/result.json", c->dir);
	int e = buf_write_file(&b, path.data);
	if (e < 0)
		kperror_errno(err, KPERROR_INFRA, e, "cannot write '%s'", path.data);
	buf_release(&b);
	buf_release(&path);
	return e < 0 ? -1 : 0;
}

/* TSV fields cannot hold tabs or newlines. */
static void tsv_field(struct buf *b, const char *s)
{
	buf_addch(b, '\t');
	for (; s && *s; s++)
		buf_addch(b, (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s);
}

/* A "# KEY: VALUE" line of summary.tsv, VALUE on one line; nothing for a NULL value. */
static void tsv_comment(struct buf *tsv, const char *key, const char *value)
{
	if (!value)
		return;
	buf_addf(tsv, "# %s: ", key);
	for (const char *q = value; *q; q++)
		buf_addch(tsv, (*q == '\n' || *q == '\t') ? ' ' : *q);
	buf_addch(tsv, '\n');
}

/* The run's own lines of summary.tsv and keys of summary.json. */
static void run_about(struct buf *json, struct buf *tsv, const struct results_run *run, const struct cell *cells,
		      size_t n)
{
	struct strvec changes = STRVEC_INIT;
	json_str(json, "title", run ? run->title : NULL);
	buf_adds(json, ",\n  ");
	json_str(json, "base", run ? run->base : NULL);
	buf_adds(json, ",\n  ");
	json_str(json, "plan", run ? run->plan : NULL);
	buf_adds(json, ",\n  ");
	json_str(json, "shard", run ? run->shard : NULL);
	buf_adds(json, ",\n  \"plan_cells\": [");
	for (size_t i = 0; run && i < run->plan_cells.nr; i++) {
		buf_adds(json, i ? ", \"" : "\"");
		buf_add_json_escaped(json, run->plan_cells.v[i]);
		buf_addch(json, '"');
	}
	buf_adds(json, "],\n  \"changes\": [");
	results_changes(&changes, cells, n);
	for (size_t i = 0; i < changes.nr; i++) {
		buf_adds(json, i ? ",\n    \"" : "\n    \"");
		buf_add_json_escaped(json, changes.v[i]);
		buf_addch(json, '"');
	}
	buf_adds(json, changes.nr ? "\n  ]" : "]");
	strvec_clear(&changes);

	tsv_comment(tsv, "title", run && run->title ? run->title : "");
	if (run) {
		tsv_comment(tsv, "base", run->base);
		tsv_comment(tsv, "plan", run->plan);
		tsv_comment(tsv, "shard", run->shard);
		for (size_t i = 0; i < run->plan_cells.nr; i++)
			tsv_comment(tsv, "plan cell", run->plan_cells.v[i]);
	}
}

int results_write_summary(const char *run_dir, const struct results_run *run, const struct cell *cells,
			  size_t n, struct kperror *err)
{
	struct buf json = BUF_INIT, tsv = BUF_INIT, path = BUF_INIT;
	int ret = -1;
	buf_adds(&json, "{\n  ");
	run_about(&json, &tsv, run, cells, n);
	buf_adds(&json, ",\n  \"cells\": [\n");
	buf_adds(&tsv, "# kpipe summary v1: cell REV ARCH VERDICT COMMIT DETAIL BASELINE SECONDS(apply,each-patch,build,boot,test) PATCHSET ACCEL | test REV ARCH NAME VERDICT SECONDS REASON RUNS FAILURES EXIT | patch REV ARCH N/M builds|broken SECONDS SUBJECT ERROR WARNING... | reroll REV ARCH WHAT_CHANGED | bisect REV ARCH FIRST_BAD | splat REV ARCH COUNT TITLE | perf REV ARCH TEST NAME VALUE UNIT (perf2: a second boot) | note REV ARCH TEXT | missing REV ARCH OPTION | branch REV ARCH BRANCH ONTO\n");
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		cell_json(&json, c, "    ");
		buf_adds(&json, i + 1 < n ? ",\n" : "\n");
		buf_adds(&tsv, "cell");
		tsv_field(&tsv, c->revision);
		tsv_field(&tsv, c->arch);
		tsv_field(&tsv, results_cell_verdict_name(c->verdict));
		tsv_field(&tsv, c->commit ? c->commit : "-");
		tsv_field(&tsv, c->detail ? c->detail : "");
		tsv_field(&tsv, c->baseline ? c->baseline : "-");
		struct buf secs = BUF_INIT;
		for (int st = 0; st < STAGE_NR; st++)
			buf_addf(&secs, "%s%.1f", st ? "," : "", c->seconds[st]);
		tsv_field(&tsv, secs.data);
		buf_release(&secs);
		tsv_field(&tsv, c->patchset ? c->patchset : "-");
		tsv_field(&tsv, c->accel ? c->accel : "-");
		buf_addch(&tsv, '\n');
		for (size_t t = 0; t < c->nr_tests; t++) {
			char secs[32];
			snprintf(secs, sizeof(secs), "%.2f", c->tests[t].seconds);
			buf_adds(&tsv, "test");
			tsv_field(&tsv, c->revision);
			tsv_field(&tsv, c->arch);
			tsv_field(&tsv, c->tests[t].name);
			tsv_field(&tsv, results_test_verdict_name(c->tests[t].verdict));
			tsv_field(&tsv, secs);
			tsv_field(&tsv, c->tests[t].reason ? c->tests[t].reason : "");
			char runs[64];
			snprintf(runs, sizeof(runs), "%d\t%d\t%d", c->tests[t].runs, c->tests[t].failures,
				 c->tests[t].exit_code);
			buf_addch(&tsv, '\t');
			buf_adds(&tsv, runs);
			buf_addch(&tsv, '\n');
		}
		/* the failing KTAP cases, so a cached baseline compares case by case */
		for (size_t t = 0; t < c->nr_tests; t++) {
			const struct ktap *k = &c->tests[t].ktap;
			for (size_t i = 0; i < k->nr; i++) {
				if (k->cases[i].status != KTAP_FAIL)
					continue;
				buf_adds(&tsv, "case");
				tsv_field(&tsv, c->revision);
				tsv_field(&tsv, c->arch);
				tsv_field(&tsv, c->tests[t].name);
				tsv_field(&tsv, k->cases[i].name);
				buf_addch(&tsv, '\n');
			}
		}
		for (size_t t = 0; t < c->nr_tests; t++) {
			for (size_t k = 0; k < c->tests[t].ktap.nr_metrics; k++) {
				const struct ktap_metric *m = &c->tests[t].ktap.metrics[k];
				for (size_t n = 0; n < m->nr_samples + m->nr_confirm; n++) { /* a line per sample */
					int again = n >= m->nr_samples; /* "perf2": a second boot's */
					char value[32];
					snprintf(value, sizeof(value), "%.6g",
						 again ? m->confirm[n - m->nr_samples] : m->samples[n]);
					buf_adds(&tsv, again ? "perf2" : "perf");
					tsv_field(&tsv, c->revision);
					tsv_field(&tsv, c->arch);
					tsv_field(&tsv, c->tests[t].name);
					tsv_field(&tsv, m->name);
					tsv_field(&tsv, value);
					tsv_field(&tsv, m->unit);
					buf_addch(&tsv, '\n');
				}
			}
		}
		if (c->reroll) {
			buf_adds(&tsv, "reroll");
			tsv_field(&tsv, c->revision);
			tsv_field(&tsv, c->arch);
			tsv_field(&tsv, c->reroll);
			buf_addch(&tsv, '\n');
		}
		if (c->first_bad) {
			buf_adds(&tsv, "bisect");
			tsv_field(&tsv, c->revision);
			tsv_field(&tsv, c->arch);
			tsv_field(&tsv, c->first_bad);
			buf_addch(&tsv, '\n');
		}
		for (size_t k = 0; k < c->nr_patch_builds; k++) {
			const struct patch_build *pb = &c->patch_builds[k];
			char num[32], secs[32];
			snprintf(num, sizeof(num), "%u/%u", pb->index, pb->total);
			snprintf(secs, sizeof(secs), "%.1f", pb->seconds);
			buf_adds(&tsv, "patch");
			tsv_field(&tsv, c->revision);
			tsv_field(&tsv, c->arch);
			tsv_field(&tsv, num);
			tsv_field(&tsv, pb->ok ? "builds" : "broken");
			tsv_field(&tsv, secs);
			tsv_field(&tsv, pb->subject);
			tsv_field(&tsv, pb->error ? pb->error : "");
			for (size_t w = 0; w < pb->new_warnings.nr; w++)
				tsv_field(&tsv, pb->new_warnings.v[w]);
			buf_addch(&tsv, '\n');
		}
		for (size_t s = 0; s < c->splats.nr; s++) {
			char count[16];
			snprintf(count, sizeof(count), "%u", c->splats.v[s].count);
			buf_adds(&tsv, "splat");
			tsv_field(&tsv, c->revision);
			tsv_field(&tsv, c->arch);
			tsv_field(&tsv, count);
			tsv_field(&tsv, c->splats.v[s].title);
			tsv_field(&tsv, c->splats.v[s].ignored ? "ignored" : "");
			buf_addch(&tsv, '\n');
		}
		const struct strvec *lists[] = { &c->notes, &c->missing_options };
		const char *kinds[] = { "note", "missing" };
		for (size_t l = 0; l < 2; l++)
			for (size_t k = 0; k < lists[l]->nr; k++) {
				buf_adds(&tsv, kinds[l]);
				tsv_field(&tsv, c->revision);
				tsv_field(&tsv, c->arch);
				tsv_field(&tsv, lists[l]->v[k]);
				buf_addch(&tsv, '\n');
			}
		if (c->branch || c->onto) {
			buf_adds(&tsv, "branch");
			tsv_field(&tsv, c->revision);
			tsv_field(&tsv, c->arch);
			tsv_field(&tsv, c->branch ? c->branch : "-");
			tsv_field(&tsv, c->onto ? c->onto : "-");
			buf_addch(&tsv, '\n');
		}
	}
	buf_adds(&json, "  ]\n}\n");
	buf_addf(&path, "%s/summary.json", run_dir);
	int e = buf_write_file(&json, path.data);
	if (!e) {
		buf_reset(&path);
		buf_addf(&path, "%s/summary.tsv", run_dir);
		e = buf_write_file(&tsv, path.data);
	}
	if (e < 0)
		kperror_errno(err, KPERROR_INFRA, e, "cannot write '%s'", path.data);
	else
		ret = 0;
	buf_release(&json);
	buf_release(&tsv);
	buf_release(&path);
	return ret;
}


static int verdict_from_name(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

void results_run_release(struct results_run *r)
{
	free(r->title);
	free(r->base);
	free(r->plan);
	free(r->shard);
	strvec_clear(&r->plan_cells);
	*r = (struct results_run)RESULTS_RUN_INIT;
}

/* A "# KEY: VALUE" line of summary.tsv into *run: 1 if it was one of the run's. */
static int load_about(struct results_run *run, const char *line)
{
	static const char *const keys[] = { "# title: ", "# base: ", "# plan: ", "# shard: " };
	char **fields[] = { &run->title, &run->base, &run->plan, &run->shard };
	for (size_t k = 0; k < 4; k++)
		if (!strncmp(line, keys[k], strlen(keys[k]))) {
			free(*fields[k]);
			*fields[k] = strdup(line + strlen(keys[k]));
			return 1;
		}
	if (!strncmp(line, "# plan cell: ", 13)) {
		strvec_push(&run->plan_cells, line + 13);
		return 1;
	}
	return 0;
}

int results_load_summary(struct cell **out, size_t *nr, struct results_run *run, const char *run_dir,
			 struct kperror *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct cell *cells = NULL;
	size_t n = 0;
	unsigned lineno = 0;
	buf_addf(&path, "%s/summary.tsv", run_dir);
	int e = buf_read_file(&text, path.data);
	if (e < 0) {
		kperror_errno(err, KPERROR_INPUT, e, "'%s' is not a kpipe run directory (cannot read '%s')",
			      run_dir, path.data);
		goto fail;
	}
	for (char *line = text.data; line && *line;) {
		char *eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		lineno++;
		if (run && *line == '#' && load_about(run, line)) {
			/* the run's */
		} else if (*line && *line != '#') {
			char *f[64] = { 0 };
			int nf = 0;
			for (char *p = line; p && nf < 64; nf++) {
				f[nf] = p;
				p = strchr(p, '\t');
				if (p)
					*p++ = '\0';
			}
			struct cell *c = n ? &cells[n - 1] : NULL;
			if (!strcmp(f[0], "cell") && nf >= 6) {
				cells = realloc(cells, (n + 1) * sizeof(*cells));
				c = &cells[n++];
				memset(c, 0, sizeof(*c));
				strvec_init(&c->missing_options);
				strvec_init(&c->notes);
				c->revision = strdup(f[1]);
				c->arch = strdup(f[2]);
				int v = verdict_from_name(cell_names, NAMES_NR(cell_names), f[3]);
				c->verdict = v < 0 ? CELL_INFRA : (enum cell_verdict)v;
				c->commit = strcmp(f[4], "-") ? strdup(f[4]) : NULL;
				c->detail = *f[5] ? strdup(f[5]) : NULL;
				c->baseline = nf >= 7 && strcmp(f[6], "-") ? strdup(f[6]) : NULL;
				if (nf >= 8) {
					const char *q = f[7];
					for (int st = 0; st < STAGE_NR && *q; st++) {
						c->seconds[st] = atof(q);
						q += strcspn(q, ",");
						q += *q == ',';
					}
				}
				c->patchset = nf >= 9 && strcmp(f[8], "-") ? strdup(f[8]) : NULL;
				c->accel = nf >= 10 && strcmp(f[9], "-") ? strdup(f[9]) : NULL;
			} else if (!strcmp(f[0], "test") && nf >= 7 && c) {
				c->tests = realloc(c->tests, (c->nr_tests + 1) * sizeof(*c->tests));
				struct test_result *t = &c->tests[c->nr_tests++];
				memset(t, 0, sizeof(*t));
				t->ktap.planned = -1;
				t->name = strdup(f[3]);
				int v = verdict_from_name(test_names, NAMES_NR(test_names), f[4]);
				t->verdict = v < 0 ? TEST_FAIL : (enum test_verdict)v;
				t->seconds = atof(f[5]);
				t->reason = *f[6] ? strdup(f[6]) : NULL;
				t->runs = nf >= 8 ? atoi(f[7]) : 1;
				t->failures = nf >= 9 ? atoi(f[8]) : results_test_failed(t);
				t->exit_code = nf >= 10 ? atoi(f[9]) : 0;
			} else if (!strcmp(f[0], "case") && nf >= 5 && c) {
				struct test_result *t = (struct test_result *)results_find_test(c, f[3]);
				if (t)
					ktap_add_case(&t->ktap, KTAP_FAIL, f[4]);
			} else if ((!strcmp(f[0], "perf") || !strcmp(f[0], "perf2")) && nf >= 6 && c) {
				struct test_result *t = (struct test_result *)results_find_test(c, f[3]);
				if (t && f[0][4])
					ktap_add_confirm_sample(&t->ktap, f[4], atof(f[5]), nf >= 7 ? f[6] : "");
				else if (t)
					ktap_add_metric(&t->ktap, f[4], atof(f[5]), nf >= 7 ? f[6] : "");
			} else if (!strcmp(f[0], "reroll") && nf >= 4 && c) {
				free(c->reroll);
				c->reroll = strdup(f[3]);
			} else if (!strcmp(f[0], "bisect") && nf >= 4 && c) {
				free(c->first_bad);
				c->first_bad = strdup(f[3]);
			} else if (!strcmp(f[0], "patch") && nf >= 8 && c) {
				c->patch_builds = realloc(c->patch_builds,
							  (c->nr_patch_builds + 1) * sizeof(*c->patch_builds));
				struct patch_build *pb = &c->patch_builds[c->nr_patch_builds++];
				memset(pb, 0, sizeof(*pb));
				strvec_init(&pb->new_warnings);
				if (sscanf(f[3], "%u/%u", &pb->index, &pb->total) != 2)
					pb->index = pb->total = 0;
				pb->ok = !strcmp(f[4], "builds");
				pb->seconds = atof(f[5]);
				pb->subject = strdup(f[6]);
				pb->error = *f[7] ? strdup(f[7]) : NULL;
				for (int w = 8; w < nf; w++)
					strvec_push(&pb->new_warnings, f[w]);
			} else if ((!strcmp(f[0], "note") || !strcmp(f[0], "missing")) && nf >= 4 && c) {
				strvec_push(f[0][0] == 'n' ? &c->notes : &c->missing_options, f[3]);
			} else if (!strcmp(f[0], "branch") && nf >= 5 && c) {
				free(c->branch);
				free(c->onto);
				c->branch = strcmp(f[3], "-") ? strdup(f[3]) : NULL;
				c->onto = strcmp(f[4], "-") ? strdup(f[4]) : NULL;
			} else if (!strcmp(f[0], "splat") && nf >= 5 && c) {
				c->splats.v = realloc(c->splats.v, (c->splats.nr + 1) * sizeof(*c->splats.v));
				struct splat *s = &c->splats.v[c->splats.nr++];
				memset(s, 0, sizeof(*s));
				s->title = strdup(f[4]);
				s->count = (unsigned)atoi(f[3]);
				s->ignored = nf >= 6 && !strcmp(f[5], "ignored");
			} else {
				kperror_set(err, KPERROR_INPUT, "%s:%u: not a kpipe summary line", path.data, lineno);
				goto fail;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	/* the reports behind the splat titles are in the kept console logs */
	for (size_t i = 0; i < n; i++) {
		struct buf console = BUF_INIT;
		struct splat_list found = SPLAT_LIST_INIT;
		buf_addf(&console, "%s/%s-%s/console.log", run_dir, cells[i].revision, cells[i].arch);
		free(cells[i].dir);
		cells[i].dir = strndup(console.data, console.len - strlen("/console.log"));
		struct buf log = BUF_INIT;
		if (cells[i].splats.nr && buf_read_file(&log, console.data) == 0)
			splat_scan(&found, log.data);
		for (size_t k = 0; k < cells[i].splats.nr; k++)
			for (size_t f = 0; f < found.nr; f++)
				if (!strcmp(found.v[f].title, cells[i].splats.v[k].title) && !cells[i].splats.v[k].report)
					cells[i].splats.v[k].report = strdup(found.v[f].report);
		splat_list_release(&found);
		buf_release(&log);
		buf_release(&console);
	}
	buf_release(&path);
	buf_release(&text);
	*out = cells;
	*nr = n;
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		results_cell_release(&cells[i]);
	free(cells);
	buf_release(&path);
	buf_release(&text);
	return -1;
}

int results_is_baseline(const struct cell *cells, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (k != i && cells[k].baseline && !strcmp(cells[k].baseline, cells[i].revision) &&
		    !strcmp(cells[k].arch, cells[i].arch))
			return 1;
	return 0;
}

int results_test_failed(const struct test_result *t)
{
	return t->verdict == TEST_FAIL || t->verdict == TEST_TIMEOUT || t->verdict == TEST_LOST;
}

/*
 * The floor a change between c and ref must pass (perfstat.h): none when
 * both guests ran under KVM, PERF_TCG_BOOT_NOISE otherwise (TCG, or a
 * cell that does not say, as older cached baselines do not).
 */
static double perf_boot_floor(const struct cell *c, const struct cell *ref)
{
	int kvm = c->accel && ref->accel && !strcmp(c->accel, "kvm") && !strcmp(ref->accel, "kvm");
	return kvm ? 0 : PERF_TCG_BOOT_NOISE;
}

/*
 * Measurements whose samples differ from 'ref''s beyond noise.  First the
 * samples of one boot each (perfstat.h: Mann-Whitney p < 0.01 and a median
 * shift larger than 10% and than the reference's spread) and, since boots
 * differ more than samples, a shift beyond the accelerator's floor.  Such a
 * change needs second boots of both kernels (results_perf_to_confirm()):
 * their samples must show it the same way, and every boot of one kernel
 * must lie beyond every boot of the other by more than the noise of boots
 * (perf_boots_compare()).  Lines go onto 'out'; with 'unconfirmed_tests',
 * the tests of changes without second boots go there instead.
 */
static void perf_changes_found(struct strvec *out, const struct cell *c, const struct cell *ref,
			       struct strvec *unconfirmed_tests)
{
	double floor = perf_boot_floor(c, ref);
	for (size_t t = 0; t < c->nr_tests; t++) {
		const struct test_result *r = &c->tests[t], *p = results_find_test(ref, r->name);
		for (size_t k = 0; p && k < r->ktap.nr_metrics; k++) {
			const struct ktap_metric *m = &r->ktap.metrics[k];
			for (size_t j = 0; j < p->ktap.nr_metrics; j++) {
				const struct ktap_metric *was = &p->ktap.metrics[j];
				struct perf_cmp cmp, again;
				struct perf_boots boots;
				if (strcmp(was->name, m->name) ||
				    perf_compare(was->samples, was->nr_samples, m->samples, m->nr_samples, &cmp) ||
				    !cmp.significant)
					continue;
				double first_ref = cmp.base_median, first_rev = cmp.median;
				perf_boots_compare(&first_ref, &first_rev, 1, floor, &boots);
				if (!boots.differ)
					continue; /* within what boots alone do: not worth booting again */
				int confirmed = !perf_compare(was->confirm, was->nr_confirm, m->confirm, m->nr_confirm,
							      &again);
				if (!confirmed && unconfirmed_tests) {
					if (!strvec_contains(unconfirmed_tests, r->name))
						strvec_push(unconfirmed_tests, r->name);
					continue;
				}
				if (confirmed) {
					if (!again.significant || (again.change > 0) != (cmp.change > 0))
						continue; /* the second boots do not show it: the first ones differed */
					double ref_boots[2] = { cmp.base_median, again.base_median };
					double rev_boots[2] = { cmp.median, again.median };
					perf_boots_compare(ref_boots, rev_boots, 2, floor, &boots);
					if (boots.differ != (cmp.change > 0 ? 1 : -1))
						continue; /* the kernels' boots overlap, or lie apart by no more than boots do */
				}
				if (!out)
					continue;
				int slower = cmp.change > 0;
				struct buf line = BUF_INIT;
				buf_addf(&line, "%s %s: perf: %s %s: %.3g -> %.3g %s (%+.0f%% vs %s, %u/%u samples %s, p=%.3f",
					 c->revision, c->arch, r->name, m->name, cmp.base_median, cmp.median, m->unit,
					 cmp.change * 100, ref->revision, slower ? cmp.slower : cmp.faster, cmp.n,
					 slower ? "slower" : "faster", cmp.p);
				if (confirmed)
					buf_addf(&line, "; again in second boots: %+.0f%%, p=%.3f; every boot %.2gx %s, "
							"boots alone up to %.2gx)", again.change * 100, again.p,
						 slower ? 1 + boots.least : 1 / (1 + boots.least),
						 slower ? "slower" : "faster", 1 + boots.noise);
				else
					buf_adds(&line, "; one boot each)");
				strvec_push(out, line.data);
				buf_release(&line);
			}
		}
	}
}

static void perf_changes(struct strvec *out, const struct cell *c, const struct cell *ref)
{
	perf_changes_found(out, c, ref, NULL);
}

void results_probe_init(struct cell *probe, const char *arch, const char *revision)
{
	memset(probe, 0, sizeof(*probe));
	strvec_init(&probe->missing_options);
	strvec_init(&probe->notes);
	probe->arch = strdup(arch);
	probe->revision = strdup(revision);
	probe->verdict = CELL_NOT_RUN;
}

long results_perf_reference(const struct cell *cells, size_t n, size_t i)
{
	const struct cell *c = &cells[i];
	long prev = -1, base = -1;
	if (c->revision[0] != 'v')
		return -1;
	for (size_t k = 0; k < i; k++) {
		if (cells[k].revision[0] == 'v' && !strcmp(cells[k].arch, c->arch))
			prev = (long)k;
		if (results_is_baseline(cells, n, k) && !strcmp(cells[k].arch, c->arch))
			base = (long)k;
	}
	/* the first revision (or the first with results): against the base */
	return prev >= 0 && cells[prev].nr_tests ? prev : base;
}

void results_perf_to_confirm(struct strvec *out, const struct cell *cells, size_t n, size_t i)
{
	long ref = results_perf_reference(cells, n, i);
	if (ref >= 0)
		perf_changes_found(NULL, &cells[i], &cells[ref], out);
}

const struct test_result *results_find_test(const struct cell *c, const char *name)
{
	for (size_t i = 0; i < c->nr_tests; i++)
		if (!strcmp(c->tests[i].name, name))
			return &c->tests[i];
	return NULL;
}

static int has_splat(const struct cell *c, const char *title)
{
	for (size_t i = 0; i < c->splats.nr; i++)
		if (!strcmp(c->splats.v[i].title, title))
			return 1;
	return 0;
}

static int case_fails(const struct test_result *r, const char *name)
{
	for (size_t i = 0; i < r->ktap.nr; i++)
		if (r->ktap.cases[i].status == KTAP_FAIL && !strcmp(r->ktap.cases[i].name, name))
			return 1;
	return 0;
}

/*
 * How many KTAP cases fail in 'r' but not in 'other'; appended to 'out'
 * (unless NULL) as "'A', 'B'".
 */
static size_t cases_failing_only_in(struct buf *out, const struct test_result *r,
				    const struct test_result *other)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ktap.nr; i++) {
		const char *name = r->ktap.cases[i].name;
		if (r->ktap.cases[i].status != KTAP_FAIL || case_fails(other, name))
			continue;
		if (out)
			buf_addf(out, "%s'%s'", out->len ? ", " : "", name);
		n++;
	}
	return n;
}

static int cell_broken(const struct cell *c)
{
	return c->verdict == CELL_BUILD_FAILED || c->verdict == CELL_BOOT_FAILED;
}

int results_test_regressed(const struct test_result *r, const struct test_result *base)
{
	if (!results_test_failed(r))
		return 0;
	if (!base || !results_test_failed(base))
		return 1;
	if (!base->ktap.failed)
		return 0; /* which cases fail on the baseline is not known: the same failure */
	return cases_failing_only_in(NULL, r, base) > 0;
}

const struct cell *results_baseline_of(const struct cell *cells, size_t n, size_t i)
{
	const struct cell *c = &cells[i], *base = NULL;
	for (size_t k = 0; c->baseline && k < n; k++)
		if (k != i && !strcmp(cells[k].revision, c->baseline) && !strcmp(cells[k].arch, c->arch))
			base = &cells[k];
	return base;
}

void results_compare(struct cell *cells, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cell *c = &cells[i];
		const struct cell *base = results_baseline_of(cells, n, i);
		c->regressions = 0;
		if (cell_broken(c) && !(base && base->verdict == c->verdict))
			c->regressions++;
		for (size_t t = 0; t < c->nr_tests; t++) {
			struct test_result *r = &c->tests[t];
			const struct test_result *b = base ? results_find_test(base, r->name) : NULL;
			r->preexisting = results_test_failed(r) && !results_test_regressed(r, b);
			free(r->new_cases);
			r->new_cases = NULL;
			if (results_test_failed(r) && !r->preexisting && b && results_test_failed(b)) {
				/* the same test failing, but in cases the baseline passes: name them */
				struct buf only = BUF_INIT;
				cases_failing_only_in(&only, r, b);
				r->new_cases = buf_detach(&only, NULL);
			}
			if (results_test_failed(r) && !r->preexisting)
				c->regressions++;
		}
		/* a patch that does not build breaks bisection, even if a later one fixes it */
		for (size_t k = 0; k < c->nr_patch_builds; k++)
			if (!c->patch_builds[k].ok && c->verdict != CELL_BUILD_FAILED)
				c->regressions++;
		for (size_t s = 0; s < c->splats.nr; s++) {
			c->splats.v[s].preexisting = base && has_splat(base, c->splats.v[s].title);
			if (!c->splats.v[s].preexisting && !c->splats.v[s].ignored)
				c->regressions++;
		}
	}
}

void results_skip_reasons(struct strvec *out, const struct cell *cells, size_t n)
{
	struct strvec keys = STRVEC_INIT, where = STRVEC_INIT;
	struct buf key = BUF_INIT, cell = BUF_INIT;
	size_t *count = NULL;
	for (size_t i = 0; i < n; i++) {
		for (size_t t = 0; t < cells[i].nr_tests; t++) {
			const struct test_result *r = &cells[i].tests[t];
			if (r->verdict != TEST_SKIP)
				continue;
			buf_reset(&key);
			buf_addf(&key, "%s skipped: %s", r->name, r->reason ? r->reason : "");
			buf_reset(&cell);
			buf_addf(&cell, "%s/%s", cells[i].revision, cells[i].arch);
			size_t k;
			for (k = 0; k < keys.nr && strcmp(keys.v[k], key.data); k++)
				;
			if (k == keys.nr) {
				strvec_push(&keys, key.data);
				strvec_push(&where, cell.data);
				count = realloc(count, keys.nr * sizeof(*count));
				count[k] = 1;
			} else { /* a test's name is one per cell: each cell comes once */
				struct buf w = BUF_INIT;
				buf_addf(&w, "%s, %s", where.v[k], cell.data);
				free(where.v[k]);
				where.v[k] = buf_detach(&w, NULL);
				count[k]++;
			}
		}
	}
	for (size_t k = 0; k < keys.nr; k++)
		strvec_pushf(out, "%s: %s", n > 1 && count[k] == n ? "every cell" : where.v[k], keys.v[k]);
	free(count);
	strvec_clear(&keys);
	strvec_clear(&where);
	buf_release(&key);
	buf_release(&cell);
}

/* The cell of the revision before cells[i] on its arch, or NULL. */
static const struct cell *previous_revision(const struct cell *cells, size_t i)
{
	const struct cell *prev = NULL;
	for (size_t k = 0; k < i; k++)
		if (cells[k].revision[0] == 'v' && strcmp(cells[k].revision, cells[i].revision) &&
		    !strcmp(cells[k].arch, cells[i].arch))
			prev = &cells[k];
	return prev;
}

/*
 * What revision 'rev' did to the results of the one before it, on every
 * arch at once, to follow its reroll line: "; fixed: a, b; new failure:
 * c; new splat: T", or "; results as v1" when nothing changed.
 */
static void reroll_outcome(struct buf *out, const struct cell *cells, size_t n, const char *rev)
{
	struct strvec fixed = STRVEC_INIT, broken = STRVEC_INIT, splats = STRVEC_INIT;
	const char *before = NULL;
	int same = 1;
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i], *prev;
		if (strcmp(c->revision, rev) || !(prev = previous_revision(cells, i)))
			continue;
		before = prev->revision;
		same &= prev->verdict == c->verdict;
		for (size_t t = 0; t < c->nr_tests; t++) {
			const struct test_result *r = &c->tests[t], *p = results_find_test(prev, r->name);
			if (p && results_test_failed(p) && !results_test_failed(r) && !strvec_contains(&fixed, r->name))
				strvec_push(&fixed, r->name);
			else if ((!p || !results_test_failed(p)) && results_test_failed(r) &&
				 !strvec_contains(&broken, r->name))
				strvec_push(&broken, r->name);
			same &= p && p->verdict == r->verdict;
		}
		for (size_t k = 0; k < c->splats.nr; k++)
			if (!has_splat(prev, c->splats.v[k].title) && !strvec_contains(&splats, c->splats.v[k].title))
				strvec_push(&splats, c->splats.v[k].title);
		same &= c->splats.nr == prev->splats.nr;
	}
	const struct { const char *what; struct strvec *v; } parts[] = {
		{ "fixed", &fixed }, { "new failure", &broken }, { "new splat", &splats },
	};
	for (size_t k = 0; k < 3; k++) {
		if (parts[k].v->nr)
			buf_addf(out, "; %s: ", parts[k].what);
		for (size_t i = 0; i < parts[k].v->nr; i++)
			buf_addf(out, "%s%s", i ? ", " : "", parts[k].v->v[i]);
		strvec_clear(parts[k].v);
	}
	if (before && same && !out->len)
		buf_addf(out, "; results as %s", before);
}

void results_changes(struct strvec *out, const struct cell *cells, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i], *prev = NULL;
		if (c->revision[0] != 'v')
			continue;
		int first_of_revision = 1;
		for (size_t k = 0; k < i && first_of_revision; k++)
			first_of_revision = strcmp(cells[k].revision, c->revision) != 0;
		if (first_of_revision && c->reroll) {
			struct buf outcome = BUF_INIT;
			reroll_outcome(&outcome, cells, n, c->revision);
			strvec_pushf(out, "%s: %s%s", c->revision, c->reroll, outcome.data);
			buf_release(&outcome);
		}
		for (size_t k = 0; k < i; k++)
			if (cells[k].revision[0] == 'v' && !strcmp(cells[k].arch, c->arch))
				prev = &cells[k];
		long ref = results_perf_reference(cells, n, i);
		if (ref >= 0)
			perf_changes(out, c, &cells[ref]);
		if (!prev)
			continue;
		if (cell_broken(prev) != cell_broken(c) || prev->verdict == CELL_APPLY_FAILED ||
		    c->verdict == CELL_APPLY_FAILED) {
			if (prev->verdict != c->verdict)
				strvec_pushf(out, "%s %s: %s (was %s in %s)", c->revision, c->arch,
					     results_cell_verdict_name(c->verdict),
					     results_cell_verdict_name(prev->verdict), prev->revision);
		}
		for (size_t t = 0; t < c->nr_tests; t++) {
			const struct test_result *r = &c->tests[t], *p = results_find_test(prev, r->name);
			if (!p)
				strvec_pushf(out, "%s %s: new test: %s (%s)", c->revision, c->arch, r->name,
					     results_test_verdict_name(r->verdict));
			else if (results_test_failed(p) && !results_test_failed(r))
				strvec_pushf(out, "%s %s: fixed: %s", c->revision, c->arch, r->name);
			else if (!results_test_failed(p) && results_test_failed(r))
				strvec_pushf(out, "%s %s: new failure: %s", c->revision, c->arch, r->name);
			else if (results_test_failed(p) && p->ktap.failed && r->ktap.failed) {
				/* failing in both, but not the same KTAP cases */
				struct buf now = BUF_INIT, gone = BUF_INIT;
				cases_failing_only_in(&now, r, p);
				cases_failing_only_in(&gone, p, r);
				if (now.len && gone.len)
					strvec_pushf(out, "%s %s: %s fails differently: now %s; no longer %s",
						     c->revision, c->arch, r->name, now.data, gone.data);
				else if (now.len || gone.len)
					strvec_pushf(out, "%s %s: %s fails differently: %s %s", c->revision, c->arch,
						     r->name, now.len ? "now also" : "no longer",
						     now.len ? now.data : gone.data);
				buf_release(&now);
				buf_release(&gone);
			}
		}
		for (size_t s = 0; s < c->splats.nr; s++)
			strvec_pushf(out, "%s %s: %s: %s", c->revision, c->arch,
				     has_splat(prev, c->splats.v[s].title) ? "splat still present" : "new splat",
				     c->splats.v[s].title);
		for (size_t s = 0; s < prev->splats.nr; s++)
			if (!has_splat(c, prev->splats.v[s].title))
				strvec_pushf(out, "%s %s: splat gone: %s", c->revision, c->arch,
					     prev->splats.v[s].title);
	}
}

void results_set_detail(struct cell *c, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(c->detail);
	c->detail = buf_detach(&b, NULL);
}

void results_clear_tests(struct cell *c)
{
	for (size_t i = 0; i < c->nr_tests; i++) {
		free(c->tests[i].name);
		free(c->tests[i].reason);
		free(c->tests[i].new_cases);
		ktap_release(&c->tests[i].ktap);
	}
	free(c->tests);
	c->tests = NULL;
	c->nr_tests = 0;
}

void results_cell_release(struct cell *c)
{
	free(c->revision);
	free(c->arch);
	free(c->dir);
	free(c->commit);
	free(c->onto);
	free(c->branch);
	free(c->baseline);
	free(c->patchset);
	free(c->accel);
	free(c->host);
	free(c->reroll);
	free(c->first_bad);
	free(c->detail);
	results_clear_tests(c);
	for (size_t i = 0; i < c->nr_patch_builds; i++) {
		free(c->patch_builds[i].subject);
		free(c->patch_builds[i].error);
		strvec_clear(&c->patch_builds[i].new_warnings);
	}
	free(c->patch_builds);
	splat_list_release(&c->splats);
	strvec_clear(&c->missing_options);
	strvec_clear(&c->notes);
	memset(c, 0, sizeof(*c));
}

void results_patchset_hash(struct buf *out, const char *const *patches, size_t n)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	struct buf list = BUF_INIT;
	if (!n)
		return;
	for (size_t i = 0; i < n; i++) {
		EVP_Digest(patches[i], strlen(patches[i]), digest, &len, EVP_sha256(), NULL);
		for (unsigned k = 0; k < len; k++)
			buf_addf(&list, "%02x", digest[k]);
		buf_addch(&list, '\n');
	}
	EVP_Digest(list.data, list.len, digest, &len, EVP_sha256(), NULL);
	for (unsigned k = 0; k < len; k++)
		buf_addf(out, "%02x", digest[k]);
	buf_release(&list);
}

int results_add_note(struct cell *c, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	int added = !strvec_contains(&c->notes, b.data);
	if (added)
		strvec_push(&c->notes, b.data);
	buf_release(&b);
	return added;
}
