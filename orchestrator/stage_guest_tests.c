/*
 * The guest tests stage: kpipe's guest tests built against the revision's
 * own uAPI headers, and the tree's mm selftests that [test] selftests picks.
 */
#include "stage.h"
#include "proc.h"
#include "selftests.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
 * The revision's run_vmtests.sh, read into 'runs', and *hooked, the copy
 * that runs one call at a time (NULL: the tree has no such script, or its
 * run_test() cannot be hooked; then every program runs on its own).
 */
static void read_runner(struct selftest_runs *runs, char **hooked, struct cell_run *r)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	memset(runs, 0, sizeof(*runs));
	*hooked = NULL;
	buf_addf(&path, "%s/%s%s", r->ctx->tree->workdir, SELFTESTS_MM_DIR, SELFTESTS_RUNNER);
	if (buf_read_file_max(&text, path.data, 1 << 20) == 0 && text.data) {
		selftests_parse_runner(runs, text.data);
		*hooked = runs->hookable ? selftests_runner_script(text.data) : NULL;
	}
	buf_release(&path);
	buf_release(&text);
}

/* 'text' into 'out' in single quotes, for a shell. */
static void add_shell_quoted(struct buf *out, const char *text)
{
	buf_addch(out, '\'');
	for (const char *p = text; *p; p++)
		if (*p == '\'')
			buf_adds(out, "'\\''");
		else
			buf_addch(out, *p);
	buf_addch(out, '\'');
}

/* The wrapper the guest runs for 'run': the tree's script, that one call of it only. */
static int write_run_wrapper(const struct selftest_run *run, const char *path, struct kperror *err)
{
	struct buf w = BUF_INIT;
	buf_addf(&w, "#!/bin/bash\n"
		     "# kpipe: mm selftest %s as the tree's %s runs it (line %u, -t %s),\n"
		     "# with the script's own set-up around it\n"
		     "cd /kpipe/mm || exit 1\n"
		     "export KPIPE_RUN_CATEGORY=%s KPIPE_RUN_NTH=%u KPIPE_RUN_ARGS=",
		 run->name, SELFTESTS_RUNNER, run->line, run->category, run->category, run->nth);
	add_shell_quoted(&w, run->pattern);
	buf_addf(&w, "\n"
		     "bash ./%s -n -t %s 2>&1 | tee /tmp/kpipe-selftest.out\n"
		     "rc=${PIPESTATUS[0]}\n"
		     "if ! grep -q '^running ' /tmp/kpipe-selftest.out; then\n"
		     "\techo 'ok 1 %s # SKIP %s does not run it on this guest (one of its conditions does not hold)'\n"
		     "\texit 4\n"
		     "fi\n"
		     "exit $rc\n",
		 SELFTESTS_RUNNER, run->category, run->name, SELFTESTS_RUNNER);
	int ret = buf_write_file(&w, path) < 0 || chmod(path, 0755) < 0
			  ? kperror_errno(err, KPERROR_INFRA, errno, "cannot write '%s'", path)
			  : 0;
	buf_release(&w);
	return ret;
}

/*
 * r->selftests_dir: what the runs need in the guest's /kpipe/mm: the
 * built programs, the mm directory's scripts (the tree's, as they are)
 * and the hooked run_vmtests.sh.
 */
static int stage_runner_dir(struct cell_run *r, const struct strvec *built, const char *hooked,
			    struct kperror *err)
{
	struct buf dir = BUF_INIT, to = BUF_INIT, src = BUF_INIT, text = BUF_INIT;
	int ret = -1;
	buf_addf(&dir, "%s/tests/mm", r->vmdir);
	buf_addf(&src, "%s/%s", r->ctx->tree->workdir, SELFTESTS_MM_DIR);
	int e = util_mkdir_p(dir.data, 0755);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, -e, "cannot create '%s'", dir.data);
		goto out;
	}
	for (size_t i = 0; i < built->nr; i++) {
		buf_reset(&to);
		buf_addf(&to, "%s/%s", dir.data, strrchr(built->v[i], '/') + 1);
		if (util_copy_file(built->v[i], to.data) < 0 || chmod(to.data, 0755) < 0) {
			kperror_errno(err, KPERROR_INFRA, errno, "cannot copy '%s' to '%s'", built->v[i], to.data);
			goto out;
		}
	}
	DIR *d = opendir(src.data);
	for (struct dirent *de; d && (de = readdir(d));) {
		size_t n = strlen(de->d_name);
		if (n < 4 || strcmp(de->d_name + n - 3, ".sh") || de->d_name[0] == '.' ||
		    !strcmp(de->d_name, SELFTESTS_RUNNER))
			continue;
		struct buf from = BUF_INIT;
		buf_addf(&from, "%s%s", src.data, de->d_name);
		buf_reset(&to);
		buf_addf(&to, "%s/%s", dir.data, de->d_name);
		struct stat st;
		int bad = lstat(from.data, &st) == 0 && S_ISREG(st.st_mode) &&
			  (util_copy_file(from.data, to.data) < 0 || chmod(to.data, 0755) < 0);
		buf_release(&from);
		if (bad) {
			closedir(d);
			kperror_errno(err, KPERROR_INFRA, errno, "cannot copy '%s'", to.data);
			goto out;
		}
	}
	if (d)
		closedir(d);
	/* the kernel's .config, which a distribution keeps in /boot (va_high_addr_switch.sh reads it) */
	const char *kdir = r->builddir ? r->builddir : r->kb.builddir;
	buf_reset(&to);
	buf_addf(&text, "%s/.config", kdir ? kdir : "/nonexistent");
	buf_addf(&to, "%s/%s", dir.data, SELFTESTS_KERNEL_CONFIG);
	if (util_exists(text.data) && util_copy_file(text.data, to.data) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot copy '%s' to '%s'", text.data, to.data);
		goto out;
	}
	buf_reset(&text);
	buf_reset(&to);
	buf_addf(&to, "%s/%s", dir.data, SELFTESTS_RUNNER);
	buf_adds(&text, hooked);
	if (buf_write_file(&text, to.data) < 0 || chmod(to.data, 0755) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot write '%s'", to.data);
		goto out;
	}
	free(r->selftests_dir);
	r->selftests_dir = buf_detach(&dir, NULL);
	ret = 0;
out:
	buf_release(&dir);
	buf_release(&to);
	buf_release(&src);
	buf_release(&text);
	return ret;
}

/* The built path of 'program' in 'built', or NULL. */
static const char *built_path(const struct strvec *built, const char *program)
{
	for (size_t i = 0; i < built->nr; i++)
		if (!strcmp(strrchr(built->v[i], '/') + 1, program))
			return built->v[i];
	return NULL;
}

/* The reason 'program' did not build, from 'unbuilt' ("selftest-mm-NAME\tREASON"), or NULL. */
static const char *unbuilt_reason(const struct strvec *unbuilt, const char *program)
{
	size_t plen = strlen(SELFTESTS_NAME_PREFIX), n = strlen(program);
	for (size_t i = 0; i < unbuilt->nr; i++) {
		const char *u = unbuilt->v[i] + plen;
		if (!strncmp(u, program, n) && u[n] == '\t')
			return u + n + 1;
	}
	return NULL;
}

/*
 * Stage the picked programs' tests.  Each run of run_vmtests.sh that
 * starts one becomes a test of its own (selftest-mm-RUN, a wrapper
 * starting the tree's script for that one call); a picked program the
 * script never starts runs on its own, without arguments (when 'all':
 * it is a helper of the script's, not run).  With 'only' (a bisect
 * probe), only the tests it names.
 */
static int stage_selftest_runs(struct cell_run *r, const struct selftest_runs *script, const char *hooked,
			       const struct strvec *programs, const struct strvec *picked, const struct strvec *built,
			       const struct strvec *unbuilt, const struct strvec *only, int all,
			       struct kperror *err)
{
	const struct selftest_run **runs = calloc(script->nr + 1, sizeof(*runs));
	struct strvec bare = STRVEC_INIT, helpers = STRVEC_INIT;
	struct buf dest = BUF_INIT, note = BUF_INIT;
	size_t nruns = 0, staged = 0;
	int ret = -1;

	if (hooked)
		selftests_runs_for(runs, &nruns, &bare, script, picked, all);
	else
		for (size_t i = 0; i < picked->nr; i++)
			strvec_push(&bare, picked->v[i]);
	for (size_t i = 0; i < nruns; i++) {
		const struct selftest_run *run = runs[i];
		const char *prog = run->program;
		size_t n = strlen(prog);
		int script_run = n > 3 && !strcmp(prog + n - 3, ".sh");
		if (!script_run && !strvec_contains(programs, prog))
			continue; /* a program this arch does not build (protection_keys_32 on arm64) */
		buf_reset(&dest);
		buf_addf(&dest, "%s%s", SELFTESTS_NAME_PREFIX, run->name);
		if (only && !strvec_contains(only, dest.data))
			continue;
		const char *why = script_run ? NULL : unbuilt_reason(unbuilt, prog);
		if (why || (!script_run && !built_path(built, prog))) {
			strvec_pushf(&r->unbuilt, "%s\t%s", dest.data, why ? why : "was not built");
			continue;
		}
		buf_reset(&dest);
		buf_addf(&dest, "%s/tests/%s%s", r->vmdir, SELFTESTS_NAME_PREFIX, run->name);
		if (write_run_wrapper(run, dest.data, err) < 0)
			goto out;
		strvec_push(&r->tests, dest.data);
		staged++;
	}
	if (staged && stage_runner_dir(r, built, hooked, err) < 0)
		goto out;
	for (size_t i = 0; i < bare.nr; i++) {
		const char *path = built_path(built, bare.v[i]);
		const char *why = unbuilt_reason(unbuilt, bare.v[i]);
		buf_reset(&dest);
		buf_addf(&dest, "%s%s", SELFTESTS_NAME_PREFIX, bare.v[i]);
		if (only && !strvec_contains(only, dest.data))
			continue;
		if (hooked && all && !why) {
			strvec_push(&helpers, bare.v[i]);
			continue;
		}
		if (!path) {
			strvec_pushf(&r->unbuilt, "%s\t%s", dest.data, why ? why : "was not built");
			continue;
		}
		buf_reset(&dest);
		buf_addf(&dest, "%s/tests/%s%s", r->vmdir, SELFTESTS_NAME_PREFIX, bare.v[i]);
		if (util_copy_file(path, dest.data) < 0 || chmod(dest.data, 0755) < 0) {
			kperror_errno(err, KPERROR_INFRA, errno, "cannot copy '%s' to '%s'", path, dest.data);
			goto out;
		}
		strvec_push(&r->tests, dest.data);
	}
	if (nruns && !only) {
		buf_addf(&note, "mm selftests: %zu test%s as the tree's %s runs them", staged, staged == 1 ? "" : "s",
			 SELFTESTS_RUNNER);
		stage_ui_note(r, note.data);
	}
	if (bare.nr > helpers.nr && !only) {
		buf_reset(&note);
		buf_addf(&note, "mm selftests: %s", hooked ? "not in the tree's " SELFTESTS_RUNNER ", run on their own "
							      "without arguments:"
						     : "no " SELFTESTS_RUNNER " with a run_test() here: run on their "
						       "own without arguments:");
		for (size_t i = 0; i < bare.nr; i++)
			if (!strvec_contains(&helpers, bare.v[i]))
				buf_addf(&note, " %s", bare.v[i]);
		stage_ui_note(r, note.data);
	}
	if (helpers.nr && !only) {
		buf_reset(&note);
		buf_addf(&note, "mm selftests: %zu program%s %s starts only from its scripts (or not at all), not run "
				"on their own:", helpers.nr, helpers.nr == 1 ? "" : "s", SELFTESTS_RUNNER);
		for (size_t i = 0; i < helpers.nr && i < 8; i++)
			buf_addf(&note, " %s", helpers.v[i]);
		if (helpers.nr > 8)
			buf_addf(&note, " and %zu more", helpers.nr - 8);
		stage_ui_note(r, note.data);
	}
	ret = 0;
out:
	free(runs);
	strvec_clear(&bare);
	strvec_clear(&helpers);
	buf_release(&dest);
	buf_release(&note);
	return ret;
}

/*
 * The mm selftests [test] selftests picks for this cell, built and staged
 * (stage_selftest_runs()) into r->tests; those that do not build go to
 * r->unbuilt with the reason.  Notes say what was picked and what a
 * "touched" run leaves out.
 */
static int stage_selftests(struct cell_run *r, const char *khdr, int jobs,
			   const struct sandbox *sandbox, struct kperror *err)
{
	struct cell *c = r->cell;
	const struct strvec *mode = &r->ctx->cfg->selftests;
	struct strvec programs = STRVEC_INIT, changed = STRVEC_INIT, picked = STRVEC_INIT,
		      unmatched = STRVEC_INIT, built = STRVEC_INIT, unbuilt = STRVEC_INIT, only = STRVEC_INIT;
	struct buf outdir = BUF_INIT, log = BUF_INIT, note = BUF_INIT, dest = BUF_INIT, mmsrc = BUF_INIT,
		   mmdir = BUF_INIT, libs = BUF_INIT;
	struct selftest_runs script = { 0 };
	char *hooked = NULL;
	int ret = -1;

	read_runner(&script, &hooked, r);
	if (r->only_tests) {
		/* a bisect probe: exactly the selftests it names, built from their programs */
		size_t plen = strlen(SELFTESTS_NAME_PREFIX);
		for (size_t i = 0; i < r->only_tests->nr; i++) {
			const char *name = r->only_tests->v[i];
			if (strncmp(name, SELFTESTS_NAME_PREFIX, plen))
				continue;
			const char *prog = name + plen;
			for (size_t k = 0; hooked && k < script.nr; k++)
				if (!strcmp(script.v[k].name, name + plen))
					prog = script.v[k].program;
			if (!strvec_contains(&only, prog))
				strvec_push(&only, prog);
		}
		mode = &only;
	}
	if (!mode->nr || !strcmp(mode->v[0], "none")) {
		ret = 0;
		goto out;
	}
	int touched = !strcmp(mode->v[0], "touched"), all = !strcmp(mode->v[0], "all");
	if (touched && !c->onto) {
		ret = 0; /* the base, or a commit with no patches of its own */
		goto out;
	}
	buf_addf(&outdir, "%s/selftests-mm", r->vmdir);
	buf_addf(&log, "%s/selftests.log", c->dir);
	/* libnuma and libcap, static, as the image build unpacked them (images/build-initramfs) */
	buf_addf(&libs, "%s/images/stage-%s", r->ctx->cfg->cache_dir, r->arch->arch->deb_arch);
	buf_addf(&mmdir, "%s/usr/include/numa.h", libs.data);
	int have_libs = util_exists(mmdir.data);
	buf_reset(&mmdir);
	/* a sandboxed make sees the tree where the kernel build saw it */
	struct selftests_build_opts so = {
		.srcdir = sandbox ? STAGE_SANDBOX_SRC : r->ctx->tree->workdir, .arch = r->arch->arch, .khdr = khdr,
		.libs = have_libs ? libs.data : NULL, .outdir = outdir.data, .log_path = log.data, .jobs = jobs,
		.sandbox = sandbox,
	};
	if (sandbox && have_libs)
		sandbox_read(&r->sandbox, libs.data);
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
		if (results_copy(mmdir.data, mmsrc.data, err) < 0)
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
	ret = stage_selftest_runs(r, &script, hooked, &programs, &picked, &built, &unbuilt,
				  r->only_tests, all, err);
out:
	util_rm_rf(outdir.data);
	if (mmsrc.len)
		util_rm_rf(mmsrc.data);
	selftest_runs_release(&script);
	free(hooked);
	buf_release(&libs);
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

