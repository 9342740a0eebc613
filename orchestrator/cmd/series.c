/* kpipe series FILE...: what was found in mbox files, without changing a tree. */
#include "cmd.h"
#include "../run_plan.h"
#include "../apply.h"
#include "../series.h"
#include "../tree.h"

#include <stdio.h>
#include <string.h>

int cmd_series(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct series s = SERIES_INIT;
	struct tree *t = NULL;
	struct buf why = BUF_INIT;
	struct kperror terr = KPERROR_INIT;
	int bad = 0;

	if (argc < 2)
		return kperror_set(err, KPERROR_INPUT, "usage: kpipe series FILE...");
	if (series_parse(&s, argv + 1, (size_t)argc - 1, err) < 0)
		return -1;
	/* look at the tree only if it is already there: never import here */
	if (tree_open_existing(&t, &ctx->cfg, &terr) < 0)
		strvec_pushf(&s.problems, "the base tree cannot be read: %s", terr.msg.data);
	for (size_t i = 0; i < s.nr; i++) {
		const struct revision *r = &s.revs[i];
		git_oid base;
		printf("v%u: %s (%zu patch%s, from %s)\n", r->version, r->title, r->nr,
		       r->nr == 1 ? "" : "es", r->source);
		run_revision_base(&base, &why, t, r);
		printf("  base: %s\n", why.data);
		if (r->thread_msgid && *r->thread_msgid)
			printf("  thread: <%s> from %s%s%s\n", r->thread_msgid, r->author,
			       *r->change_id ? ", change-id " : "", r->change_id);
		for (size_t k = 0; k < r->nr; k++)
			printf("  %u/%u %s\n      %s, %s\n", r->patches[k].index, r->patches[k].total,
			       r->patches[k].subject, r->patches[k].author, r->patches[k].date);
		if (apply_check_revision(r, err) < 0) {
			strvec_push(&s.problems, err->msg.data);
			bad++;
		}
	}
	if (s.skipped_mails)
		printf("(%u mail%s without a patch ignored: cover letters, replies)\n", s.skipped_mails,
		       s.skipped_mails == 1 ? "" : "s");
	for (size_t i = 0; i < s.problems.nr; i++)
		printf("problem: %s\n", s.problems.v[i]);
	if (!s.problems.nr)
		printf("no problems found\n");
	if (bad)
		kperror_set(err, KPERROR_INPUT, "%d revision%s cannot be applied as sent", bad,
			    bad == 1 ? "" : "s");
	series_release(&s);
	tree_free(t);
	buf_release(&why);
	kperror_release(&terr);
	return bad ? -1 : 0;
}
