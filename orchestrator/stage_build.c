/* The build stage: check out the cell's commit and build its kernel. */
#include "stage.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int stage_build(struct cell_run *r, struct kperror *err)
{
	struct cell *c = r->cell;
	struct kbuild_result *out = &r->kb;
	struct buf log = BUF_INIT, kconfigs = BUF_INIT;
	struct kbuild_opts o = { 0 };
	int ret = -1;
	double start = util_now();

	buf_addf(&log, "%s/build.log", c->dir);
	unlink(log.data);
	stage_ui_start(r, STAGE_BUILD, r->ctx->tree->workdir);
	if (tree_checkout(r->ctx->tree, &r->commit, err) < 0)
		goto out;
	if (stage_build_opts(&o, r, &kconfigs, log.data, STAGE_BUILD, err) < 0)
		goto out;
	kbuild_result_release(out);
	*out = (struct kbuild_result)KBUILD_RESULT_INIT;
	if (kbuild_run(out, &o, err) < 0)
		goto out;
	for (size_t i = 0; i < out->missing.nr; i++)
		strvec_push(&c->missing_options, out->missing.v[i]);
	if (out->missing.nr) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "warning: %zu requested kernel option%s did not stick:", out->missing.nr,
			 out->missing.nr == 1 ? "" : "s");
		for (size_t i = 0; i < out->missing.nr; i++)
			buf_addf(&m, " %s", out->missing.v[i]);
		stage_ui_note(r, m.data);
		buf_release(&m);
	}
	if (!out->ok) {
		c->verdict = CELL_BUILD_FAILED;
		buf_rtrim(&out->errors);
		const char *first = out->errors.data;
		results_set_detail(c, "build failed: %.*s", (int)strcspn(first, "\n"), first);
	}
	ret = 0;
out:
	c->seconds[STAGE_BUILD] = util_now() - start;
	stage_ui_end(r, STAGE_BUILD, ret < 0 ? "error" : out->ok ? (out->configured ? "ok (configured)" : "ok") : "FAILED");
	r->tick_log = NULL; /* it pointed into 'log' */
	buf_release(&log);
	buf_release(&kconfigs);
	return ret;
}

