/* kpipe run SERIES...: every revision of a series, applied, built, booted, tested. */
#include "cmd.h"
#include "../apply.h"
#include "../baseline.h"
#include "../history.h"
#include "../series.h"
#include "../proc.h"
#include "../util.h"
#include "../verdict.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct baseline_job {
	const char *cache_dir;
	char *key;
};

/* The tester finished a base cell: keep it for later runs. */
static void store_baseline(void *data, struct cell *c)
{
	struct baseline_job *j = data;
	struct kperror err = KPERROR_INIT;
	if (c->verdict != CELL_INFRA && c->verdict != CELL_NOT_RUN &&
	    baseline_store(c, j->cache_dir, j->key, &err) < 0)
		fprintf(stderr, "kpipe: %s\n", err.msg.data);
	kperror_release(&err);
}

/*
 * Load the baseline from the cache, or build the base and queue its test
 * (the tester stores it when done).
 */
static int run_baseline(struct pipeline *p, struct pipeline_tester *tester, struct cell *c,
			const git_oid *base, const char *run_dir, struct baseline_job *job,
			struct kperror *err)
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
	job->cache_dir = p->cfg->cache_dir;
	job->key = buf_detach(&key, NULL);
	ret = pipeline_build_cell(p, tester, c, base, store_baseline, job, err);
out:
	strvec_clear(&tests);
	buf_release(&key);
	return ret;
}

/*
 * Before anything long: every arch's compiler, emulator, guest tests and
 * guest image, so a missing cross compiler or package stops the run now.
 */
static int prepare_arches(struct pipeline *p, struct kperror *err)
{
	for (size_t a = 0; a < p->cfg->arches.nr; a++) {
		const char *arch = p->cfg->arches.v[a];
		double t0 = util_now();
		if (pipeline_prepare_arch(p, arch, err) < 0)
			return -1;
		printf("    %s: compiler, emulator, guest tests and image ready (%s)\n", arch,
		       util_duration(util_now() - t0));
	}
	return 0;
}

/*
 * What running builds and guests side by side saved: the stages' times
 * summed (what doing one after the other would take) against the wall time.
 */
static void print_overlap(const struct cell *cells, size_t n, double wall)
{
	double summed = 0;
	for (size_t i = 0; i < n; i++)
		for (int st = STAGE_PATCHES; st < STAGE_NR; st++)
			summed += cells[i].seconds[st];
	printf("builds and guests: %.1fs of work in %.1fs: the overlap saved %.1fs\n", summed, wall,
	       summed > wall ? summed - wall : 0.0);
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
	struct pipeline_tester *tester = NULL;
	struct baseline_job *baseline_jobs = NULL;
	struct kperror terr_out = KPERROR_INIT;
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

	struct pipeline p = { &ctx->cfg, NULL, ui_run_id(), &ui_pipeline };
	ui_step("arches: %zu", ctx->cfg.arches.nr);
	if (prepare_arches(&p, err) < 0)
		goto out;
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

	p.tree = t;
	cells = calloc((s.nr + 1) * ctx->cfg.arches.nr, sizeof(*cells));
	baseline_jobs = calloc(ctx->cfg.arches.nr, sizeof(*baseline_jobs));
	int stop = 0;
	/* builds here, guests in the tester's thread: one arch boots while the next builds */
	if (pipeline_tester_start(&tester, &p, err) < 0)
		goto out;
	double cells_start = util_now();

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
		if (run_baseline(&p, tester, c, &base_oid, run_dir, &baseline_jobs[a], err) < 0) {
			printf("%s: %s\n", err->kind == KPERROR_INTERRUPTED ? "interrupted" : "error",
			       err->msg.data);
			stop = 1;
		}
		kperror_clear(err);
	}
	for (size_t r = 0; r < s.nr && !stop; r++) {
		struct revision *rev = &s.revs[r];
		if (pipeline_tester_failed(tester) || proc_interrupted)
			break;
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
			git_oid_tostr(hex, sizeof(hex), &onto);
			c->onto = strdup(hex);
			c->branch = strdup(ar.branch);
			if ((each_patch && pipeline_build_each_patch(&p, c, &onto, ar.commits, rev, err) < 0) ||
			    pipeline_build_cell(&p, tester, c, &ar.head, NULL, NULL, err) < 0) {
				printf("%s: %s\n", err->kind == KPERROR_INTERRUPTED ? "interrupted" : "error",
				       err->msg.data);
				stop = 1;
				break;
			}
		}
		kperror_clear(err);
		revision_commits[r] = ar;
	}
	struct kperror terr = KPERROR_INIT;
	if (pipeline_tester_finish(tester, &terr) < 0) {
		printf("%s: %s\n", terr.kind == KPERROR_INTERRUPTED ? "interrupted" : "error", terr.msg.data);
		stop = 1;
	}
	tester = NULL;
	kperror_release(&terr);
	double cells_wall = util_now() - cells_start;
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
		if (r == s.nr || c->verdict != CELL_FAIL || !verdict_is_regression(cells, ncells, i) || !revision_commits[r].nr_commits)
			continue;
		if (s.revs[r].nr < 2) {
			c->first_bad = strdup("the revision has one patch");
			continue;
		}
		ui_step("bisect %s %s: %zu patches", c->revision, c->arch, s.revs[r].nr);
		if (pipeline_bisect(&p, c, results_baseline_of(cells, ncells, i), &s.revs[r],
				    revision_commits[r].commits, run_dir, err) < 0) {
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
	print_overlap(cells, ncells, cells_wall);
	printf("results: %s (%s)\n", run_dir, util_duration(util_now() - start));
	ret = verdict_exit_code(cells, ncells);
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
	pipeline_tester_finish(tester, &terr_out);
	kperror_release(&terr_out);
	for (size_t i = 0; baseline_jobs && i < ctx->cfg.arches.nr; i++)
		free(baseline_jobs[i].key);
	free(baseline_jobs);
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
