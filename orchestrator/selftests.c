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
	if (o->libs) {
		strvec_pushf(&mk->argv, "EXTRA_CFLAGS=-DKSFT_SKIP=4 -idirafter %s/usr/include", o->libs);
		strvec_pushf(&mk->argv, "LDFLAGS=-static -L%s/usr/lib/%s", o->libs, o->arch->triplet);
	} else {
		strvec_push(&mk->argv, "EXTRA_CFLAGS=-DKSFT_SKIP=4");
		strvec_push(&mk->argv, "LDFLAGS=-static");
	}
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

/* "name() {" at the start of a line: a function definition. */
static int defines_function(const char *l, size_t n, const char *name)
{
	size_t k = 0;
	while (k < n && (l[k] == '_' || (l[k] >= 'A' && l[k] <= 'Z') || (l[k] >= 'a' && l[k] <= 'z') ||
			 (k && l[k] >= '0' && l[k] <= '9')))
		k++;
	if (!k || (name && (k != strlen(name) || strncmp(l, name, k))))
		return 0;
	while (k < n && l[k] == ' ')
		k++;
	if (k + 1 >= n || l[k] != '(' || l[k + 1] != ')')
		return 0;
	return memchr(l + k, '{', n - k) != NULL;
}

struct shell_var {
	char *name, *value;
};

static const char *var_value(const struct shell_var *vars, size_t nr, const char *name, size_t len)
{
	for (size_t i = nr; i-- > 0;)
		if (strlen(vars[i].name) == len && !strncmp(vars[i].name, name, len))
			return vars[i].value;
	return NULL;
}

static int is_name_char(char c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* "var=word" at top level, the word plain (no expansion, quoting or spaces): remembered. */
static void note_assignment(struct shell_var **vars, size_t *nr, const char *l, size_t n)
{
	size_t k = 0;
	while (k < n && is_name_char(l[k]))
		k++;
	if (!k || k >= n || l[k] != '=' || (l[0] >= '0' && l[0] <= '9'))
		return;
	size_t v = k + 1, e = v;
	while (e < n && !strchr(" \t$`\"'();|&<>\\", l[e]))
		e++;
	while (e < n && (l[e] == ' ' || l[e] == '\t'))
		e++;
	if (e != n || v == n)
		return;
	size_t end = n;
	while (end > v && (l[end - 1] == ' ' || l[end - 1] == '\t'))
		end--;
	*vars = realloc(*vars, (*nr + 1) * sizeof(**vars));
	(*vars)[*nr].name = strndup(l, k);
	(*vars)[*nr].value = strndup(l + v, end - v);
	(*nr)++;
}

/*
 * One word of a run_test line: quotes dropped, $var and ${var} resolved or
 * kept by name; with 'pattern', an unknown variable is '*' and the glob
 * characters of the rest are escaped (a bash pattern matching the word).
 */
static void expand_word(struct buf *out, const char *w, size_t n, const struct shell_var *vars, size_t nvars,
			int pattern)
{
	for (size_t i = 0; i < n; i++) {
		if (w[i] == '"' || w[i] == '\'')
			continue;
		if (w[i] != '$') {
			if (pattern && strchr("*?[]\\", w[i]))
				buf_addch(out, '\\');
			buf_addch(out, w[i]);
			continue;
		}
		size_t s = i + 1, braced = s < n && w[s] == '{';
		s += braced;
		size_t e = s;
		while (e < n && is_name_char(w[e]))
			e++;
		const char *val = e > s ? var_value(vars, nvars, w + s, e - s) : NULL;
		if (val)
			for (const char *v = val; *v; v++) {
				if (pattern && strchr("*?[]\\", *v))
					buf_addch(out, '\\');
				buf_addch(out, *v);
			}
		else if (pattern)
			buf_addch(out, '*');
		else
			buf_add(out, w + s, e - s);
		i = e - 1 + (braced && e < n && w[e] == '}');
	}
}

static void add_run(struct selftest_runs *out, const char *category, size_t clen, const char *args, size_t n,
		    unsigned line, const struct shell_var *vars, size_t nvars)
{
	struct strvec words = STRVEC_INIT;
	struct buf pattern = BUF_INIT;
	for (size_t i = 0; i < clen; i++)
		if (!is_name_char(category[i]) && category[i] != '-')
			return; /* what -t cannot name as one word is no run the script selects */
	for (size_t i = 0; i < n;) {
		while (i < n && (args[i] == ' ' || args[i] == '\t' || args[i] == '\\'))
			i++;
		size_t s = i;
		char quote = 0;
		for (; i < n && (quote || (args[i] != ' ' && args[i] != '\t')); i++)
			if (args[i] == '"' || args[i] == '\'')
				quote = quote == args[i] ? 0 : quote ? quote : args[i];
		if (i > s) {
			struct buf w = BUF_INIT;
			expand_word(&w, args + s, i - s, vars, nvars, 0);
			if (w.len) {
				strvec_push(&words, w.data);
				buf_reset(&w);
				expand_word(&w, args + s, i - s, vars, nvars, 1);
				if (pattern.len && !strcmp(w.data, "*"))
					buf_adds(&pattern, "?( *)"); /* a variable alone may expand to no word at all */
				else
					buf_addf(&pattern, "%s%s", pattern.len ? " " : "", w.data);
			}
			buf_release(&w);
		}
	}
	size_t first = 0;
	if (first < words.nr && !strcmp(words.v[first], "sudo")) {
		first++;
		if (first + 1 < words.nr && !strcmp(words.v[first], "-u"))
			first += 2;
	}
	if (first < words.nr && !strcmp(words.v[first], "bash"))
		first++;
	if (first >= words.nr) {
		strvec_clear(&words);
		buf_release(&pattern);
		return;
	}
	const char *prog = strrchr(words.v[first], '/') ? strrchr(words.v[first], '/') + 1 : words.v[first];
	struct buf name = BUF_INIT;
	buf_adds(&name, prog);
	for (size_t i = first + 1; i < words.nr; i++)
		buf_addf(&name, "_%s", words.v[i]);
	for (size_t i = 0; i < name.len; i++) {
		char c = name.data[i];
		if (!is_name_char(c) && c != '.' && c != '+' && c != '-')
			name.data[i] = '_';
	}
	/* the same name twice (a test run under two conditions): the second is NAME#2 */
	unsigned seen = 1;
	for (size_t i = 0; i < out->nr; i++) {
		const char *o = out->v[i].name;
		if (!strncmp(o, name.data, name.len) && (!o[name.len] || o[name.len] == '#'))
			seen++;
	}
	if (seen > 1)
		buf_addf(&name, "#%u", seen);
	out->v = realloc(out->v, (out->nr + 1) * sizeof(*out->v));
	struct selftest_run *r = &out->v[out->nr++];
	r->name = buf_detach(&name, NULL);
	r->program = strdup(prog);
	r->category = strndup(category, clen);
	r->line = line;
	/* the same call twice in one category (under two conditions): run_test runs the Nth */
	r->nth = 1;
	for (size_t i = 0; i + 1 < out->nr; i++)
		r->nth += !strcmp(out->v[i].pattern, pattern.data) && !strcmp(out->v[i].category, r->category);
	r->pattern = buf_detach(&pattern, NULL);
	strvec_clear(&words);
}

void selftests_parse_runner(struct selftest_runs *out, const char *script)
{
	struct shell_var *vars = NULL;
	size_t nvars = 0;
	int in_function = 0;
	unsigned line = 0;
	memset(out, 0, sizeof(*out));
	for (const char *l = script; l && *l;) {
		size_t n = strcspn(l, "\n");
		line++;
		if (defines_function(l, n, NULL)) {
			if (defines_function(l, n, "run_test"))
				out->hookable = 1;
			in_function = !memchr(l, '}', n);
		} else if (in_function) {
			in_function = !(n && l[0] == '}');
		} else {
			size_t t = strspn(l, " \t");
			const char *s = l + t;
			size_t m = n - t;
			if (m > 9 && !strncmp(s, "CATEGORY=", 9)) {
				size_t c = 9, quoted = s[c] == '"';
				c += quoted;
				size_t ce = c;
				while (ce < m && (quoted ? s[ce] != '"' : s[ce] != ' ' && s[ce] != '\t'))
					ce++;
				size_t r = ce + quoted;
				r += strspn(s + r, " \t");
				if (r + 8 <= m && !strncmp(s + r, "run_test", 8) && (r + 8 == m || s[r + 8] == ' '))
					add_run(out, s + c, ce - c, s + r + 8, m - r - 8, line, vars, nvars);
			} else {
				note_assignment(&vars, &nvars, s, m);
			}
		}
		l += n + (l[n] == '\n');
	}
	for (size_t i = 0; i < nvars; i++) {
		free(vars[i].name);
		free(vars[i].value);
	}
	free(vars);
}

void selftest_runs_release(struct selftest_runs *runs)
{
	for (size_t i = 0; i < runs->nr; i++) {
		free(runs->v[i].name);
		free(runs->v[i].program);
		free(runs->v[i].category);
		free(runs->v[i].pattern);
	}
	free(runs->v);
	memset(runs, 0, sizeof(*runs));
}

/* 1 if run 'r' starts program 'p': itself, or the script p.sh */
static int run_starts(const struct selftest_run *r, const char *p)
{
	size_t n = strlen(p);
	return !strcmp(r->program, p) || (!strncmp(r->program, p, n) && !strcmp(r->program + n, ".sh"));
}

void selftests_runs_for(const struct selftest_run **out, size_t *nr, struct strvec *bare,
			const struct selftest_runs *runs, const struct strvec *picked, int all)
{
	*nr = 0;
	for (size_t i = 0; i < runs->nr; i++) {
		int want = all;
		for (size_t k = 0; !want && k < picked->nr; k++)
			want = run_starts(&runs->v[i], picked->v[k]);
		if (want)
			out[(*nr)++] = &runs->v[i];
	}
	for (size_t k = 0; !all && k < picked->nr; k++) {
		int any = 0;
		for (size_t i = 0; !any && i < runs->nr; i++)
			any = run_starts(&runs->v[i], picked->v[k]);
		if (!any)
			strvec_push(bare, picked->v[k]);
	}
}

char *selftests_runner_script(const char *script)
{
	static const char hook[] =
		" if [ -n \"${KPIPE_RUN_ARGS:-}\" ]; then"
		" [ \"${CATEGORY:-}\" = \"${KPIPE_RUN_CATEGORY:-}\" ] && [[ \"$*\" == $KPIPE_RUN_ARGS ]] || return 0;"
		" KPIPE_RUN_SEEN=$((${KPIPE_RUN_SEEN:-0} + 1));"
		" [ \"$KPIPE_RUN_SEEN\" = \"${KPIPE_RUN_NTH:-1}\" ] || return 0; fi;";
	for (const char *l = script; l && *l;) {
		size_t n = strcspn(l, "\n");
		if (defines_function(l, n, "run_test")) {
			const char *brace = memchr(l, '{', n);
			struct buf out = BUF_INIT;
			buf_add(&out, script, (size_t)(brace + 1 - script));
			buf_adds(&out, hook);
			buf_adds(&out, brace + 1);
			return buf_detach(&out, NULL);
		}
		l += n + (l[n] == '\n');
	}
	return NULL;
}
