/* kpipe run SERIES...: every revision of a series, applied, built, booted, tested. */
#include "cmd.h"
#include "../apply.h"
#include "../baseline.h"
#include "../history.h"
#include "../series.h"
#include "../proc.h"
#include "../util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Load the baseline from the cache, or test the base and cache it. */
static int run_baseline(struct pipeline *p, struct cell *c, const git_oid *base,
			const char *run_dir, struct kperror *err)
{
	struct strvec tests = STRVEC_INIT;
	struct buf key = BUF_INIT;
	int ret = -1;
	if (results_make_cell_dir(c, run_dir, err) < 0 ||
	    pipeline_guest_tests(&tests, p, c->arch, err) < 0 ||
	    baseline_key(&key, base, c->arch, p->cfg, &tests, err) < 0)
		goto out;
	int found = baseline_load(c, p->cfg->cache_dir, key.data, err);
	if (found < 0)
		goto out;
	if (found) {
		splat_ignore(&c->splats, &p->cfg->splat_ignore); /* today's noise list */
		printf("[base %s] baseline: %s, cached (%s)\n", c->arch,
		       results_cell_verdict_name(c->verdict), key.data);
		results_write_cell(c, err);
		ret = 0;
		goto out;
	}
	printf("[base %s] baseline: not cached yet (%s): testing the unpatched base\n", c->arch, key.data);
	if (pipeline_run_cell(p, c, base, err) < 0)
		goto out;
	if (baseline_store(c, p->cfg->cache_dir, key.data, err) < 0)
		goto out;
	ret = 0;
out:
	strvec_clear(&tests);
	buf_release(&key);
	return ret;
}

static const char usage[] = "usage: kpipe run [--no-baseline] [--each-patch] [--bisect] SERIES...\n"
	"       kpipe run [options] --commits RANGE [--commits RANGE...]\n"
	"  --commits:    test commits already in the tree (\"A..B\", or \"B\" for base..B);\n"
	"                each RANGE is one revision\n"
	"  --bisect:     for a revision that fails where the base passes, find the\n"
	"                first patch that fails\n"
	"  --each-patch: build after every patch too: which patch breaks the build\n"
	"                or adds warnings\n"
	"  --no-baseline: do not test the unpatched base (failures cannot be told\n"
	"                 apart from pre-existing ones)\n"
	"  SERIES: an mbox (git format-patch, b4), a .patch file or a directory of them;\n"
	"  give several, one per revision (v1.mbox v2.mbox ...).\n";

int cmd_run(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct series s = SERIES_INIT;
	struct tree *t = NULL;
	struct cell *cells = NULL;
	size_t ncells = 0;
	char *run_dir = NULL;
	int ret = -1;
	double start = util_now();

	static const struct option opts[] = {
		{ "no-baseline", no_argument, NULL, 'B' },
		{ "each-patch", no_argument, NULL, 'E' },
		{ "bisect", no_argument, NULL, 'S' },
		{ "commits", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o, with_baseline = 1, each_patch = ctx->cfg.each_patch, bisect = 0;
	struct apply_result *revision_commits = NULL; /* per revision, for --bisect */
	struct strvec ranges = STRVEC_INIT;
	git_oid *range_bases = NULL;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'B') {
			with_baseline = 0;
		} else if (o == 'E') {
			each_patch = 1;
		} else if (o == 'S') {
			bisect = 1;
		} else if (o == 'C') {
			strvec_push(&ranges, optarg);
		} else if (o == 'h') {
			fputs(usage, stdout);
			return 0;
		} else {
			return kperror_set(err, KPERROR_INPUT, "%s", usage);
		}
	}
	if (optind >= argc && !ranges.nr) {
		fputs(usage, stderr);
		kperror_set(err, KPERROR_INPUT, "run: no series given");
		goto out;
	}
	if (optind < argc && ranges.nr) {
		kperror_set(err, KPERROR_INPUT, "run: give series files or --commits, not both");
		goto out;
	}
	if (!ranges.nr) {
		if (series_parse(&s, argv + optind, (size_t)(argc - optind), err) < 0)
			goto out;
		for (size_t i = 0; i < s.nr; i++)
			if (apply_check_revision(&s.revs[i], err) < 0)
				goto out;
	}

	ui_step("base tree");
	double t0 = util_now();
	if (tree_open(&t, &ctx->cfg, ui_tree_progress, NULL, err) < 0)
		goto out;
	printf("    %s (from %s) in %s\n", t->base_desc, t->origin, util_duration(util_now() - t0));
	if (ranges.nr) {
		/* commits already in the tree: each range is a revision, nothing to apply */
		s.revs = calloc(ranges.nr, sizeof(*s.revs));
		revision_commits = calloc(ranges.nr, sizeof(*revision_commits));
		range_bases = calloc(ranges.nr, sizeof(*range_bases));
		for (size_t i = 0; i < ranges.nr; i++) {
			if (apply_revision_from_range(&s.revs[i], &revision_commits[i], &range_bases[i], t,
						      ranges.v[i], (unsigned)i + 1, err) < 0)
				goto out;
			s.nr++;
		}
	} else {
		revision_commits = calloc(s.nr, sizeof(*revision_commits));
	}
	ui_step("series: %zu revision%s of '%s'", s.nr, s.nr == 1 ? "" : "s", s.revs[s.nr - 1].title);
	for (size_t i = 0; i < s.nr; i++)
		printf("    v%u: %zu %s from %s\n", s.revs[i].version, s.revs[i].nr,
		       ranges.nr ? "commit(s)" : s.revs[i].nr == 1 ? "patch" : "patches", s.revs[i].source);
	for (size_t i = 0; i < s.problems.nr; i++)
		printf("    problem: %s\n", s.problems.v[i]);
	if (results_make_run_dir(&run_dir, ctx->cfg.results_dir, s.revs[s.nr - 1].name, err) < 0)
		goto out;
	ui_step("results in %s", run_dir);

	struct pipeline p = { &ctx->cfg, t, ui_run_id(), &ui_pipeline };
	cells = calloc((s.nr + 1) * ctx->cfg.arches.nr, sizeof(*cells));
	int stop = 0;

	/* the unpatched base, once per base/arch/config/tests: cached */
	git_oid base_oid;
	struct buf why = BUF_INIT;
	ui_revision_base(&base_oid, &why, t, &s.revs[0]);
	if (ranges.nr)
		git_oid_cpy(&base_oid, &range_bases[0]);
	buf_release(&why);
	for (size_t a = 0; with_baseline && a < ctx->cfg.arches.nr && !stop; a++) {
		struct cell *c = &cells[ncells++];
		c->revision = strdup("base");
		c->arch = strdup(ctx->cfg.arches.v[a]);
		c->verdict = CELL_NOT_RUN;
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), &base_oid);
		c->commit = strdup(hex);
		if (run_baseline(&p, c, &base_oid, run_dir, err) < 0) {
			printf("%s: %s\n", err->kind == KPERROR_INTERRUPTED ? "interrupted" : "error",
			       err->msg.data);
			stop = 1;
		}
		kperror_clear(err);
	}
	for (size_t r = 0; r < s.nr && !stop; r++) {
		struct revision *rev = &s.revs[r];
		struct apply_result ar = { 0 };
		char rname[16];
		snprintf(rname, sizeof(rname), "v%u", rev->version);
		ui_step("v%u: %s", rev->version, rev->title);

		struct buf why = BUF_INIT;
		git_oid onto;
		int applied = 0;
		double apply_seconds = 0;
		if (ranges.nr) {
			ar = revision_commits[r];
			git_oid_cpy(&onto, &range_bases[r]);
			printf("[v%u] commits %s: %zu, nothing to apply\n", rev->version, ranges.v[r], rev->nr);
		} else {
			ui_revision_base(&onto, &why, t, rev);
			printf("[v%u] onto %s\n", rev->version, why.data);
			double a0 = util_now();
			applied = apply_revision(&ar, t, rev, &onto, err);
			apply_seconds = util_now() - a0;
		}
		buf_release(&why);
		if (!ranges.nr && applied == 0)
			printf("[v%u] apply: %zu patch%s as %s in %s\n", rev->version, rev->nr,
			       rev->nr == 1 ? "" : "es", ar.branch, util_duration(apply_seconds));
		else if (applied < 0)
			printf("[v%u] apply: FAILED: %s\n", rev->version, err->msg.data);
		for (size_t a = 0; a < ctx->cfg.arches.nr; a++) {
			struct cell *c = &cells[ncells++];
			c->revision = strdup(rname);
			c->arch = strdup(ctx->cfg.arches.v[a]);
			c->verdict = CELL_NOT_RUN;
			c->seconds[STAGE_APPLY] = apply_seconds;
			if (with_baseline && git_oid_equal(&onto, &base_oid))
				c->baseline = strdup("base");
			struct buf hash = BUF_INIT;
			const char **diffs = calloc(rev->nr ? rev->nr : 1, sizeof(*diffs));
			for (size_t k = 0; k < rev->nr; k++)
				diffs[k] = rev->patches[k].diff;
			results_patchset_hash(&hash, diffs, rev->nr);
			free(diffs);
			c->patchset = hash.len ? buf_detach(&hash, NULL) : NULL;
			buf_release(&hash);
			if (results_make_cell_dir(c, run_dir, err) < 0) {
				stop = 1;
				break;
			}
			if (applied < 0) {
				c->verdict = err->kind == KPERROR_INPUT ? CELL_APPLY_FAILED : CELL_INFRA;
				results_set_detail(c, "%s", err->msg.data);
				results_write_cell(c, err);
				continue;
			}
			char hex[GIT_OID_HEXSZ + 1];
			git_oid_tostr(hex, sizeof(hex), &ar.head);
			c->commit = strdup(hex);
			c->branch = strdup(ar.branch);
			if ((each_patch && pipeline_build_each_patch(&p, c, &onto, ar.commits, rev, err) < 0) ||
			    pipeline_run_cell(&p, c, &ar.head, err) < 0) {
				printf("%s: %s\n", err->kind == KPERROR_INTERRUPTED ? "interrupted" : "error",
				       err->msg.data);
				stop = 1;
				break;
			}
		}
		kperror_clear(err);
		revision_commits[r] = ar;
	}
	results_compare(cells, ncells);
	for (size_t i = 0; bisect && !stop && i < ncells; i++) {
		struct cell *c = &cells[i];
		size_t r;
		for (r = 0; r < s.nr; r++) {
			char rname[16];
			snprintf(rname, sizeof(rname), "v%u", s.revs[r].version);
			if (!strcmp(rname, c->revision))
				break;
		}
		if (r == s.nr || c->verdict != CELL_FAIL || !c->regressions || !revision_commits[r].nr_commits)
			continue;
		if (s.revs[r].nr < 2) {
			c->first_bad = strdup("the revision has one patch");
			continue;
		}
		ui_step("bisect %s %s: %zu patches", c->revision, c->arch, s.revs[r].nr);
		if (pipeline_bisect(&p, c, &s.revs[r], revision_commits[r].commits, run_dir, err) < 0) {
			printf("%s: %s\n", err->kind == KPERROR_INTERRUPTED ? "interrupted" : "error",
			       err->msg.data);
			stop = 1;
		}
		kperror_clear(err);
	}
	struct kperror serr = KPERROR_INIT;
	if (results_write_summary(run_dir, s.revs[s.nr - 1].title, cells, ncells, &serr) < 0 ||
	    ui_write_reports(run_dir, s.revs[s.nr - 1].title, t->base_desc, cells, ncells, &serr) < 0)
		fprintf(stderr, "kpipe: %s\n", serr.msg.data);
	kperror_release(&serr);
	struct buf db = BUF_INIT;
	buf_addf(&db, "%s/history.sqlite", ctx->cfg.cache_dir);
	if (history_record(db.data, run_dir, s.revs[s.nr - 1].title, t->base_desc, cells, ncells, &serr) < 0)
		fprintf(stderr, "kpipe: %s\n", serr.msg.data);
	buf_release(&db);
	kperror_release(&serr);
	ui_print_matrix(stdout, cells, ncells);
	/* what each revision cost; after the first, the incremental cost */
	printf("time per revision:");
	for (size_t i = 0; i < ncells; i++) {
		double total = 0;
		for (int st = 0; st < STAGE_NR; st++)
			total += cells[i].seconds[st];
		printf(" %s %.1fs%s", cells[i].revision, total, i + 1 < ncells ? "," : "\n");
	}
	printf("results: %s (%s)\n", run_dir, util_duration(util_now() - start));
	ret = ui_exit_code(cells, ncells);
	if (stop && ret < 3)
		ret = 3;
	if (proc_interrupted)
		ret = kperror_set(err, KPERROR_INTERRUPTED, "interrupted; results so far are in '%s'", run_dir);
	else if (ret >= 2) {
		kperror_set(err, ret == 2 ? KPERROR_INPUT : KPERROR_INFRA, "%s",
			    ret == 2 ? "a revision did not apply (see above)"
				     : "the run could not finish (see above)");
		ret = -1;
	}
out:
	for (size_t i = 0; revision_commits && i < s.nr; i++)
		apply_result_release(&revision_commits[i]);
	free(revision_commits);
	free(range_bases);
	strvec_clear(&ranges);
	for (size_t i = 0; i < ncells; i++)
		results_cell_release(&cells[i]);
	free(cells);
	free(run_dir);
	tree_free(t);
	series_release(&s);
	return ret;
}
