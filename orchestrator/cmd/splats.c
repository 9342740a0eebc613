/*
 * kpipe splats FILE...: the kernel splats in console logs or dmesg files
 * from anywhere: one title per line with its count, then the reports.
 * Exit 0 when there is none (or only known noise), 1 otherwise.
 */
#include "cmd.h"
#include "../splat.h"

#include <stdio.h>

int cmd_splats(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct splat_list l = SPLAT_LIST_INIT;
	struct buf log = BUF_INIT;
	if (argc < 2)
		return kperror_set(err, KPERROR_INPUT, "usage: kpipe splats LOG...");
	for (int i = 1; i < argc; i++) {
		buf_reset(&log);
		int e = buf_read_file(&log, argv[i]);
		if (e < 0) {
			buf_release(&log);
			splat_list_release(&l);
			return kperror_errno(err, KPERROR_INPUT, e, "cannot read log '%s'", argv[i]);
		}
		splat_scan(&l, log.data);
	}
	splat_ignore(&l, &ctx->cfg.splat_ignore);
	int counted = 0;
	for (size_t i = 0; i < l.nr; i++) {
		printf("%4u  %s%s\n", l.v[i].count, l.v[i].title, l.v[i].ignored ? "  (ignored: known noise)" : "");
		counted += !l.v[i].ignored;
	}
	if (!l.nr)
		printf("no splats\n");
	for (size_t i = 0; i < l.nr; i++)
		printf("\n==== %s\n%s", l.v[i].title, l.v[i].report);
	buf_release(&log);
	splat_list_release(&l);
	return counted ? 1 : 0;
}
