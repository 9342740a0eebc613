/* kpipe run SERIES...: every revision of a series, applied, built, booted, tested. */
#include "cmd.h"
#include "../apply.h"
#include "../plan.h"
#include "../proc.h"
#include "../run_plan.h"
#include "../util.h"
#include "../verdict.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] = "usage: kpipe run [--no-baseline] [--each-patch] [--bisect] [--dry-run] [--tested RUN]\n"
	"                 [--shard I/N] [--cells PATTERN]... SERIES...\n"
	"       kpipe run [options] --commits RANGE [--commits RANGE...]\n"
	"  --commits:    test commits already in the tree (\"A..B\", or \"B\" for base..B);\n"
	"                each RANGE is one revision\n"
	"  --bisect:     for a revision that fails where the base passes, find the\n"
	"                first patch that fails\n"
	"  --each-patch: build after every patch too: which patch breaks the build\n"
	"                or adds warnings\n"
	"  --no-baseline: do not test the unpatched base (failures cannot be told\n"
	"                 apart from pre-existing ones)\n"
	"  --dry-run:    print the plan (what is cached, what will be built and\n"
	"                booted, in what order) and exit\n"
	"  --tested RUN: a revision whose very patches RUN (an earlier results\n"
	"                directory) tested on every arch is loaded from it, not\n"
	"                built again: v5 compared with the v4 you already have\n"
	"  --shard I/N:  run part I of N of the plan (one CI job of N; each runs\n"
	"                or loads the baselines its cells need); join the parts\n"
	"                with 'kpipe report --merge DIR...'\n"
	"  --cells PATTERN: only the cells REV/ARCH matching PATTERN (\"v2/*\",\n"
	"                \"*/arm64\"), and their baselines; may be repeated\n"
	"  SERIES: an mbox (git format-patch, b4), a .patch file or a directory of them;\n"
	"  give several, one per revision (v1.mbox v2.mbox ...).\n";

struct run_options {
	int with_baseline, each_patch, bisect, dry_run, help;
	struct strvec ranges; /* --commits */
	struct strvec tested; /* --tested */
	struct strvec cells;  /* --cells */
	unsigned shard, nr_shards; /* --shard I/N */
	char **files;
	size_t nr_files;
};

static int parse_options(struct run_options *o, int argc, char **argv, struct kperror *err)
{
	static const struct option opts[] = {
		{ "no-baseline", no_argument, NULL, 'B' }, { "each-patch", no_argument, NULL, 'E' },
		{ "bisect", no_argument, NULL, 'S' },      { "dry-run", no_argument, NULL, 'n' },
		{ "commits", required_argument, NULL, 'C' }, { "help", no_argument, NULL, 'h' },
		{ "tested", required_argument, NULL, 'T' }, { "shard", required_argument, NULL, 'P' },
		{ "cells", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'B': o->with_baseline = 0; break;
		case 'E': o->each_patch = 1; break;
		case 'S': o->bisect = 1; break;
		case 'n': o->dry_run = 1; break;
		case 'C': strvec_push(&o->ranges, optarg); break;
		case 'T': strvec_push(&o->tested, optarg); break;
		case 'L': strvec_push(&o->cells, optarg); break;
		case 'P': {
			char end;
			if (sscanf(optarg, "%u/%u%c", &o->shard, &o->nr_shards, &end) != 2 || !o->nr_shards ||
			    o->shard < 1 || o->shard > o->nr_shards || o->nr_shards > 1000)
				return kperror_set(err, KPERROR_INPUT, "--shard '%s': give I/N, 1 <= I <= N <= 1000",
						   optarg);
			break;
		}
		case 'h': o->help = 1; return 0;
		default: return kperror_set(err, KPERROR_INPUT, "%s", usage);
		}
	}
	o->files = argv + optind;
	o->nr_files = (size_t)(argc - optind);
	if (!o->nr_files && !o->ranges.nr) {
		fputs(usage, stderr);
		return kperror_set(err, KPERROR_INPUT, "run: no series given");
	}
	if (o->nr_files && o->ranges.nr)
		return kperror_set(err, KPERROR_INPUT, "run: give series files or --commits, not both");
	for (size_t i = 0; i < o->tested.nr; i++) {
		char *summary = util_strfmt("%s/summary.tsv", o->tested.v[i]);
		int there = util_exists(summary);
		free(summary);
		if (!there)
			return kperror_set(err, KPERROR_INPUT, "run: --tested '%s' is no kpipe results directory (no summary.tsv)",
					   o->tested.v[i]);
	}
	return 0;
}

/* The series from files, every patch checked: bad input is said before anything waits or builds. */
static int read_series(struct series *s, const struct run_options *o, struct kperror *err)
{
	if (!o->nr_files)
		return 0;
	if (series_parse(s, o->files, o->nr_files, err) < 0)
		return -1;
	for (size_t i = 0; i < s->nr; i++)
		if (apply_check_revision(&s->revs[i], err) < 0)
			return -1;
	return 0;
}

int cmd_run(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct run_options o = { .with_baseline = 1, .each_patch = ctx->cfg.each_patch, .ranges = STRVEC_INIT,
				 .tested = STRVEC_INIT, .cells = STRVEC_INIT };
	struct series s = SERIES_INIT;
	ui_new_run_id();
	struct run_ctx rc = { &ctx->cfg, NULL, ui_run_id(), &ui_run, NULL, 0 };
	struct run_revision *revs = NULL;
	struct run_base *bases = NULL;
	struct plan plan = PLAN_INIT;
	struct cell *cells = NULL;
	char *run_dir = NULL;
	git_oid base;
	double start = util_now(), wall = 0;
	int ret = -1;

	if (parse_options(&o, argc, argv, err) < 0 || o.help || read_series(&s, &o, err) < 0 ||
	    run_plan_check_cells(&s, &ctx->cfg.arches, o.with_baseline, &o.cells, o.shard, o.nr_shards, err) < 0 ||
	    cmd_lock_cache(ctx, err) < 0 ||
	    ui_prepare_arches(&rc, err) < 0 || ui_open_tree(&rc, err) < 0 ||
	    run_plan_revisions(&revs, &base, &s, &o.ranges, rc.tree, err) < 0 ||
	    run_plan_find_tested(revs, s.nr, &ctx->cfg.arches, &o.tested, err) < 0 ||
	    run_plan_bases(&bases, &rc, &base, err) < 0)
		goto out;
	ui_print_series(&s, o.ranges.nr > 0);
	run_plan_make(&plan, &rc, revs, s.nr, bases, o.with_baseline, o.each_patch, o.bisect);
	if (run_plan_select(&plan, &o.cells, o.shard, o.nr_shards, err) < 0)
		goto out;
	ui_print_plan(&plan);
	if (o.dry_run) {
		ret = 0;
		goto out;
	}
	const char *title = s.revs[s.nr - 1].title;
	if (results_make_run_dir(&run_dir, ctx->cfg.results_dir, s.revs[s.nr - 1].name, err) < 0)
		goto out;
	ui_step("results in %s", run_dir);
	if (results_keep_series(run_dir, o.files, o.nr_files, err) < 0)
		goto out;
	struct kperror run_err = KPERROR_INIT;
	int failed = run_plan_execute(&cells, &wall, &rc, &plan, revs, bases, &base, run_dir, &run_err) < 0;
	if (failed)
		printf("%s: %s\n", run_err.kind == KPERROR_INTERRUPTED ? "interrupted" : "error", run_err.msg.data);
	kperror_release(&run_err);
	char shard[32];
	snprintf(shard, sizeof(shard), "%u/%u", plan.shard, plan.nr_shards);
	struct results_run about = { (char *)title, rc.tree->base_desc, plan.id, plan.nr_shards ? shard : NULL,
				     plan.whole };
	/* a part of a run is no run of the series for the history: its merge is */
	if (ui_report_run(plan.selected ? NULL : ctx->cfg.history_path, run_dir, &about, cells, plan.nr_cells,
			  wall, start) < 0)
		failed = 1;
	if (plan.selected)
		printf("for the list: nothing yet: 'kpipe report --merge' of every part answers the list\n");
	else if (!o.ranges.nr && ui_write_feedback(&ctx->cfg, run_dir, &s, cells, plan.nr_cells) < 0)
		failed = 1;
	ret = ui_run_exit(err, verdict_exit_code(cells, plan.nr_cells), failed, run_dir);
out:
	if (o.help) {
		fputs(usage, stdout);
		ret = 0;
	}
	for (size_t i = 0; cells && i < plan.nr_cells; i++)
		results_cell_release(&cells[i]);
	free(cells);
	for (size_t i = 0; revs && i < s.nr; i++)
		run_revision_release(&revs[i]);
	free(revs);
	run_bases_free(bases, ctx->cfg.arches.nr);
	plan_release(&plan);
	strvec_clear(&o.ranges);
	strvec_clear(&o.tested);
	strvec_clear(&o.cells);
	free(run_dir);
	tree_free(rc.tree);
	run_ctx_release(&rc);
	series_release(&s);
	return ret;
}
