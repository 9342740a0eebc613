#include "run_plan.h"
#include "baseline.h"
#include "bisect.h"
#include "proc.h"
#include "revcmp.h"
#include "runner.h"
#include "util.h"
#include "verdict.h"

#include <stdlib.h>
#include <string.h>

struct store_job {
	const char *cache_dir;
	const char *key;
	struct run_ctx *ctx;
};

/* A base cell is final: keep it for later runs (a real verdict only). */
static void store_baseline(void *data, struct cell *c)
{
	struct store_job *j = data;
	struct kperror err = KPERROR_INIT;
	if (c->verdict != CELL_INFRA && c->verdict != CELL_NOT_RUN &&
	    baseline_store(c, j->cache_dir, j->key, &err) < 0)
		run_ctx_say(j->ctx, c->revision, "warning: %s", err.msg.data);
	kperror_release(&err);
}

static void hex_of(char **out, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid_tostr(hex, sizeof(hex), id);
	free(*out);
	*out = strdup(hex);
}

void run_revision_patchset(struct buf *out, const struct revision *rev)
{
	const char **diffs = calloc(rev->nr ? rev->nr : 1, sizeof(*diffs));
	for (size_t k = 0; k < rev->nr; k++)
		diffs[k] = rev->patches[k].diff;
	results_patchset_hash(out, diffs, rev->nr);
	free(diffs);
}

/* Every cell of the plan, named, with its directory; NOT_RUN until decided. */
static int make_cells(struct cell *cells, const struct plan *plan, const struct run_revision *revs,
		      const char *run_dir, struct kperror *err)
{
	for (size_t i = 0; i < plan->nr_cells; i++) {
		const struct plan_cell *pc = &plan->cells[i];
		struct cell *c = &cells[i];
		strvec_init(&c->missing_options);
		strvec_init(&c->notes);
		c->revision = strdup(pc->revision);
		c->arch = strdup(plan->arches.v[pc->arch]);
		c->verdict = CELL_NOT_RUN;
		if (pc->baseline != PLAN_NONE)
			c->baseline = strdup(plan->cells[pc->baseline].revision);
		if (pc->rev != PLAN_NONE) {
			const struct revision *rev = revs[pc->rev].rev;
			struct buf hash = BUF_INIT;
			run_revision_patchset(&hash, rev);
			c->patchset = hash.len ? buf_detach(&hash, NULL) : NULL;
			if (pc->rev > 0 && revs[pc->rev - 1].rev->nr && rev->nr) {
				revcmp_describe(&hash, NULL, revs[pc->rev - 1].rev, rev);
				c->reroll = buf_detach(&hash, NULL);
			}
			buf_release(&hash);
		}
		if (results_make_cell_dir(c, run_dir, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * A second boot of cell 'c''s kernel running just 'tests': their "# perf:"
 * samples go to c's figures as the second boot's (ktap confirm samples).
 * A kernel that cannot be booted again adds nothing (the change then
 * stays "one boot each"); -1 only for kpipe's or the machine's failures.
 */
static int boot_again_for_perf(struct run_ctx *ctx, struct cell *c, const struct strvec *tests,
			       const char *run_dir, struct kperror *err)
{
	git_oid commit;
	if (!c->commit || git_oid_fromstr(&commit, c->commit))
		return 0;
	struct cell probe;
	struct buf name = BUF_INIT;
	buf_addf(&name, "%s-perf-again", c->revision);
	results_probe_init(&probe, c->arch, name.data);
	buf_release(&name);
	struct runner_cell_opts o = { .only_tests = tests };
	int ret = -1;
	if (results_make_cell_dir(&probe, run_dir, err) < 0 || runner_run_cell(ctx, &probe, &commit, &o, err) < 0)
		goto out;
	for (size_t t = 0; t < probe.nr_tests; t++) {
		struct test_result *to = (struct test_result *)results_find_test(c, probe.tests[t].name);
		const struct ktap *k = &probe.tests[t].ktap;
		for (size_t m = 0; to && m < k->nr_metrics; m++)
			for (size_t i = 0; i < k->metrics[m].nr_samples; i++)
				ktap_add_confirm_sample(&to->ktap, k->metrics[m].name, k->metrics[m].samples[i],
							k->metrics[m].unit);
	}
	ret = c->dir ? results_write_cell(c, err) : 0; /* its result.json with the second boot's samples */
out:
	results_cell_release(&probe);
	return ret;
}

/* Whether c already holds second-boot samples of test 'name'. */
static int has_second_boot(const struct cell *c, const char *name)
{
	const struct test_result *t = results_find_test(c, name);
	for (size_t m = 0; t && m < t->ktap.nr_metrics; m++)
		if (t->ktap.metrics[m].nr_confirm)
			return 1;
	return 0;
}

/*
 * Perf changes seen between two cells in one boot each are measured
 * again in fresh boots of both kernels before they are believed: one
 * boot's samples share its conditions (where the guest's memory landed,
 * what the host did meanwhile), so two boots of one kernel can differ as
 * much as two kernels.  results_changes() then lists a change only if the
 * second boots show it too.
 */
static int confirm_perf_changes(struct run_ctx *ctx, struct cell *cells, size_t n, const char *run_dir,
				struct kperror *err)
{
	for (size_t i = 0; i < n; i++) {
		struct strvec tests = STRVEC_INIT;
		results_perf_to_confirm(&tests, cells, n, i);
		long ref = results_perf_reference(cells, n, i);
		if (tests.nr && ref >= 0) {
			struct buf which = BUF_INIT;
			for (size_t t = 0; t < tests.nr; t++)
				buf_addf(&which, "%s%s", t ? ", " : "", tests.v[t]);
			run_ctx_say(ctx, NULL, "perf: %s %s: %s moved beyond noise against %s in one boot each: "
				    "booting both kernels again to see if it holds", cells[i].revision, cells[i].arch,
				    which.data, cells[ref].revision);
			buf_release(&which);
		}
		struct cell *both[2] = { &cells[i], ref >= 0 ? &cells[ref] : NULL };
		for (int b = 0; b < 2 && tests.nr && both[1]; b++) {
			struct strvec need = STRVEC_INIT;
			for (size_t t = 0; t < tests.nr; t++)
				if (!has_second_boot(both[b], tests.v[t]))
					strvec_push(&need, tests.v[t]);
			int r = need.nr ? boot_again_for_perf(ctx, both[b], &need, run_dir, err) : 0;
			strvec_clear(&need);
			if (r < 0) {
				strvec_clear(&tests);
				return -1;
			}
		}
		strvec_clear(&tests);
	}
	return 0;
}

/* Mark cells[from..] that never started as 'why' and write them. */
static void cells_not_reached(struct cell *cells, size_t from, size_t n, enum cell_verdict v, const char *why)
{
	for (size_t i = from; i < n; i++) {
		if (cells[i].verdict != CELL_NOT_RUN || cells[i].detail)
			continue;
		cells[i].verdict = v;
		results_set_detail(&cells[i], "%s", why);
		struct kperror ignored = KPERROR_INIT;
		results_write_cell(&cells[i], &ignored);
		kperror_release(&ignored);
	}
}

/*
 * What patches 'rr' changed from 'prev' (both applied), as git range-diff
 * shows them, into run_dir/range-diff-vN.txt; said, never fatal (a
 * missing git or a failing range-diff costs the file only).
 */
static void write_range_diff(struct run_ctx *ctx, const struct run_revision *prev, const struct run_revision *rr,
			     const char *name, const char *run_dir)
{
	struct buf what = BUF_INIT, path = BUF_INIT, out = BUF_INIT;
	struct strvec changed = STRVEC_INIT;
	struct proc git = PROC_INIT;
	struct kperror err = KPERROR_INIT;
	char a[GIT_OID_HEXSZ + 1], b[GIT_OID_HEXSZ + 1], c[GIT_OID_HEXSZ + 1], d[GIT_OID_HEXSZ + 1];
	if (!prev->commits.nr_commits || !rr->commits.nr_commits ||
	    !revcmp_describe(&what, &changed, prev->rev, rr->rev) || !changed.nr)
		goto out;
	git_oid_tostr(a, sizeof(a), &prev->onto);
	git_oid_tostr(b, sizeof(b), &prev->commits.head);
	git_oid_tostr(c, sizeof(c), &rr->onto);
	git_oid_tostr(d, sizeof(d), &rr->commits.head);
	strvec_push(&git.argv, "git");
	strvec_pushf(&git.argv, "--git-dir=%s", git_repository_path(ctx->tree->repo));
	strvec_pushl(&git.argv, "range-diff", "--no-color", NULL);
	strvec_pushf(&git.argv, "%s..%s", a, b);
	strvec_pushf(&git.argv, "%s..%s", c, d);
	git.out = &out;
	git.timeout_seconds = 300;
	buf_addf(&path, "%s/range-diff-%s.txt", run_dir, name);
	if (proc_run(&git, &err) < 0 || git.exit_code) {
		run_ctx_say(ctx, name, "range-diff: git range-diff failed: %s",
			    err.msg.len ? err.msg.data : out.data ? out.data : "no output");
		goto out;
	}
	if (buf_write_file(&out, path.data) < 0) {
		run_ctx_say(ctx, name, "range-diff: cannot write '%s'", path.data);
		goto out;
	}
	run_ctx_say(ctx, name, "range-diff: %zu changed patch%s in %s", changed.nr, changed.nr == 1 ? "" : "es",
		    path.data);
out:
	proc_release(&git);
	kperror_release(&err);
	strvec_clear(&changed);
	buf_release(&what);
	buf_release(&path);
	buf_release(&out);
}

/*
 * Revision 'rr' applied (PLAN_APPLY) into rr->commits, or said to be
 * commits already (--commits).  -1 with 'err' (KPERROR_INPUT: a patch
 * does not apply) otherwise.
 */
static int apply_step(struct run_ctx *ctx, struct run_revision *rr, const struct plan_revision *pr,
		      struct kperror *err)
{
	if (pr->from_commits) {
		run_ctx_say(ctx, pr->name, "commits %s: %zu, nothing to apply", rr->range, rr->rev->nr);
		return 0;
	}
	run_ctx_say(ctx, pr->name, "onto %s", rr->onto_why);
	double a0 = util_now();
	if (apply_revision(&rr->commits, ctx->tree, rr->rev, &rr->onto, err) < 0) {
		rr->apply_seconds = util_now() - a0;
		run_ctx_say(ctx, pr->name, "apply: FAILED: %s", err->msg.data);
		return -1;
	}
	rr->apply_seconds = util_now() - a0;
	run_ctx_say(ctx, pr->name, "apply: %zu patch%s as %s in %s", rr->rev->nr, rr->rev->nr == 1 ? "" : "es",
		    rr->commits.branch, util_duration(rr->apply_seconds));
	return 0;
}

/*
 * Revision 'r' of the plan applied (apply_step()), and what it changed
 * from the one before written as a range-diff.  When it does not apply,
 * its cells (from cells[first] on: a revision's cells are next to each
 * other) are apply-failed, bad input; a revision this part of the run
 * has no cell of is only said to fail.  -1 only for kpipe's failures.
 */
static int apply_revision_once(struct run_ctx *ctx, const struct plan *plan, struct run_revision *revs, size_t r,
			       struct cell *cells, size_t first, const char *run_dir, struct kperror *err)
{
	struct run_revision *rr = &revs[r];
	const struct plan_revision *pr = &plan->revs[r];
	run_ctx_say(ctx, NULL, "%s: %s", pr->name, rr->rev->title);
	if (apply_step(ctx, rr, pr, err) == 0) {
		if (r > 0)
			write_range_diff(ctx, &revs[r - 1], rr, pr->name, run_dir);
		return 0;
	}
	if (err->kind != KPERROR_INPUT)
		return -1;
	for (size_t k = first; k < plan->nr_cells && plan->cells[k].rev == r; k++) {
		cells[k].verdict = CELL_APPLY_FAILED;
		cells[k].seconds[STAGE_APPLY] = rr->apply_seconds;
		results_set_detail(&cells[k], "%s", err->msg.data);
		if (results_write_cell(&cells[k], err) < 0)
			return -1;
	}
	kperror_clear(err);
	return 0;
}

int run_plan_execute(struct cell **out_cells, double *cells_wall, struct run_ctx *ctx,
		     const struct plan *plan, struct run_revision *revs, const struct run_base *bases,
		     const git_oid *base, const char *run_dir, struct kperror *err)
{
	struct cell *cells = calloc(plan->nr_cells ? plan->nr_cells : 1, sizeof(*cells));
	struct store_job *stores = calloc(plan->arches.nr ? plan->arches.nr : 1, sizeof(*stores));
	struct runner *rn = NULL;
	int ret = -1;
	double start = util_now();
	size_t i = 0, applied = 0;

	*out_cells = cells;
	*cells_wall = 0;
	if (make_cells(cells, plan, revs, run_dir, err) < 0 ||
	    runner_start(&rn, ctx, plan->hosts, plan->nr_hosts, err) < 0)
		goto out;
	for (; i < plan->nr_cells; i++) {
		const struct plan_cell *pc = &plan->cells[i];
		struct cell *c = &cells[i];
		const char *arch = plan->arches.v[pc->arch];
		struct runner_cell_opts o = { .host = pc->host };
		if (runner_failed(rn) || proc_interrupted)
			break;
		if (pc->rev == PLAN_NONE) {
			const char *key = bases[pc->arch].key;
			struct buf tag = BUF_INIT;
			int found = 0;
			buf_addf(&tag, "base %s", arch);
			hex_of(&c->commit, base);
			if (pc->steps & PLAN_LOAD) {
				found = baseline_load(c, ctx->cfg->cache_dir, key, err);
				if (found == 0)
					kperror_set(err, KPERROR_INFRA, "the cached baseline '%s' went away", key);
				if (found > 0) {
					splat_ignore(&c->splats, &ctx->cfg->splat_ignore); /* today's noise list */
					run_ctx_say(ctx, tag.data, "baseline: %s, cached (%s)",
						    results_cell_verdict_name(c->verdict), key);
				}
			} else {
				run_ctx_say(ctx, tag.data, "baseline: not cached yet (%s): testing the unpatched base", key);
				stores[pc->arch] = (struct store_job){ ctx->cfg->cache_dir, key, ctx };
				o.done = store_baseline;
				o.done_data = &stores[pc->arch];
			}
			buf_release(&tag);
			if ((pc->steps & PLAN_LOAD) ? found <= 0 || results_write_cell(c, err) < 0
						    : runner_submit(rn, c, base, &o, err) < 0)
				goto out;
			continue;
		}
		struct run_revision *rr = &revs[pc->rev];
		/* every revision up to this one, once: a part of a run applies the ones before its own too */
		for (; applied <= pc->rev; applied++) {
			if (apply_revision_once(ctx, plan, revs, applied, cells, i, run_dir, err) < 0)
				goto out;
		}
		c->seconds[STAGE_APPLY] = rr->apply_seconds;
		if (c->verdict == CELL_APPLY_FAILED)
			continue;
		hex_of(&c->commit, &rr->commits.head);
		hex_of(&c->onto, &rr->onto);
		c->branch = rr->commits.branch ? strdup(rr->commits.branch) : NULL;
		if (pc->steps & PLAN_LOAD) {
			/* tested before: its results, as that run found them */
			int found = baseline_load_tested(c, rr->tested_dir, arch, c->patchset, err);
			if (found == 0)
				kperror_set(err, KPERROR_INFRA, "the run '%s' no longer holds %s/%s", rr->tested_dir,
					    c->revision, arch);
			if (found > 0)
				splat_ignore(&c->splats, &ctx->cfg->splat_ignore); /* today's noise list */
			if (found <= 0 || results_write_cell(c, err) < 0)
				goto out;
			struct buf tag = BUF_INIT;
			buf_addf(&tag, "%s %s", c->revision, arch);
			run_ctx_say(ctx, tag.data, "tested before: %s, loaded from %s", results_cell_verdict_name(c->verdict),
				    rr->tested_dir);
			buf_release(&tag);
			continue;
		}
		if (pc->steps & PLAN_EACH_PATCH) {
			o.rev = rr->rev;
			o.base = &rr->onto;
			o.commits = rr->commits.commits;
		}
		if (runner_submit(rn, c, &rr->commits.head, &o, err) < 0)
			goto out;
	}
	if (runner_finish(rn, err) < 0) {
		rn = NULL;
		goto out;
	}
	rn = NULL;
	if (proc_interrupted) {
		kperror_set(err, KPERROR_INTERRUPTED, "interrupted");
		goto out;
	}
	*cells_wall = util_now() - start;
	results_compare(cells, plan->nr_cells);
	if (confirm_perf_changes(ctx, cells, plan->nr_cells, run_dir, err) < 0)
		goto out;
	for (size_t k = 0; k < plan->nr_cells; k++) {
		const struct plan_cell *pc = &plan->cells[k];
		struct cell *c = &cells[k];
		if (!(pc->steps & PLAN_BISECT) || c->verdict != CELL_FAIL ||
		    !verdict_is_regression(cells, plan->nr_cells, k) || !revs[pc->rev].commits.nr_commits)
			continue;
		const struct revision *rev = revs[pc->rev].rev;
		if (rev->nr < 2) {
			c->first_bad = strdup("the revision has one patch");
			continue;
		}
		run_ctx_say(ctx, NULL, "bisect %s %s: %zu patches", c->revision, c->arch, rev->nr);
		if (bisect_first_bad(ctx, c, results_baseline_of(cells, plan->nr_cells, k), rev,
				     revs[pc->rev].commits.commits, run_dir, err) < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		/* what a failure left: the guests finish or are written as not run, the rest likewise */
		struct kperror ignored = KPERROR_INIT;
		runner_finish(rn, &ignored);
		kperror_release(&ignored);
		if (!*cells_wall)
			*cells_wall = util_now() - start;
		cells_not_reached(cells, 0, plan->nr_cells,
				  err->kind == KPERROR_INTERRUPTED ? CELL_NOT_RUN : CELL_INFRA,
				  err->kind == KPERROR_INTERRUPTED ? "not run: interrupted" : "not run: an earlier step failed");
		results_compare(cells, plan->nr_cells);
	}
	free(stores);
	return ret;
}

void run_revision_base(git_oid *out, struct buf *why, struct tree *t, const struct revision *rev)
{
	buf_reset(why);
	if (t)
		git_oid_cpy(out, &t->base);
	if (!rev->base_commit) {
		buf_addf(why, "the configured base%s%s (the series names no base-commit)",
			 t ? ": " : "", t ? t->base_desc : "");
		return;
	}
	int found = t ? tree_find_base_commit(out, t, rev->base_commit) : -1;
	if (found == 0) {
		char hex[13];
		git_oid_tostr(hex, sizeof(hex), out);
		buf_addf(why, "base-commit %s from the series", hex);
		return;
	}
	buf_addf(why, "the configured base%s%s: base-commit %.12s %s", t ? ": " : "",
		 t ? t->base_desc : "", rev->base_commit,
		 !t ? "cannot be checked before the tree is imported"
		 : found == -2 ? "is only on another series' branch, not in the base's history"
			       : "is not in the tree");
}

int run_plan_revisions(struct run_revision **out, git_oid *base, struct series *s,
		       const struct strvec *ranges, struct tree *t, struct kperror *err)
{
	size_t n = ranges && ranges->nr ? ranges->nr : s->nr;
	struct run_revision *revs = calloc(n ? n : 1, sizeof(*revs));
	struct buf why = BUF_INIT;
	*out = revs;
	if (ranges && ranges->nr) {
		/* commits already in the tree: each range is a revision, nothing to apply */
		s->revs = calloc(n, sizeof(*s->revs));
		for (size_t i = 0; i < n; i++) {
			if (apply_revision_from_range(&s->revs[i], &revs[i].commits, &revs[i].onto, t,
						      ranges->v[i], (unsigned)i + 1, err) < 0)
				return -1;
			s->nr++;
			revs[i].range = strdup(ranges->v[i]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		revs[i].rev = &s->revs[i];
		if (!revs[i].range) {
			run_revision_base(&revs[i].onto, &why, t, &s->revs[i]);
			revs[i].onto_why = buf_detach(&why, NULL);
		}
	}
	git_oid_cpy(base, &revs[0].onto);
	buf_release(&why);
	return 0;
}

int run_plan_bases(struct run_base **out, const struct run_ctx *ctx, const git_oid *base,
		   struct kperror *err)
{
	const struct strvec *arches = &ctx->cfg->arches;
	struct run_base *bases = calloc(arches->nr ? arches->nr : 1, sizeof(*bases));
	struct buf key = BUF_INIT;
	*out = bases;
	for (size_t a = 0; a < arches->nr; a++) {
		const struct arch_ready *ready = run_ctx_arch(ctx, arches->v[a]);
		buf_reset(&key);
		if (!ready)
			return kperror_set(err, KPERROR_INFRA, "arch '%s' is not prepared", arches->v[a]);
		if (baseline_key(&key, base, arches->v[a], ctx->cfg, &ready->tests, err) < 0) {
			buf_release(&key);
			return -1;
		}
		bases[a].cached = baseline_cached(ctx->cfg->cache_dir, key.data);
		bases[a].key = buf_detach(&key, NULL);
	}
	return 0;
}

void run_plan_make(struct plan *out, const struct run_ctx *ctx, const struct run_revision *revs,
		   size_t nr_revs, const struct run_base *bases, int with_baseline, int each_patch,
		   int bisect)
{
	const struct strvec *arches = &ctx->cfg->arches;
	struct plan_revision *prs = calloc(nr_revs ? nr_revs : 1, sizeof(*prs));
	struct strvec *tests = calloc(arches->nr ? arches->nr : 1, sizeof(*tests));
	int *cached = calloc(arches->nr ? arches->nr : 1, sizeof(*cached));
	struct buf names = BUF_INIT, selftests = BUF_INIT;
	for (size_t r = 0; r < nr_revs; r++) {
		buf_reset(&names);
		buf_addf(&names, "v%u", revs[r].rev->version);
		prs[r].name = buf_detach(&names, NULL);
		prs[r].version = revs[r].rev->version;
		prs[r].nr_patches = revs[r].rev->nr;
		prs[r].on_base = git_oid_equal(&revs[r].onto, &revs[0].onto);
		prs[r].from_commits = revs[r].range != NULL;
		prs[r].tested = revs[r].tested_dir != NULL;
		run_revision_patchset(&names, revs[r].rev);
		prs[r].patchset = names.len ? buf_detach(&names, NULL) : NULL;
	}
	char base[GIT_OID_HEXSZ + 1] = "";
	if (nr_revs)
		git_oid_tostr(base, sizeof(base), &revs[0].onto);
	for (size_t a = 0; a < arches->nr; a++) {
		const struct arch_ready *ready = run_ctx_arch(ctx, arches->v[a]);
		strvec_init(&tests[a]);
		for (size_t t = 0; ready && t < ready->tests.nr; t++)
			strvec_push(&tests[a], strrchr(ready->tests.v[t], '/') + 1);
		cached[a] = bases && bases[a].cached;
	}
	for (size_t i = 0; i < ctx->cfg->selftests.nr; i++)
		buf_addf(&selftests, "%s%s", i ? " " : "", ctx->cfg->selftests.v[i]);
	/* [vm] hosts: a local one without its slots gets [vm] guests, a remote one 1 */
	size_t nr_hosts = ctx->cfg->nr_hosts;
	struct plan_host *hosts = calloc(nr_hosts ? nr_hosts : 1, sizeof(*hosts));
	for (size_t h = 0; h < nr_hosts; h++) {
		const struct config_host *ch = &ctx->cfg->hosts[h];
		hosts[h].uri = ch->uri;
		hosts[h].name = strdup(ch->display);
		hosts[h].slots = ch->slots ? ch->slots : ch->remote ? 1 : runner_guest_slots(ctx->cfg);
	}
	struct plan_input in = {
		.arches = arches, .revs = prs, .nr_revs = nr_revs, .base_cached = cached,
		.with_baseline = with_baseline, .each_patch = each_patch, .bisect = bisect,
		.guest_slots = runner_guest_slots(ctx->cfg), .hosts = hosts, .nr_hosts = nr_hosts,
		.tests = tests, .selftests = selftests.data, .base = base,
	};
	plan_make(out, &in);
	for (size_t h = 0; h < nr_hosts; h++)
		free(hosts[h].name);
	free(hosts);
	for (size_t r = 0; r < nr_revs; r++) {
		free(prs[r].name);
		free(prs[r].patchset);
	}
	free(prs);
	for (size_t a = 0; a < arches->nr; a++)
		strvec_clear(&tests[a]);
	free(tests);
	free(cached);
	buf_release(&names);
	buf_release(&selftests);
}

void run_bases_free(struct run_base *bases, size_t n)
{
	for (size_t i = 0; bases && i < n; i++)
		free(bases[i].key);
	free(bases);
}

int run_plan_select(struct plan *p, const struct strvec *patterns, unsigned shard, unsigned nr_shards,
		    struct kperror *err)
{
	struct buf why = BUF_INIT;
	if (!patterns->nr && !nr_shards)
		return 0;
	int ret = plan_select(p, patterns, shard, nr_shards, &why);
	if (ret < 0)
		kperror_set(err, KPERROR_INPUT, "%s", why.data);
	buf_release(&why);
	return ret;
}

int run_plan_check_cells(const struct series *s, const struct strvec *arches, int with_baseline,
			 const struct strvec *patterns, unsigned shard, unsigned nr_shards, struct kperror *err)
{
	if (!patterns->nr || !s->nr)
		return 0;
	struct plan_revision *revs = calloc(s->nr, sizeof(*revs));
	for (size_t r = 0; r < s->nr; r++) {
		revs[r].name = util_strfmt("v%u", s->revs[r].version);
		revs[r].on_base = 1;
	}
	struct plan_input in = { .arches = arches, .revs = revs, .nr_revs = s->nr, .with_baseline = with_baseline };
	struct plan names = PLAN_INIT;
	plan_make(&names, &in);
	int ret = run_plan_select(&names, patterns, shard, nr_shards, err);
	plan_release(&names);
	for (size_t r = 0; r < s->nr; r++)
		free(revs[r].name);
	free(revs);
	return ret;
}

int run_plan_find_tested(struct run_revision *revs, size_t nr, const struct strvec *arches,
			 const struct strvec *dirs, struct kperror *err)
{
	struct buf hash = BUF_INIT;
	int ret = -1;
	for (size_t r = 0; r < nr; r++) {
		if (revs[r].range)
			continue;
		buf_reset(&hash);
		run_revision_patchset(&hash, revs[r].rev);
		for (size_t d = 0; d < dirs->nr && !revs[r].tested_dir; d++) {
			size_t found = 0;
			for (size_t a = 0; a < arches->nr; a++) {
				int k = baseline_load_tested(NULL, dirs->v[d], arches->v[a], hash.data, err);
				if (k < 0) {
					err->kind = KPERROR_INPUT;
					goto out;
				}
				found += k > 0;
			}
			if (arches->nr && found == arches->nr)
				revs[r].tested_dir = strdup(dirs->v[d]);
		}
	}
	ret = 0;
out:
	buf_release(&hash);
	return ret;
}

void run_revision_release(struct run_revision *r)
{
	free(r->tested_dir);
	free(r->onto_why);
	apply_result_release(&r->commits);
	free(r->range);
}
