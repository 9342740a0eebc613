#include "selftests.h"
#include "buf.h"
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * 1 if 'file' (a name in the mm dir) is the own source of 'program':
 * cow.c of cow, and protection_keys.c of protection_keys_32 and _64 (x86).
 */
static int built_from(const char *file, const char *program)
{
	size_t n = strlen(file), pn = strlen(program);
	if (n < 3 || strcmp(file + n - 2, ".c"))
		return 0;
	if (pn + 2 == n && !strncmp(program, file, pn))
		return 1;
	/* "protection_keys" + "_32" */
	return pn == n + 1 && !strncmp(program, file, n - 2) && program[n - 2] == '_' &&
	       (!strcmp(program + n - 1, "32") || !strcmp(program + n - 1, "64"));
}

void selftests_pick(struct strvec *out, struct strvec *unmatched, const struct strvec *mode,
		    const struct strvec *programs, const struct strvec *changed)
{
	const char *m = mode->nr == 1 ? mode->v[0] : "";
	if (!mode->nr || !strcmp(m, "none"))
		return;
	if (!strcmp(m, "all")) {
		for (size_t i = 0; i < programs->nr; i++)
			strvec_push(out, programs->v[i]);
		return;
	}
	if (strcmp(m, "touched")) {
		for (size_t i = 0; i < mode->nr; i++)
			strvec_push(strvec_contains(programs, mode->v[i]) ? out : unmatched, mode->v[i]);
		return;
	}
	size_t dlen = strlen(SELFTESTS_MM_DIR);
	for (size_t i = 0; changed && i < changed->nr; i++) {
		const char *path = changed->v[i];
		if (strncmp(path, SELFTESTS_MM_DIR, dlen))
			continue;
		const char *file = path + dlen;
		int any = 0;
		for (size_t k = 0; k < programs->nr; k++) {
			if (!built_from(file, programs->v[k]))
				continue;
			any = 1;
			if (!strvec_contains(out, programs->v[k]))
				strvec_push(out, programs->v[k]);
		}
		if (!any && !strvec_contains(unmatched, file))
			strvec_push(unmatched, file);
	}
}

static void make_args(struct proc *mk, const struct selftests_build_opts *o, struct buf *mmdir)
{
	buf_addf(mmdir, "%s/%s", o->srcdir, SELFTESTS_MM_DIR);
	strvec_pushl(&mk->argv, "make", "--no-print-directory", "-C", mmdir->data, NULL);
	strvec_pushf(&mk->argv, "ARCH=%s", o->arch->make_arch);
	if (arch_is_cross(o->arch))
		strvec_pushf(&mk->argv, "CROSS_COMPILE=%s-", o->arch->triplet);
	strvec_pushf(&mk->argv, "OUTPUT=%s", o->outdir);
	if (o->khdr)
		strvec_pushf(&mk->argv, "KHDR_INCLUDES=-isystem %s", o->khdr);
	strvec_push(&mk->argv, "LDFLAGS=-static");
}

int selftests_programs(struct strvec *out, const struct selftests_build_opts *o, struct kperror *err)
{
	struct proc mk = PROC_INIT;
	struct buf mmdir = BUF_INIT, extra = BUF_INIT, rule = BUF_INIT, output = BUF_INIT;
	int ret = -1;

	if (util_mkdir_p(o->outdir, 0755) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot create '%s'", o->outdir);
		goto out;
	}
	/* a make file of our own, read after the tree's: it prints the list */
	buf_addf(&extra, "%s/.kpipe-list.mk", o->outdir);
	buf_adds(&rule, "kpipe-list-programs:\n\t@echo KPIPE-PROGRAMS: $(notdir $(TEST_GEN_FILES) $(TEST_GEN_PROGS))\n");
	if (buf_write_file(&rule, extra.data) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot write '%s'", extra.data);
		goto out;
	}
	make_args(&mk, o, &mmdir);
	strvec_pushl(&mk.argv, "-f", "Makefile", "-f", extra.data, "kpipe-list-programs", NULL);
	mk.out = &output;
	mk.timeout_seconds = 120;
	if ((o->sandbox && sandbox_wrap(&mk, o->sandbox, err) < 0) || proc_run(&mk, err) < 0)
		goto out;
	const char *line = output.data ? strstr(output.data, "KPIPE-PROGRAMS:") : NULL;
	if (mk.exit_code || !line) {
		buf_rtrim(&output);
		const char *last = output.data ? strrchr(output.data, '\n') : NULL;
		kperror_set(err, KPERROR_INFRA, "cannot list the mm selftests of %s: %s", mmdir.data,
			    last ? last + 1 : output.data ? output.data : "no output");
		goto out;
	}
	line += strlen("KPIPE-PROGRAMS:");
	char *copy = strndup(line, strcspn(line, "\n"));
	strvec_split(out, copy);
	free(copy);
	ret = 0;
out:
	if (extra.len)
		unlink(extra.data);
	proc_release(&mk);
	buf_release(&mmdir);
	buf_release(&extra);
	buf_release(&rule);
	buf_release(&output);
	return ret;
}

char *selftests_build_error(const char *log, const char *name)
{
	struct buf want = BUF_INIT, why = BUF_INIT;
	buf_addf(&want, "%s.c:", name);
	for (const char *l = log; l && *l;) {
		size_t n = strcspn(l, "\n");
		const char *at = NULL;
		/* "NAME.c:12:10: fatal error: numa.h: ..." at the start of a line */
		if (!strncmp(l, want.data, want.len) && (at = strstr(l, "error:")) && at < l + n) {
			buf_addf(&why, "%.*s", (int)(n - want.len), l + want.len);
			/* drop the column: "12:10: fatal error" -> "12: fatal error" */
			char *c1 = strchr(why.data, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			if (c1 && c2 && c2 - c1 > 1 && strspn(c1 + 1, "0123456789") == (size_t)(c2 - c1 - 1))
				memmove(c1, c2, strlen(c2) + 1);
			struct buf full = BUF_INIT;
			buf_addf(&full, "%s.c:%s", name, why.data);
			buf_release(&why);
			buf_release(&want);
			return buf_detach(&full, NULL);
		}
		/* a link error: "... NAME.c:(.text+0x1): undefined reference to 'numa_...'" */
		if (!strncmp(l, "/usr/bin/", 9) && (at = strstr(l, want.data)) && at < l + n &&
		    (at = strstr(l, "undefined reference")) && at < l + n) {
			buf_addf(&why, "%s: link error: %.*s", name, (int)(l + n - at), at);
			buf_release(&want);
			return buf_detach(&why, NULL);
		}
		l += n + (l[n] == '\n');
	}
	buf_release(&want);
	buf_addf(&why, "%s did not build (see selftests.log)", name);
	return buf_detach(&why, NULL);
}

int selftests_build(struct strvec *built, struct strvec *unbuilt, const struct selftests_build_opts *o,
		    const struct strvec *names, struct kperror *err)
{
	struct proc mk = PROC_INIT;
	struct buf mmdir = BUF_INIT, output = BUF_INIT, path = BUF_INIT;
	int ret = -1;

	if (!names->nr)
		return 0;
	if (util_mkdir_p(o->outdir, 0755) < 0)
		return kperror_errno(err, KPERROR_INFRA, errno, "cannot create '%s'", o->outdir);
	make_args(&mk, o, &mmdir);
	strvec_push(&mk.argv, "-k");
	strvec_pushf(&mk.argv, "-j%d", o->jobs > 0 ? o->jobs : 1);
	for (size_t i = 0; i < names->nr; i++)
		strvec_pushf(&mk.argv, "%s/%s", o->outdir, names->v[i]);
	mk.out = &output;
	mk.log_path = o->log_path;
	mk.timeout_seconds = 1800;
	mk.nice = PROC_NICE_BUILD;
	if ((o->sandbox && sandbox_wrap(&mk, o->sandbox, err) < 0) || proc_run(&mk, err) < 0)
		goto out;
	if (mk.timed_out) {
		kperror_set(err, KPERROR_INFRA, "building the mm selftests took over %d s", mk.timeout_seconds);
		goto out;
	}
	for (size_t i = 0; i < names->nr; i++) {
		buf_reset(&path);
		buf_addf(&path, "%s/%s", o->outdir, names->v[i]);
		if (util_exists(path.data) && !access(path.data, X_OK)) {
			strvec_push(built, path.data);
			continue;
		}
		char *why = selftests_build_error(output.data, names->v[i]);
		strvec_pushf(unbuilt, "%s%s\tdoes not build statically for %s: %s", SELFTESTS_NAME_PREFIX,
			     names->v[i], o->arch->name, why);
		free(why);
	}
	ret = 0;
out:
	proc_release(&mk);
	buf_release(&mmdir);
	buf_release(&output);
	buf_release(&path);
	return ret;
}
