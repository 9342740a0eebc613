#include "kbuild.h"
#include "arch.h"
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *line_value(const char *text, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			*len = eol ? (size_t)(eol - p - klen - 1) : strlen(p + klen + 1);
			return p + klen + 1;
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

void kbuild_check_options(struct strvec *missing, const char *fragment, const char *dotconfig)
{
	struct buf key = BUF_INIT;
	for (const char *p = fragment; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		buf_reset(&key);
		if (!strncmp(p, "CONFIG_", 7)) {
			const char *eq = memchr(p, '=', len);
			if (eq) {
				buf_add(&key, p, (size_t)(eq - p));
				const char *want = eq + 1;
				size_t wlen = len - (size_t)(want - p);
				size_t have_len = 0;
				const char *have = line_value(dotconfig, key.data, &have_len);
				if (!have || have_len != wlen || memcmp(have, want, wlen)) {
					struct buf m = BUF_INIT;
					buf_add(&m, p, len);
					strvec_push(missing, m.data);
					buf_release(&m);
				}
			}
		} else if (!strncmp(p, "# CONFIG_", 9) && len > 13 &&
			   !memcmp(p + len - 11, " is not set", 11)) {
			buf_add(&key, p + 2, len - 13);
			size_t have_len = 0;
			const char *have = line_value(dotconfig, key.data, &have_len);
			if (have && !(have_len == 1 && *have == 'n')) {
				struct buf m = BUF_INIT;
				buf_add(&m, p, len);
				strvec_push(missing, m.data);
				buf_release(&m);
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	buf_release(&key);
}

void kbuild_first_errors(struct buf *out, const char *log, int max)
{
	int n = 0;
	for (const char *p = log; p && *p && n < max;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		struct buf line = BUF_INIT;
		buf_add(&line, p, len);
		if (strstr(line.data, "error:") || strstr(line.data, "Error:") ||
		    strstr(line.data, "undefined reference") || strstr(line.data, "*** [")) {
			buf_addf(out, "%s\n", line.data);
			n++;
		}
		buf_release(&line);
		p = eol ? eol + 1 : NULL;
	}
}

void kbuild_warnings(struct strvec *out, const char *log, const char *srcdir)
{
	size_t slen = srcdir ? strlen(srcdir) : 0;
	struct buf line = BUF_INIT, norm = BUF_INIT;
	for (const char *p = log; p && *p;) {
		const char *eol = strchr(p, '\n');
		buf_reset(&line);
		buf_add(&line, p, eol ? (size_t)(eol - p) : strlen(p));
		p = eol ? eol + 1 : NULL;
		char *w = strstr(line.data, ": warning: ");
		if (!w)
			continue;
		/* FILE:LINE:COL: warning: MSG -> FILE: warning: MSG */
		const char *file = line.data;
		while (*file == ' ')
			file++;
		if (slen && !strncmp(file, srcdir, slen) && file[slen] == '/')
			file += slen + 1;
		while (!strncmp(file, "./", 2))
			file += 2;
		const char *colon = strchr(file, ':');
		if (!colon || colon > w)
			colon = w;
		buf_reset(&norm);
		buf_add(&norm, file, (size_t)(colon - file));
		buf_adds(&norm, w);
		if (!strvec_contains(out, norm.data))
			strvec_push(out, norm.data);
	}
	buf_release(&line);
	buf_release(&norm);
}

const char *kbuild_make_srcdir(const struct kbuild_opts *o)
{
	return o->make_srcdir ? o->make_srcdir : o->srcdir;
}

/* The O= directory as kpipe reaches it. */
static void host_builddir(struct buf *out, const struct kbuild_opts *o)
{
	if (o->builddir)
		buf_adds(out, o->builddir);
	else
		buf_addf(out, "%s/build/%s", o->cache_dir, o->arch);
}

/* The O= directory as make is told it. */
static void make_builddir(struct buf *out, const struct kbuild_opts *o)
{
	if (o->make_builddir)
		buf_adds(out, o->make_builddir);
	else
		host_builddir(out, o);
}

int kbuild_remote_writable(const char *storages)
{
	for (const char *p = storages; p && *p;) {
		size_t len = strcspn(p, " ");
		const char *bar = memchr(p, '|', len);
		int read_only = 0;
		while (bar && !read_only) {
			size_t rest = len - (size_t)(bar + 1 - p);
			read_only = rest >= 9 && !strncmp(bar + 1, "read-only", 9) && (rest == 9 || bar[10] == '|');
			bar = memchr(bar + 1, '|', rest);
		}
		if (len && !read_only)
			return 1;
		p += len;
		p += strspn(p, " ");
	}
	return 0;
}

static void base_make_args(struct proc *p, const struct kbuild_opts *o)
{
	struct buf odir = BUF_INIT;
	make_builddir(&odir, o);
	strvec_pushl(&p->argv, "make", "-C", kbuild_make_srcdir(o), NULL);
	strvec_pushf(&p->argv, "O=%s", odir.data);
	buf_release(&odir);
	const struct arch *a = arch_find(o->arch);
	strvec_pushf(&p->argv, "ARCH=%s", a->make_arch);
	if (arch_is_cross(a))
		strvec_pushf(&p->argv, "CROSS_COMPILE=%s-", a->triplet);
	strvec_pushf(&p->argv, "CC=ccache %s", arch_cc(a));
	strvec_push(&p->argv, "HOSTCC=ccache gcc");
	if (o->ccache_dir)
		strvec_pushf(&p->env, "CCACHE_DIR=%s", o->ccache_dir);
	else
		strvec_pushf(&p->env, "CCACHE_DIR=%s/ccache", o->cache_dir);
	if (o->ccache_remote) {
		strvec_pushf(&p->env, "CCACHE_REMOTE_STORAGE=%s", o->ccache_remote);
		/* a build that may write a shared store shares its local hits too */
		if (kbuild_remote_writable(o->ccache_remote))
			strvec_push(&p->env, "CCACHE_RESHARE=1");
	}
	strvec_push(&p->env, "CCACHE_MAXSIZE=8G");
	/* fixed build stamps: identical sources give identical objects */
	strvec_push(&p->env, "KBUILD_BUILD_TIMESTAMP=1970-01-01 00:00:00 UTC");
	strvec_push(&p->env, "KBUILD_BUILD_USER=kpipe");
	strvec_push(&p->env, "KBUILD_BUILD_HOST=kpipe");
	p->log_path = o->log_path;
}

/* Run 'p', inside the build's sandbox if it has one. */
static int run_make(struct proc *p, const struct kbuild_opts *o, struct kperror *err)
{
	p->nice = PROC_NICE_BUILD;
	if (o->sandbox && sandbox_wrap(p, o->sandbox, err) < 0)
		return -1;
	return proc_run(p, err);
}

static int run_step(struct proc *p, const struct kbuild_opts *o, const char *what,
		    struct kperror *err)
{
	if (run_make(p, o, err) < 0)
		return -1;
	if (p->exit_code)
		return kperror_set(err, KPERROR_INFRA, "%s failed (exit %d)", what, p->exit_code);
	return 0;
}

static int configure(struct kbuild_result *out, const struct kbuild_opts *o,
		     struct buf *fragments_text, struct strvec *fragment_paths,
		     struct kperror *err)
{
	struct buf stamp_path = BUF_INIT, old = BUF_INIT, dotconfig = BUF_INIT;
	int ret = -1;

	buf_addf(&stamp_path, "%s/.kpipe-fragments", out->builddir);
	buf_addf(&dotconfig, "%s/.config", out->builddir);
	if (buf_read_file(&old, stamp_path.data) == 0 && util_exists(dotconfig.data) &&
	    old.len == fragments_text->len && !memcmp(old.data, fragments_text->data, old.len)) {
		ret = 0; /* fragments unchanged: make's own syncconfig does the rest */
		goto out;
	}
	struct proc p = PROC_INIT;
	base_make_args(&p, o);
	strvec_push(&p.argv, "tinyconfig");
	ret = run_step(&p, o, "make tinyconfig", err);
	proc_release(&p);
	if (ret < 0)
		goto out;

	struct proc m = PROC_INIT;
	struct buf script = BUF_INIT, odir = BUF_INIT;
	buf_addf(&script, "%s/scripts/kconfig/merge_config.sh", kbuild_make_srcdir(o));
	make_builddir(&odir, o);
	/* it makes its temporary files in the current directory: the build directory's */
	strvec_pushl(&m.argv, "sh", script.data, "-m", "-O", odir.data, NULL);
	strvec_pushf(&m.argv, "%s/.config", odir.data);
	for (size_t i = 0; i < fragment_paths->nr; i++)
		strvec_push(&m.argv, fragment_paths->v[i]);
	m.cwd = odir.data;
	m.log_path = o->log_path;
	ret = run_step(&m, o, "merge_config.sh", err);
	proc_release(&m);
	buf_release(&script);
	buf_release(&odir);
	if (ret < 0)
		goto out;

	struct proc d = PROC_INIT;
	base_make_args(&d, o);
	strvec_push(&d.argv, "olddefconfig");
	ret = run_step(&d, o, "make olddefconfig", err);
	proc_release(&d);
	if (ret < 0)
		goto out;
	int e = buf_write_file(fragments_text, stamp_path.data);
	if (e < 0) {
		ret = kperror_errno(err, KPERROR_INFRA, e, "cannot write '%s'", stamp_path.data);
		goto out;
	}
	out->configured = 1;
out:
	buf_release(&stamp_path);
	buf_release(&old);
	buf_release(&dotconfig);
	return ret;
}

int kbuild_recompile(const struct kbuild_opts *o, const struct strvec *files, struct buf *log_out,
		     struct kperror *err)
{
	struct proc p = PROC_INIT;
	struct buf builddir = BUF_INIT, obj = BUF_INIT;
	int targets = 0, ret = -1;
	host_builddir(&builddir, o);
	base_make_args(&p, o);
	p.log_path = NULL;
	p.out = log_out;
	strvec_pushf(&p.argv, "-j%d", o->jobs > 0 ? o->jobs : 1);
	for (size_t i = 0; i < files->nr; i++) {
		size_t len = strlen(files->v[i]);
		if (len < 3 || strcmp(files->v[i] + len - 2, ".c"))
			continue;
		buf_reset(&obj);
		buf_add(&obj, files->v[i], len - 2);
		buf_adds(&obj, ".o");
		struct buf path = BUF_INIT;
		buf_addf(&path, "%s/%s", builddir.data, obj.data);
		unlink(path.data);
		buf_release(&path);
		strvec_push(&p.argv, obj.data);
		targets++;
	}
	ret = targets ? run_make(&p, o, err) : 0;
	proc_release(&p);
	buf_release(&builddir);
	buf_release(&obj);
	return ret;
}

int kbuild_headers(char **out, const struct kbuild_opts *o, struct kperror *err)
{
	struct proc p = PROC_INIT;
	struct buf builddir = BUF_INIT;
	int ret = -1;
	make_builddir(&builddir, o);
	base_make_args(&p, o);
	strvec_pushf(&p.argv, "-j%d", o->jobs > 0 ? o->jobs : 1);
	strvec_push(&p.argv, "headers");
	if (run_step(&p, o, "make headers", err) < 0)
		goto out;
	buf_adds(&builddir, "/usr/include");
	*out = buf_detach(&builddir, NULL);
	ret = 0;
out:
	proc_release(&p);
	buf_release(&builddir);
	return ret;
}

int kbuild_run(struct kbuild_result *out, const struct kbuild_opts *o, struct kperror *err)
{
	struct strvec paths = STRVEC_INIT;
	struct buf text = BUF_INIT, dotconfig = BUF_INIT, log = BUF_INIT, tmp = BUF_INIT;
	struct proc p = PROC_INIT;
	int ret = -1;
	double start = util_now();

	const struct arch *a = arch_find(o->arch);
	if (!a)
		return kperror_set(err, KPERROR_INPUT, "arch '%s' is not supported", o->arch);
	if (!proc_in_path(arch_cc(a)) || !proc_in_path("ccache") || !proc_in_path("make"))
		return kperror_set(err, KPERROR_INFRA,
				   "%s, make and ccache are needed to build %s kernels (run 'make deps')",
				   arch_cc(a), a->name);

	host_builddir(&tmp, o);
	out->builddir = buf_detach(&tmp, NULL);
	int e = util_mkdir_p(out->builddir, 0755);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", out->builddir);
		goto out;
	}
	for (size_t i = 0; i <= o->fragments->nr; i++) {
		const char *name = i < o->fragments->nr ? o->fragments->v[i] : o->arch;
		struct buf path = BUF_INIT;
		buf_addf(&path, "%s/%s.config", o->kconfig_dir, name);
		buf_addf(&text, "# %s.config\n", name);
		e = buf_read_file(&text, path.data);
		if (e < 0) {
			kperror_errno(err, KPERROR_INPUT, e, "cannot read kconfig fragment '%s'", path.data);
			buf_release(&path);
			goto out;
		}
		buf_addch(&text, '\n');
		strvec_push(&paths, path.data);
		buf_release(&path);
	}
	if (configure(out, o, &text, &paths, err) < 0) {
		kperror_wrap(err, "configuring the %s kernel (see '%s')", o->arch, o->log_path);
		goto out;
	}

	base_make_args(&p, o);
	strvec_pushf(&p.argv, "-j%d", o->jobs > 0 ? o->jobs : 1);
	strvec_push(&p.argv, strrchr(a->image, '/') + 1);
	p.timeout_seconds = o->timeout_seconds;
	p.tick = o->tick;
	p.tick_data = o->tick_data;
	p.tick_seconds = 15;
	if (run_make(&p, o, err) < 0)
		goto out;

	/* the options check reads the .config make just refreshed */
	buf_addf(&dotconfig, "%s/.config", out->builddir);
	struct buf have = BUF_INIT;
	if (buf_read_file(&have, dotconfig.data) == 0)
		kbuild_check_options(&out->missing, text.data, have.data);
	buf_release(&have);

	buf_addf(&tmp, "%s/%s", out->builddir, a->image);
	out->image = buf_detach(&tmp, NULL);
	if (p.timed_out) {
		buf_addf(&out->errors, "the build ran over %d s and was stopped\n", o->timeout_seconds);
	} else if (p.exit_code) {
		buf_read_file(&log, o->log_path);
		/* a full disk is the machine's trouble, not the revision's */
		if (strstr(log.data, "No space left on device")) {
			kperror_set(err, KPERROR_INFRA, "the %s build ran out of disk space in '%s' (see '%s')",
				    o->arch, out->builddir, o->log_path);
			goto out;
		}
		kbuild_first_errors(&out->errors, log.data, 10);
		if (!out->errors.len)
			buf_addf(&out->errors, "make exited with %d\n", p.exit_code);
	} else {
		out->ok = util_exists(out->image);
		if (!out->ok)
			buf_addf(&out->errors, "make succeeded but '%s' is missing\n", out->image);
	}
	ret = 0;
out:
	out->seconds = util_now() - start;
	proc_release(&p);
	strvec_clear(&paths);
	buf_release(&text);
	buf_release(&dotconfig);
	buf_release(&log);
	buf_release(&tmp);
	return ret;
}

void kbuild_result_release(struct kbuild_result *r)
{
	free(r->builddir);
	free(r->image);
	strvec_clear(&r->missing);
	buf_release(&r->errors);
	memset(r, 0, sizeof(*r));
}
