/*
 * kpipe report [RUN_DIR]: print the matrix of a finished run again and
 * make every report of it again (junit.xml, kcidb.json, report.html,
 * summary.txt) from its results directory.
 * kpipe report --history [SERIES]: what changed since the previous run of
 * the series (the newest run's series by default), from the run history.
 * kpipe report --merge [--output DIR] PART...: the parts of one run
 * (kpipe run --shard I/N, --cells) joined into one results directory, with
 * every report and the changes list the whole run would have made.
 */
#include "cmd.h"
#include "../verdict.h"
#include "../buf.h"
#include "../history.h"
#include "../merge.h"
#include "../util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] = "usage: kpipe report [RUN_DIR]\n"
	"       kpipe report --history [SERIES]\n"
	"       kpipe report --merge [--output DIR] PART...\n";

static int report_history(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct strvec changes = STRVEC_INIT;
	struct buf about = BUF_INIT;
	int ret = history_changes(&changes, &about, ctx->cfg.history_path, argc > 2 ? argv[2] : NULL, err);
	if (ret == 0) {
		printf("%s\n", about.data);
		for (size_t i = 0; i < changes.nr; i++)
			printf("  %s\n", changes.v[i]);
		if (!changes.nr && strncmp(about.data, "no earlier", 10))
			printf("  nothing changed\n");
	}
	strvec_clear(&changes);
	buf_release(&about);
	return ret;
}

/* What a part of the run is called in its results directory's name, without the time stamp. */
static char *part_label(const char *dir)
{
	const char *base = strrchr(dir, '/') && strrchr(dir, '/')[1] ? strrchr(dir, '/') + 1 : dir;
	if (strlen(base) > 16 && base[8] == '-' && base[15] == '-')
		base += 16;
	return strdup(*base ? base : "merged");
}

/*
 * The merged run's files from the parts: each cell's directory from the
 * part that held it, the range-diffs and the mails (the first part that
 * has them).
 */
static int copy_parts(const char *out, struct cell *cells, const long *from, size_t n, struct merge_part *parts,
		      size_t nr, struct kperror *err)
{
	for (size_t i = 0; i < n; i++) {
		char *to = util_strfmt("%s/%s-%s", out, cells[i].revision, cells[i].arch);
		int ok = from[i] < 0 ? results_make_cell_dir(&cells[i], out, err)
				     : results_copy(cells[i].dir, to, err);
		if (ok == 0 && from[i] >= 0) {
			free(cells[i].dir);
			cells[i].dir = to;
			to = NULL;
		}
		free(to);
		if (ok < 0 || (from[i] < 0 && results_write_cell(&cells[i], err) < 0))
			return -1;
	}
	for (size_t p = 0; p < nr; p++) {
		DIR *d = opendir(parts[p].dir);
		struct dirent *e;
		int ret = 0;
		while (d && ret == 0 && (e = readdir(d))) {
			int range = !strncmp(e->d_name, "range-diff-", 11), mails = !strcmp(e->d_name, "series");
			char *src = util_strfmt("%s/%s", parts[p].dir, e->d_name);
			char *to = util_strfmt("%s/%s", out, e->d_name);
			if ((range || mails) && !util_exists(to))
				ret = results_copy(src, to, err);
			free(src);
			free(to);
		}
		if (d)
			closedir(d);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* The mails the parts kept (run_dir/series/NNN-NAME), read again for checks.json and reply.eml: 1 if any. */
static int read_kept_series(struct series *s, const char *run_dir, struct kperror *err)
{
	struct dirent **names = NULL;
	char *dir = util_strfmt("%s/series", run_dir);
	int nr = scandir(dir, &names, NULL, alphasort);
	struct strvec paths = STRVEC_INIT;
	for (int i = 0; i < nr; i++) {
		if (names[i]->d_name[0] != '.')
			strvec_pushf(&paths, "%s/%s", dir, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	free(dir);
	int ret = paths.nr ? series_parse(s, paths.v, paths.nr, err) == 0 ? 1 : -1 : 0;
	strvec_clear(&paths);
	return ret;
}

/* 1 if 'path' does not exist or is an empty directory. */
static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;
	if (!d)
		return !util_exists(path);
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

static int report_merge(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	const char *output = NULL;
	int first = 2;
	if (argc > 3 && (!strcmp(argv[2], "--output") || !strcmp(argv[2], "-o"))) {
		output = argv[3];
		first = 4;
	}
	if (first >= argc)
		return kperror_set(err, KPERROR_INPUT, "%sno part given to merge", usage);
	size_t nr = (size_t)(argc - first);
	struct merge_part *parts = calloc(nr, sizeof(*parts));
	struct cell *cells = NULL;
	long *from = NULL;
	size_t n = 0;
	struct buf why = BUF_INIT;
	struct series s = SERIES_INIT;
	char *out = NULL;
	int ret = -1;
	double start = util_now();

	for (size_t p = 0; p < nr; p++) {
		parts[p].dir = argv[first + p];
		parts[p].run = (struct results_run)RESULTS_RUN_INIT;
		if (results_load_summary(&parts[p].cells, &parts[p].nr, &parts[p].run, parts[p].dir, err) < 0)
			goto out;
	}
	if (merge_cells(&cells, &from, &n, parts, nr, &why) < 0) {
		kperror_set(err, KPERROR_INPUT, "%s", why.data);
		goto out;
	}
	if (output && !dir_is_empty(output)) {
		kperror_set(err, KPERROR_INPUT, "--output '%s' is not an empty directory: the merge makes it", output);
		goto out;
	}
	if (output) {
		int e = util_mkdir_p(output, 0755);
		if (e < 0) {
			kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", output);
			goto out;
		}
		out = strdup(output);
	} else {
		char *label = part_label(parts[0].dir);
		int made = results_make_run_dir(&out, ctx->cfg.results_dir, label, err);
		free(label);
		if (made < 0)
			goto out;
	}
	printf("merge: %zu part%s of run %s into %s\n", nr, nr == 1 ? "" : "s", parts[0].run.plan, out);
	for (size_t p = 0; p < nr; p++)
		printf("    %s: %s%s%s%zu cell%s\n", parts[p].dir, parts[p].run.shard ? "shard " : "",
		       parts[p].run.shard ? parts[p].run.shard : "", parts[p].run.shard ? ", " : "", parts[p].nr,
		       parts[p].nr == 1 ? "" : "s");
	if (copy_parts(out, cells, from, n, parts, nr, err) < 0)
		goto out;
	results_compare(cells, n);
	struct results_run about = { parts[0].run.title, parts[0].run.base, parts[0].run.plan, NULL,
				     parts[0].run.plan_cells };
	int failed = ui_report_run(ctx->cfg.history_path, out, &about, cells, n, 0, start) < 0;
	int kept = read_kept_series(&s, out, err);
	if (kept < 0) {
		printf("for the list: nothing: the kept mails cannot be read: %s\n", err->msg.data);
		kperror_clear(err);
	} else if (kept == 0) {
		printf("for the list: nothing: the parts kept no mails (--commits)\n");
	} else if (ui_write_feedback(&ctx->cfg, out, &s, cells, n) < 0) {
		failed = 1;
	}
	ret = ui_run_exit(err, verdict_exit_code(cells, n), failed, out);
out:
	for (size_t i = 0; cells && i < n; i++)
		results_cell_release(&cells[i]);
	free(cells);
	free(from);
	for (size_t p = 0; p < nr; p++) {
		for (size_t i = 0; i < parts[p].nr; i++)
			results_cell_release(&parts[p].cells[i]);
		free(parts[p].cells);
		results_run_release(&parts[p].run);
	}
	free(parts);
	free(out);
	buf_release(&why);
	series_release(&s);
	return ret;
}

int cmd_report(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct cell *cells = NULL;
	size_t n = 0;
	struct results_run run = RESULTS_RUN_INIT;
	struct buf dir = BUF_INIT;
	int ret = -1;
	if (argc >= 2 && !strcmp(argv[1], "--history"))
		return report_history(argc, argv, ctx, err);
	if (argc >= 2 && !strcmp(argv[1], "--merge"))
		return report_merge(argc, argv, ctx, err);
	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return kperror_set(err, KPERROR_INPUT, "%s", usage);
	if (argc == 2)
		buf_adds(&dir, argv[1]);
	else
		buf_addf(&dir, "%s/latest", ctx->cfg.results_dir);
	if (results_load_summary(&cells, &n, &run, dir.data, err) < 0)
		goto out;
	results_compare(cells, n);
	ui_print_matrix(stdout, cells, n);
	if (ui_write_reports(dir.data, run.title ? run.title : "kpipe run", run.base, cells, n, err) < 0)
		goto out;
	printf("reports: %s/{report.html,junit.xml,kcidb.json,summary.txt}\n", dir.data);
	ret = verdict_exit_code(cells, n);
	if (ret > 1)
		ret = 1;
out:
	for (size_t i = 0; i < n; i++)
		results_cell_release(&cells[i]);
	free(cells);
	results_run_release(&run);
	buf_release(&dir);
	return ret;
}
