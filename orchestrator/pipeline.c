#include "pipeline.h"
#include "arch.h"
#include "guest.h"
#include "proc.h"
#include "selftests.h"
#include "util.h"
#include "verdict.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tick_ctx {
	struct pipeline *p;
	struct cell *c;
	enum stage stage;
	const char *log_path;
};

static void ui_start(struct pipeline *p, struct cell *c, enum stage s, const char *what)
{
	if (p->ui && p->ui->stage_start)
		p->ui->stage_start(p->ui->data, c, s, what);
}

static void ui_end(struct pipeline *p, struct cell *c, enum stage s, const char *outcome)
{
	if (p->ui && p->ui->stage_end)
		p->ui->stage_end(p->ui->data, c, s, c->seconds[s], outcome);
}

static void ui_note(struct pipeline *p, struct cell *c, const char *msg)
{
	if (p->ui && p->ui->note)
		p->ui->note(p->ui->data, c, msg);
}

/* The last line of a log that says what make is doing ("CC mm/memory.o"). */
static void last_log_line(struct buf *out, const char *path)
{
	struct buf text = BUF_INIT;
	if (buf_read_file(&text, path) == 0) {
		buf_rtrim(&text);
		const char *nl = strrchr(text.data, '\n');
		const char *l = nl ? nl + 1 : text.data;
		while (*l == ' ')
			l++;
		buf_add(out, l, strlen(l) > 70 ? 70 : strlen(l));
	}
	buf_release(&text);
}

static void tick(void *data, double elapsed)
{
	struct tick_ctx *t = data;
	struct buf what = BUF_INIT;
	if (t->log_path)
		last_log_line(&what, t->log_path);
	if (t->p->ui && t->p->ui->alive)
		t->p->ui->alive(t->p->ui->data, t->c, t->stage, elapsed, what.data);
	buf_release(&what);
}

/* The options every kernel build of this pipeline uses; 'kconfigs' holds the path. */
static void build_opts(struct kbuild_opts *o, struct pipeline *p, struct cell *c,
		       struct buf *kconfigs, const char *log_path, struct tick_ctx *t)
{
	buf_reset(kconfigs);
	buf_addf(kconfigs, "%s/kconfigs", p->cfg->data_dir);
	memset(o, 0, sizeof(*o));
	o->arch = c->arch;
	o->srcdir = p->tree->workdir;
	o->cache_dir = p->cfg->cache_dir;
	o->kconfig_dir = kconfigs->data;
	o->fragments = &p->cfg->fragments;
	o->jobs = p->cfg->build_jobs > 0 ? p->cfg->build_jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	o->timeout_seconds = p->cfg->build_timeout;
	o->log_path = log_path;
	o->tick = tick;
	o->tick_data = t;
}

int pipeline_build(struct kbuild_result *out, struct pipeline *p, struct cell *c,
		   const git_oid *commit, struct kperror *err)
{
	struct buf log = BUF_INIT, kconfigs = BUF_INIT;
	struct tick_ctx t = { p, c, STAGE_BUILD, NULL };
	struct kbuild_opts o = { 0 };
	int ret = -1;
	double start = util_now();

	buf_addf(&log, "%s/build.log", c->dir);
	unlink(log.data);
	t.log_path = log.data;
	ui_start(p, c, STAGE_BUILD, p->tree->workdir);
	if (tree_checkout(p->tree, commit, err) < 0)
		goto out;
	build_opts(&o, p, c, &kconfigs, log.data, &t);
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
		ui_note(p, c, m.data);
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
	ui_end(p, c, STAGE_BUILD, ret < 0 ? "error" : out->ok ? (out->configured ? "ok (configured)" : "ok") : "FAILED");
	buf_release(&log);
	buf_release(&kconfigs);
	return ret;
}

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pipeline_guest_tests(struct strvec *out, struct pipeline *p, const char *arch,
			 struct kperror *err)
{
	struct proc mk = PROC_INIT;
	struct buf src = BUF_INIT, bin = BUF_INIT, output = BUF_INIT;
	int ret = -1;

	buf_addf(&src, "%s/guest-tests", p->cfg->data_dir);
	buf_addf(&bin, "%s/build/%s", src.data, arch);
	strvec_pushl(&mk.argv, "make", "-s", "-C", src.data, NULL);
	strvec_pushf(&mk.argv, "ARCH=%s", arch);
	mk.out = &output;
	if (proc_run(&mk, err) < 0)
		goto out;
	if (mk.exit_code) {
		buf_rtrim(&output);
		kperror_set(err, KPERROR_INFRA, "cannot build the guest tests in '%s': %s", src.data,
			    output.data);
		goto out;
	}
	DIR *d = opendir(bin.data);
	if (!d) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot read '%s'", bin.data);
		goto out;
	}
	struct strvec found = STRVEC_INIT, names = STRVEC_INIT;
	struct dirent *de;
	int all = strvec_contains(&p->cfg->tests, "all");
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		strvec_push(&names, de->d_name);
		/* a bisect probe runs only the tests it names (the config's check below still holds) */
		if (p->only_tests && !strvec_contains(p->only_tests, de->d_name))
			continue;
		if (all || strvec_contains(&p->cfg->tests, de->d_name))
			strvec_pushf(&found, "%s/%s", bin.data, de->d_name);
	}
	closedir(d);
	qsort(found.v, found.nr, sizeof(char *), compare_str);
	for (size_t i = 0; i < p->cfg->tests.nr; i++) {
		const char *want = p->cfg->tests.v[i];
		if (strcmp(want, "all") && !strvec_contains(&names, want)) {
			kperror_set(err, KPERROR_INPUT, "%s: [test] tests: no guest test '%s' in '%s'",
				    p->cfg->source, want, src.data);
			strvec_clear(&found);
			strvec_clear(&names);
			goto out;
		}
	}
	strvec_clear(&names);
	for (size_t i = 0; i < found.nr; i++)
		strvec_push(out, found.v[i]);
	strvec_clear(&found);
	ret = 0;
out:
	proc_release(&mk);
	buf_release(&src);
	buf_release(&bin);
	buf_release(&output);
	return ret;
}

int pipeline_image(char **out, struct pipeline *p, const char *arch, struct kperror *err)
{
	struct buf img = BUF_INIT, script = BUF_INIT, init = BUF_INIT, work = BUF_INIT, log = BUF_INIT,
		   key_path = BUF_INIT, key = BUF_INIT, have = BUF_INIT;
	struct proc mk = PROC_INIT;
	int ret = -1;

	buf_addf(&work, "%s/images", p->cfg->cache_dir);
	buf_addf(&img, "%s/initramfs-%s.cpio.gz", work.data, arch);
	buf_addf(&script, "%s/images/build-initramfs", p->cfg->data_dir);
	buf_addf(&init, "%s/images/init", p->cfg->data_dir);
	/*
	 * Current when built from these very files: the cache is shared by
	 * every checkout, so a newer image may come from another init.
	 */
	uint64_t h = UTIL_HASH_INIT;
	util_hash(&h, arch, strlen(arch));
	int e = util_hash_file(&h, script.data);
	if (e == 0)
		e = util_hash_file(&h, init.data);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot read '%s' or '%s'", script.data, init.data);
		goto out;
	}
	buf_addf(&key_path, "%s.key", img.data);
	buf_addf(&key, "%016llx\n", (unsigned long long)h);
	if (util_exists(img.data) && buf_read_file(&have, key_path.data) == 0 && have.len == key.len &&
	    !memcmp(have.data, key.data, key.len)) {
		*out = buf_detach(&img, NULL);
		ret = 0;
		goto out;
	}
	e = util_mkdir_p(work.data, 0755);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", work.data);
		goto out;
	}
	unlink(key_path.data);
	strvec_pushl(&mk.argv, script.data, arch, img.data, work.data, NULL);
	mk.out = &log;
	if (proc_run(&mk, err) < 0)
		goto out;
	if (mk.exit_code) {
		buf_rtrim(&log);
		kperror_set(err, KPERROR_INFRA, "cannot build the %s guest image: %s", arch, log.data);
		goto out;
	}
	if (buf_write_file(&key, key_path.data) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot write '%s'", key_path.data);
		goto out;
	}
	*out = buf_detach(&img, NULL);
	ret = 0;
out:
	proc_release(&mk);
	buf_release(&key_path);
	buf_release(&key);
	buf_release(&have);
	buf_release(&img);
	buf_release(&script);
	buf_release(&init);
	buf_release(&work);
	buf_release(&log);
	return ret;
}

int pipeline_prepare_arch(struct pipeline *p, const char *arch, struct kperror *err)
{
	struct strvec missing = STRVEC_INIT, tests = STRVEC_INIT;
	char *image = NULL;
	int ret = -1;
	const struct arch *a = arch_find(arch);
	if (!a)
		return kperror_set(err, KPERROR_INPUT, "arch '%s' is not supported (supported: %s)", arch,
				   arch_names());
	arch_missing_tools(&missing, a);
	if (missing.nr) {
		struct buf m = BUF_INIT;
		for (size_t i = 0; i < missing.nr; i++)
			buf_addf(&m, "%s%s", i ? "; " : "", missing.v[i]);
		kperror_set(err, KPERROR_INFRA,
			    "%s: missing %s: run 'make deps', or leave %s out of [build] arches", arch,
			    m.data, arch);
		buf_release(&m);
		goto out;
	}
	if (pipeline_guest_tests(&tests, p, arch, err) < 0 || pipeline_image(&image, p, arch, err) < 0)
		goto out;
	ret = 0;
out:
	free(image);
	strvec_clear(&missing);
	strvec_clear(&tests);
	return ret;
}

/* Tail of the console for a one-line verdict: the panic message, if any. */
static void boot_failure_detail(struct cell *c, const char *console, const char *what)
{
	struct buf text = BUF_INIT;
	struct splat_list l = SPLAT_LIST_INIT;
	buf_read_file(&text, console);
	splat_scan(&l, text.data);
	if (l.nr)
		results_set_detail(c, "%s: %s", what, l.v[l.nr - 1].title);
	else
		results_set_detail(c, "%s (see console.log)", what);
	splat_list_release(&l);
	buf_release(&text);
}

/*
 * Remove the guest directories that killed runs (SIGKILL, a lost machine)
 * left in <cache>/vm: named kpipe-PID-..., their PID no longer alive.  A
 * guest of a live kpipe (`kpipe boot` holding one up) is left alone.
 */
static void remove_stale_vmdirs(struct pipeline *p, struct cell *c)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	buf_addf(&dir, "%s/vm", p->cfg->cache_dir);
	DIR *d = opendir(dir.data);
	size_t removed = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		if (strncmp(de->d_name, "kpipe-", 6))
			continue;
		long pid = strtol(de->d_name + 6, &end, 10);
		if (end == de->d_name + 6 || *end != '-' || pid <= 0 || pid == (long)getpid() ||
		    !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		buf_reset(&path);
		buf_addf(&path, "%s/%s", dir.data, de->d_name);
		if (!util_rm_rf(path.data))
			removed++;
	}
	if (d)
		closedir(d);
	if (removed) {
		buf_reset(&path);
		buf_addf(&path, "removed %zu guest director%s in %s left by kpipe runs that were killed", removed,
			 removed == 1 ? "y" : "ies", dir.data);
		ui_note(p, c, path.data);
	}
	buf_release(&dir);
	buf_release(&path);
}

int pipeline_stage_kernel(struct booted *b, struct pipeline *p, struct cell *c, const char *kernel,
			  struct kperror *err)
{
	struct buf path = BUF_INIT;
	int ret = -1;
	remove_stale_vmdirs(p, c);
	buf_addf(&path, "%s/vm/kpipe-%s-%s-%s", p->cfg->cache_dir, p->run_id, c->revision, c->arch);
	util_rm_rf(path.data);
	int e = util_mkdir_p(path.data, 0755);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", path.data);
		goto out;
	}
	b->vmdir = strdup(path.data);
	buf_addf(&path, "/kernel");
	e = util_copy_file(kernel, path.data);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot copy the kernel '%s'", kernel);
		goto out;
	}
	ret = 0;
out:
	buf_release(&path);
	return ret;
}

/* The changed paths under the mm selftests between c->onto and c->commit (none without both). */
static int selftests_changed(struct strvec *out, struct pipeline *p, const struct cell *c, struct kperror *err)
{
	git_oid from, to;
	if (!c->onto || !c->commit || git_oid_fromstr(&from, c->onto) < 0 || git_oid_fromstr(&to, c->commit) < 0)
		return 0;
	return tree_changed_paths(out, p->tree, &from, &to, SELFTESTS_MM_DIR, err);
}

/*
 * The mm selftests [test] selftests picks for this cell, built into
 * b->vmdir/tests as selftest-mm-NAME and pushed onto 'out'; those that
 * do not build go to b->unbuilt with the reason.  Notes say what was
 * picked and what a "touched" run leaves out.
 */
static int stage_selftests(struct strvec *out, struct booted *b, struct pipeline *p, struct cell *c,
			   const char *khdr, int jobs, struct kperror *err)
{
	const struct strvec *mode = &p->cfg->selftests;
	struct strvec programs = STRVEC_INIT, changed = STRVEC_INIT, picked = STRVEC_INIT,
		      unmatched = STRVEC_INIT, built = STRVEC_INIT, unbuilt = STRVEC_INIT, only = STRVEC_INIT;
	struct buf outdir = BUF_INIT, log = BUF_INIT, note = BUF_INIT, dest = BUF_INIT;
	int ret = -1;

	if (p->only_tests) {
		/* a bisect probe: exactly the selftests it names */
		size_t plen = strlen(SELFTESTS_NAME_PREFIX);
		for (size_t i = 0; i < p->only_tests->nr; i++)
			if (!strncmp(p->only_tests->v[i], SELFTESTS_NAME_PREFIX, plen))
				strvec_push(&only, p->only_tests->v[i] + plen);
		mode = &only;
	}
	if (!mode->nr || !strcmp(mode->v[0], "none")) {
		strvec_clear(&only);
		return 0;
	}
	int touched = !strcmp(mode->v[0], "touched");
	if (touched && !c->onto)
		return 0; /* the base, or a commit with no patches of its own */
	buf_addf(&outdir, "%s/selftests-mm", b->vmdir);
	buf_addf(&log, "%s/selftests.log", c->dir);
	struct selftests_build_opts so = {
		.srcdir = p->tree->workdir, .arch = arch_find(c->arch), .khdr = khdr,
		.outdir = outdir.data, .log_path = log.data, .jobs = jobs,
	};
	if ((touched && selftests_changed(&changed, p, c, err) < 0) ||
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
				strvec_pushf(&b->unbuilt, "%s%s\tno such mm selftest in this tree",
					     SELFTESTS_NAME_PREFIX, unmatched.v[i]);
		}
		ui_note(p, c, note.data);
	}
	if (!picked.nr) {
		ret = 0;
		goto out;
	}
	buf_addf(&dest, "%s/tests", b->vmdir);
	if (util_mkdir_p(dest.data, 0755) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot create '%s'", dest.data);
		goto out;
	}
	if (selftests_build(&built, &unbuilt, &so, &picked, err) < 0)
		goto out;
	for (size_t i = 0; i < built.nr; i++) {
		buf_reset(&dest);
		buf_addf(&dest, "%s/tests/%s%s", b->vmdir, SELFTESTS_NAME_PREFIX, strrchr(built.v[i], '/') + 1);
		if (rename(built.v[i], dest.data) < 0) {
			kperror_errno(err, KPERROR_INFRA, errno, "cannot move '%s' to '%s'", built.v[i], dest.data);
			goto out;
		}
		strvec_push(out, dest.data);
	}
	for (size_t i = 0; i < unbuilt.nr; i++)
		strvec_push(&b->unbuilt, unbuilt.v[i]);
	buf_reset(&note);
	buf_addf(&note, "mm selftests: %zu %s:", picked.nr, touched ? "the revision touches" : "picked");
	for (size_t i = 0; i < picked.nr && i < 8; i++)
		buf_addf(&note, " %s", picked.v[i]);
	if (picked.nr > 8)
		buf_addf(&note, " and %zu more", picked.nr - 8);
	buf_addf(&note, "; %zu built statically", built.nr);
	if (unbuilt.nr)
		buf_addf(&note, ", %zu not (reported as skipped; see selftests.log)", unbuilt.nr);
	ui_note(p, c, note.data);
	ret = 0;
out:
	util_rm_rf(outdir.data);
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

int pipeline_stage_tests(struct strvec *out, struct booted *b, struct pipeline *p, struct cell *c,
			 const struct strvec *tests, struct kperror *err)
{
	struct buf log = BUF_INIT, kconfigs = BUF_INIT, src = BUF_INIT, dir = BUF_INIT, output = BUF_INIT;
	struct tick_ctx t = { p, c, STAGE_BUILD, NULL };
	struct kbuild_opts o;
	struct proc mk = PROC_INIT;
	char *khdr = NULL;
	int ret = -1;
	double start = util_now();

	buf_addf(&log, "%s/build.log", c->dir);
	build_opts(&o, p, c, &kconfigs, log.data, &t);
	buf_addf(&src, "%s/guest-tests", p->cfg->data_dir);
	buf_addf(&dir, "%s/tests", b->vmdir);
	if (kbuild_headers(&khdr, &o, err) < 0)
		goto out;
	strvec_pushl(&mk.argv, "make", "-s", "-B", "-C", src.data, NULL);
	strvec_pushf(&mk.argv, "-j%d", o.jobs);
	strvec_pushf(&mk.argv, "ARCH=%s", c->arch);
	strvec_pushf(&mk.argv, "OUT=%s", dir.data);
	strvec_pushf(&mk.argv, "KHDR=%s", khdr);
	mk.out = &output;
	if (proc_run(&mk, err) < 0)
		goto out;
	if (mk.exit_code) {
		/* a series may change a uAPI the tests use: say so, test with the host's headers */
		buf_rtrim(&output);
		struct buf m = BUF_INIT;
		buf_addf(&m, "warning: the guest tests do not build against this revision's uAPI headers, "
			     "using the host's: %.*s", (int)strcspn(output.data, "\n"), output.data);
		ui_note(p, c, m.data);
		buf_release(&m);
		for (size_t i = 0; i < tests->nr; i++)
			strvec_push(out, tests->v[i]);
	} else {
		for (size_t i = 0; i < tests->nr; i++)
			strvec_pushf(out, "%s/%s", dir.data, strrchr(tests->v[i], '/') + 1);
	}
	ret = stage_selftests(out, b, p, c, khdr, o.jobs, err);
out:
	c->seconds[STAGE_BUILD] += util_now() - start; /* building for the cell, tests included */
	proc_release(&mk);
	free(khdr);
	buf_release(&log);
	buf_release(&kconfigs);
	buf_release(&src);
	buf_release(&dir);
	buf_release(&output);
	return ret;
}

int pipeline_boot(struct booted *b, struct pipeline *p, struct cell *c, struct kperror *err)
{
	struct buf name = BUF_INIT, pub = BUF_INIT, cmdline = BUF_INIT, path = BUF_INIT;
	struct tick_ctx t = { p, c, STAGE_BOOT, NULL };
	char *initrd = NULL;
	char ready[64];
	int ret = -1;
	double start = util_now();
	const char *outcome = "error";
	const struct arch *a = arch_find(c->arch);
	int boot_timeout = p->cfg->boot_timeout * (a ? a->slowdown : 1);

	ui_start(p, c, STAGE_BOOT, NULL);
	if (pipeline_image(&initrd, p, c->arch, err) < 0)
		goto out;
	buf_addf(&name, "kpipe-%s-%s-%s", p->run_id, c->revision, c->arch);
	buf_reset(&path);
	buf_addf(&path, "%s/console.log", b->vmdir);
	b->console = strdup(path.data);
	buf_reset(&path);
	buf_addf(&path, "%s/kernel", b->vmdir);

	if (guest_key_generate(&b->key, &pub, err) < 0)
		goto out;
	buf_addf(&cmdline, "kpipe.sshkey=%s", pub.data);
	if (p->cfg->vm_cmdline && *p->cfg->vm_cmdline)
		buf_addf(&cmdline, " %s", p->cfg->vm_cmdline);
	struct vm_opts o = {
		.uri = p->cfg->vm_uri, .name = name.data, .arch = c->arch,
		.kernel = path.data, .initrd = initrd, .cmdline = cmdline.data,
		.console_path = b->console, .memory_mib = p->cfg->vm_memory_mib,
		.cpus = p->cfg->vm_cpus, .accel = p->cfg->vm_accel,
	};
	if (vm_start(&b->vm, &o, err) < 0)
		goto out;
	int w = vm_wait_for_ssh(b->vm, boot_timeout, tick, &t, err);
	if (w < 0)
		goto out;
	if (w != VM_READY) {
		c->verdict = CELL_BOOT_FAILED;
		if (w == VM_DIED) {
			boot_failure_detail(c, b->console, "the guest died while booting");
			outcome = "DIED";
		} else {
			vm_destroy(b->vm);
			b->vm = NULL;
			boot_failure_detail(c, b->console, "sshd did not answer");
			results_set_detail(c, "no ssh within %d s (%s)", boot_timeout,
					   c->detail);
			splat_add(&c->splats, "guest hang: no ssh after boot", c->detail);
			outcome = "TIMEOUT";
		}
		vm_destroy(b->vm);
		b->vm = NULL;
		ret = 0;
		goto out;
	}
	snprintf(ready, sizeof(ready), "ssh on 127.0.0.1:%d (%s)", vm_ssh_port(b->vm), vm_accel(b->vm));
	outcome = ready;
	ret = 0;
out:
	c->seconds[STAGE_BOOT] = util_now() - start;
	ui_end(p, c, STAGE_BOOT, outcome);
	free(initrd);
	buf_release(&name);
	buf_release(&pub);
	buf_release(&cmdline);
	buf_release(&path);
	return ret;
}

static void write_output(struct cell *c, const char *name, const char *suffix, const struct buf *b)
{
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/tests/%s.%s", c->dir, name, suffix);
	buf_write_file(b, path.data);
	buf_release(&path);
}

/* Decide a test's verdict from its exit status and KTAP. */
static void judge_test(struct test_result *t, const struct guest_exec_result *r, int timeout)
{
	struct buf why = BUF_INIT;
	ktap_parse(&t->ktap, r->out.data);
	t->exit_code = r->exit_code;
	t->seconds = r->seconds;
	if (r->lost) {
		t->verdict = TEST_LOST;
		buf_adds(&why, "the connection to the guest was lost");
	} else if (r->timed_out) {
		t->verdict = TEST_TIMEOUT;
		buf_addf(&why, "still running after %d s", timeout);
	} else if (r->exit_code == 4) {
		t->verdict = TEST_SKIP;
		for (size_t i = 0; i < t->ktap.nr && !why.len; i++)
			if (t->ktap.cases[i].status == KTAP_SKIP && t->ktap.cases[i].directive)
				buf_adds(&why, t->ktap.cases[i].directive);
		if (!why.len)
			buf_adds(&why, "skipped (no reason given)");
	} else if (r->exit_code == 0 && t->ktap.failed == 0) {
		t->verdict = TEST_PASS;
		if (t->ktap.planned >= 0 && (size_t)t->ktap.planned != t->ktap.nr) {
			t->verdict = TEST_FAIL;
			buf_addf(&why, "planned %d cases, reported %zu", t->ktap.planned, t->ktap.nr);
		}
	} else {
		t->verdict = TEST_FAIL;
		if (r->exit_code > 128)
			buf_addf(&why, "killed by signal %d; ", r->exit_code - 128);
		else if (r->exit_code == 0)
			buf_adds(&why, "exit 0 but KTAP reports failures; ");
		size_t shown = 0;
		for (size_t i = 0; i < t->ktap.nr && shown < 3; i++) {
			if (t->ktap.cases[i].status == KTAP_FAIL) {
				buf_addf(&why, "%snot ok: %s", shown ? "; " : "", t->ktap.cases[i].name);
				shown++;
			}
		}
		if (t->ktap.failed > shown)
			buf_addf(&why, "; and %zu more", t->ktap.failed - shown);
		if (!t->ktap.nr)
			buf_addf(&why, "exit %d, no KTAP results", r->exit_code);
	}
	t->reason = why.len ? buf_detach(&why, NULL) : NULL;
	buf_release(&why);
}

/* Append a test that never ran (not built, not reached) to c->tests; takes over 'name'. */
static void add_unrun_test(struct cell *c, char *name, enum test_verdict verdict, const char *reason)
{
	struct test_result *t = &c->tests[c->nr_tests++];
	t->name = name;
	t->verdict = verdict;
	t->reason = strdup(reason);
	t->ktap.planned = -1;
}

int pipeline_test(struct pipeline *p, struct cell *c, struct booted *b,
		  const struct strvec *tests, struct kperror *err)
{
	const struct arch *a = arch_find(c->arch);
	int test_timeout = p->cfg->test_timeout * (a ? a->slowdown : 1);
	struct guest *g = NULL;
	struct buf remote = BUF_INIT, what = BUF_INIT;
	int ret = -1;
	double start = util_now();
	size_t failed = 0;

	ui_start(p, c, STAGE_TEST, NULL);
	if (guest_connect(&g, vm_ssh_port(b->vm), b->key, err) < 0)
		goto out;
	c->tests = calloc(tests->nr + b->unbuilt.nr + 1, sizeof(*c->tests));
	size_t i;
	for (i = 0; i < tests->nr; i++) {
		const char *name = strrchr(tests->v[i], '/') + 1;
		struct guest_exec_result r = GUEST_EXEC_RESULT_INIT;
		struct test_result *t = &c->tests[c->nr_tests++];
		t->name = strdup(name);
		t->ktap.planned = -1;
		buf_reset(&remote);
		buf_addf(&remote, "/kpipe/%s", name);
		if (guest_push(g, tests->v[i], remote.data, err) < 0) {
			if (!vm_is_running(b->vm)) {
				kperror_clear(err);
				t->verdict = TEST_LOST;
				t->reason = strdup("the guest died before the test could start");
				break;
			}
			goto out;
		}
		buf_reset(&what);
		buf_addf(&what, "running %s", name);
		if (p->ui && p->ui->alive)
			p->ui->alive(p->ui->data, c, STAGE_TEST, util_now() - start, what.data);
		if (guest_exec(&r, g, remote.data, test_timeout, err) < 0) {
			guest_exec_result_release(&r);
			goto out;
		}
		judge_test(t, &r, test_timeout);
		write_output(c, name, "out", &r.out);
		write_output(c, name, "err", &r.err);
		/*
		 * A test that failed on what the kernel logged ("# kernel: ..." from
		 * ktap_test_kmsg()) is not run again: a WARN_ON_ONCE stays quiet the
		 * second time, which would make a kernel bug look flaky.
		 */
		int kernel_logged = r.out.data && strstr(r.out.data, "\n# kernel: ") != NULL;
		guest_exec_result_release(&r);
		t->runs = 1;
		t->failures = t->verdict == TEST_FAIL;
		/* a plain failure runs again: always = failure, sometimes = flaky */
		for (int k = 0; t->verdict == TEST_FAIL && !kernel_logged && k < p->cfg->test_retries; k++) {
			struct guest_exec_result again = GUEST_EXEC_RESULT_INIT;
			struct test_result rerun = { 0 };
			rerun.ktap.planned = -1;
			buf_reset(&what);
			buf_addf(&what, "running %s again (%d of %d) after a failure", name, k + 1,
				 p->cfg->test_retries);
			if (p->ui && p->ui->alive)
				p->ui->alive(p->ui->data, c, STAGE_TEST, util_now() - start, what.data);
			if (guest_exec(&again, g, remote.data, test_timeout, err) < 0) {
				guest_exec_result_release(&again);
				goto out;
			}
			judge_test(&rerun, &again, test_timeout);
			struct buf suffix = BUF_INIT;
			buf_addf(&suffix, "rerun%d.out", k + 1);
			write_output(c, name, suffix.data, &again.out);
			buf_release(&suffix);
			guest_exec_result_release(&again);
			t->runs++;
			if (rerun.verdict == TEST_FAIL) {
				t->failures++;
			} else if (rerun.verdict == TEST_PASS) {
				t->verdict = TEST_FLAKY;
				struct buf why = BUF_INIT;
				buf_addf(&why, "failed %d of %d runs (first: %s)", t->failures, t->runs,
					 t->reason ? t->reason : "?");
				free(t->reason);
				t->reason = buf_detach(&why, NULL);
			}
			free(rerun.reason);
			ktap_release(&rerun.ktap);
			if (rerun.verdict != TEST_FAIL && rerun.verdict != TEST_PASS)
				break; /* it hung or the guest went away: keep the first verdict */
		}
		if (t->verdict == TEST_FAIL || t->verdict == TEST_TIMEOUT || t->verdict == TEST_LOST)
			failed++;
		if (t->verdict == TEST_LOST || !vm_is_running(b->vm))
			break; /* the guest is gone: no point in the rest */
		if (t->verdict == TEST_TIMEOUT) {
			/* the hung test may hold the session: start a fresh one */
			guest_close(g);
			g = NULL;
			if (guest_connect(&g, vm_ssh_port(b->vm), b->key, err) < 0) {
				kperror_clear(err);
				break;
			}
		}
	}
	/* the tests a dead or hung guest never reached are listed, not dropped */
	if (i < tests->nr) {
		struct buf why = BUF_INIT;
		const struct test_result *last = &c->tests[c->nr_tests - 1];
		buf_addf(&why, "the guest %s during %s", vm_is_running(b->vm) ? "stopped answering" : "died",
			 last->name);
		for (size_t k = i + 1; k < tests->nr; k++)
			add_unrun_test(c, strdup(strrchr(tests->v[k], '/') + 1), TEST_NOT_RUN, why.data);
		buf_release(&why);
	}
	/* what could not be built for the guest is skipped, saying why */
	for (size_t k = 0; k < b->unbuilt.nr; k++) {
		const char *line = b->unbuilt.v[k], *tab = strchr(line, '\t');
		add_unrun_test(c, tab ? strndup(line, (size_t)(tab - line)) : strdup(line), TEST_SKIP,
			       tab ? tab + 1 : "could not be built");
	}
	if (g && vm_is_running(b->vm)) {
		struct guest_exec_result r = GUEST_EXEC_RESULT_INIT;
		if (guest_exec(&r, g, "dmesg", 60, err) < 0) {
			guest_exec_result_release(&r);
			goto out;
		}
		struct buf path = BUF_INIT;
		buf_addf(&path, "%s/dmesg.txt", c->dir);
		buf_write_file(&r.out, path.data);
		buf_release(&path);
		guest_exec_result_release(&r);
	}
	ret = 0;
out:
	guest_close(g);
	c->seconds[STAGE_TEST] = util_now() - start;
	char outcome[64];
	snprintf(outcome, sizeof(outcome), "%zu test%s, %zu failed", c->nr_tests,
		 c->nr_tests == 1 ? "" : "s", failed);
	ui_end(p, c, STAGE_TEST, ret < 0 ? "error" : outcome);
	buf_release(&remote);
	buf_release(&what);
	return ret;
}

void pipeline_shutdown(struct pipeline *p, struct cell *c, struct booted *b)
{
	struct buf path = BUF_INIT, log = BUF_INIT;
	int died = b->vm && !vm_is_running(b->vm);
	vm_destroy(b->vm);
	b->vm = NULL;
	if (b->console) {
		buf_addf(&path, "%s/console.log", c->dir);
		util_copy_file(b->console, path.data);
		/* splats: the console has everything the kernel printed */
		if (buf_read_file(&log, b->console) == 0)
			splat_scan(&c->splats, log.data);
	}
	/* a guest that stopped talking is a finding too */
	for (size_t i = 0; i < c->nr_tests; i++) {
		struct buf title = BUF_INIT;
		if (c->tests[i].verdict == TEST_TIMEOUT)
			buf_addf(&title, "guest hang: %s did not finish", c->tests[i].name);
		else if (c->tests[i].verdict == TEST_LOST && !splat_has_panic(&c->splats))
			buf_addf(&title, "guest stopped answering during %s", c->tests[i].name);
		if (title.len)
			splat_add(&c->splats, title.data, c->tests[i].reason);
		buf_release(&title);
	}
	splat_ignore(&c->splats, &p->cfg->splat_ignore);
	verdict_settle(c, died);
	if (b->key)
		ssh_key_free(b->key);
	b->key = NULL;
	if (b->vmdir)
		util_rm_rf(b->vmdir);
	free(b->vmdir);
	free(b->console);
	b->vmdir = b->console = NULL;
	strvec_clear(&b->unbuilt);
	buf_release(&path);
	buf_release(&log);
}

/*
 * Settle a cell that is done: 'ret' < 0 (with 'err') makes it infra or
 * not run; then write its result.json.  Returns 'ret', or -1 with 'err'
 * if the result could not be written.
 */
static int finish_cell(struct cell *c, int ret, struct kperror *err)
{
	if (ret < 0) {
		c->verdict = err->kind == KPERROR_INTERRUPTED ? CELL_NOT_RUN : CELL_INFRA;
		results_set_detail(c, "%s", err->msg.data);
	}
	struct kperror werr = KPERROR_INIT;
	if (results_write_cell(c, &werr) < 0 && ret == 0) {
		kperror_set(err, werr.kind, "%s", werr.msg.data);
		ret = -1;
	}
	kperror_release(&werr);
	return ret;
}

/* Boot the staged kernel, test, shut down, write the cell. */
static int boot_and_test(struct pipeline *p, struct cell *c, struct booted *b,
			 const struct strvec *tests, struct kperror *err)
{
	int ret = -1;
	if (pipeline_boot(b, p, c, err) < 0)
		goto out;
	if (b->vm && pipeline_test(p, c, b, tests, err) < 0)
		goto out;
	ret = 0;
out:
	pipeline_shutdown(p, c, b);
	return finish_cell(c, ret, err);
}

int pipeline_run_cell(struct pipeline *p, struct cell *c, const git_oid *commit,
		      struct kperror *err)
{
	struct kbuild_result kb = KBUILD_RESULT_INIT;
	struct booted b = BOOTED_INIT;
	struct strvec tests = STRVEC_INIT, staged = STRVEC_INIT;
	int ret = -1;

	if (pipeline_guest_tests(&tests, p, c->arch, err) < 0 ||
	    pipeline_build(&kb, p, c, commit, err) < 0)
		goto fail;
	if (!kb.ok) {
		ret = finish_cell(c, 0, err);
		goto out;
	}
	if (pipeline_stage_kernel(&b, p, c, kb.image, err) < 0 ||
	    pipeline_stage_tests(&staged, &b, p, c, &tests, err) < 0)
		goto fail;
	ret = boot_and_test(p, c, &b, &staged, err);
	goto out;
fail:
	pipeline_shutdown(p, c, &b);
	finish_cell(c, -1, err);
out:
	kbuild_result_release(&kb);
	strvec_clear(&tests);
	strvec_clear(&staged);
	return ret;
}

struct tester_job {
	struct cell *c;
	struct booted b;            /* its vmdir holds the staged kernel */
	struct strvec tests;
	void (*done)(void *data, struct cell *c);
	void *done_data;
	struct tester_job *next;
};

struct pipeline_tester {
	struct pipeline *p;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct tester_job *head, *tail;
	int closing;               /* no more jobs will come */
	int failed;                /* 'err' is set: later jobs are not run */
	struct kperror err;
};

static void job_free(struct tester_job *j)
{
	strvec_clear(&j->tests);
	free(j);
}

static void *tester_main(void *arg)
{
	struct pipeline_tester *t = arg;
	for (;;) {
		pthread_mutex_lock(&t->lock);
		while (!t->head && !t->closing)
			pthread_cond_wait(&t->wake, &t->lock);
		struct tester_job *j = t->head;
		if (j) {
			t->head = j->next;
			if (!t->head)
				t->tail = NULL;
		}
		int skip = t->failed;
		pthread_mutex_unlock(&t->lock);
		if (!j)
			return NULL;

		struct kperror err = KPERROR_INIT;
		if (skip || proc_interrupted) {
			kperror_set(&err, proc_interrupted ? KPERROR_INTERRUPTED : KPERROR_INFRA,
				    "not run: %s", proc_interrupted ? "interrupted" : "an earlier guest run failed");
			pipeline_shutdown(t->p, j->c, &j->b);
			finish_cell(j->c, -1, &err);
		} else if (boot_and_test(t->p, j->c, &j->b, &j->tests, &err) < 0) {
			pthread_mutex_lock(&t->lock);
			if (!t->failed) {
				t->failed = 1;
				kperror_set(&t->err, err.kind, "%s", err.msg.data);
			}
			pthread_mutex_unlock(&t->lock);
		}
		if (j->done)
			j->done(j->done_data, j->c);
		kperror_release(&err);
		job_free(j);
	}
}

int pipeline_tester_start(struct pipeline_tester **out, struct pipeline *p, struct kperror *err)
{
	struct pipeline_tester *t = calloc(1, sizeof(*t));
	if (!t)
		return kperror_errno(err, KPERROR_INFRA, ENOMEM, "cannot start the guest runner");
	t->p = p;
	t->err = (struct kperror)KPERROR_INIT;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	int e = pthread_create(&t->thread, NULL, tester_main, t);
	if (e) {
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->wake);
		free(t);
		return kperror_errno(err, KPERROR_INFRA, e, "cannot start the guest runner");
	}
	*out = t;
	return 0;
}

int pipeline_tester_failed(struct pipeline_tester *t)
{
	pthread_mutex_lock(&t->lock);
	int failed = t->failed;
	pthread_mutex_unlock(&t->lock);
	return failed;
}

int pipeline_build_cell(struct pipeline *p, struct pipeline_tester *t, struct cell *c,
			const git_oid *commit, void (*done)(void *data, struct cell *c),
			void *done_data, struct kperror *err)
{
	struct kbuild_result kb = KBUILD_RESULT_INIT;
	struct strvec host_tests = STRVEC_INIT;
	struct tester_job *j = calloc(1, sizeof(*j));
	int ret = -1;

	if (!j)
		return kperror_errno(err, KPERROR_INFRA, ENOMEM, "out of memory");
	j->b = (struct booted)BOOTED_INIT;
	j->c = c;
	j->done = done;
	j->done_data = done_data;
	if (pipeline_guest_tests(&host_tests, p, c->arch, err) < 0 ||
	    pipeline_build(&kb, p, c, commit, err) < 0 ||
	    (kb.ok && (pipeline_stage_kernel(&j->b, p, c, kb.image, err) < 0 ||
		       pipeline_stage_tests(&j->tests, &j->b, p, c, &host_tests, err) < 0))) {
		pipeline_shutdown(p, c, &j->b);
		finish_cell(c, -1, err);
		goto out;
	}
	if (!kb.ok) {
		ret = finish_cell(c, 0, err);
		if (done)
			done(done_data, c);
		goto out;
	}
	/* built: the guest run is the tester's, while this thread builds on */
	pthread_mutex_lock(&t->lock);
	if (t->tail)
		t->tail->next = j;
	else
		t->head = j;
	t->tail = j;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	j = NULL;
	ret = 0;
out:
	if (j)
		job_free(j);
	kbuild_result_release(&kb);
	strvec_clear(&host_tests);
	return ret;
}

int pipeline_tester_finish(struct pipeline_tester *t, struct kperror *err)
{
	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	t->closing = 1;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	int ret = 0;
	if (t->failed)
		ret = kperror_set(err, t->err.kind, "%s", t->err.msg.data);
	kperror_release(&t->err);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	free(t);
	return ret;
}

/* The files a patch touches, from its diff. */
static void touched_files(struct strvec *out, const char *diff_text)
{
	git_diff *diff = NULL;
	if (git_diff_from_buffer(&diff, diff_text, strlen(diff_text)) < 0)
		return;
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;
		if (path && !strvec_contains(out, path))
			strvec_push(out, path);
	}
	git_diff_free(diff);
}

/*
 * The warnings of 'log' located in one of the 'files', named by that
 * file's path in the tree whatever prefix the compiler printed.
 */
static void warnings_in(struct strvec *out, const char *log, const char *srcdir,
			const struct strvec *files)
{
	struct strvec all = STRVEC_INIT;
	kbuild_warnings(&all, log, srcdir);
	for (size_t i = 0; i < all.nr; i++) {
		const char *w = strstr(all.v[i], ": warning: ");
		size_t flen = (size_t)(w - all.v[i]);
		for (size_t f = 0; f < files->nr; f++) {
			size_t tlen = strlen(files->v[f]);
			if (flen >= tlen && !memcmp(all.v[i] + flen - tlen, files->v[f], tlen) &&
			    (flen == tlen || all.v[i][flen - tlen - 1] == '/')) {
				strvec_pushf(out, "%s%s", files->v[f], w);
				break;
			}
		}
	}
	strvec_clear(&all);
}

int pipeline_build_each_patch(struct pipeline *p, struct cell *c, const git_oid *base,
			      const git_oid *commits, const struct revision *rev,
			      struct kperror *err)
{
	struct kbuild_opts o;
	struct buf kconfigs = BUF_INIT, log = BUF_INIT, text = BUF_INIT, msg = BUF_INIT;
	struct tick_ctx t = { p, c, STAGE_PATCHES, NULL };
	struct kbuild_result kb = KBUILD_RESULT_INIT;
	int ret = -1;
	double started = util_now();

	buf_addf(&log, "%s/patches", c->dir);
	int e = util_mkdir_p(log.data, 0755);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", log.data);
		goto out;
	}
	buf_addf(&log, "/00-base.log");
	t.log_path = log.data;
	build_opts(&o, p, c, &kconfigs, log.data, &t);
	ui_start(p, c, STAGE_PATCHES, "the base, before the first patch");
	if (tree_checkout(p->tree, base, err) < 0 || kbuild_run(&kb, &o, err) < 0)
		goto out;
	if (!kb.ok) {
		ui_note(p, c, "warning: the base does not build: no per-patch results");
		ret = 0;
		goto out;
	}
	c->patch_builds = calloc(rev->nr, sizeof(*c->patch_builds));
	for (size_t k = 0; k < rev->nr; k++) {
		const struct patch *pt = &rev->patches[k];
		struct patch_build *pb = &c->patch_builds[c->nr_patch_builds++];
		struct strvec files = STRVEC_INIT, before = STRVEC_INIT, after = STRVEC_INIT;
		double start = util_now();
		pb->index = pt->index;
		pb->total = pt->total;
		pb->subject = strdup(pt->subject);
		strvec_init(&pb->new_warnings);

		/* the touched files' warnings before the patch (ccache makes this cheap) */
		touched_files(&files, pt->diff);
		buf_reset(&text);
		if (kbuild_recompile(&o, &files, &text, err) < 0)
			goto next_fail;
		warnings_in(&before, text.data, o.srcdir, &files);

		buf_reset(&log);
		buf_addf(&log, "%s/patches/%02u.log", c->dir, pt->index);
		unlink(log.data);
		kbuild_result_release(&kb);
		kb = (struct kbuild_result)KBUILD_RESULT_INIT;
		if (tree_checkout(p->tree, &commits[k], err) < 0 || kbuild_run(&kb, &o, err) < 0)
			goto next_fail;
		pb->ok = kb.ok;
		if (!kb.ok) {
			buf_rtrim(&kb.errors);
			pb->error = strndup(kb.errors.data, strcspn(kb.errors.data, "\n"));
		}
		buf_reset(&text);
		buf_read_file(&text, log.data);
		warnings_in(&after, text.data, o.srcdir, &files);
		for (size_t w = 0; w < after.nr; w++)
			if (!strvec_contains(&before, after.v[w]))
				strvec_push(&pb->new_warnings, after.v[w]);
		pb->seconds = util_now() - start;

		if (p->ui && p->ui->patch_built)
			p->ui->patch_built(p->ui->data, c, pb);
		strvec_clear(&files);
		strvec_clear(&before);
		strvec_clear(&after);
		continue;
next_fail:
		strvec_clear(&files);
		strvec_clear(&before);
		strvec_clear(&after);
		goto out;
	}
	ret = 0;
out:
	c->seconds[STAGE_PATCHES] = util_now() - started;
	kbuild_result_release(&kb);
	buf_release(&kconfigs);
	buf_release(&log);
	buf_release(&text);
	buf_release(&msg);
	return ret;
}

int pipeline_bisect(struct pipeline *p, struct cell *c, const struct cell *baseline,
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
	struct pipeline probe_pipeline = *p;
	/* a splat can come from any test: then run them all */
	probe_pipeline.only_tests = tests.nr && !splats.nr ? &tests : NULL;

	size_t lo = 0, hi = rev->nr; /* patch lo is good (0: the base), patch hi is bad */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		struct cell probe = { 0 };
		strvec_init(&probe.missing_options);
		probe.arch = strdup(c->arch);
		probe.verdict = CELL_NOT_RUN;
		struct buf name = BUF_INIT;
		buf_addf(&name, "%s-bisect-%zu", c->revision, mid);
		probe.revision = buf_detach(&name, NULL);
		if (results_make_cell_dir(&probe, run_dir, err) < 0 ||
		    pipeline_run_cell(&probe_pipeline, &probe, &commits[mid - 1], err) < 0) {
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
		ui_note(p, c, msg.data);
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
