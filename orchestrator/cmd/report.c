/* kpipe report [RUN_DIR]: print the matrix of a finished run again. */
#include "cmd.h"
#include "../buf.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_report(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct cell *cells = NULL;
	size_t n = 0;
	struct buf dir = BUF_INIT;
	if (argc > 2)
		return kperror_set(err, KPERROR_INPUT, "usage: kpipe report [RUN_DIR]");
	if (argc == 2)
		buf_adds(&dir, argv[1]);
	else
		buf_addf(&dir, "%s/latest", ctx->cfg.results_dir);
	if (results_load_summary(&cells, &n, dir.data, err) < 0) {
		buf_release(&dir);
		return -1;
	}
	results_compare(cells, n);
	ui_print_matrix(cells, n);
	printf("results: %s\n", dir.data);
	int ret = ui_exit_code(cells, n);
	for (size_t i = 0; i < n; i++)
		results_cell_release(&cells[i]);
	free(cells);
	buf_release(&dir);
	return ret > 1 ? 1 : ret;
}
