/*
 * kpipe report [RUN_DIR]: print the matrix of a finished run again and
 * make every report of it again (junit.xml, kcidb.json, report.html,
 * summary.txt) from its results directory.
 * kpipe report --history [SERIES]: what changed since the previous run of
 * the series (the newest run's series by default), from the run history.
 */
#include "cmd.h"
#include "../verdict.h"
#include "../buf.h"
#include "../history.h"

#include <string.h>

#include <stdio.h>
#include <stdlib.h>

int cmd_report(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct cell *cells = NULL;
	size_t n = 0;
	char *title = NULL;
	struct buf dir = BUF_INIT;
	int ret = -1;
	if (argc >= 2 && !strcmp(argv[1], "--history")) {
		struct strvec changes = STRVEC_INIT;
		struct buf about = BUF_INIT;
		ret = history_changes(&changes, &about, ctx->cfg.history_path, argc > 2 ? argv[2] : NULL, err);
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
	if (argc > 2)
		return kperror_set(err, KPERROR_INPUT, "usage: kpipe report [RUN_DIR] | --history [SERIES]");
	if (argc == 2)
		buf_adds(&dir, argv[1]);
	else
		buf_addf(&dir, "%s/latest", ctx->cfg.results_dir);
	if (results_load_summary(&cells, &n, &title, dir.data, err) < 0)
		goto out;
	results_compare(cells, n);
	ui_print_matrix(stdout, cells, n);
	if (ui_write_reports(dir.data, title ? title : "kpipe run", NULL, cells, n, err) < 0)
		goto out;
	printf("reports: %s/{report.html,junit.xml,kcidb.json,summary.txt}\n", dir.data);
	ret = verdict_exit_code(cells, n);
	if (ret > 1)
		ret = 1;
out:
	for (size_t i = 0; i < n; i++)
		results_cell_release(&cells[i]);
	free(cells);
	free(title);
	buf_release(&dir);
	return ret;
}
