/*
 * What 'kpipe build', 'boot' and 'test' share: they work on one commit
 * ("base" by default, or a branch 'kpipe apply' made) on one arch.
 */
#include "single.h"
#include "../util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int single_setup(struct single *s, int argc, char **argv, struct cmd_ctx *ctx,
		 const char *usage, struct kperror *err)
{
	const char *arch = NULL;
	static const struct option opts[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	memset(s, 0, sizeof(*s));
	optind = 1;
	while ((o = getopt_long(argc, argv, "a:h", opts, NULL)) != -1) {
		if (o == 'a')
			arch = optarg;
		else if (o == 'h') {
			fputs(usage, stdout);
			s->help = 1;
			return 0;
		} else
			return kperror_set(err, KPERROR_INPUT, "%s", usage);
	}
	if (argc - optind > 1)
		return kperror_set(err, KPERROR_INPUT, "%s", usage);
	const char *ref = optind < argc ? argv[optind] : "base";
	arch = ui_pick_arch(&ctx->cfg, arch, err);
	if (!arch)
		return -1;
	s->ctx.cfg = &ctx->cfg;
	s->ctx.run_id = ui_run_id();
	s->ctx.ui = &ui_run;
	if (run_ctx_prepare_arch(&s->ctx, arch, err) < 0)
		return -1;
	if (tree_open(&s->tree, &ctx->cfg, ui_tree_progress, NULL, err) < 0)
		return -1;
	if (tree_resolve_ref(&s->commit, s->tree, ref, err) < 0)
		return -1;
	char *slug = util_slug(ref, 30);
	s->cell.revision = slug;
	s->cell.arch = strdup(arch);
	s->cell.verdict = CELL_NOT_RUN;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid_tostr(hex, sizeof(hex), &s->commit);
	s->cell.commit = strdup(hex);
	if (results_make_run_dir(&s->run_dir, ctx->cfg.results_dir, slug, err) < 0 ||
	    results_make_cell_dir(&s->cell, s->run_dir, err) < 0)
		return -1;
	s->ctx.tree = s->tree;
	printf("==> %s on %s: %.12s (%s)\n", ref, arch, hex, s->tree->base_desc);
	printf("==> results in %s\n", s->run_dir);
	return 0;
}

void single_release(struct single *s)
{
	results_cell_release(&s->cell);
	run_ctx_release(&s->ctx);
	tree_free(s->tree);
	free(s->run_dir);
}
