#include "bisect.h"
#include "runner.h"

#include <stdlib.h>
#include <string.h>

int bisect_first_bad(struct run_ctx *ctx, struct cell *c, const struct cell *baseline,
		     const struct revision *rev, const git_oid *commits, const char *run_dir,
		     struct kperror *err)
{
	struct strvec tests = STRVEC_INIT, splats = STRVEC_INIT;
	struct buf msg = BUF_INIT;
	int ret = -1;

	/* what went wrong here and not on the baseline */
	for (size_t t = 0; t < c->nr_tests; t++)
		if (results_test_failed(&c->tests[t]) && !c->tests[t].preexisting)
			strvec_push(&tests, c->tests[t].name);
	for (size_t s = 0; s < c->splats.nr; s++)
		if (!c->splats.v[s].preexisting)
			strvec_push(&splats, c->splats.v[s].title);
	if (!tests.nr && !splats.nr) {
		ret = 0;
		goto out;
	}
	/* a splat can come from any test: then run them all */
	struct runner_cell_opts probe_opts = { .only_tests = tests.nr && !splats.nr ? &tests : NULL };

	size_t lo = 0, hi = rev->nr; /* patch lo is good (0: the base), patch hi is bad */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		struct cell probe;
		struct buf name = BUF_INIT;
		buf_addf(&name, "%s-bisect-%zu", c->revision, mid);
		results_probe_init(&probe, c->arch, name.data);
		buf_release(&name);
		if (results_make_cell_dir(&probe, run_dir, err) < 0 ||
		    runner_run_cell(ctx, &probe, &commits[mid - 1], &probe_opts, err) < 0) {
			results_cell_release(&probe);
			goto out;
		}
		const struct patch *pt = &rev->patches[mid - 1];
		if (probe.verdict == CELL_BUILD_FAILED || probe.verdict == CELL_BOOT_FAILED) {
			buf_reset(&msg);
			buf_addf(&msg, "undecided: patch %zu/%zu '%s' %s; the first bad patch is one of %zu..%zu",
				 mid, rev->nr, pt->subject,
				 probe.verdict == CELL_BUILD_FAILED ? "does not build" : "does not boot",
				 lo + 1, hi);
			c->first_bad = buf_detach(&msg, NULL);
			results_cell_release(&probe);
			ret = 0;
			goto out;
		}
		int bad = 0;
		for (size_t t = 0; t < probe.nr_tests; t++) {
			const struct test_result *r = &probe.tests[t];
			if (strvec_contains(&tests, r->name) &&
			    results_test_regressed(r, baseline ? results_find_test(baseline, r->name) : NULL))
				bad = 1;
		}
		for (size_t s = 0; s < probe.splats.nr; s++)
			if (strvec_contains(&splats, probe.splats.v[s].title))
				bad = 1;
		buf_reset(&msg);
		buf_addf(&msg, "bisect: with patches 1..%zu applied (up to '%s'): %s", mid, pt->subject,
			 bad ? "bad" : "good");
		if (ctx->ui && ctx->ui->note)
			ctx->ui->note(ctx->ui->data, c, msg.data);
		if (bad)
			hi = mid;
		else
			lo = mid;
		results_cell_release(&probe);
	}
	buf_reset(&msg);
	buf_addf(&msg, "%zu/%zu '%s'", hi, rev->nr, rev->patches[hi - 1].subject);
	c->first_bad = buf_detach(&msg, NULL);
	ret = 0;
out:
	strvec_clear(&tests);
	strvec_clear(&splats);
	buf_release(&msg);
	return ret;
}
