/*
 * splat: kernel reports in a console log, titled the way syzbot titles
 * them (syzkaller's pkg/report is the public reference for the
 * conventions; this is kpipe's own code).
 *
 * A log is read once, line by line.  Each line is cleaned: CR and ANSI
 * escapes from serial consoles, "** N printk messages dropped **", a
 * "login: " the console glued in front, `dmesg -x` facility and level
 * ("kern  :warn  : "), a "<4>" level, the "[  12.345678]" timestamp and
 * the printk caller id ("[ T123]", "[  C0]").  A line that starts a
 * report (its kind's header) gathers the lines that follow from the same
 * caller (when the kernel prints caller ids, another CPU's interleaved
 * lines are left out), without "? func" guesses, until the next report
 * of that caller, an "---[ end trace" or 400 lines.  Its title comes from
 * the kind's format: "KASAN: slab-use-after-free Read in F", "WARNING in
 * F", "possible deadlock in F", ..., F being the first frame that is no
 * reporting, locking, allocation or exception-entry machinery, or
 * "corrupted" when the report has none.
 */
#include "splat.h"
#include "buf.h"

#include <ctype.h>
#include <fnmatch.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REPORT_MAX_LINES 400 /* lines a report gathers */
#define REPORT_KEEP_LINES 80 /* of which splat.report keeps */
#define FUNC_MAX 128

/* ---- one cleaned console line ---- */

struct cline {
	size_t raw, raw_len; /* the line as logged, in the log */
	size_t text;	     /* the message, in lines.arena */
	char ctx[12];	     /* printk caller id ("T123", "C0"), "" if none */
	unsigned stamped : 1;
	unsigned questionable : 1; /* "? func+0x.." (a guess of the unwinder) */
};

struct lines {
	struct cline *v;
	size_t nr;
	struct buf arena; /* cleaned texts, NUL-separated */
	const char *log;
};

static const char *text_of(const struct lines *ls, size_t i)
{
	return ls->arena.data + ls->v[i].text;
}

/* Drop ANSI escape sequences and keep what follows the last CR. */
static void clean_controls(struct buf *out, const char *s, size_t n)
{
	size_t start = out->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0x1b) {
			if (i + 1 < n && s[i + 1] == '[') {
				i += 2;
				while (i < n && !(s[i] >= 0x40 && s[i] <= 0x7e))
					i++;
			} else {
				i++;
			}
			continue;
		}
		if (c == '\r') {
			if (i + 1 < n) /* the console went back to the line's start */
				buf_truncate(out, start);
			continue;
		}
		buf_addch(out, (char)c);
	}
}

static int skip_bracket_number(const char **pp, int want_dot)
{
	const char *p = *pp;
	if (*p != '[')
		return 0;
	p++;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (want_dot) {
		if (*p != '.')
			return 0;
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p != ']')
		return 0;
	*pp = p + 1;
	return 1;
}

/* "[  T123]" / "[    C0]": the caller id into ctx. */
static int skip_caller(const char **pp, char *ctx, size_t ctx_len)
{
	const char *p = *pp;
	if (*p != '[')
		return 0;
	p++;
	while (*p == ' ')
		p++;
	if (*p != 'T' && *p != 'C')
		return 0;
	const char *id = p++;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p != ']' || (size_t)(p - id) >= ctx_len)
		return 0;
	memcpy(ctx, id, (size_t)(p - id));
	ctx[p - id] = '\0';
	*pp = p + 1;
	return 1;
}

/* `dmesg -x`: "kern  :warn  : " */
static const char *skip_facility_level(const char *p)
{
	static const char *const levels[] = {"emerg", "alert",	"crit", "err",
					     "warn",  "notice", "info", "debug"};
	const char *q = p;
	while (islower((unsigned char)*q) || isdigit((unsigned char)*q))
		q++;
	if (q == p || q - p > 8)
		return p;
	while (*q == ' ')
		q++;
	if (*q++ != ':')
		return p;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		size_t n = strlen(levels[i]);
		if (!strncmp(q, levels[i], n)) {
			const char *r = q + n;
			while (*r == ' ')
				r++;
			if (*r == ':' && r[1] == ' ')
				return r + 2;
		}
	}
	return p;
}

static void clean_line(struct lines *ls, struct cline *cl, struct buf *tmp)
{
	buf_reset(tmp);
	clean_controls(tmp, ls->log + cl->raw, cl->raw_len);
	buf_rtrim(tmp);
	const char *p = tmp->data;
	if (!strncmp(p, "** ", 3) && strstr(p, " printk messages dropped ** ")) {
		p = strstr(p, " printk messages dropped ** ") + 28;
	}
	const char *login = strstr(p, " login: ");
	if (login && login[8] == '[')
		p = login + 8;
	p = skip_facility_level(p);
	if (*p == '<') {
		const char *e = p + 1;
		while (isdigit((unsigned char)*e))
			e++;
		if (*e == '>' && e - p <= 4)
			p = e + 1;
	}
	cl->ctx[0] = '\0';
	if (skip_bracket_number(&p, 1))
		cl->stamped = 1;
	skip_caller(&p, cl->ctx, sizeof(cl->ctx));
	if ((cl->stamped || cl->ctx[0]) && *p == ' ')
		p++;
	/* "[<ffffffff8100>] ? func+0x1/0x2" or " ? func+0x1/0x2", not "<EOI>" lines */
	const char *q = strstr(p, " ? ");
	if (q && !strstr(p, "<EOI>")) {
		const char *f = q + 3;
		while (*f == ' ')
			f++;
		const char *e = f;
		while (isalnum((unsigned char)*e) || *e == '_' || *e == '.')
			e++;
		int pre_ok = 1;
		for (const char *b = p; b < q; b++)
			if (*b != ' ' && *b != '\t' && !strchr("[]<>0123456789abcdefx", *b))
				pre_ok = 0;
		if (pre_ok && e > f && !strncmp(e, "+0x", 3))
			cl->questionable = 1;
	}
	cl->text = ls->arena.len;
	buf_adds(&ls->arena, p);
	buf_addch(&ls->arena, '\0');
}

static void lines_split(struct lines *ls, const char *log)
{
	struct buf tmp = BUF_INIT;
	size_t alloc = 0;
	memset(ls, 0, sizeof(*ls));
	buf_init(&ls->arena);
	ls->log = log;
	for (const char *p = log; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (ls->nr == alloc) {
			alloc = alloc ? 2 * alloc : 256;
			ls->v = realloc(ls->v, alloc * sizeof(*ls->v));
			if (!ls->v)
				abort();
		}
		struct cline *cl = &ls->v[ls->nr++];
		memset(cl, 0, sizeof(*cl));
		cl->raw = (size_t)(p - log);
		cl->raw_len = len;
		clean_line(ls, cl, &tmp);
		p += len + (eol != NULL);
	}
	buf_release(&tmp);
}

static void lines_release(struct lines *ls)
{
	free(ls->v);
	buf_release(&ls->arena);
}

/* ---- frames ---- */

/* Copy [A-Za-z0-9_]+ at p if a '.' or '+' follows it (a symbol+offset). */
static int take_func(const char *p, char *out)
{
	const char *e = p;
	while (isalnum((unsigned char)*e) || *e == '_')
		e++;
	if (e == p || (*e != '.' && *e != '+') || e - p >= FUNC_MAX)
		return 0;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 1;
}

/* Copy the identifier [A-Za-z0-9_]+ at p (a work function's name). */
static int take_ident(const char *p, char *out)
{
	size_t n = 0;
	while ((isalnum((unsigned char)p[n]) || p[n] == '_') && n + 1 < FUNC_MAX)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
	return n > 0;
}

/* "[<ffffffff81234567>]" or "[ffff...]" */
static int skip_pc(const char **pp)
{
	const char *p = *pp;
	if (*p++ != '[')
		return 0;
	if (*p == '<')
		p++;
	if (p[0] == '0' && p[1] == 'x')
		p += 2;
	if (!isxdigit((unsigned char)*p))
		return 0;
	while (isxdigit((unsigned char)*p))
		p++;
	if (*p == '>')
		p++;
	if (*p++ != ']')
		return 0;
	*pp = p;
	return 1;
}

/* A call-trace line: "  func+0x1a/0x20 [mod]", "[<ffff..>] func+0x..", arm64's "func+0x.. (P)". */
static int frame_line(const char *l, char *out)
{
	const char *p = l;
	while (*p == ' ' || *p == '\t')
		p++;
	for (int k = 0; k < 2 && *p == '['; k++) {
		if (!skip_pc(&p))
			return 0;
		while (*p == ' ')
			p++;
	}
	return take_func(p, out);
}

/*
 * The faulting location: "RIP: 0010:func+0x..", "IP: [<..>] func+0x..",
 * arm64's "pc : func+0x..", arm's "PC is at func+0x..".  1 with the
 * function (or "" for a user-space or unknown address), 0 if no such line.
 */
static int rip_line(const char *l, char *out)
{
	static const char *const marks[] = {"IP: ", "pc : ", "PC is at "};
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *m = strstr(l, marks[i]);
		if (!m || (i == 1 && m != l && m[-1] != ' '))
			continue;
		const char *p = m + strlen(marks[i]);
		const char *q = p;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q == ':' && q > p)
			p = q + 1;
		for (int k = 0; k < 2 && *p == '['; k++) {
			if (!skip_pc(&p))
				break;
			while (*p == ' ')
				p++;
		}
		out[0] = '\0';
		take_func(p, out);
		return 1;
	}
	return 0;
}

static int stack_start(const char *l)
{
	static const char *const starts[] = {
	    "Call Trace", "Call trace", "Allocated:",
	    "Freed:",	  "Backtrace:", "Uninit was stored to memory at",
	};
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
		if (strstr(l, starts[i]))
			return 1;
	const char *t = strstr(l, "Allocated by task ");
	if (!t)
		t = strstr(l, "Freed by task ");
	if (t && strchr(t, ':'))
		return 1;
	const char *b = strstr(l, " backtrace");
	if (b && b > l && b[-1] != 'k' && (b[10] == ':' || !strncmp(b + 10, " (crc ", 6)))
		return 1;
	return 0;
}

/* ---- report kinds ---- */

enum frames {
	FR_NONE,
	FR_RIP,          /* the faulting location only */
	FR_RIP_TRACE,    /* the faulting location and what follows, else the call trace */
	FR_TRACE,        /* the call trace */
	FR_HEADER_TRACE, /* the function the header names, then the call trace */
	FR_HEADER_STACK, /* the function the header names, then the frames below it */
	FR_STACK,        /* the frames right below the header */
	FR_AFTER,        /* the frames after the line holding 'after' */
	FR_LOCKDEP,      /* the two first "at: func" lines, then the dependency chain */
	FR_AT,           /* the function after 'at' on the first line with it after 'after' (unskipped) */
	FR_PC_TRACE,     /* the first "[<pc>] func" line, then the call trace */
	FR_AT_TRACE,     /* as FR_AT (skipping machinery), then the call trace */
	FR_WORKQUEUE,    /* the work a stalled worker pool is busy with */
	FR_STALL,        /* the frames interrupted by the timer */
};

enum extractor { X_FIRST, X_STALL, X_HANG };

struct format {
	const char *re;      /* ERE on the header line; groups are %1.. */
	const char *title;   /* %1.. groups, %F the frame */
	enum frames frames;
	const char *skip;    /* ERE: more frames to skip for this kind */
	enum extractor x;
	const char *after;   /* FR_AFTER, FR_AT: the line that comes first */
	const char *at;      /* FR_AT: what precedes the function */
	const char *needs;   /* a later line must match this ERE (its groups follow the header's) */
};

struct group {
	const char *header;  /* the line holds this */
	const char *suppress; /* ERE: then it is no report */
	const struct format *formats;
	int continuation;    /* right after another report of the caller it is part of that one */
	int panic;
};

/* A format: header ERE, title, frames, extra skip ERE, extractor (KA: and after, at, needs). */
#define K(re, title, frames, skip, x) { re, title, frames, skip, x, NULL, NULL, NULL }
#define KA(re, title, frames, skip, x, after, at, needs)                                         \
	{ re, title, frames, skip, x, after, at, needs }
#define END K(NULL, NULL, FR_NONE, NULL, X_FIRST)

static const struct format bug_formats[] = {
	K("BUG: KASAN: (double-free or invalid-free|double-free|invalid-free) in ([A-Za-z0-9_]+)",
	  "KASAN: invalid-free in %F", FR_HEADER_TRACE, "slab_|kfree|vunmap|vfree", X_FIRST),
	KA("BUG: KASAN: ([a-z-]+) in ([A-Za-z0-9_]+)",
	  "KASAN: %1 %3 in %F", FR_HEADER_TRACE,
	  "kernel_fault|tag_check|mem_abort|^el1_|^el1h_",
	  X_FIRST, NULL, NULL, "(Read|Write) (of size|at addr)"),
	K("BUG: KASAN: ([a-z-]+) in ([A-Za-z0-9_]+)",
	  "KASAN: %1 in %F", FR_HEADER_TRACE,
	  "kernel_fault|tag_check|mem_abort|^el1_|^el1h_", X_FIRST),
	KA("BUG: KASAN: ([a-z-]+) on address",
	  "KASAN: %1 %2", FR_NONE, NULL, X_FIRST, NULL, NULL, "(Read|Write) of size"),
	K("BUG: KASAN: (.*)",
	  "KASAN: %1", FR_NONE, NULL, X_FIRST),
	K("BUG: KMSAN: kernel-usb-infoleak in",
	  "KMSAN: kernel-usb-infoleak in %F", FR_STACK,
	  "alloc_skb|usb_submit_urb|usb_start_wait_urb|usb_bulk_msg|usb_interrupt_msg|"
	  "usb_control_msg", X_FIRST),
	K("BUG: KMSAN: ([a-z-]+) in",
	  "KMSAN: %1 in %F", FR_STACK,
	  "alloc_skb|netlink_ack|netlink_rcv_skb|_encrypt$|^(crypto|cipher|drbg|rng)_", X_FIRST),
	K("BUG: KCSAN: (.*)",
	  "KCSAN: %1", FR_NONE, NULL, X_FIRST),
	K("BUG: KFENCE: (use-after-free|out-of-bounds) (read|write) in ([A-Za-z0-9_]+)",
	  "KFENCE: %1 %2 in %F", FR_HEADER_STACK, NULL, X_FIRST),
	K("BUG: KFENCE: invalid free in ([A-Za-z0-9_]+)",
	  "KFENCE: invalid free in %F", FR_HEADER_STACK, NULL, X_FIRST),
	K("BUG: KFENCE: invalid (read|write) in ([A-Za-z0-9_]+)",
	  "KFENCE: invalid %1 in %F", FR_HEADER_STACK, NULL, X_FIRST),
	K("BUG: KFENCE: memory corruption in ([A-Za-z0-9_]+)",
	  "KFENCE: memory corruption in %F", FR_HEADER_STACK, NULL, X_FIRST),
	K("BUG: (unable to handle kernel paging request|unable to handle page fault for address|"
	  "Unable to handle kernel data access)",
	  "BUG: unable to handle kernel paging request in %F", FR_RIP_TRACE, NULL, X_FIRST),
	K("BUG: (unable to handle kernel NULL pointer dereference|kernel NULL pointer dereference|"
	  "Kernel NULL pointer dereference)",
	  "BUG: unable to handle kernel NULL pointer dereference in %F", FR_RIP_TRACE,
	  NULL, X_FIRST),
	K("BUG: (unable to handle kernel|Unable to handle kernel)",
	  "BUG: unable to handle kernel", FR_NONE, NULL, X_FIRST),
	K("BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|cpu recursion|"
	  "bad magic|wrong owner|wrong CPU|trylock failure on UP)",
	  "BUG: %1 %2 in %F", FR_TRACE, "spin_|_lock|_unlock", X_FIRST),
	K("BUG: soft lockup",
	  "BUG: soft lockup in %F", FR_RIP_TRACE, NULL, X_STALL),
	K("BUG: .*still has locks held!",
	  "BUG: still has locks held in %F", FR_PC_TRACE, NULL, X_FIRST),
	K("BUG: scheduling while atomic",
	  "BUG: scheduling while atomic in %F", FR_TRACE, "schedule", X_FIRST),
	KA("BUG: lock held when returning to user space",
	  "BUG: lock held when returning to user space in %F", FR_AT,
	  NULL, X_FIRST, "leaving the kernel with locks still held", "at: ", NULL),
	K("BUG: bad unlock balance detected!",
	  "BUG: bad unlock balance in %F", FR_PC_TRACE, NULL, X_FIRST),
	KA("BUG: held lock freed!",
	  "BUG: held lock freed in %F", FR_AT, NULL, X_FIRST, "", "at: ", NULL),
	K("BUG: Bad rss-counter state",
	  "BUG: Bad rss-counter state", FR_NONE, NULL, X_FIRST),
	K("BUG: non-zero nr_ptes on freeing mm",
	  "BUG: non-zero nr_ptes on freeing mm", FR_NONE, NULL, X_FIRST),
	K("BUG: non-zero nr_pmds on freeing mm",
	  "BUG: non-zero nr_pmds on freeing mm", FR_NONE, NULL, X_FIRST),
	K("BUG: Dentry .* still in use",
	  "BUG: Dentry still in use in unmount", FR_NONE, NULL, X_FIRST),
	KA("BUG: Bad page (state|cache)",
	  "BUG: Bad page %1 in %F", FR_AFTER,
	  "(free|put|get|update|release)_page|free_unref|^_*folio|truncate_inode_pages|"
	  "page_frag_free|alloc|vmap|page_owner", X_FIRST, "page last allocated", NULL, NULL),
	K("BUG: Bad page map",
	  "BUG: Bad page map in %F", FR_TRACE,
	  "print_bad_pte|vm_normal_page|zap_|unmap_page_range|unmap_single_vma|unmap_vmas",
	  X_FIRST),
	K("BUG: workqueue lockup",
	  "BUG: workqueue lockup in %F", FR_WORKQUEUE, NULL, X_FIRST),
	K("BUG: sleeping function called from invalid context at (.*)",
	  "BUG: sleeping function called from invalid context in %F", FR_TRACE, NULL, X_FIRST),
	K("BUG: using ([a-z_]+)\\(\\) in preemptible",
	  "BUG: using %1() in preemptible code in %F", FR_TRACE,
	  "dump_stack|preemption|preempt|debug_|processor_id|this_cpu", X_FIRST),
	KA("BUG: workqueue leaked lock or atomic",
	  "BUG: workqueue leaked lock or atomic in %F", FR_AT,
	  NULL, X_FIRST, "", "last function: ", NULL),
	KA("BUG: memory leak",
	  "memory leak in %F", FR_AFTER,
	  "kmemleak|mmap|kmem|slab|alloc|create_object|idr_get|list_lru_init|kasprintf|kvasprintf|"
	  "pcpu_create|strdup|strndup|memdup", X_FIRST, "backtrace", NULL, NULL),
	K("BUG: .*stack guard page was hit at",
	  "BUG: stack guard page was hit in %F", FR_RIP_TRACE, NULL, X_STALL),
	K("BUG: Invalid wait context",
	  "WARNING: locking bug in %F", FR_TRACE, "lock_sock|release_sock", X_FIRST),
	K("BUG: Address .* on device ([^ ]+) is missing its host route",
	  "BUG: Address IPV6ADDR on device %1 is missing its host route.", FR_NONE, NULL, X_FIRST),
	K("BUG:[[:space:]]*$",
	  "BUG: corrupted", FR_NONE, NULL, X_FIRST),
	END,
};

#define WARN_STACK FR_RIP_TRACE
static const struct format warning_formats[] = {
	K("WARNING: .*lib/debugobjects\\.c.* (debug_print|debug_check|at)",
	  "WARNING: ODEBUG bug in %F", WARN_STACK,
	  "debug_|rcu|hrtimer_|timer_|work_|percpu_|vunmap|vfree|__free_|debug_check|kobject_",
	  X_FIRST),
	K("WARNING: .*mm/usercopy\\.c.* (usercopy_warn|at)",
	  "WARNING: bad usercopy in %F", WARN_STACK, "usercopy|__check", X_FIRST),
	K("WARNING: .*lib/kobject\\.c.* (kobject_|at)",
	  "WARNING: kobject bug in %F", WARN_STACK, "kobject_", X_FIRST),
	K("WARNING: .*fs/proc/generic\\.c.* (proc_register|at)",
	  "WARNING: proc registration bug in %F", WARN_STACK, "proc_", X_FIRST),
	K("WARNING: .*lib/refcount\\.c.* (refcount_|at)",
	  "WARNING: refcount bug in %F", WARN_STACK, "refcount|kobject_", X_FIRST),
	K("WARNING: .*lib/list_debug\\.c",
	  "BUG: corrupted list in %F", WARN_STACK, NULL, X_FIRST),
	K("WARNING: .*kernel/locking/lockdep\\.c.*lock_",
	  "WARNING: locking bug in %F", WARN_STACK, "lock_sock|release_sock", X_FIRST),
	KA("WARNING: .*still has locks held!",
	  "WARNING: still has locks held in %F", FR_AT, NULL, X_FIRST, "", "at: ", NULL),
	K("WARNING: Nested lock was not taken",
	  "WARNING: nested lock was not taken in %F", WARN_STACK, NULL, X_FIRST),
	KA("WARNING: lock held when returning to user space",
	  "WARNING: lock held when returning to user space in %F", FR_AT,
	  NULL, X_FIRST, "leaving the kernel with locks still held", "at: ", NULL),
	K("WARNING: .*mm/.*\\.c.* k?.?malloc",
	  "WARNING: kmalloc bug in %F", WARN_STACK, "kmalloc|krealloc|slab|kmem", X_FIRST),
	K("WARNING: .*mm/vmalloc\\.c.*__vmalloc_node",
	  "WARNING: zero-size vmalloc in %F", WARN_STACK, NULL, X_FIRST),
	K("WARNING: .* usb_submit_urb",
	  "WARNING in %F/usb_submit_urb", WARN_STACK,
	  "usb_submit_urb|usb_start_wait_urb|usb_bulk_msg|usb_interrupt_msg|usb_control_msg",
	  X_FIRST),
	K("WARNING: [a-zA-Z0-9_/.-]+\\.[a-z]+:[0-9]+ at 0x[0-9a-f]+, CPU#[0-9]+",
	  "WARNING in %F", WARN_STACK, NULL, X_FIRST),
	K("WARNING: .* at [a-zA-Z0-9_/.-]+\\.[a-z]+:[0-9]+ [A-Za-z0-9_]+[.+]",
	  "WARNING in %F", WARN_STACK, NULL, X_FIRST),
	K("WARNING: [a-zA-Z0-9_/.-]+\\.[a-z]+:[0-9]+ at [A-Za-z0-9_]+[.+]",
	  "WARNING in %F", WARN_STACK, NULL, X_FIRST),
	K("WARNING: .* at [a-zA-Z0-9_/.-]+\\.[a-z]+:[0-9]+",
	  "WARNING in %F", WARN_STACK, NULL, X_FIRST),
	K("WARNING: possible circular locking dependency detected",
	  "possible deadlock in %F", FR_LOCKDEP,
	  "process_one_work|flush_workqueue|drain_workqueue|destroy_workqueue", X_FIRST),
	KA("WARNING: possible irq lock inversion dependency detected",
	  "possible deadlock in %F", FR_AT,
	  NULL, X_FIRST, "just changed the state of lock", "at: ", NULL),
	KA("WARNING: .*-safe -> .*-unsafe lock order detected",
	  "possible deadlock in %F", FR_AFTER, NULL, X_FIRST, "which became ", NULL, NULL),
	KA("WARNING: possible recursive locking detected",
	  "possible deadlock in %F", FR_AT,
	  NULL, X_FIRST, "is trying to acquire lock", "at: ", NULL),
	KA("WARNING: inconsistent lock state",
	  "inconsistent lock state in %F", FR_AT_TRACE, NULL, X_FIRST, "takes", "at: ", NULL),
	K("WARNING: suspicious RCU usage",
	  "WARNING: suspicious RCU usage in %F", FR_TRACE, "rcu|kmem|slab", X_FIRST),
	K("WARNING: kernel stack regs at [0-9a-f]+ in [^ ]* has bad '([^']+)' value",
	  "WARNING: kernel stack regs has bad '%1' value", FR_NONE, NULL, X_FIRST),
	K("WARNING: kernel stack frame pointer at [0-9a-f]+ in [^ ]* has bad value",
	  "WARNING: kernel stack frame pointer has bad value", FR_NONE, NULL, X_FIRST),
	K("WARNING: bad unlock balance detected!",
	  "WARNING: bad unlock balance in %F", FR_PC_TRACE, NULL, X_FIRST),
	KA("WARNING: held lock freed!",
	  "WARNING: held lock freed in %F", FR_AT, NULL, X_FIRST, "", "at: ", NULL),
	K("WARNING:[[:space:]]*$",
	  "WARNING: corrupted", FR_NONE, NULL, X_FIRST),
	END,
};

static const struct format info_formats[] = {
	KA("INFO: possible circular locking dependency detected",
	  "possible deadlock in %F", FR_AT,
	  NULL, X_FIRST, "is trying to acquire lock", "at: ", NULL),
	KA("INFO: possible irq lock inversion dependency detected",
	  "possible deadlock in %F", FR_AT,
	  NULL, X_FIRST, "just changed the state of lock", "at: ", NULL),
	KA("INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected",
	  "possible deadlock in %F", FR_AT, NULL, X_FIRST, "is trying to acquire", "at: ", NULL),
	KA("INFO: possible recursive locking detected",
	  "possible deadlock in %F", FR_AT,
	  NULL, X_FIRST, "is trying to acquire lock", "at: ", NULL),
	KA("INFO: inconsistent lock state",
	  "inconsistent lock state in %F", FR_AT, NULL, X_FIRST, "takes", "at: ", NULL),
	K("INFO: rcu_(preempt|sched|bh) (self-)?detected( expedited)? stall",
	  "INFO: rcu detected stall in %F", FR_STALL, "apic_timer_interrupt|rcu", X_STALL),
	K("INFO: trying to register non-static key",
	  "INFO: trying to register non-static key in %F", FR_TRACE, "stack|lock|IRQ", X_FIRST),
	K("INFO: suspicious RCU usage",
	  "INFO: suspicious RCU usage in %F", FR_TRACE, "rcu|kmem|slab", X_FIRST),
	K("INFO: task .* blocked .*for more than [0-9]+ seconds",
	  "INFO: task hung in %F", FR_TRACE, NULL, X_HANG),
	K("INFO: task .* can't die for more than .* seconds",
	  "INFO: task can't die in %F", FR_TRACE, "schedule", X_FIRST),
	K("INFO:[[:space:]]*$",
	  "INFO: corrupted", FR_NONE, NULL, X_FIRST),
	END,
};

static const struct format unable_formats[] = {
	K("Unable to handle kernel (paging request|NULL pointer dereference|access to user memory)",
	  "BUG: unable to handle kernel %1 in %F", FR_RIP_TRACE, NULL, X_FIRST),
	END,
};

static const struct format gpf_formats[] = {
	K("general protection fault.*:",
	  "general protection fault in %F", FR_RIP_TRACE, NULL, X_FIRST),
	END,
};

static const struct format stack_segment_formats[] = {
	K("stack segment: ",
	  "stack segment fault in %F", FR_RIP_TRACE, NULL, X_FIRST),
	END,
};

static const struct format panic_formats[] = {
	K("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: ([A-Za-z0-9"
	  "_]+)",
	  "kernel panic: stack is corrupted in %1", FR_NONE, NULL, X_FIRST),
	K("Kernel panic - not syncing: stack-protector:",
	  "kernel panic: stack is corrupted in %F", FR_TRACE, "stack_chk", X_FIRST),
	K("Kernel panic - not syncing: corrupted stack end",
	  "kernel panic: corrupted stack end in %F", FR_TRACE, "schedule|retint_kernel", X_STALL),
	K("Kernel panic - not syncing: kernel stack overflow",
	  "kernel stack overflow in %F", FR_TRACE, "bad_stack", X_STALL),
	K("Kernel panic - not syncing: Attempted to kill init!",
	  "kernel panic: Attempted to kill init!", FR_NONE, NULL, X_FIRST),
	K("Kernel panic - not syncing: Couldn't open N_TTY ldisc",
	  "kernel panic: Couldn't open N_TTY ldisc", FR_NONE, NULL, X_FIRST),
	K("Kernel panic - not syncing: (.*[^ ])",
	  "kernel panic: %1", FR_NONE, NULL, X_FIRST),
	END,
};

static const struct format double_fault_formats[] = {
	K("PANIC: double fault",
	  "PANIC: double fault in %F", FR_RIP, NULL, X_FIRST),
	END,
};

static const struct format kernel_bug_formats[] = {
	K("kernel BUG at mm/usercopy\\.c",
	  "BUG: bad usercopy in %F", FR_TRACE, "usercopy|__check", X_FIRST),
	K("kernel BUG at lib/list_debug\\.c",
	  "BUG: corrupted list in %F", FR_TRACE, NULL, X_FIRST),
	K("kernel BUG at (.*)",
	  "kernel BUG in %F", FR_RIP_TRACE, "^skb_", X_FIRST),
	END,
};

static const struct format kernel_bug2_formats[] = {
	K("Kernel BUG (.*)",
	  "kernel BUG %1", FR_NONE, NULL, X_FIRST),
	END,
};

static const struct format object_free_formats[] = {
	K("BUG kmalloc-.*: Object already free",
	  "BUG: Object already free", FR_NONE, NULL, X_FIRST),
	END,
};

static const struct format divide_formats[] = {
	K("divide.error: ",
	  "divide error in %F", FR_RIP, NULL, X_FIRST),
	END,
};

static const struct format invalid_opcode_formats[] = {
	K("invalid opcode: ",
	  "invalid opcode in %F", FR_RIP, NULL, X_FIRST),
	END,
};

static const struct format ubsan_formats[] = {
	K("UBSAN: Undefined behaviour in",
	  "UBSAN: undefined-behaviour in %F", FR_TRACE, "ubsan|overflow", X_FIRST),
	K("UBSAN: ([a-z-]+) in",
	  "UBSAN: %1 in %F", FR_TRACE, "ubsan|overflow", X_FIRST),
	END,
};

static const struct format netdev_formats[] = {
	K("unregister_netdevice: waiting for .* to become free",
	  "unregister_netdevice: waiting for DEV to become free", FR_NONE, NULL, X_FIRST),
	END,
};

static const struct format vfs_close_formats[] = {
	K("VFS: Close: file count is 0",
	  "VFS: Close: file count is zero (use-after-free)", FR_NONE, NULL, X_FIRST),
	END,
};

static const struct format vfs_busy_formats[] = {
	K("VFS: Busy inodes after unmount",
	  "VFS: Busy inodes after unmount (use-after-free)", FR_NONE, NULL, X_FIRST),
	END,
};

static const struct format internal_error_formats[] = {
	K("Internal error:",
	  "Internal error in %F", FR_RIP_TRACE, NULL, X_FIRST),
	END,
};

static const struct format unhandled_formats[] = {
	K("Unhandled fault:",
	  "Unhandled fault in %F", FR_RIP_TRACE, NULL, X_FIRST),
	END,
};

static const struct format alignment_formats[] = {
	K("Alignment trap:",
	  "Alignment trap in %F", FR_RIP_TRACE, NULL, X_FIRST),
	END,
};

/* Not in syzbot's list (its kernels have no NMI watchdog or kmemleak on the console). */
static const struct format hard_lockup_formats[] = {
	K("Watchdog detected hard LOCKUP",
	  "BUG: hard lockup in %F", FR_RIP_TRACE, NULL, X_STALL),
	END,
};

static const struct format kmemleak_formats[] = {
	KA("^unreferenced object 0x[0-9a-f]+ \\(size [0-9]+\\)",
	  "memory leak in %F", FR_AFTER,
	  "kmemleak|mmap|kmem|slab|alloc|create_object|idr_get|list_lru_init|kasprintf|kvasprintf|"
	  "pcpu_create|strdup|strndup|memdup", X_FIRST, "backtrace", NULL, NULL),
	END,
};

static const struct format rss_formats[] = {
	K("Bad rss-counter state",
	  "BUG: Bad rss-counter state", FR_NONE, NULL, X_FIRST),
	END,
};

static const struct group groups[] = {
	{ "BUG:", "ODEBUG:|Boot_DEBUG:|xlog_status:|DEBUG:|BUG: no syscalls can create resource",
	  bug_formats, 0, 0 },
	{ "WARNING:",
	  "WARNING: /etc/ssh/moduli does not exist|WARNING: workqueue cpumask: online intersect|"
	  "WARNING: [Tt]he mand mount option|WARNING: Unsupported flag value|"
	  "WARNING: Unprivileged eBPF is enabled|WARNING: fbcon: Driver|"
	  "WARNING: See https.* for mitigation options|WARNING: kernel not compiled with CPU_SRSO|"
	  "EXT4-[Ff][Ss]( \\(.*\\))?:|"
	  "[Ww]arning: .* uses (deprecated v2 capabilities|wireless extensions)|"
	  "XFS \\([A-Za-z0-9_]+\\): WARNING",
	  warning_formats, 0, 0 },
	{ "INFO:",
	  "INFO: lockdep is turned off|INFO: Stall ended before state dump start|INFO: NMI handler|"
	  "INFO: recovery required on readonly filesystem|(handler|interrupt).*took too long|"
	  "INFO: sys_.* is not present in /proc/kallsyms|INFO: no syscalls can create resource|"
	  "rmt_storage:INFO:|_INFO:",
	  info_formats, 0, 0 },
	{ "Unable to handle kernel", NULL, unable_formats, 0, 0 },
	{ "general protection fault", "general protection fault .* error:[0-9]+ in ", gpf_formats, 0, 0 },
	{ "stack segment: ", NULL, stack_segment_formats, 0, 0 },
	{ "Kernel panic - not syncing", NULL, panic_formats, 0, 1 },
	{ "PANIC: double fault", NULL, double_fault_formats, 1, 0 },
	{ "kernel BUG", NULL, kernel_bug_formats, 0, 0 },
	{ "Kernel BUG", NULL, kernel_bug2_formats, 0, 0 },
	{ "BUG kmalloc-", NULL, object_free_formats, 0, 0 },
	{ "divide error:", NULL, divide_formats, 0, 0 },
	{ "divide_error:", NULL, divide_formats, 0, 0 },
	{ "invalid opcode:", NULL, invalid_opcode_formats, 1, 0 },
	{ "UBSAN:", NULL, ubsan_formats, 0, 0 },
	{ "unregister_netdevice: waiting for", NULL, netdev_formats, 0, 0 },
	{ "VFS: Close: file count is 0", NULL, vfs_close_formats, 0, 0 },
	{ "VFS: Busy inodes after unmount", NULL, vfs_busy_formats, 0, 0 },
	{ "Internal error:", NULL, internal_error_formats, 1, 0 },
	{ "Unhandled fault:", NULL, unhandled_formats, 0, 0 },
	{ "Alignment trap:", NULL, alignment_formats, 0, 0 },
	{ "Watchdog detected hard LOCKUP", NULL, hard_lockup_formats, 0, 0 },
	{ "unreferenced object 0x", NULL, kmemleak_formats, 0, 0 },
	{ "Bad rss-counter state", NULL, rss_formats, 0, 0 },
};

#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

/*
 * Frames that are reporting, locking, allocation, string or list helpers,
 * exception entry or syscall plumbing: never the function to blame.
 * Matched anywhere in the name unless anchored.
 */
static const char skip_frames[] =
	"__sanitizer|__asan|kasan|hwasan|__msan|kmsan|kcsan_setup_watchpoint|check_memory_region|"
	"check_heap_object|check_object|read_word_at_a_time|(read|write)_once_.*nocheck|"
	"print_address_description|panic|invalid_op|report_bug|fixup_bug|print_report|"
	"print_usage_bug|do_error|_trap$|do_trap|show_stack|dump_stack|walk_stack|dump_backtrace|"
	"warn_slowpath|warn_alloc|warn_bogus|__warn|alloc_page|k?v?(m|z|c)alloc|krealloc|"
	"kmem_cache|allocate_slab|__alloc_frozen_pages_noprof|folio_(alloc|unlock)|"
	"filemap_alloc_folio|__filemap_get_folio|find_or_create_page|do_read_cache_folio|"
	"read_cache_page|pagecache_get_page|grab_cache_page_write_begin|slab_|debug_object|"
	"timer_is_static_object|work_is_static_object|__might_fault|print_unlock|imbalance_bug|"
	"lockdep|bh_enable|bh_disable|perf_trace|lock_acquire|lock_release|lock_class|mark_lock|"
	"(reacquire|mark)_held_locks|raw_spin_rq|spin_lock|spin_trylock|spin_unlock|read_lock|"
	"read_trylock|write_lock|write_trylock|read_unlock|write_unlock|^down$|down_read|"
	"down_write|down_read_trylock|down_write_trylock|down_trylock|up_read|up_write|^mutex_|"
	"^__mutex_|^rt_mutex_|owner_on_cpu|osq_lock|osq_unlock|atomic(64)?_(dec|inc|read|set|or|"
	"xor|and|add|sub|fetch|xchg|cmpxchg|try)|(set|clear|change|test)_bit|__wake_up|^refcount_|"
	"^kref_|ref_tracker|seqprop_assert|memcpy|memcmp|memset|memchr|memmove|memdup|strcmp|"
	"strncmp|strcpy|strlcpy|strncpy|strscpy|strlen|strstr|strnstr|strnlen|strchr|strdup|"
	"strndup|copy_to_user|copy_from_user|copy_to_iter|copy_from_iter|copy_page_to_iter|"
	"copy_page_from_iter|copy_folio_to_iter|^copyin$|^copyout$|put_user|get_user|might_fault|"
	"might_sleep|list_add|list_del|list_replace|list_move|list_splice|^rb_|^__rb_|"
	"_indirect_thunk_|string|pointer|snprintf|scnprintf|kasprintf|kvasprintf|printk|va_format|"
	"dev_info|dev_notice|dev_warn|dev_err|dev_alert|dev_crit|dev_emerg|program_check_exception|"
	"program_check_common|del_timer|flush_work|__cancel_work_timer|cancel_work_sync|"
	"try_to_grab_pending|flush_workqueue|drain_workqueue|destroy_workqueue|queue_work|"
	"finish_wait|kthread_stop|kobject_|add_uevent_var|get_device_parent|device_add|device_del|"
	"device_unregister|device_destroy|device_release|devres_release_all|hwrng_unregister|"
	"i2c_del_adapter|__unregister_client|device_for_each_child|rollback_registered|"
	"unregister_netdev|sysfs_remove|device_remove_file|tty_unregister_device|dummy_urb_enqueue|"
	"usb_kill_urb|usb_kill_anchored_urbs|usb_control_msg|usb_hcd_submit_urb|usb_submit_urb|"
	"^complete$|wait_for_completion|^kv?free$|kfree_skb|readb$|readw$|readl$|readq$|writeb$|"
	"writew$|writel$|writeq$|logic_in|logic_out|^crc[0-9]+|crc_itu_t|__might_resched|"
	"assertfail|^iput$|^iput_final$|^ihold$|hex_dump_to_buffer|print_hex_dump|^klist_|(trace|"
	"lockdep)_(hard|soft)irq|^(un)?lock_page|stack_trace_consume_entry|arch_stack_walk|"
	"stack_trace_save|insert_work|__queue_delayed_work|queue_delayed_work_on|ida_free|"
	"do_(kernel|translation)_fault|do_mem_abort|el1_abort|el1h_64_sync(_handler)?|"
	"print_tainted|xas_(start|load|find)|find_lock_entries|truncate_inode_pages_range|"
	"__phys_addr|__fortify_report|cleanup_srcu_struct|rhashtable_lookup|extract_(user|"
	"iter)_to_sg|drop_nlink|^get_taint$|^put_device$|lock_timer_base|__timer_delete_sync|"
	"sk_stop_timer_sync|__mod_timer|fast_dput|dput|"
	/* kpipe's own: lockdep's report path, the BUG/WARN trap entry of arm64, the list checkers */
	"^print_circular_bug|^check_noncircular|^check_prev_add|^validate_chain|^__lock_acquire|"
	"^bug_handler$|^brk_handler$|call_break_hook|^el1_dbg$|^el1h_64_sync|__list_add_valid|"
	"__list_del_entry_valid|^ifs_free$|truncate_cleanup_folio";

/* Where a stalled CPU's stack enters the looping code (the frame before one of these is named). */
static const char stall_anchors[] =
	"process_one_work|do_syscall_|do_fast_syscall_|sysenter_dispatch|tracesys_phase2|"
	"el0_svc_handler|invoke_syscall|ret_fast_syscall|netif_receive_skb|do_softirq|"
	"call_timer_fn|_run_timers|run_timer_softirq|hrtimer_run|run_ksoftirqd|smpboot_thread_fn|"
	"^kthread$|start_secondary|cpu_startup_entry|ret_from_fork|vfs_write|vfs_read|"
	"vfs_iter_read|vfs_iter_write|do_iter_read|do_iter_write|call_read_iter|call_write_iter|"
	"new_sync_read|new_sync_write|vfs_ioctl|ksys_ioctl|compat_ioctl|compat_sys_ioctl|"
	"blkdev_driver_ioctl|blkdev_ioctl|do_iter_readv_writev|^call_mmap|mmap_region|do_mmap|"
	"do_dentry_open|vfs_open|^sock_sendmsg|^sock_recvmsg|^sock_release|^__sock_release|"
	"^setsockopt$|kernel_setsockopt|sock_common_setsockopt|^listen$|kernel_listen|"
	"sk_common_release|^sock_mmap|^accept$|kernel_accept|^sock_do_ioctl|^sock_ioctl|"
	"^compat_sock_ioctl|^nfnetlink_rcv_msg|^rtnetlink_rcv_msg|^netlink_dump|"
	"^(sys_)?(socketpair|connect|ioctl)|__do_fault|do_page_fault|^page_fault$|__fput|"
	"task_work_run|exit_to_usermode|smp_call_function|tasklet_action|tasklet_hi_action";

/* ---- compiled patterns ---- */

struct compiled {
	regex_t skip, anchors;
	regex_t *suppress[NGROUPS];
	regex_t **re[NGROUPS];	  /* per format */
	regex_t **fskip[NGROUPS]; /* per format, or NULL */
	regex_t **needs[NGROUPS];
	int ok;
};

static struct compiled C;
static pthread_once_t compiled_once = PTHREAD_ONCE_INIT;

static regex_t *compile_or_null(const char *re, int flags)
{
	if (!re)
		return NULL;
	regex_t *r = malloc(sizeof(*r));
	if (!r || regcomp(r, re, REG_EXTENDED | flags))
		abort(); /* the patterns are kpipe's own: a bad one is a bug */
	return r;
}

static void compile_all(void)
{
	if (regcomp(&C.skip, skip_frames, REG_EXTENDED | REG_NOSUB) ||
	    regcomp(&C.anchors, stall_anchors, REG_EXTENDED | REG_NOSUB))
		abort();
	for (size_t g = 0; g < NGROUPS; g++) {
		size_t n = 0;
		while (groups[g].formats[n].re)
			n++;
		C.suppress[g] = compile_or_null(groups[g].suppress, REG_NOSUB);
		C.re[g] = calloc(n, sizeof(regex_t *));
		C.fskip[g] = calloc(n, sizeof(regex_t *));
		C.needs[g] = calloc(n, sizeof(regex_t *));
		for (size_t f = 0; f < n; f++) {
			C.re[g][f] = compile_or_null(groups[g].formats[f].re, 0);
			C.fskip[g][f] = compile_or_null(groups[g].formats[f].skip, REG_NOSUB);
			C.needs[g][f] = compile_or_null(groups[g].formats[f].needs, 0);
		}
	}
	C.ok = 1;
}

/* The group whose report the line starts, or -1. */
static int match_group(const char *t)
{
	if (!strncmp(t, "---[ end", 8))
		return -1;
	/* the header that comes first: "Internal error: Oops - BUG: ..." is an Internal error */
	int best = -1;
	const char *best_at = NULL;
	for (size_t g = 0; g < NGROUPS; g++) {
		const char *at = strstr(t, groups[g].header);
		if (!at || (best_at && at >= best_at))
			continue;
		if (C.suppress[g] && !regexec(C.suppress[g], t, 0, NULL, 0))
			continue;
		best = (int)g;
		best_at = at;
	}
	return best;
}

/* ---- title ---- */

struct report {
	const struct lines *ls;
	size_t *idx; /* the report's lines, header first */
	size_t nr;
};

static const char *rline(const struct report *r, size_t k)
{
	return text_of(r->ls, r->idx[k]);
}

struct framelist {
	char (*v)[FUNC_MAX];
	size_t nr, alloc;
};

static int skipped(const char *fn, const regex_t *extra)
{
	return !regexec(&C.skip, fn, 0, NULL, 0) || (extra && !regexec(extra, fn, 0, NULL, 0));
}

static void frames_add(struct framelist *fr, const char *fn, const regex_t *extra, int raw)
{
	if (!*fn || (!raw && skipped(fn, extra)))
		return;
	if (fr->nr == fr->alloc) {
		fr->alloc = fr->alloc ? 2 * fr->alloc : 16;
		fr->v = realloc(fr->v, fr->alloc * sizeof(*fr->v));
		if (!fr->v)
			abort();
	}
	strcpy(fr->v[fr->nr++], fn);
}

/* Frames from line k on, until a line that starts another stack. */
static void collect_stack(struct framelist *fr, const struct report *r, size_t k,
			  const regex_t *extra, const char *stop)
{
	char fn[FUNC_MAX];
	for (; k < r->nr; k++) {
		const char *l = rline(r, k);
		if (stack_start(l) || (stop && strstr(l, stop)))
			return;
		if (frame_line(l, fn))
			frames_add(fr, fn, extra, 0);
	}
}

/* The first line at or after k holding 's', or r->nr. */
static size_t find_line(const struct report *r, size_t k, const char *s)
{
	for (; k < r->nr; k++)
		if (strstr(rline(r, k), s))
			return k;
	return r->nr;
}

static size_t find_trace(const struct report *r, size_t k)
{
	for (; k < r->nr; k++) {
		const char *l = rline(r, k);
		if (strstr(l, "Call Trace") || strstr(l, "Call trace") || strstr(l, "Backtrace:"))
			return k;
	}
	return r->nr;
}

static void strip_syscall_prefix(char *fn)
{
	static const char *const prefixes[] = {
	    "SYSC_",	 "SyS_",      "sys_",	      "__x64_",	     "__ia32_",
	    "__arm64_",	 "____sys_",  "___sys_",      "__sys_",	     "__se_",
	    "__se_sys_", "__do_sys_", "compat_SYSC_", "compat_SyS_", "ksys_",
	};
	size_t best = 0;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);
		if (!strncmp(fn, prefixes[i], n) && n > best && fn[n])
			best = n;
	}
	memmove(fn, fn + best, strlen(fn + best) + 1);
}

/* The frame to blame, by the kind's extractor; 0 if there is none. */
static int extract(const struct framelist *fr, enum extractor x, int strict, char *out)
{
	if (!fr->nr)
		return 0;
	if (x == X_FIRST) {
		strcpy(out, fr->v[0]);
		strip_syscall_prefix(out);
		return 1;
	}
	if (x == X_STALL) {
		/* loops show random frames: name where the loop was entered from */
		size_t prev = 0;
		for (size_t i = 0; i < fr->nr; i++) {
			char fn[FUNC_MAX];
			strcpy(fn, fr->v[i]);
			strip_syscall_prefix(fn);
			if (!regexec(&C.anchors, fn, 0, NULL, 0)) {
				if (strstr(fn, "smp_call_function"))
					strcpy(out, "smp_call_function");
				else {
					strcpy(out, fr->v[prev]);
					strip_syscall_prefix(out);
				}
				return 1;
			}
			prev = i;
		}
		if (strict)
			return 0;
		/* a stack cut short before any entry point: its top frame is all there is */
		strcpy(out, fr->v[0]);
		strip_syscall_prefix(out);
		return 1;
	}
	/* X_HANG: a victim of a stuck lock or RCU names that, else the first non-waiting frame */
	static const char *const anchors[][2] = {
	    {"rtnl_lock", NULL},
	    {"synchronize_rcu", "synchronize_rcu"},
	    {"synchronize_srcu", "synchronize_rcu"},
	    {"synchronize_net", "synchronize_rcu"},
	    {"synchronize_sched", "synchronize_rcu"},
	};
	for (size_t i = 0; i < fr->nr; i++)
		for (size_t a = 0; a < sizeof(anchors) / sizeof(anchors[0]); a++)
			if (strstr(fr->v[i], anchors[a][0])) {
				strcpy(out, anchors[a][1] ? anchors[a][1] : fr->v[i]);
				return 1;
			}
	static const char *const waiting[] = {
	    "sched",	   "_lock",	     "_slowlock",   "down",
	    "rwsem",	   "completion",     "kthread",	    "wait",
	    "synchronize", "context_switch", "__switch_to", "cancel_delayed_work",
	    "rcu_barrier",
	};
	for (size_t i = 0; i < fr->nr; i++) {
		int skip = 0;
		for (size_t w = 0; w < sizeof(waiting) / sizeof(waiting[0]) && !skip; w++)
			skip = strstr(fr->v[i], waiting[w]) != NULL;
		if (!skip) {
			strcpy(out, fr->v[i]);
			strip_syscall_prefix(out);
			return 1;
		}
	}
	return 0;
}

/* The frames a format's title draws on; returns 1 with *out set, 0 for "corrupted". */
static int blame(const struct report *r, const struct format *f, const regex_t *extra,
		 const char *header_fn, char *out)
{
	struct framelist fr = {NULL, 0, 0};
	char fn[FUNC_MAX];
	int found = 0;
	size_t k;
	switch (f->frames) {
	case FR_NONE:
		break;
	case FR_RIP:
		for (k = 0; k < r->nr && !found; k++)
			if (rip_line(rline(r, k), fn)) {
				frames_add(&fr, fn, extra, 0);
				found = 1;
			}
		break;
	case FR_RIP_TRACE:
		for (k = 0; k < r->nr; k++)
			if (rip_line(rline(r, k), fn))
				break;
		if (k < r->nr) {
			frames_add(&fr, fn, extra, 0);
			collect_stack(&fr, r, k + 1, extra, NULL);
		}
		if (!extract(&fr, f->x, 1, fn)) {
			struct framelist rip = fr;
			fr = (struct framelist){NULL, 0, 0};
			k = find_trace(r, 0);
			if (k < r->nr)
				collect_stack(&fr, r, k + 1, extra, NULL);
			if (!fr.nr) { /* no call trace at all: the faulting location it is */
				free(fr.v);
				fr = rip;
			} else {
				free(rip.v);
			}
		}
		break;
	case FR_HEADER_TRACE:
	case FR_HEADER_STACK:
		if (header_fn)
			frames_add(&fr, header_fn, extra, 0);
		k = f->frames == FR_HEADER_TRACE ? find_trace(r, 1) : 0;
		if (k < r->nr)
			collect_stack(&fr, r, k + 1, extra, NULL);
		break;
	case FR_TRACE:
		k = find_trace(r, 0);
		if (k < r->nr)
			collect_stack(&fr, r, k + 1, extra, NULL);
		break;
	case FR_STACK:
		collect_stack(&fr, r, 1, extra, "created at:");
		break;
	case FR_AFTER:
		k = find_line(r, 1, f->after);
		if (k < r->nr)
			collect_stack(&fr, r, k + 1, extra, NULL);
		break;
	case FR_LOCKDEP: {
		int ats = 0;
		for (k = 1; k < r->nr && ats < 2; k++) {
			const char *at = strstr(rline(r, k), "at: ");
			if (!at)
				continue;
			const char *p = at + 4;
			if (*p == '[' && skip_pc(&p))
				while (*p == ' ')
					p++;
			if (take_func(p, fn)) {
				frames_add(&fr, fn, extra, 0);
				ats++;
			}
		}
		if (ats == 2)
			collect_stack(&fr, r, k, extra, NULL);
		if (!fr.nr) { /* no "at:" lines: the stack that took the lock */
			k = find_trace(r, 0);
			if (k < r->nr)
				collect_stack(&fr, r, k + 1, extra, NULL);
		}
		break;
	}
	case FR_AT:
		k = *f->after ? find_line(r, 1, f->after) : 0;
		for (; k < r->nr; k++) {
			const char *at = strstr(rline(r, k), f->at);
			if (!at)
				continue;
			const char *p = at + strlen(f->at);
			if (*p == '[' && skip_pc(&p))
				while (*p == ' ')
					p++;
			if (!strcmp(f->at, "last function: ") ? take_ident(p, fn) : take_func(p, fn)) {
				frames_add(&fr, fn, extra, 1);
				break;
			}
		}
		break;
	case FR_WORKQUEUE:
		/*
		 * The work a busy worker of the stalled pool runs ("Workqueue:
		 * wg-kex-wg0 FUNC" after "Showing backtraces of busy workers"),
		 * else the first work in flight ("in-flight: 9:FUNC for 58s").
		 */
		for (k = find_line(r, 1, "Showing backtraces of busy workers"); k < r->nr && !fr.nr;
		     k++) {
			const char *w = strstr(rline(r, k), "Workqueue: ");
			const char *sp = w ? strchr(w + 11, ' ') : NULL;
			if (sp && take_ident(sp + 1, fn))
				frames_add(&fr, fn, extra, 1);
		}
		for (k = 1; k < r->nr && !fr.nr; k++) {
			const char *p = strstr(rline(r, k), "in-flight: ");
			if (!p)
				continue;
			p += 11;
			while (isdigit((unsigned char)*p))
				p++;
			if (!strncmp(p, "(RESCUER)", 9))
				p += 9;
			if (*p == ':' && take_ident(p + 1, fn))
				frames_add(&fr, fn, extra, 1);
		}
		break;
	case FR_AT_TRACE:
		/* "... takes:" then "ffff (&lock){..}, at: func+0x": where the lock was taken */
		for (k = find_line(r, 1, f->after); k < r->nr; k++) {
			const char *at = strstr(rline(r, k), f->at);
			const char *p = at ? at + strlen(f->at) : NULL;
			if (p && *p == '[' && skip_pc(&p))
				while (*p == ' ')
					p++;
			if (p && take_func(p, fn)) {
				frames_add(&fr, fn, extra, 0);
				break;
			}
		}
		k = find_trace(r, 0);
		if (k < r->nr)
			collect_stack(&fr, r, k + 1, extra, NULL);
		break;
	case FR_PC_TRACE:
		for (k = 1; k < r->nr; k++) {
			const char *l = rline(r, k);
			const char *pc = strstr(l, "[<");
			if (pc && skip_pc(&pc)) {
				while (*pc == ' ')
					pc++;
				if (take_func(pc, fn)) {
					frames_add(&fr, fn, extra, 0);
					break;
				}
			}
			if (find_trace(r, k) == k)
				break;
		}
		k = find_trace(r, 0);
		if (k < r->nr)
			collect_stack(&fr, r, k + 1, extra, NULL);
		break;
	case FR_STALL:
		k = find_line(r, 0, "apic_timer_interrupt");
		if (k < r->nr) {
			size_t j;
			for (j = k; j < r->nr; j++)
				if (rip_line(rline(r, j), fn))
					break;
			if (j < r->nr) {
				frames_add(&fr, fn, extra, 0);
				collect_stack(&fr, r, j + 1, extra, NULL);
			}
		}
		if (!extract(&fr, f->x, 1, fn)) {
			fr.nr = 0;
			for (k = 0; k < r->nr; k++) {
				const char *l = rline(r, k);
				if (strstr(l, "apic_timer_interrupt") ||
				    strstr(l, "Exception stack") || strstr(l, "el1h_64_irq"))
					break;
			}
			if (k < r->nr)
				collect_stack(&fr, r, k + 1, extra, NULL);
		}
		if (!fr.nr) /* no interrupt frame: where the CPU was */
			for (k = 0; k < r->nr; k++)
				if (rip_line(rline(r, k), fn)) {
					frames_add(&fr, fn, extra, 0);
					break;
				}
		break;
	}
	int ok = extract(&fr, f->x, 0, out);
	free(fr.v);
	return ok;
}

static void add_group(struct buf *title, const char *s, const regmatch_t *m)
{
	if (m->rm_so >= 0)
		buf_add(title, s + m->rm_so, (size_t)(m->rm_eo - m->rm_so));
}

/* The last "func+0x" on a line (a WARNING's own location), if it is no machinery. */
static int line_function(const char *l, const regex_t *extra, char *out)
{
	int found = 0;
	for (const char *p = strstr(l, "+0x"); p; p = strstr(p + 3, "+0x")) {
		const char *b = p;
		while (b > l && (isalnum((unsigned char)b[-1]) || b[-1] == '_' || b[-1] == '.'))
			b--;
		const char *dot = memchr(b, '.', (size_t)(p - b));
		size_t n = (size_t)((dot ? dot : p) - b);
		if (n && n < FUNC_MAX) {
			memcpy(out, b, n);
			out[n] = '\0';
			found = !skipped(out, extra);
		}
	}
	return found;
}

/*
 * Title the report by the first of its group's formats that fits its
 * header ('head', or the report's first line if NULL); 0 if none does.
 */
static int build_title_of(struct buf *title, const struct report *r, int g, const char *head)
{
	if (!head)
		head = rline(r, 0);
	for (size_t i = 0; groups[g].formats[i].re; i++) {
		const struct format *f = &groups[g].formats[i];
		regmatch_t m[6], n[4];
		if (regexec(C.re[g][i], head, 6, m, 0))
			continue;
		size_t need_line = r->nr;
		if (f->needs) {
			for (size_t k = 0; k < r->nr && k < 40; k++)
				if (!regexec(C.needs[g][i], rline(r, k), 4, n, 0)) {
					need_line = k;
					break;
				}
			if (need_line == r->nr)
				continue;
		}
		/* the header's last group names a function for FR_HEADER_* */
		char header_fn[FUNC_MAX] = "";
		size_t last = 0;
		for (size_t k = 1; k < 6; k++)
			if (m[k].rm_so >= 0)
				last = k;
		if (last && (f->frames == FR_HEADER_TRACE || f->frames == FR_HEADER_STACK)) {
			size_t len = (size_t)(m[last].rm_eo - m[last].rm_so);
			if (len < FUNC_MAX) {
				memcpy(header_fn, head + m[last].rm_so, len);
				header_fn[len] = '\0';
			}
		}
		char fn[FUNC_MAX] = "corrupted";
		if (strstr(f->title, "%F") &&
		    !blame(r, f, C.fskip[g][i], header_fn[0] ? header_fn : NULL, fn) &&
		    !(f->frames == WARN_STACK && line_function(head, C.fskip[g][i], fn)))
			strcpy(fn, "corrupted"); /* a report cut short keeps the location its header
						    gave */
		buf_reset(title);
		for (const char *p = f->title; *p; p++) {
			if (*p == '%' && p[1] == 'F') {
				buf_adds(title, fn);
				p++;
			} else if (*p == '%' && p[1] >= '1' && p[1] <= '5') {
				size_t k = (size_t)(p[1] - '0');
				size_t groups_in_head = 0;
				for (size_t j = 1; j < 6; j++)
					if (m[j].rm_so >= 0 || m[j].rm_eo >= 0)
						groups_in_head = j;
				if (k < 6 && m[k].rm_so >= 0 && k <= groups_in_head)
					add_group(title, head, &m[k]);
				else if (f->needs &&
					 k - groups_in_head - 1 < 3) /* a group of the later line */
					add_group(title, rline(r, need_line),
						  &n[k - groups_in_head]);
				p++;
			} else {
				buf_addch(title, *p);
			}
		}
		buf_rtrim(title);
		return 1;
	}
	return 0;
}

/*
 * A header cut short ("INFO: t" and "** replaying previous printk message
 * **"): a later line of the report may hold it whole.
 */
static int build_title(struct buf *title, const struct report *r, int g)
{
	return build_title_of(title, r, g, NULL);
}

static int retitle_from_later_line(struct buf *title, const struct report *r, int g)
{
	/* a task name with a newline in it splits "INFO: task NAME:PID blocked ..." in two */
	if (r->nr > 1) {
		struct buf joined = BUF_INIT;
		buf_addf(&joined, "%s %s", rline(r, 0), rline(r, 1));
		int ok = build_title_of(title, r, g, joined.data);
		buf_release(&joined);
		if (ok)
			return 1;
	}
	for (size_t k = 1; k < r->nr && k < 8; k++) {
		if (match_group(rline(r, k)) != g)
			continue;
		struct report rest = {r->ls, r->idx + k, r->nr - k};
		return build_title(title, &rest, g);
	}
	return 0;
}

/*
 * The report's header itself when no format fits: from the header on,
 * without offsets or addresses, so one bug keeps one title.
 */
static void header_title(struct buf *title, const char *head, int g)
{
	const char *h = strstr(head, groups[g].header);
	buf_reset(title);
	for (const char *p = h; *p; p++) {
		if (*p == '+' && p[1] == '0' && p[2] == 'x') {
			while (*p && *p != ' ')
				p++;
			if (!*p)
				break;
		}
		buf_addch(title, *p);
	}
	buf_rtrim(title);
}

/* ---- scanning ---- */

/*
 * The title index of a list while splat_scan() fills it: a console with
 * thousands of different reports costs what its size does, not the
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
static void add_entry(struct splat_list *l, struct title_index *ix, const char *title,
		      const char *report)
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

static int same_caller(const struct cline *a, const struct cline *b)
{
	if (a->ctx[0] || b->ctx[0])
		return !strcmp(a->ctx, b->ctx);
	return a->stamped == b->stamped;
}

/*
 * The lines of the report starting at line 'start' into r.  'group_of'
 * holds each line's group, so another report is seen in O(1).
 */
static void gather(struct report *r, const struct lines *ls, size_t start, const int *group_of)
{
	const struct cline *head = &ls->v[start];
	int nmi = 0; /* after "Sending NMI from CPU" other CPUs' lines belong to it */
	r->nr = 0;
	r->idx[r->nr++] = start;
	/* other callers' lines are passed over, but not without end: the cost stays linear */
	size_t end = ls->nr - start > 8 * REPORT_MAX_LINES ? start + 8 * REPORT_MAX_LINES : ls->nr;
	for (size_t j = start + 1; j < end && r->nr < REPORT_MAX_LINES; j++) {
		const struct cline *cl = &ls->v[j];
		const char *t = text_of(ls, j);
		if (!same_caller(head, cl) && !(nmi && cl->ctx[0] == 'C' && head->ctx[0]))
			continue;
		if (cl->questionable)
			continue;
		if (group_of[j] >= 0 && !groups[group_of[j]].continuation &&
		    !groups[group_of[j]].panic)
			break;
		if (group_of[j] >= 0 && groups[group_of[j]].panic && r->nr > 22)
			break;
		if (strstr(t, "Sending NMI from CPU"))
			nmi = 1;
		r->idx[r->nr++] = j;
		if (strstr(t, "---[ end trace"))
			break;
	}
}

static int begins_with_header(const char *t, const char *header)
{
	const char *colon = strstr(t, ": ");
	if (colon && colon - t < 24) {
		const char *w = t;
		while (isalnum((unsigned char)*w) || *w == '_' || *w == '-')
			w++;
		if (w == colon && !strncmp(colon + 2, header, strlen(header)))
			return 1;
	}
	return !strncmp(t, header, strlen(header));
}

void splat_scan(struct splat_list *out, const char *log)
{
	pthread_once(&compiled_once, compile_all);
	struct lines ls;
	lines_split(&ls, log);
	int *group_of = malloc((ls.nr + 1) * sizeof(*group_of));
	struct report r = {&ls, malloc(REPORT_MAX_LINES * sizeof(size_t)), 0};
	if (!group_of || !r.idx)
		abort();
	for (size_t i = 0; i < ls.nr; i++)
		group_of[i] = match_group(text_of(&ls, i));

	struct buf title = BUF_INIT, report = BUF_INIT;
	struct title_index ix = {NULL, 0};
	/* per caller: where its last report began, so an Oops line after a BUG is that BUG */
	size_t last_start = (size_t)-1;
	char last_ctx[12] = "";
	for (size_t i = 0; i < ls.nr; i++) {
		int g = group_of[i];
		if (g < 0)
			continue;
		const struct cline *cl = &ls.v[i];
		if (groups[g].continuation && last_start != (size_t)-1 && i - last_start <= 12 &&
		    !strcmp(last_ctx, cl->ctx))
			continue;
		/* "INFO: t", "** replaying previous printk message **": the whole line follows */
		if (i + 1 < ls.nr &&
		    strstr(text_of(&ls, i + 1), "replaying previous printk message"))
			continue;
		gather(&r, &ls, i, group_of);
		if (!build_title(&title, &r, g) && !retitle_from_later_line(&title, &r, g)) {
			/* no known kind: only a line that begins with it, maybe after a
			 * subsystem's "IPv6: " (no program's chatter) */
			if (!begins_with_header(text_of(&ls, i), groups[g].header))
				continue;
			header_title(&title, text_of(&ls, i), g);
		}
		buf_reset(&report);
		for (size_t k = 0; k < r.nr && k < REPORT_KEEP_LINES; k++) {
			const struct cline *rl = &ls.v[r.idx[k]];
			buf_add(&report, log + rl->raw, rl->raw_len);
			buf_addch(&report, '\n');
		}
		add_entry(out, &ix, title.data, report.data);
		if (!groups[g].panic) {
			last_start = i;
			strcpy(last_ctx, cl->ctx);
		}
	}
	free(ix.slot);
	free(r.idx);
	free(group_of);
	lines_release(&ls);
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
