/*
 * The guest tests stage: kpipe's guest tests built against the revision's
 * own uAPI headers, and the tree's mm selftests that [test] selftests picks.
 */
#include "stage.h"
#include "proc.h"
#include "selftests.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The changed paths under the mm selftests between c->onto and c->commit (none without both). */
static int selftests_changed(struct strvec *out, struct cell_run *r, const struct cell *c, struct kperror *err)
{
	git_oid from, to;
	if (!c->onto || !c->commit || git_oid_fromstr(&from, c->onto) < 0 || git_oid_fromstr(&to, c->commit) < 0)
		return 0;
	return tree_changed_paths(out, r->ctx->tree, &from, &to, SELFTESTS_MM_DIR, err);
}

/*
 * The mm selftests [test] selftests picks for this cell, built into
 * r->vmdir/tests as selftest-mm-NAME and pushed onto 'out'; those that
 * do not build go to r->unbuilt with the reason.  Notes say what was
 * picked and what a "touched" run leaves out.
 */
static int stage_selftests(struct cell_run *r, const char *khdr, int jobs,
			   const struct sandbox *sandbox, struct kperror *err)
{
	struct cell *c = r->cell;
	struct strvec *out = &r->tests;
	const struct strvec *mode = &r->ctx->cfg->selftests;
	struct strvec programs = STRVEC_INIT, changed = STRVEC_INIT, picked = STRVEC_INIT,
		      unmatched = STRVEC_INIT, built = STRVEC_INIT, unbuilt = STRVEC_INIT, only = STRVEC_INIT;
	struct buf outdir = BUF_INIT, log = BUF_INIT, note = BUF_INIT, dest = BUF_INIT, mmsrc = BUF_INIT,
		   mmdir = BUF_INIT;
	int ret = -1;

	if (r->only_tests) {
		/* a bisect probe: exactly the selftests it names */
		size_t plen = strlen(SELFTESTS_NAME_PREFIX);
		for (size_t i = 0; i < r->only_tests->nr; i++)
			if (!strncmp(r->only_tests->v[i], SELFTESTS_NAME_PREFIX, plen))
				strvec_push(&only, r->only_tests->v[i] + plen);
		mode = &only;
	}
	if (!mode->nr || !strcmp(mode->v[0], "none")) {
		strvec_clear(&only);
		return 0;
	}
	int touched = !strcmp(mode->v[0], "touched");
	if (touched && !c->onto)
		return 0; /* the base, or a commit with no patches of its own */
	buf_addf(&outdir, "%s/selftests-mm", r->vmdir);
	buf_addf(&log, "%s/selftests.log", c->dir);
	/* a sandboxed make sees the tree where the kernel build saw it */
	struct selftests_build_opts so = {
		.srcdir = sandbox ? STAGE_SANDBOX_SRC : r->ctx->tree->workdir, .arch = r->arch->arch, .khdr = khdr,
		.outdir = outdir.data, .log_path = log.data, .jobs = jobs, .sandbox = sandbox,
	};
	if (sandbox) {
		/*
		 * The mm selftests' Makefile writes local_config.h and .mk beside
		 * its sources: in the sandbox it gets a copy of its directory to
		 * write in, shown where the tree's is; the tree stays read-only.
		 */
		int e = util_mkdir_p(outdir.data, 0755);
		if (e < 0) {
			kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", outdir.data);
			goto out;
		}
		buf_addf(&mmsrc, "%s/selftests-mm-src", r->vmdir);
		buf_addf(&mmdir, "%s/%s", r->ctx->tree->workdir, SELFTESTS_MM_DIR);
		util_rm_rf(mmsrc.data);
		if (stage_copy_tree(mmdir.data, mmsrc.data, err) < 0)
			goto out;
		buf_reset(&mmdir);
		buf_addf(&mmdir, "%s/%s", so.srcdir, SELFTESTS_MM_DIR);
		sandbox_write(&r->sandbox, outdir.data);
		sandbox_write_at(&r->sandbox, mmsrc.data, mmdir.data);
	}
	if ((touched && selftests_changed(&changed, r, c, err) < 0) ||
	    (!(touched && !changed.nr) && selftests_programs(&programs, &so, err) < 0))
		goto out;
	selftests_pick(&picked, &unmatched, mode, &programs, &changed);
	if (unmatched.nr) {
		buf_reset(&note);
		if (touched) {
			buf_adds(&note, "mm selftests: also changed, no one program's source:");
			for (size_t i = 0; i < unmatched.nr; i++)
				buf_addf(&note, " %s", unmatched.v[i]);
			buf_adds(&note, " ([test] selftests = all runs every program)");
		} else {
			buf_addf(&note, "mm selftests: '%s' is no mm selftest program of this tree", unmatched.v[0]);
			for (size_t i = 0; i < unmatched.nr; i++)
				strvec_pushf(&r->unbuilt, "%s%s\tno such mm selftest in this tree",
					     SELFTESTS_NAME_PREFIX, unmatched.v[i]);
		}
		stage_ui_note(r, note.data);
	}
	if (!picked.nr) {
		ret = 0;
		goto out;
	}
	buf_addf(&dest, "%s/tests", r->vmdir);
	if (util_mkdir_p(dest.data, 0755) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot create '%s'", dest.data);
		goto out;
	}
	if (selftests_build(&built, &unbuilt, &so, &picked, err) < 0)
		goto out;
	for (size_t i = 0; i < built.nr; i++) {
		buf_reset(&dest);
		buf_addf(&dest, "%s/tests/%s%s", r->vmdir, SELFTESTS_NAME_PREFIX, strrchr(built.v[i], '/') + 1);
		if (rename(built.v[i], dest.data) < 0) {
			kperror_errno(err, KPERROR_INFRA, errno, "cannot move '%s' to '%s'", built.v[i], dest.data);
			goto out;
		}
		strvec_push(out, dest.data);
	}
	for (size_t i = 0; i < unbuilt.nr; i++)
		strvec_push(&r->unbuilt, unbuilt.v[i]);
	buf_reset(&note);
	buf_addf(&note, "mm selftests: %zu %s:", picked.nr, touched ? "the revision touches" : "picked");
	for (size_t i = 0; i < picked.nr && i < 8; i++)
		buf_addf(&note, " %s", picked.v[i]);
	if (picked.nr > 8)
		buf_addf(&note, " and %zu more", picked.nr - 8);
	buf_addf(&note, "; %zu built statically", built.nr);
	if (unbuilt.nr)
		buf_addf(&note, ", %zu not (reported as skipped; see selftests.log)", unbuilt.nr);
	stage_ui_note(r, note.data);
	ret = 0;
out:
	util_rm_rf(outdir.data);
	if (mmsrc.len)
		util_rm_rf(mmsrc.data);
	buf_release(&mmsrc);
	buf_release(&mmdir);
	strvec_clear(&programs);
	strvec_clear(&changed);
	strvec_clear(&picked);
	strvec_clear(&unmatched);
	strvec_clear(&built);
	strvec_clear(&unbuilt);
	strvec_clear(&only);
	buf_release(&outdir);
	buf_release(&log);
	buf_release(&note);
	buf_release(&dest);
	return ret;
}

int stage_guest_tests(struct cell_run *r, struct kperror *err)
{
	struct cell *c = r->cell;
	struct strvec *out = &r->tests, tests = STRVEC_INIT;
	struct buf log = BUF_INIT, kconfigs = BUF_INIT, src = BUF_INIT, dir = BUF_INIT, output = BUF_INIT;
	struct kbuild_opts o;
	struct proc mk = PROC_INIT;
	char *khdr = NULL;
	int ret = -1;
	double start = util_now();

	buf_addf(&log, "%s/build.log", c->dir);
	if (stage_build_opts(&o, r, &kconfigs, log.data, STAGE_BUILD, err) < 0)
		goto out;
	/* a bisect probe runs only the tests it names */
	for (size_t i = 0; i < r->arch->tests.nr; i++)
		if (!r->only_tests || strvec_contains(r->only_tests, strrchr(r->arch->tests.v[i], '/') + 1))
			strvec_push(&tests, r->arch->tests.v[i]);
	buf_addf(&src, "%s/guest-tests", r->ctx->cfg->data_dir);
	buf_addf(&dir, "%s/tests", r->vmdir);
	if (kbuild_headers(&khdr, &o, err) < 0)
		goto out;
	strvec_pushl(&mk.argv, "make", "-s", "-B", "-C", src.data, NULL);
	strvec_pushf(&mk.argv, "-j%d", o.jobs);
	strvec_pushf(&mk.argv, "ARCH=%s", c->arch);
	strvec_pushf(&mk.argv, "OUT=%s", dir.data);
	strvec_pushf(&mk.argv, "KHDR=%s", khdr);
	mk.out = &output;
	if (o.sandbox) {
		/* the revision's headers are its sender's: compiled against in the sandbox too */
		int e = util_mkdir_p(dir.data, 0755);
		if (e < 0) {
			kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", dir.data);
			goto out;
		}
		sandbox_read(&r->sandbox, src.data);
		sandbox_write(&r->sandbox, dir.data);
		if (sandbox_wrap(&mk, o.sandbox, err) < 0)
			goto out;
	}
	mk.nice = PROC_NICE_BUILD;
	if (proc_run(&mk, err) < 0)
		goto out;
	if (mk.exit_code) {
		/* a series may change a uAPI the tests use: say so, test with the host's headers */
		buf_rtrim(&output);
		struct buf m = BUF_INIT;
		buf_addf(&m, "warning: the guest tests do not build against this revision's uAPI headers, "
			     "using the host's: %.*s", (int)strcspn(output.data, "\n"), output.data);
		stage_ui_note(r, m.data);
		buf_release(&m);
		for (size_t i = 0; i < tests.nr; i++)
			strvec_push(out, tests.v[i]);
	} else {
		for (size_t i = 0; i < tests.nr; i++)
			strvec_pushf(out, "%s/%s", dir.data, strrchr(tests.v[i], '/') + 1);
	}
	ret = stage_selftests(r, khdr, o.jobs, o.sandbox, err);
out:
	c->seconds[STAGE_BUILD] += util_now() - start; /* building for the cell, tests included */
	proc_release(&mk);
	strvec_clear(&tests);
	free(khdr);
	r->tick_log = NULL; /* it pointed into 'log' */
	buf_release(&log);
	buf_release(&kconfigs);
	buf_release(&src);
	buf_release(&dir);
	buf_release(&output);
	return ret;
}

