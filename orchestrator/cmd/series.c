/* kpipe series FILE...: what was found in mbox files, without touching a tree. */
#include "cmd.h"
#include "../series.h"

#include <stdio.h>
#include <string.h>

int cmd_series(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct series s = SERIES_INIT;
	(void)ctx;
	if (argc < 2)
		return kperror_set(err, KPERROR_INPUT, "usage: kpipe series FILE...");
	if (series_parse(&s, argv + 1, (size_t)argc - 1, err) < 0)
		return -1;
	for (size_t i = 0; i < s.nr; i++) {
		const struct revision *r = &s.revs[i];
		printf("v%u: %s (%zu patch%s, from %s)\n", r->version, r->title, r->nr,
		       r->nr == 1 ? "" : "es", r->source);
		for (size_t k = 0; k < r->nr; k++)
			printf("  %u/%u %s\n      %s\n", r->patches[k].index, r->patches[k].total,
			       r->patches[k].subject, r->patches[k].author);
	}
	if (s.skipped_mails)
		printf("(%u mail%s without a patch ignored: cover letters, replies)\n", s.skipped_mails,
		       s.skipped_mails == 1 ? "" : "s");
	series_release(&s);
	return 0;
}
