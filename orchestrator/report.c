#include "report.h"
#include "buf.h"
#include "util.h"
#include "verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "<revision><sep><arch>", escaped: how a cell is named in the page and its paths. */
static void add_cell_name(struct buf *b, const struct cell *c, char sep)
{
	buf_add_xml_escaped(b, c->revision);
	buf_addch(b, sep);
	buf_add_xml_escaped(b, c->arch);
}

static void read_tail(struct buf *out, const char *path, size_t max)
{
	struct buf b = BUF_INIT;
	if (buf_read_file(&b, path) == 0) {
		size_t off = b.len > max ? b.len - max : 0;
		buf_add(out, b.data + off, b.len - off);
	}
	buf_release(&b);
}

static void junit_case_open(struct buf *b, const struct cell *c, const char *name, double secs)
{
	buf_adds(b, "    <testcase classname=\"kpipe.");
	buf_add_xml_escaped(b, c->revision);
	buf_addch(b, '.');
	buf_add_xml_escaped(b, c->arch);
	buf_adds(b, "\" name=\"");
	buf_add_xml_escaped(b, name);
	buf_addf(b, "\" time=\"%.2f\">\n", secs);
}

static void junit_case(struct buf *b, const struct cell *c, const char *name, double secs,
		       const char *failure, const char *skipped, const char *out_file)
{
	junit_case_open(b, c, name, secs);
	if (skipped) {
		buf_adds(b, "      <skipped message=\"");
		buf_add_xml_escaped(b, skipped);
		buf_adds(b, "\"/>\n");
	}
	if (failure) {
		buf_adds(b, "      <failure message=\"");
		buf_add_xml_escaped(b, failure);
		buf_adds(b, "\"/>\n      <system-out>");
		struct buf text = BUF_INIT, path = BUF_INIT;
		if (out_file) {
			buf_addf(&path, "%s/%s", c->dir, out_file);
			buf_adds(&text, "==== output\n");
			read_tail(&text, path.data, 64 * 1024);
		}
		buf_reset(&path);
		buf_addf(&path, "%s/console.log", c->dir);
		buf_adds(&text, "\n==== console (the end)\n");
		read_tail(&text, path.data, 64 * 1024);
		buf_add_xml_escaped(b, text.data);
		buf_release(&text);
		buf_release(&path);
		buf_adds(b, "</system-out>\n");
	}
	buf_adds(b, "    </testcase>\n");
}

void report_junit(struct buf *b, const char *title, const struct cell *cells, size_t n)
{
	buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kpipe: ");
	buf_add_xml_escaped(b, title);
	buf_adds(b, "\">\n");
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		struct buf name = BUF_INIT, body = BUF_INIT;
		unsigned tests = 0, failures = 0, skipped = 0;
		double total = 0;
		for (int s = 0; s < STAGE_NR; s++)
			total += c->seconds[s];
		/* build and boot are cases too: a revision that does not build fails there */
		int build_bad = c->verdict == CELL_BUILD_FAILED || c->verdict == CELL_APPLY_FAILED;
		junit_case(&body, c, "build", c->seconds[STAGE_BUILD],
			   build_bad ? (c->detail ? c->detail : "build failed") : NULL, NULL,
			   build_bad ? "build.log" : NULL);
		tests++;
		failures += build_bad;
		if (!build_bad) {
			int boot_bad = c->verdict == CELL_BOOT_FAILED;
			junit_case(&body, c, "boot", c->seconds[STAGE_BOOT],
				   boot_bad ? (c->detail ? c->detail : "boot failed") : NULL, NULL, NULL);
			tests++;
			failures += boot_bad;
		}
		for (size_t t = 0; t < c->nr_tests; t++) {
			const struct test_result *r = &c->tests[t];
			struct buf out = BUF_INIT, msg = BUF_INIT;
			buf_addf(&out, "tests/%s.out", r->name);
			int bad = results_test_failed(r);
			if (bad)
				buf_addf(&msg, "%s%s%s%s", results_test_verdict_name(r->verdict),
					 r->reason ? ": " : "", r->reason ? r->reason : "",
					 r->preexisting ? " (also fails on the base)" : "");
			junit_case(&body, c, r->name, r->seconds, bad ? msg.data : NULL,
				   r->verdict == TEST_SKIP || r->verdict == TEST_NOT_RUN ?
					   (r->reason ? r->reason : "skipped") : NULL,
				   out.data);
			tests++;
			failures += bad;
			skipped += r->verdict == TEST_SKIP || r->verdict == TEST_NOT_RUN;
			buf_release(&out);
			buf_release(&msg);
		}
		struct buf splats = BUF_INIT;
		for (size_t k = 0; k < c->splats.nr; k++)
			if (!c->splats.v[k].ignored)
				buf_addf(&splats, "%s%s (x%u)%s", splats.len ? "; " : "", c->splats.v[k].title,
					 c->splats.v[k].count, c->splats.v[k].preexisting ? " (also on the base)" : "");
		if (c->verdict != CELL_APPLY_FAILED && c->verdict != CELL_BUILD_FAILED) {
			junit_case(&body, c, "kernel splats", 0, splats.len ? splats.data : NULL, NULL, NULL);
			tests++;
			failures += splats.len > 0;
		}
		buf_release(&splats);
		/* no verdict (kpipe or the machine failed, or it never ran): an error, not a failure */
		unsigned errors = verdict_classify(cells, n, i) == VERDICT_INFRA;
		if (errors) {
			junit_case_open(&body, c, "kpipe", 0);
			buf_adds(&body, "      <error message=\"");
			buf_add_xml_escaped(&body, c->detail ? c->detail : results_cell_verdict_name(c->verdict));
			buf_adds(&body, "\"/>\n    </testcase>\n");
			tests++;
		}
		buf_addf(&name, "%s/%s", c->revision, c->arch);
		buf_adds(b, "  <testsuite name=\"");
		buf_add_xml_escaped(b, name.data);
		buf_addf(b, "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.1f\">\n",
			 tests, failures, errors, skipped, total);
		buf_add(b, body.data, body.len);
		buf_adds(b, "  </testsuite>\n");
		buf_release(&name);
		buf_release(&body);
	}
	buf_adds(b, "</testsuites>\n");
}

static void json_kv(struct buf *b, const char *key, const char *v, int comma)
{
	buf_addf(b, "%s\"%s\": \"", comma ? ", " : "", key);
	buf_add_json_escaped(b, v ? v : "");
	buf_addch(b, '"');
}

/* "key": "kpipe:RUN-REV[-ARCH[-TEST]]", the parts JSON-escaped (a test name is the guest's word) */
static void kcidb_id(struct buf *b, const char *key, const char *run_id, const char *rev,
		     const char *arch, const char *test, int comma)
{
	struct buf id = BUF_INIT;
	buf_addf(&id, "kpipe:%s-%s", run_id, rev);
	if (arch)
		buf_addf(&id, "-%s", arch);
	if (test)
		buf_addf(&id, "-%s", test);
	json_kv(b, key, id.data, comma);
	buf_release(&id);
}

void report_kcidb(struct buf *b, const char *run_id, const struct cell *cells, size_t n)
{
	buf_adds(b, "{\n  \"version\": {\"major\": 4, \"minor\": 3},\n  \"checkouts\": [");
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		int seen = 0;
		for (size_t k = 0; k < i; k++)
			seen |= !strcmp(cells[k].revision, cells[i].revision);
		if (seen)
			continue;
		buf_adds(b, first ? "\n    {" : ",\n    {");
		first = 0;
		kcidb_id(b, "id", run_id, cells[i].revision, NULL, NULL, 0);
		json_kv(b, "origin", "kpipe", 1);
		if (cells[i].commit)
			json_kv(b, "git_commit_hash", cells[i].commit, 1);
		json_kv(b, "patchset_hash", cells[i].patchset ? cells[i].patchset : "", 1);
		json_kv(b, "comment", cells[i].revision, 1);
		buf_addf(b, ", \"valid\": %s}", cells[i].verdict == CELL_APPLY_FAILED ? "false" : "true");
	}
	buf_adds(b, "\n  ],\n  \"builds\": [");
	first = 1;
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		if (c->verdict == CELL_APPLY_FAILED)
			continue;
		buf_adds(b, first ? "\n    {" : ",\n    {");
		first = 0;
		kcidb_id(b, "id", run_id, c->revision, c->arch, NULL, 0);
		kcidb_id(b, "checkout_id", run_id, c->revision, NULL, NULL, 1);
		json_kv(b, "origin", "kpipe", 1);
		json_kv(b, "architecture", c->arch, 1);
		json_kv(b, "config_name", "kpipe tinyconfig+fragments", 1);
		buf_addf(b, ", \"duration\": %.1f, \"valid\": %s}", c->seconds[STAGE_BUILD],
			 c->verdict == CELL_BUILD_FAILED ? "false" : "true");
	}
	buf_adds(b, "\n  ],\n  \"tests\": [");
	first = 1;
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		for (size_t t = 0; t < c->nr_tests; t++) {
			const struct test_result *r = &c->tests[t];
			static const char *const status[] = { "PASS", "FAIL", "SKIP", "ERROR", "ERROR", "PASS", "MISS" };
			buf_adds(b, first ? "\n    {" : ",\n    {");
			first = 0;
			kcidb_id(b, "id", run_id, c->revision, c->arch, r->name, 0);
			kcidb_id(b, "build_id", run_id, c->revision, c->arch, NULL, 1);
			json_kv(b, "origin", "kpipe", 1);
			struct buf path = BUF_INIT;
			buf_addf(&path, "kpipe.%s", r->name);
			json_kv(b, "path", path.data, 1);
			buf_release(&path);
			json_kv(b, "status", status[r->verdict], 1);
			buf_addf(b, ", \"duration\": %.2f", r->seconds);
			if (r->reason)
				json_kv(b, "comment", r->reason, 1);
			buf_adds(b, "}");
		}
	}
	buf_adds(b, "\n  ]\n}\n");
}

static const char *html_class(const struct test_result *r, int base)
{
	if (base && results_test_failed(r))
		return "base";
	switch (r->verdict) {
	case TEST_PASS: return "pass";
	case TEST_SKIP: return "skip";
	case TEST_FLAKY: return "flaky";
	case TEST_NOT_RUN: return "skip";
	default: return r->preexisting ? "base" : "fail";
	}
}

/* The range of a figure's samples (both boots) over the cells of 'arch', padded a little. */
static void samples_range(const struct ktap_metric *const *ms, const struct cell *cells, size_t n,
			  const char *arch, double *lo, double *hi)
{
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ms[i] || strcmp(cells[i].arch, arch))
			continue;
		for (size_t k = 0; k < ms[i]->nr_samples + ms[i]->nr_confirm; k++) {
			double v = k < ms[i]->nr_samples ? ms[i]->samples[k] : ms[i]->confirm[k - ms[i]->nr_samples];
			if (!any || v < *lo)
				*lo = v;
			if (!any || v > *hi)
				*hi = v;
			any = 1;
		}
	}
	if (!any)
		*lo = *hi = 0;
	double pad = (*hi - *lo) * 0.05 + (*hi == *lo ? (*hi ? *hi * 0.1 : 1) : 0);
	*lo -= pad;
	*hi += pad;
}

/*
 * Each "# perf:" figure drawn: one SVG per figure, a row per cell with a
 * dot per sample (hollow: a second boot's) and a bar at the median, on one
 * scale per arch, so noise and a real shift look different at a glance.  Plain inline SVG: the page
 * still opens from disk with nothing else.
 */
static void html_perf_strips(struct buf *b, const struct cell *cells, size_t n)
{
	struct strvec figs = STRVEC_INIT; /* "TEST\tNAME" */
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; t < cells[i].nr_tests; t++)
			for (size_t k = 0; k < cells[i].tests[t].ktap.nr_metrics; k++) {
				struct buf key = BUF_INIT;
				buf_addf(&key, "%s\t%s", cells[i].tests[t].name, cells[i].tests[t].ktap.metrics[k].name);
				if (!strvec_contains(&figs, key.data))
					strvec_push(&figs, key.data);
				buf_release(&key);
			}
	if (!figs.nr) {
		strvec_clear(&figs);
		return;
	}
	enum { LABEL = 110, PLOT = 300, VALUE = 90, ROW = 16 };
	buf_adds(b, "<h2>Performance figures</h2>\n<p>Every sample per cell (dots; hollow: from a second "
		    "boot) and the median (bar), one scale per arch; a change is listed above only when "
		    "the samples differ beyond noise.</p>\n");
	for (size_t f = 0; f < figs.nr; f++) {
		const char *tab = strchr(figs.v[f], '\t');
		size_t tlen = (size_t)(tab - figs.v[f]);
		const struct ktap_metric **ms = calloc(n ? n : 1, sizeof(*ms));
		if (!ms)
			abort();
		int any = 0;
		for (size_t i = 0; i < n; i++) {
			ms[i] = NULL;
			for (size_t t = 0; t < cells[i].nr_tests && !ms[i]; t++) {
				const struct test_result *r = &cells[i].tests[t];
				if (strlen(r->name) != tlen || strncmp(r->name, figs.v[f], tlen))
					continue;
				for (size_t k = 0; k < r->ktap.nr_metrics; k++)
					if (!strcmp(r->ktap.metrics[k].name, tab + 1))
						ms[i] = &r->ktap.metrics[k];
			}
			any |= ms[i] && ms[i]->nr_samples;
		}
		if (!any) {
			free(ms);
			continue;
		}
		buf_adds(b, "<figure class=\"perf\"><figcaption>");
		struct buf caption = BUF_INIT;
		buf_addf(&caption, "%.*s: %s", (int)tlen, figs.v[f], tab + 1);
		buf_add_xml_escaped(b, caption.data);
		buf_release(&caption);
		buf_addf(b, "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" "
			    "font-size=\"11\" font-family=\"sans-serif\">\n", LABEL + PLOT + VALUE, n * ROW + 4);
		for (size_t i = 0; i < n; i++) {
			double y = (double)i * ROW + ROW / 2.0 + 2, lo, hi;
			samples_range(ms, cells, n, cells[i].arch, &lo, &hi);
			buf_addf(b, "<text x=\"0\" y=\"%.1f\">", y + 4);
			add_cell_name(b, &cells[i], '/');
			buf_adds(b, "</text>");
			buf_addf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", LABEL, LABEL + PLOT, y, y);
			if (!ms[i] || !ms[i]->nr_samples) {
				buf_addf(b, "<text x=\"%d\" y=\"%.1f\">-</text>\n", LABEL + PLOT + 6, y + 4);
				continue;
			}
			for (size_t k = 0; k < ms[i]->nr_samples; k++)
				buf_addf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#3a6ea5\" fill-opacity=\"0.6\"/>",
					 LABEL + (ms[i]->samples[k] - lo) / (hi - lo) * PLOT, y);
			for (size_t k = 0; k < ms[i]->nr_confirm; k++) /* a second boot's: hollow */
				buf_addf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"none\" stroke=\"#3a6ea5\"/>",
					 LABEL + (ms[i]->confirm[k] - lo) / (hi - lo) * PLOT, y);
			double mx = LABEL + (ms[i]->value - lo) / (hi - lo) * PLOT;
			buf_addf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" stroke-width=\"2\"/>",
				 mx, mx, y - 6, y + 6);
			buf_addf(b, "<text x=\"%d\" y=\"%.1f\">%.3g ", LABEL + PLOT + 6, y + 4, ms[i]->value);
			buf_add_xml_escaped(b, ms[i]->unit);
			buf_addf(b, " (%zu)</text>\n", ms[i]->nr_samples);
		}
		buf_adds(b, "</svg></figure>\n");
		free(ms);
	}
	strvec_clear(&figs);
}

void report_range_diffs(struct buf *out, const char *run_dir, const struct cell *cells, size_t n,
			int html, size_t max_lines)
{
	struct strvec seen = STRVEC_INIT;
	struct buf path = BUF_INIT, text = BUF_INIT;
	for (size_t i = 0; run_dir && i < n; i++) {
		const char *rev = cells[i].revision;
		if (!cells[i].reroll || strvec_contains(&seen, rev))
			continue;
		strvec_push(&seen, rev);
		buf_reset(&path);
		buf_addf(&path, "%s/range-diff-%s.txt", run_dir, rev);
		buf_reset(&text);
		if (buf_read_file_max(&text, path.data, 4u << 20) < 0 || !text.len)
			continue;
		size_t lines = 0, cut = text.len;
		for (size_t k = 0; k < text.len; k++)
			if (text.data[k] == '\n' && ++lines == max_lines && k + 1 < text.len) {
				cut = k + 1;
				break;
			}
		size_t total = lines;
		for (size_t k = cut; k < text.len; k++)
			total += text.data[k] == '\n';
		if (html) {
			buf_addf(out, "<h2>Range-diff %s</h2>\n<p>", rev);
			buf_add_xml_escaped(out, cells[i].reroll);
			buf_adds(out, "</p>\n<pre>");
			buf_truncate(&text, cut);
			buf_add_xml_escaped(out, text.data);
			buf_adds(out, "</pre>\n");
		} else {
			buf_addf(out, "\nrange-diff %s: %s\n", rev, cells[i].reroll);
			buf_add(out, text.data, cut);
		}
		if (cut < text.len)
			buf_addf(out, html ? "<p>(%zu more lines in range-diff-%s.txt)</p>\n"
					   : "(%zu more lines in range-diff-%s.txt)\n", total - lines, rev);
	}
	strvec_clear(&seen);
	buf_release(&path);
	buf_release(&text);
}

void report_html(struct buf *b, const char *title, const char *run_dir, const struct cell *cells, size_t n)
{
	struct strvec names = STRVEC_INIT;
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; t < cells[i].nr_tests; t++)
			if (!strvec_contains(&names, cells[i].tests[t].name))
				strvec_push(&names, cells[i].tests[t].name);
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>kpipe: ");
	buf_add_xml_escaped(b, title);
	buf_adds(b, "</title>\n<style>\n"
		    "body{font-family:sans-serif;margin:2em;color:#222}\n"
		    "table{border-collapse:collapse;margin:1em 0}\n"
		    "th,td{border:1px solid #bbb;padding:.3em .7em;text-align:left}\n"
		    "td.pass{background:#c8f0c8} td.fail{background:#f5b5b5;font-weight:bold}\n"
		    "td.skip{background:#eee} td.base{background:#f5dfb5} td.flaky{background:#f0f0a0}\n"
		    "td a{color:inherit} pre{background:#f6f6f6;padding:.5em;overflow:auto;font-size:85%}\n"
		    "figure.perf{margin:.5em 0} figcaption{font-size:90%;color:#555}\n"
		    "</style></head><body>\n<h1>kpipe: ");
	buf_add_xml_escaped(b, title);
	buf_adds(b, "</h1>\n<table id=\"matrix\"><tr><th>test</th>");
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, "<th id=\"");
		add_cell_name(b, &cells[i], '-'); /* checks.json's target_url points here */
		buf_adds(b, "\">");
		add_cell_name(b, &cells[i], '/');
		buf_adds(b, "</th>");
	}
	buf_adds(b, "</tr>\n");
	for (size_t t = 0; t < names.nr; t++) {
		buf_adds(b, "<tr><th>");
		buf_add_xml_escaped(b, names.v[t]);
		buf_adds(b, "</th>");
		for (size_t i = 0; i < n; i++) {
			const struct test_result *r = NULL;
			for (size_t k = 0; k < cells[i].nr_tests; k++)
				if (!strcmp(cells[i].tests[k].name, names.v[t]))
					r = &cells[i].tests[k];
			if (!r) {
				buf_adds(b, "<td>-</td>");
				continue;
			}
			buf_addf(b, "<td class=\"%s\"", html_class(r, results_is_baseline(cells, n, i)));
			if (r->reason) {
				buf_adds(b, " title=\"");
				buf_add_xml_escaped(b, r->reason);
				if (r->new_cases) {
					buf_adds(b, " (fails on the base too, but not ");
					buf_add_xml_escaped(b, r->new_cases);
					buf_addch(b, ')');
				}
				buf_addch(b, '"');
			}
			buf_adds(b, "><a href=\"");
			add_cell_name(b, &cells[i], '-');
			buf_adds(b, "/tests/");
			buf_add_xml_escaped(b, r->name);
			buf_addf(b, ".out\">%s</a></td>", results_test_verdict_name(r->verdict));
		}
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "<tr><th>verdict</th>");
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		char scratch[32];
		buf_addf(b, "<td class=\"%s\"><a href=\"", verdict_html_class(cells, n, i));
		add_cell_name(b, c, '-');
		buf_addf(b, "/console.log\">%s</a></td>", verdict_label(cells, n, i, scratch));
	}
	buf_adds(b, "</tr>\n</table>\n<h2>Details</h2>\n<ul>\n");
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		if (c->detail) {
			buf_adds(b, "<li>");
			add_cell_name(b, c, '/');
			buf_adds(b, ": ");
			buf_add_xml_escaped(b, c->detail);
			buf_adds(b, "</li>\n");
		}
		for (size_t k = 0; k < c->notes.nr; k++) { /* a host that went down, a rerun not made, a cut */
			buf_adds(b, "<li>");
			add_cell_name(b, c, '/');
			buf_adds(b, ": ");
			buf_add_xml_escaped(b, c->notes.v[k]);
			buf_adds(b, "</li>\n");
		}
		if (c->first_bad) {
			buf_adds(b, "<li>");
			buf_add_xml_escaped(b, c->revision);
			buf_adds(b, ": first bad patch: ");
			buf_add_xml_escaped(b, c->first_bad);
			buf_adds(b, "</li>\n");
		}
	}
	buf_adds(b, "</ul>\n");
	struct strvec changes = STRVEC_INIT;
	results_changes(&changes, cells, n);
	if (changes.nr) {
		buf_adds(b, "<h2>Changes between revisions</h2>\n<ul>\n");
		for (size_t i = 0; i < changes.nr; i++) {
			buf_adds(b, "<li>");
			buf_add_xml_escaped(b, changes.v[i]);
			buf_adds(b, "</li>\n");
		}
		buf_adds(b, "</ul>\n");
	}
	strvec_clear(&changes);
	report_range_diffs(b, run_dir, cells, n, 1, 400);
	html_perf_strips(b, cells, n);
	buf_adds(b, "<h2>Kernel splats</h2>\n");
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < cells[i].splats.nr; k++) {
			const struct splat *s = &cells[i].splats.v[k];
			any = 1;
			buf_adds(b, "<details class=\"splat\"><summary>");
			add_cell_name(b, &cells[i], '/');
			buf_adds(b, ": ");
			buf_add_xml_escaped(b, s->title);
			buf_addf(b, " (x%u)%s%s</summary><pre>", s->count,
				 s->preexisting ? " (also on the base)" : "", s->ignored ? " (known noise)" : "");
			buf_add_xml_escaped(b, s->report ? s->report : "");
			buf_adds(b, "</pre></details>\n");
		}
	}
	if (!any)
		buf_adds(b, "<p>none</p>\n");
	buf_adds(b, "<h2>Time per stage (seconds)</h2>\n<table id=\"stages\"><tr><th>cell</th>");
	for (int s = 0; s < STAGE_NR; s++)
		buf_addf(b, "<th>%s</th>", results_stage_name((enum stage)s));
	buf_adds(b, "</tr>\n");
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, "<tr><th>");
		add_cell_name(b, &cells[i], '/');
		buf_adds(b, "</th>");
		for (int s = 0; s < STAGE_NR; s++)
			buf_addf(b, "<td>%.1f</td>", cells[i].seconds[s]);
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</table>\n</body></html>\n");
	strvec_clear(&names);
}

int report_write_all(const char *run_dir, const char *title, const struct cell *cells, size_t n,
		     struct kperror *err)
{
	struct buf b = BUF_INIT, path = BUF_INIT;
	/* the run's own name, also when reached through results/latest */
	char *real = realpath(run_dir, NULL);
	const char *name = real ? real : run_dir;
	const char *run_id = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	int ret = 0;
	for (int which = 0; which < 3 && !ret; which++) {
		buf_reset(&b);
		buf_reset(&path);
		if (which == 0) {
			report_junit(&b, title, cells, n);
			buf_addf(&path, "%s/junit.xml", run_dir);
		} else if (which == 1) {
			report_kcidb(&b, run_id, cells, n);
			buf_addf(&path, "%s/kcidb.json", run_dir);
		} else {
			report_html(&b, title, run_dir, cells, n);
			buf_addf(&path, "%s/report.html", run_dir);
		}
		int e = buf_write_file(&b, path.data);
		if (e < 0)
			ret = kperror_errno(err, KPERROR_INFRA, e, "cannot write '%s'", path.data);
	}
	free(real);
	buf_release(&b);
	buf_release(&path);
	return ret;
}
