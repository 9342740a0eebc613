#include "splat.h"
#include "buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Skip the "[   12.345678] " timestamp and a "<4>" level if present. */
static const char *strip_prefix(const char *l)
{
	if (*l == '<') {
		const char *e = strchr(l, '>');
		if (e && e - l < 5)
			l = e + 1;
	}
	if (*l == '[') {
		const char *e = strchr(l, ']');
		if (e)
			l = e + 1;
		while (*l == ' ')
			l++;
	}
	return l;
}

/* The function of "RIP: 0010:zap_pte_range+0x123/0x456" or "pc : func+0x..". */
static void function_of(struct buf *out, const char *s)
{
	while (*s == ' ')
		s++;
	const char *e = s;
	while (*e && *e != '+' && *e != ' ' && *e != '\n')
		e++;
	/* GCC's clone suffixes (.isra.0, .constprop.0, .part.0, .cold) vary
	 * between builds: the title names the function without them */
	static const char *const suffixes[] = { ".isra.", ".constprop.", ".part.", ".cold" };
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		const char *dot = strstr(s, suffixes[i]);
		if (dot && dot < e)
			e = dot;
	}
	buf_add(out, s, (size_t)(e - s));
}

static void add_splat(struct splat_list *l, const char *title, const char *report)
{
	for (size_t i = 0; i < l->nr; i++) {
		if (!strcmp(l->v[i].title, title)) {
			l->v[i].count++;
			return;
		}
	}
	l->v = realloc(l->v, (l->nr + 1) * sizeof(*l->v));
	l->v[l->nr].title = strdup(title);
	l->v[l->nr].count = 1;
	l->v[l->nr].report = strdup(report);
	l->nr++;
}

/* Find where the function is named in the lines that follow a header. */
static void find_function(struct buf *fn, const char *after)
{
	const char *p = after;
	for (int n = 0; p && *p && n < 40; n++) {
		const char *eol = strchr(p, '\n');
		struct buf line = BUF_INIT;
		buf_add(&line, p, eol ? (size_t)(eol - p) : strlen(p));
		const char *l = strip_prefix(line.data);
		const char *rip = strstr(l, "RIP: ");
		if (rip) {
			const char *colon = strchr(rip + 5, ':');
			function_of(fn, colon ? colon + 1 : rip + 5);
		} else if (!strncmp(l, "pc : ", 5)) {
			function_of(fn, l + 5);
		}
		buf_release(&line);
		if (fn->len)
			return;
		p = eol ? eol + 1 : NULL;
	}
}

static void report_from(struct buf *r, const char *start)
{
	const char *p = start;
	for (int n = 0; p && *p && n < 60; n++) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) + 1 : strlen(p);
		buf_add(r, p, len);
		if (strstr(p, "---[ end trace") && strstr(p, "---[ end trace") < p + len)
			break;
		p = eol ? eol + 1 : NULL;
	}
}

void splat_scan(struct splat_list *out, const char *log)
{
	struct buf line = BUF_INIT, title = BUF_INIT, fn = BUF_INIT, report = BUF_INIT;
	for (const char *p = log; p && *p;) {
		const char *eol = strchr(p, '\n');
		const char *next = eol ? eol + 1 : NULL;
		buf_reset(&line);
		buf_add(&line, p, eol ? (size_t)(eol - p) : strlen(p));
		buf_rtrim(&line);
		const char *l = strip_prefix(line.data);
		buf_reset(&title);
		buf_reset(&fn);
		if (!strncmp(l, "WARNING: ", 9) && strstr(l, " at ")) {
			/* "WARNING: CPU: 0 PID: 1 at mm/memory.c:12 func+0x1/0x2" */
			const char *at = strstr(l, " at ");
			const char *sp = strchr(at + 4, ' ');
			if (sp)
				function_of(&fn, sp + 1);
			if (!fn.len)
				find_function(&fn, next);
			buf_addf(&title, "WARNING in %s", fn.len ? fn.data : "unknown");
		} else if (!strncmp(l, "BUG: ", 5)) {
			const char *what = l + 5;
			const char *end = strstr(what, " at ");
			if (!end)
				end = strstr(what, ", ");
			struct buf w = BUF_INIT;
			buf_add(&w, what, end ? (size_t)(end - what) : strlen(what));
			find_function(&fn, next);
			if (!strncmp(w.data, "Bad rss-counter state", 21)) {
				/* the mm pointer and the value vary: keep the title stable */
				buf_adds(&title, "BUG: Bad rss-counter state");
			} else if (!strncmp(w.data, "Bad page", 8)) {
				char *pfn = strstr(w.data, " pfn:");
				if (pfn)
					buf_truncate(&w, (size_t)(pfn - w.data));
				buf_rtrim(&w);
				buf_addf(&title, "BUG: %s", w.data);
			}
			else
				buf_addf(&title, "BUG: %s in %s", w.data, fn.len ? fn.data : "unknown");
			buf_release(&w);
		} else if (!strncmp(l, "kernel BUG at ", 14)) {
			find_function(&fn, next);
			buf_addf(&title, "kernel BUG in %s", fn.len ? fn.data : "unknown");
		} else if (!strncmp(l, "Oops: ", 6) || !strncmp(l, "Internal error: ", 16)) {
			find_function(&fn, next);
			buf_addf(&title, "Oops in %s", fn.len ? fn.data : "unknown");
		} else if (strstr(l, "general protection fault") == l) {
			find_function(&fn, next);
			buf_addf(&title, "general protection fault in %s", fn.len ? fn.data : "unknown");
		} else if (!strncmp(l, "Kernel panic - not syncing: ", 28)) {
			buf_addf(&title, "kernel panic: %s", l + 28);
		} else if (strstr(l, "Bad rss-counter state")) {
			buf_adds(&title, "BUG: Bad rss-counter state");
		} else if (!strncmp(l, "WARNING: possible circular locking", 34)) {
			buf_adds(&title, "possible deadlock (circular locking)");
		} else if (!strncmp(l, "WARNING: inconsistent lock state", 32)) {
			buf_adds(&title, "inconsistent lock state");
		}
		if (title.len) {
			buf_reset(&report);
			report_from(&report, p);
			add_splat(out, title.data, report.data);
		}
		p = next;
	}
	buf_release(&line);
	buf_release(&title);
	buf_release(&fn);
	buf_release(&report);
}

int splat_has_panic(const struct splat_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strncmp(l->v[i].title, "kernel panic", 12))
			return 1;
	return 0;
}

void splat_list_release(struct splat_list *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		free(l->v[i].title);
		free(l->v[i].report);
	}
	free(l->v);
	l->v = NULL;
	l->nr = 0;
}
