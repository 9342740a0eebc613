#include "splat.h"
#include "buf.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The function of "zap_pte_range.isra.0+0x123/0x456", without clone suffixes. */
static void function_of(struct buf *out, const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	const char *e = s;
	while (*e && *e != '+' && *e != ' ' && *e != '\n' && *e != ')')
		e++;
	/* GCC's clone suffixes vary between builds: titles name the function */
	static const char *const suffixes[] = { ".isra.", ".constprop.", ".part.", ".cold" };
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		const char *dot = strstr(s, suffixes[i]);
		if (dot && dot < e)
			e = dot;
	}
	buf_add(out, s, (size_t)(e - s));
}

/* Frames that report, lock or schedule: never the function to blame. */
static int infra_frame(const char *fn)
{
	static const char *const prefixes[] = {
		"dump_stack", "show_stack", "print_", "kasan_", "__switch_to", "__kasan", "kfence_",
		"__warn", "warn_slowpath", "report_bug", "handle_bug", "exc_", "asm_exc_",
		"check_noncircular", "check_prev_add", "validate_chain", "__lock_acquire",
		"lock_acquire", "mark_lock", "valid_state", "_raw_",
		"do_raw_", "native_queued_spin", "queued_spin", "__pv_queued", "down_",
		"up_", "rwsem_", "__down", "__schedule", "schedule", "__mutex_lock", "mutex_lock",
		"io_schedule", "bit_wait", "__wait_on", "out_of_line_wait", "panic", "die",
		"oops_", "__die", "do_trap", "do_error_trap", "ubsan_", "__ubsan", "rcu_",
		"print_cpu_stall", "watchdog", "nmi_", "arch_trigger", "trigger_", "lockdep_",
		"debug_", "bug_handler", "brk_handler", "call_break_hook", "el1_", "el0_",
	};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(fn, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}


enum how {
	HOW_WARNING,     /* "WARNING: ... at file:line func+0x": the function on the line */
	HOW_ON_LINE,     /* "<prefix> <what> in func+0x": title prefix + what, offsets dropped */
	HOW_UBSAN,       /* "UBSAN: kind in file:line:col": the file */
	HOW_STACK,       /* title + " in " + the function from the stack */
	HOW_BUG,         /* "BUG: <what>" + " in " + stack function */
	HOW_FIXED,       /* the title as it is */
	HOW_PANIC,       /* "kernel panic: <reason>" */
};

struct rule {
	const char *match;  /* the stripped line starts with this (or contains it, see below) */
	int anywhere;       /* match anywhere in the line */
	enum how how;
	const char *title;  /* title or prefix */
};

static const struct rule rules[] = {
	{ "BUG: KASAN: ", 0, HOW_ON_LINE, "KASAN: " },
	{ "BUG: KFENCE: ", 0, HOW_ON_LINE, "KFENCE: " },
	{ "UBSAN: ", 0, HOW_UBSAN, "UBSAN: " },
	{ "WARNING: possible circular locking dependency", 0, HOW_STACK, "possible deadlock" },
	{ "WARNING: possible recursive locking", 0, HOW_STACK, "possible deadlock" },
	{ "WARNING: inconsistent lock state", 0, HOW_STACK, "inconsistent lock state" },
	{ "WARNING: suspicious RCU usage", 0, HOW_STACK, "suspicious RCU usage" },
	{ "watchdog: BUG: soft lockup", 0, HOW_STACK, "BUG: soft lockup" },
	{ "Watchdog detected hard LOCKUP", 1, HOW_STACK, "hard lockup" },
	{ " detected stalls on CPUs", 1, HOW_STACK, "INFO: rcu detected stall" },
	{ " self-detected stall on CPU", 1, HOW_STACK, "INFO: rcu detected stall" },
	{ "INFO: task ", 0, HOW_STACK, "INFO: task hung" }, /* checked for "blocked for" below */
	{ "WARNING: ", 0, HOW_WARNING, "WARNING in " },
	{ "BUG: Bad rss-counter state", 0, HOW_FIXED, "BUG: Bad rss-counter state" },
	{ "Bad rss-counter state", 1, HOW_FIXED, "BUG: Bad rss-counter state" },
	{ "BUG: Bad page state", 0, HOW_BUG, NULL },
	{ "BUG: Bad page map", 0, HOW_BUG, NULL },
	{ "BUG: ", 0, HOW_BUG, NULL },
	{ "kernel BUG at ", 0, HOW_STACK, "kernel BUG" },
	{ "Unable to handle kernel ", 0, HOW_BUG, NULL },
	{ "general protection fault", 0, HOW_STACK, "general protection fault" },
	{ "Oops: ", 0, HOW_STACK, "Oops" },
	{ "Internal error: ", 0, HOW_STACK, "Oops" },
	{ "Kernel panic - not syncing: ", 0, HOW_PANIC, "kernel panic: " },
};

static const struct rule *match_rule(const char *l)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];
		int hit = r->anywhere ? strstr(l, r->match) != NULL : !strncmp(l, r->match, strlen(r->match));
		if (!hit)
			continue;
		if (!strcmp(r->match, "INFO: task ") && !strstr(l, " blocked for more than "))
			continue;
		if (r->how == HOW_WARNING && !strstr(l, " at "))
			continue;
		return r;
	}
	return NULL;
}

static int starts_report(const char *l)
{
	return match_rule(l) != NULL;
}

/*
 * The function to blame, from the lines after a report's first line: the
 * first RIP:/pc : location or call-trace frame that is not reporting or
 * locking machinery.
 */
static void find_function(struct buf *fn, const char *after)
{
	const char *p = after;
	struct buf line = BUF_INIT, cand = BUF_INIT;
	int in_trace = 0;
	for (int n = 0; p && *p && n < 80 && !fn->len; n++) {
		const char *eol = strchr(p, '\n');
		buf_reset(&line);
		buf_add(&line, p, eol ? (size_t)(eol - p) : strlen(p));
		p = eol ? eol + 1 : NULL;
		const char *l = strip_prefix(line.data);
		const struct rule *r = match_rule(l);
		/* another report ends this one, but an Oops belongs to the BUG before it */
		if ((r && strcmp(r->title ? r->title : "", "Oops")) || strstr(l, "---[ end"))
			break;
		buf_reset(&cand);
		const char *rip = strstr(l, "RIP: ");
		if (rip) {
			const char *colon = strchr(rip + 5, ':');
			function_of(&cand, colon ? colon + 1 : rip + 5);
		} else if (!strncmp(l, "pc : ", 5)) {
			function_of(&cand, l + 5);
		} else if (!strncasecmp(l, "Call Trace:", 11)) {
			in_trace = 1;
		} else if (in_trace && strstr(l, "+0x")) {
			/* a frame: "func+0x1a/0x20", arm64 may add " (C)"; "? func" is unreliable */
			const char *f = l;
			while (*f == ' ' || *f == '\t')
				f++;
			const char *sp = strchr(f, ' ');
			const char *plus = strstr(f, "+0x");
			if ((isalpha((unsigned char)*f) || *f == '_') && plus && (!sp || plus < sp))
				function_of(&cand, f);
		}
		if (cand.len && !infra_frame(cand.data))
			buf_add(fn, cand.data, cand.len);
	}
	buf_release(&line);
	buf_release(&cand);
}

/* Copy 'from' up to the first of 'stops' (or its end), trimmed. */
static void copy_until(struct buf *out, const char *from, const char *const *stops)
{
	const char *end = from + strlen(from);
	for (; *stops; stops++) {
		const char *s = strstr(from, *stops);
		if (s && s < end)
			end = s;
	}
	buf_add(out, from, (size_t)(end - from));
	buf_rtrim(out);
}

static void build_title(struct buf *title, const struct rule *r, const char *l, const char *next)
{
	static const char *const at_stops[] = { "+0x", " at ", NULL };
	static const char *const comma_stops[] = { ", ", " at ", NULL };
	struct buf fn = BUF_INIT, what = BUF_INIT;
	switch (r->how) {
	case HOW_WARNING: {
		/* "WARNING: CPU: 0 PID: 1 at mm/memory.c:12 func+0x1/0x2" */
		const char *at = strstr(l, " at ");
		const char *sp = at ? strchr(at + 4, ' ') : NULL;
		if (sp)
			function_of(&fn, sp + 1);
		if (!fn.len)
			find_function(&fn, next);
		buf_addf(title, "%s%s", r->title, fn.len ? fn.data : "unknown");
		break;
	}
	case HOW_ON_LINE: {
		const char *rest = l + strlen(r->match);
		copy_until(&what, rest, at_stops);
		/* "slab-use-after-free in folio_remove_rmap_ptes.isra.0" -> clone suffix off */
		char *in = strstr(what.data, " in ");
		if (in) {
			struct buf f = BUF_INIT;
			function_of(&f, in + 4);
			buf_truncate(&what, (size_t)(in - what.data) + 4);
			buf_add(&what, f.data, f.len);
			buf_release(&f);
		}
		buf_addf(title, "%s%s", r->title, what.data);
		break;
	}
	case HOW_UBSAN: {
		/* "UBSAN: array-index-out-of-bounds in mm/rmap.c:1873:20" -> file only */
		copy_until(&what, l + strlen(r->match), (const char *const[]){ ":", NULL });
		buf_addf(title, "%s%s", r->title, what.data);
		break;
	}
	case HOW_STACK:
		find_function(&fn, next);
		buf_addf(title, "%s in %s", r->title, fn.len ? fn.data : "unknown");
		break;
	case HOW_BUG: {
		const char *rest = !strncmp(l, "BUG: ", 5) ? l + 5 : l;
		copy_until(&what, rest, comma_stops);
		if (!strncmp(what.data, "Unable to handle kernel ", 24)) {
			/* arm64 words it differently; name it as x86 does */
			struct buf w = BUF_INIT;
			buf_addf(&w, "unable to handle kernel %s", what.data + 24);
			char *addr = strstr(w.data, " at virtual address");
			if (addr)
				buf_truncate(&w, (size_t)(addr - w.data));
			buf_release(&what);
			what = w;
		}
		if (!strncmp(what.data, "Bad page", 8)) {
			char *pfn = strstr(what.data, " pfn:");
			if (pfn)
				buf_truncate(&what, (size_t)(pfn - what.data));
			buf_rtrim(&what);
			buf_addf(title, "BUG: %s", what.data);
			break;
		}
		/* an address in the title would make every report unique */
		char *addr = strstr(what.data, " for address");
		if (addr)
			buf_truncate(&what, (size_t)(addr - what.data));
		find_function(&fn, next);
		buf_addf(title, "BUG: %s in %s", what.data, fn.len ? fn.data : "unknown");
		break;
	}
	case HOW_FIXED:
		buf_adds(title, r->title);
		break;
	case HOW_PANIC:
		copy_until(&what, l + strlen(r->match), (const char *const[]){ " ]---", NULL });
		buf_addf(title, "%s%s", r->title, what.data);
		break;
	}
	buf_release(&fn);
	buf_release(&what);
}

/*
 * The titles of a list by hash, while splat_scan() fills it: a console
 * with thousands of different reports costs what its size does, not the
 * square of their number.  slot[] holds an entry's index + 1, 0 is free.
 */
struct title_index {
	size_t *slot;
	size_t cap; /* a power of two, at least twice the entries */
};

static size_t title_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (size_t)h;
}

static void index_put(struct title_index *ix, const struct splat_list *l, size_t i)
{
	size_t k = title_hash(l->v[i].title) & (ix->cap - 1);
	while (ix->slot[k])
		k = (k + 1) & (ix->cap - 1);
	ix->slot[k] = i + 1;
}

static void index_grow(struct title_index *ix, const struct splat_list *l)
{
	size_t cap = ix->cap ? ix->cap : 64;
	while (cap < 2 * (l->nr + 1))
		cap *= 2;
	if (cap == ix->cap)
		return;
	free(ix->slot);
	ix->slot = calloc(cap, sizeof(*ix->slot));
	ix->cap = cap;
	for (size_t i = 0; i < l->nr; i++)
		index_put(ix, l, i);
}

/* The entry titled 'title', or -1. */
static long index_find(const struct title_index *ix, const struct splat_list *l, const char *title)
{
	for (size_t k = title_hash(title) & (ix->cap - 1); ix->slot[k]; k = (k + 1) & (ix->cap - 1))
		if (!strcmp(l->v[ix->slot[k] - 1].title, title))
			return (long)(ix->slot[k] - 1);
	return -1;
}

/* Count 'title' once more in 'l', or add it; 'ix' (or NULL: search) finds it. */
static void add_entry(struct splat_list *l, struct title_index *ix, const char *title, const char *report)
{
	long found = -1;
	if (ix) {
		index_grow(ix, l);
		found = index_find(ix, l, title);
	} else {
		for (size_t i = 0; i < l->nr && found < 0; i++)
			if (!strcmp(l->v[i].title, title))
				found = (long)i;
	}
	if (found >= 0) {
		l->v[found].count++;
		return;
	}
	l->v = realloc(l->v, (l->nr + 1) * sizeof(*l->v));
	memset(&l->v[l->nr], 0, sizeof(l->v[l->nr]));
	l->v[l->nr].title = strdup(title);
	l->v[l->nr].count = 1;
	l->v[l->nr].report = strdup(report ? report : "");
	l->nr++;
	if (ix)
		index_put(ix, l, l->nr - 1);
}

void splat_add(struct splat_list *out, const char *title, const char *report)
{
	add_entry(out, NULL, title, report);
}

static void report_from(struct buf *r, const char *start)
{
	const char *p = start;
	for (int n = 0; p && *p && n < 80; n++) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) + 1 : strlen(p);
		if (n) {
			struct buf line = BUF_INIT;
			buf_add(&line, p, len);
			int next_report = starts_report(strip_prefix(line.data));
			buf_release(&line);
			if (next_report)
				break;
		}
		buf_add(r, p, len);
		if (memmem(p, len, "---[ end", 8)) /* in this line only: a log without one is not read again */
			break;
		p = eol ? eol + 1 : NULL;
	}
}

void splat_scan(struct splat_list *out, const char *log)
{
	struct buf line = BUF_INIT, title = BUF_INIT, report = BUF_INIT;
	struct title_index ix = { NULL, 0 };
	int last_report = -100; /* line number of the last report's start */
	int lineno = 0;
	for (const char *p = log; p && *p; lineno++) {
		const char *eol = strchr(p, '\n');
		const char *next = eol ? eol + 1 : NULL;
		buf_reset(&line);
		buf_add(&line, p, eol ? (size_t)(eol - p) : strlen(p));
		buf_rtrim(&line);
		const char *l = strip_prefix(line.data);
		const struct rule *r = match_rule(l);
		/* an Oops printed right after the BUG that caused it is the same event */
		if (r && (!strcmp(r->title ? r->title : "", "Oops")) && lineno - last_report <= 6)
			r = NULL;
		if (r) {
			buf_reset(&title);
			build_title(&title, r, l, next);
			buf_reset(&report);
			report_from(&report, p);
			add_entry(out, &ix, title.data, report.data);
			if (r->how != HOW_PANIC)
				last_report = lineno;
		}
		p = next;
	}
	free(ix.slot);
	buf_release(&line);
	buf_release(&title);
	buf_release(&report);
}

void splat_ignore(struct splat_list *l, const struct strvec *patterns)
{
	for (size_t i = 0; i < l->nr; i++)
		for (size_t k = 0; k < patterns->nr; k++)
			if (fnmatch(patterns->v[k], l->v[i].title, 0) == 0)
				l->v[i].ignored = 1;
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
