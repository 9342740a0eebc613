/*
 * What an arch needs before its first cell, made once per run: its tools
 * checked, the guest tests built on the host (the ones the config picks),
 * and the guest image, rebuilt only when its init or build script changed.
 */
#include "stage.h"
#include "proc.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Build the guest tests for 'arch' on the host; list the paths of those the config picks. */
static int host_guest_tests(struct strvec *out, const struct run_ctx *ctx, const char *arch,
			    struct kperror *err)
{
	struct proc mk = PROC_INIT;
	struct buf src = BUF_INIT, bin = BUF_INIT, output = BUF_INIT;
	int ret = -1;

	buf_addf(&src, "%s/guest-tests", ctx->cfg->data_dir);
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
	int all = strvec_contains(&ctx->cfg->tests, "all");
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		strvec_push(&names, de->d_name);
		if (all || strvec_contains(&ctx->cfg->tests, de->d_name))
			strvec_pushf(&found, "%s/%s", bin.data, de->d_name);
	}
	closedir(d);
	qsort(found.v, found.nr, sizeof(char *), compare_str);
	for (size_t i = 0; i < ctx->cfg->tests.nr; i++) {
		const char *want = ctx->cfg->tests.v[i];
		if (strcmp(want, "all") && !strvec_contains(&names, want)) {
			kperror_set(err, KPERROR_INPUT, "%s: [test] tests: no guest test '%s' in '%s'",
				    ctx->cfg->source, want, src.data);
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

int stage_image(char **out, const struct run_ctx *ctx, const char *arch, struct kperror *err)
{
	struct buf img = BUF_INIT, script = BUF_INIT, init = BUF_INIT, work = BUF_INIT, log = BUF_INIT,
		   key_path = BUF_INIT, key = BUF_INIT, have = BUF_INIT;
	struct proc mk = PROC_INIT;
	int ret = -1;

	buf_addf(&work, "%s/images", ctx->cfg->cache_dir);
	buf_addf(&img, "%s/initramfs-%s.cpio.gz", work.data, arch);
	buf_addf(&script, "%s/images/build-initramfs", ctx->cfg->data_dir);
	buf_addf(&init, "%s/images/init", ctx->cfg->data_dir);
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

int run_ctx_prepare_arch(struct run_ctx *ctx, const char *arch, struct kperror *err)
{
	struct strvec missing = STRVEC_INIT;
	struct arch_ready ready = { NULL, STRVEC_INIT, NULL, 0 };
	int ret = -1;
	if (run_ctx_arch(ctx, arch))
		return 0;
	if (!ctx->nr_ready) {
		/* once per run: the series' code runs sandboxed, or the user is told it does not */
		if (!ctx->cfg->build_sandbox)
			run_ctx_say(ctx, NULL, "warning: [build] sandbox = off: the series' Makefiles and "
					       "scripts run unsandboxed, as %s, with the network",
				    geteuid() ? "this user" : "root");
		else if (sandbox_check(err) < 0)
			return -1;
	}
	ready.arch = arch_find(arch);
	if (!ready.arch)
		return kperror_set(err, KPERROR_INPUT, "arch '%s' is not supported (supported: %s)", arch,
				   arch_names());
	arch_missing_tools(&missing, ready.arch);
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
	if (host_guest_tests(&ready.tests, ctx, arch, err) < 0 || stage_image(&ready.image, ctx, arch, err) < 0)
		goto out;
	struct arch_ready *grown = realloc(ctx->ready, (ctx->nr_ready + 1) * sizeof(*grown));
	if (!grown) {
		kperror_errno(err, KPERROR_INFRA, ENOMEM, "out of memory");
		goto out;
	}
	ctx->ready = grown;
	ctx->ready[ctx->nr_ready++] = ready;
	ready = (struct arch_ready){ NULL, STRVEC_INIT, NULL };
	ret = 0;
out:
	strvec_clear(&ready.tests);
	free(ready.image);
	strvec_clear(&missing);
	return ret;
}
