#include "series.h"
#include "buf.h"
#include "mime.h"
#include "strvec.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

struct mail {
	struct buf from, subject, date, body;
	struct buf msgid, to, cc, change_id; /* filled by mail_to_patch() */
	unsigned line;
};

static void mail_init(struct mail *m, unsigned line)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->from);
	buf_init(&m->subject);
	buf_init(&m->date);
	buf_init(&m->body);
	buf_init(&m->msgid);
	buf_init(&m->to);
	buf_init(&m->cc);
	buf_init(&m->change_id);
	m->line = line;
}

static void mail_release(struct mail *m)
{
	buf_release(&m->from);
	buf_release(&m->subject);
	buf_release(&m->date);
	buf_release(&m->body);
	buf_release(&m->msgid);
	buf_release(&m->to);
	buf_release(&m->cc);
	buf_release(&m->change_id);
}

int series_parse_date(const char *date, long long *when, int *offset_minutes)
{
	struct tm tm;
	const char *p = strchr(date, ',') ? strchr(date, ',') + 1 : date;
	while (*p == ' ')
		p++;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(p, "%d %b %Y %H:%M:%S", &tm);
	if (!end)
		return -1;
	while (*end == ' ')
		end++;
	int sign = 1, hh = 0, mm = 0;
	if (*end == '+' || *end == '-') {
		sign = *end == '-' ? -1 : 1;
		if (sscanf(end + 1, "%2d%2d", &hh, &mm) != 2)
			return -1;
	}
	*offset_minutes = sign * (hh * 60 + mm);
	*when = (long long)timegm(&tm) - (long long)*offset_minutes * 60;
	return 0;
}

size_t series_parse_subject(const char *s, unsigned *version, unsigned *index,
			    unsigned *total)
{
	const char *p = s;
	*version = 0;
	*index = *total = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '[')
			break;
		const char *end = strchr(p, ']');
		if (!end)
			break;
		/* read the words inside the brackets */
		const char *w = p + 1;
		while (w < end) {
			while (w < end && (*w == ' ' || *w == ','))
				w++;
			const char *we = w;
			while (we < end && *we != ' ' && *we != ',')
				we++;
			size_t len = (size_t)(we - w);
			unsigned a, b;
			char tail;
			if (len > 1 && (w[0] == 'v' || w[0] == 'V') && isdigit((unsigned char)w[1])) {
				char tmp[16];
				if (len < sizeof(tmp)) {
					memcpy(tmp, w + 1, len - 1);
					tmp[len - 1] = 0;
					if (sscanf(tmp, "%u%c", &a, &tail) == 1)
						*version = a;
				}
			} else if (len && isdigit((unsigned char)w[0])) {
				char tmp[32];
				if (len < sizeof(tmp)) {
					memcpy(tmp, w, len);
					tmp[len] = 0;
					if (sscanf(tmp, "%u/%u%c", &a, &b, &tail) == 2) {
						*index = a;
						*total = b;
					}
				}
			}
			w = we;
		}
		p = end + 1;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	return (size_t)(p - s);
}

static int is_reply(const char *subject)
{
	return !strncasecmp(subject, "re:", 3) || !strncasecmp(subject, "aw:", 3);
}

/* Copy header 'name' (unfolded) from the header block into 'out'. */
static void header_value(struct buf *out, const char *hdr, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = hdr, *end = hdr + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nlen && !strncasecmp(p, name, nlen) && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			buf_reset(out);
			for (;;) {
				while (v < eol && (*v == ' ' || *v == '\t'))
					v++;
				buf_add(out, v, (size_t)(eol - v));
				buf_rtrim(out);
				/* continuation lines start with white space */
				if (eol >= end || (eol[1] != ' ' && eol[1] != '\t'))
					break;
				buf_addch(out, ' ');
				v = eol + 1;
				eol = memchr(v, '\n', (size_t)(end - v));
				if (!eol)
					eol = end;
			}
			return;
		}
		p = eol + 1;
	}
}

static int is_from_line(const char *p, const char *end)
{
	return end - p >= 5 && !memcmp(p, "From ", 5);
}

/*
 * A From_ line as mbox writers make it: "From <sender> <asctime date>",
 * which ends with a four-digit year ("From mboxrd@z Thu Jan  1 00:00:00
 * 1970", "From 1a2b... Mon Sep 17 00:00:00 2001").
 */
static int looks_like_from_line(const char *p, size_t len)
{
	if (len < 10 || memcmp(p, "From ", 5))
		return 0;
	while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
		len--;
	if (len < 10)
		return 0;
	for (size_t i = len - 4; i < len; i++)
		if (!isdigit((unsigned char)p[i]))
			return 0;
	return p[len - 5] == ' ';
}

/*
 * Split 'text' into mails.  A mail starts at a "From " line at the top of
 * the file or after an empty line.  A file that does not start with one
 * but has headers is one mail (a .patch written by hand or a mail saved
 * from a client).
 */
static int split_mails(struct mail **out, size_t *nr, const char *file,
		       const struct buf *text, struct kperror *err)
{
	const char *p = text->data, *end = text->data + text->len;
	struct mail *mails = NULL;
	size_t n = 0;
	unsigned line = 1;
	int at_start = 1;

	if (!text->len)
		return kperror_set(err, KPERROR_INPUT, "'%s' is empty", file);
	if (memchr(text->data, '\0', text->len))
		return kperror_set(err, KPERROR_INPUT, "'%s' is not an mbox (binary data)", file);

	if (!is_from_line(p, end)) {
		/* no mbox separator: accept a single mail with headers */
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!colon || (nl && colon > nl))
			return kperror_set(err, KPERROR_INPUT,
					   "'%s' is not an mbox or patch mail (line 1 is neither a 'From ' line nor a header)",
					   file);
		mails = calloc(1, sizeof(*mails));
		n = 1;
		mail_init(&mails[0], 1);
		buf_add(&mails[0].body, p, (size_t)(end - p));
		*out = mails;
		*nr = n;
		return 0;
	}
	struct mail *cur = NULL;
	int prev_blank = 1;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (((at_start || prev_blank) && is_from_line(p, end)) ||
		    looks_like_from_line(p, len)) {
			mails = realloc(mails, (n + 1) * sizeof(*mails));
			cur = &mails[n++];
			mail_init(cur, line);
		} else if (cur) {
			/* mboxrd: ">From " inside a body stands for "From " */
			const char *q = p;
			size_t l = len;
			if (l >= 6 && *q == '>') {
				const char *r = q;
				while (r < p + len && *r == '>')
					r++;
				if (p + len - r >= 5 && !memcmp(r, "From ", 5)) {
					q++;
					l--;
				}
			}
			buf_add(&cur->body, q, l);
			buf_addch(&cur->body, '\n');
		}
		prev_blank = len == 0 || (len == 1 && p[0] == '\r');
		at_start = 0;
		p += len + (eol ? 1 : 0);
		line++;
	}
	*out = mails;
	*nr = n;
	return 0;
}

/* Turn "\r\n" into "\n" in place. */
static void strip_cr(struct buf *b)
{
	size_t w = 0;
	for (size_t r = 0; r < b->len; r++) {
		if (b->data[r] == '\r' && r + 1 < b->len && b->data[r + 1] == '\n')
			continue;
		b->data[w++] = b->data[r];
	}
	buf_truncate(b, w);
}

static void patch_release(struct patch *p);

static void revision_release(struct revision *r)
{
	for (size_t i = 0; i < r->nr; i++)
		patch_release(&r->patches[i]);
	free(r->patches);
	free(r->title);
	free(r->name);
	free(r->source);
	free(r->base_commit);
	free(r->thread_msgid);
	free(r->thread_subject);
	free(r->author);
	free(r->to);
	free(r->cc);
	free(r->change_id);
}

static struct revision *revision_get(struct series *s, unsigned version, const char *source)
{
	for (size_t i = 0; i < s->nr; i++)
		if (s->revs[i].version == version)
			return &s->revs[i];
	if (s->nr >= SERIES_MAX_REVISIONS)
		return NULL; /* so that finding one stays cheap, whatever the input */
	s->revs = realloc(s->revs, (s->nr + 1) * sizeof(*s->revs));
	struct revision *r = &s->revs[s->nr++];
	memset(r, 0, sizeof(*r));
	r->version = version;
	r->source = strdup(source);
	return r;
}

/*
 * Decode a body by its Content-Transfer-Encoding.  A base64 body that does
 * not decode is kept as it is (the diff parser will say what is wrong).
 */
static void decode_part(struct buf *out, const char *text, size_t len, const char *cte)
{
	if (!strncasecmp(cte, "quoted-printable", 16)) {
		mime_decode_qp(out, text, len);
	} else if (!strncasecmp(cte, "base64", 6)) {
		if (mime_decode_base64(out, text, len) < 0) {
			buf_reset(out);
			buf_add(out, text, len);
		}
	} else {
		buf_add(out, text, len);
	}
	strip_cr(out);
}

/*
 * The text of a mail: for a multipart mail, the part that holds the diff
 * (or the first text part); otherwise the body, decoded.
 */
static void mail_text(struct buf *out, const char *hdr, size_t hdr_len, const char *text)
{
	struct buf ctype = BUF_INIT, cte = BUF_INIT;
	header_value(&ctype, hdr, hdr_len, "Content-Type");
	header_value(&cte, hdr, hdr_len, "Content-Transfer-Encoding");
	size_t blen = 0;
	const char *boundary = strncasecmp(ctype.data, "multipart/", 10) ? NULL :
			       mime_param(ctype.data, "boundary", &blen);
	if (!boundary || !blen) {
		decode_part(out, text, strlen(text), cte.data);
		goto out;
	}
	struct buf delim = BUF_INIT, part = BUF_INIT, first = BUF_INIT;
	buf_adds(&delim, "\n--");
	buf_add(&delim, boundary, blen);
	const char *p = strstr(text, delim.data + 1) == text ? text - 1 : strstr(text, delim.data);
	int found = 0;
	while (p && !found) {
		const char *start = strchr(p + 1, '\n');
		if (!start || !strncmp(p + delim.len, "--", 2))
			break; /* the closing delimiter */
		start++;
		const char *next = strstr(start, delim.data);
		const char *end = next ? next : start + strlen(start);
		const char *phdr_end = strstr(start, "\n\n");
		if (!phdr_end || phdr_end + 2 > end)
			break; /* no blank line ends this part's headers */
		struct buf pcte = BUF_INIT, pctype = BUF_INIT;
		header_value(&pcte, start, (size_t)(phdr_end - start) + 1, "Content-Transfer-Encoding");
		header_value(&pctype, start, (size_t)(phdr_end - start) + 1, "Content-Type");
		buf_reset(&part);
		decode_part(&part, phdr_end + 2, (size_t)(end - phdr_end - 2), pcte.data);
		if (strstr(part.data, "diff --git ")) {
			buf_add(out, part.data, part.len);
			found = 1;
		} else if (!first.len && (!pctype.len || !strncasecmp(pctype.data, "text/plain", 10))) {
			buf_add(&first, part.data, part.len);
		}
		buf_release(&pcte);
		buf_release(&pctype);
		p = next;
	}
	if (!found)
		buf_add(out, first.data, first.len);
	buf_release(&delim);
	buf_release(&part);
	buf_release(&first);
out:
	buf_release(&ctype);
	buf_release(&cte);
}

/*
 * Copy the value of a line "KEY VALUE" of 'text' (KEY at a line start)
 * into 'out': the first such line or the last, with a value of 'min' to
 * 'max' characters, all of 'chars' (NULL: up to white space).
 */
static void find_line_value(struct buf *out, const char *text, const char *key, const char *chars, size_t min,
			    size_t max, int first)
{
	size_t klen = strlen(key);
	for (const char *p = text; (p = strstr(p, key)); p += klen) {
		if (p != text && p[-1] != '\n')
			continue;
		const char *h = p + klen;
		size_t n = chars ? strspn(h, chars) : strcspn(h, " \t\n");
		if (n < min || n > max)
			continue;
		buf_reset(out);
		buf_add(out, h, n);
		if (first)
			return;
	}
}

/* The hex id of the first "base-commit: <id>" line (git format-patch --base, b4). */
static void find_base_commit(struct buf *out, const char *text)
{
	find_line_value(out, text, "base-commit: ", "0123456789abcdef", 7, 64, 1);
}

/* b4's "change-id: <id>" trailer (the last one). */
static void find_change_id(struct buf *out, const char *text)
{
	find_line_value(out, text, "change-id: ", NULL, 1, 128, 0);
}

/*
 * The first <id> of a header value, without its <>; with 'whole', the
 * whole value when it has no <> (a Message-ID written bare), else "".
 */
static void msgid_of(struct buf *out, const char *v, int whole)
{
	const char *lt = strchr(v, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	buf_reset(out);
	if (lt && gt)
		buf_add(out, lt + 1, (size_t)(gt - lt - 1));
	else if (whole)
		buf_adds(out, v);
}

/*
 * Read one mail: headers, then the message up to "---", then the diff.
 * Returns 1 if it is a patch (filled into *p), 0 if not, and sets
 * *cover_title for a 0/N mail and *base_commit if the mail names one.
 */
static int mail_to_patch(struct patch *p, struct mail *m, unsigned *version,
			 struct buf *cover_title, struct buf *base_commit)
{
	struct buf *body = &m->body;
	struct buf raw = BUF_INIT, decoded = BUF_INIT;
	int ret = 0;
	strip_cr(body);
	const char *hdr_end = strstr(body->data, "\n\n");
	size_t hdr_len = hdr_end ? (size_t)(hdr_end - body->data) + 1 : body->len;

	header_value(&raw, body->data, hdr_len, "Subject");
	mime_decode_header(&m->subject, raw.data);
	buf_reset(&raw);
	header_value(&raw, body->data, hdr_len, "From");
	mime_decode_header(&m->from, raw.data);
	header_value(&m->date, body->data, hdr_len, "Date");
	buf_reset(&raw);
	header_value(&raw, body->data, hdr_len, "Message-ID");
	msgid_of(&m->msgid, raw.data, 1);
	header_value(&m->to, body->data, hdr_len, "To");
	header_value(&m->cc, body->data, hdr_len, "Cc");
	mail_text(&decoded, body->data, hdr_len, hdr_end ? hdr_end + 2 : "");
	const char *text = decoded.data;

	unsigned idx, total;
	size_t off = series_parse_subject(m->subject.data, version, &idx, &total);
	const char *bare = m->subject.data + off;
	if (is_reply(m->subject.data))
		goto out;
	find_base_commit(base_commit, text);
	find_change_id(&m->change_id, text);

	const char *diff = NULL;
	if (!strncmp(text, "diff --git ", 11))
		diff = text;
	else {
		const char *d = strstr(text, "\ndiff --git ");
		if (d)
			diff = d + 1;
	}
	int git_style = diff != NULL;
	if (!diff)
		diff = series_find_unified_diff(text); /* quilt, diff -u */
	if (!diff) {
		if (idx == 0 && total > 0) {
			buf_reset(cover_title);
			buf_adds(cover_title, bare);
		}
		goto out;
	}

	/* the message ends at the first "---" line before the diff */
	const char *msg_end = diff;
	for (const char *q = text; q < diff;) {
		const char *eol = strchr(q, '\n');
		if (!eol || eol > diff)
			break;
		if (eol - q == 3 && !memcmp(q, "---", 3)) {
			msg_end = q;
			break;
		}
		q = eol + 1;
	}
	/* the diff ends at the signature line "-- " */
	const char *diff_end = strstr(diff, "\n-- \n");
	size_t diff_len = diff_end ? (size_t)(diff_end - diff) + 1 : strlen(diff);

	struct buf b = BUF_INIT;
	buf_add(&b, text, (size_t)(msg_end - text));
	buf_rtrim(&b);
	p->message = buf_detach(&b, NULL);
	unsigned bad_line;
	if (git_style || series_unified_to_git(&b, diff, diff_len, &bad_line) < 0) {
		/* as sent: a diff cut short fails to apply, and apply names the patch */
		buf_reset(&b);
		buf_add(&b, diff, diff_len);
	}
	p->diff = buf_detach(&b, NULL);
	p->subject = strdup(bare);
	p->author = strdup(m->from.data);
	p->date = strdup(m->date.data);
	p->msgid = strdup(m->msgid.data);
	int offset;
	if (series_parse_date(p->date, &p->when, &offset) < 0)
		p->when = 0;
	p->index = idx ? idx : 1;
	p->total = total ? total : 1;
	p->line = m->line;
	ret = 1;
out:
	buf_release(&raw);
	buf_release(&decoded);
	return ret;
}

void series_read_mail(struct series_mail *out, const char *raw, size_t len)
{
	struct mail m;
	struct patch p = { 0 };
	struct buf cover = BUF_INIT, base = BUF_INIT, v = BUF_INIT, thread = BUF_INIT;
	memset(out, 0, sizeof(*out));
	mail_init(&m, 1);
	buf_add(&m.body, raw, strnlen(raw, len));
	int is_patch = mail_to_patch(&p, &m, &out->version, &cover, &base);
	const char *hdr_end = strstr(m.body.data, "\n\n");
	size_t hdr_len = hdr_end ? (size_t)(hdr_end - m.body.data) + 1 : m.body.len;
	header_value(&v, m.body.data, hdr_len, "References");
	msgid_of(&thread, v.data, 0);
	if (!thread.len) {
		buf_reset(&v);
		header_value(&v, m.body.data, hdr_len, "In-Reply-To");
		msgid_of(&thread, v.data, 0);
	}
	size_t off = series_parse_subject(m.subject.data, &out->version, &out->index, &out->total);
	out->kind = is_patch ? SERIES_MAIL_PATCH : cover.len ? SERIES_MAIL_COVER : SERIES_MAIL_OTHER;
	out->msgid = strdup(m.msgid.data);
	out->thread = buf_detach(&thread, NULL);
	out->subject = strdup(m.subject.data);
	out->bare = strdup(m.subject.data + off);
	out->from = strdup(m.from.data);
	out->change_id = strdup(m.change_id.data);
	int offset;
	if (series_parse_date(m.date.data, &out->when, &offset) < 0)
		out->when = 0;
	for (const char *q = m.subject.data; q < m.subject.data + off; q++)
		if (!strncasecmp(q, "RESEND", 6))
			out->resend = 1;
	patch_release(&p);
	mail_release(&m);
	buf_release(&cover);
	buf_release(&base);
	buf_release(&v);
	buf_release(&thread);
}

void series_mail_release(struct series_mail *m)
{
	free(m->msgid);
	free(m->thread);
	free(m->subject);
	free(m->bare);
	free(m->from);
	free(m->change_id);
	memset(m, 0, sizeof(*m));
}

/* By N, then in the order the mails were read. */
/*
 * The thread fields of 'r' from mail 'm': its cover letter wins, else the
 * patch with the lowest N ('rank' 1 for a cover letter, N + 1 for patch N).
 */
static void take_thread(struct revision *r, const struct mail *m, unsigned rank)
{
	if (r->thread_rank && r->thread_rank <= rank)
		return;
	r->thread_rank = rank;
	free(r->thread_msgid);
	free(r->thread_subject);
	free(r->author);
	free(r->to);
	free(r->cc);
	r->thread_msgid = strdup(m->msgid.data);
	r->thread_subject = strdup(m->subject.data);
	r->author = strdup(m->from.data);
	r->to = strdup(m->to.data);
	r->cc = strdup(m->cc.data);
	if (m->change_id.len) {
		free(r->change_id);
		r->change_id = strdup(m->change_id.data);
	}
}

static int compare_patches(const void *a, const void *b)
{
	const struct patch *x = a, *y = b;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int compare_revisions(const void *a, const void *b)
{
	const struct revision *x = a, *y = b;
	return x->version < y->version ? -1 : x->version > y->version;
}

static void patch_release(struct patch *p)
{
	free(p->subject);
	free(p->author);
	free(p->date);
	free(p->message);
	free(p->diff);
	free(p->msgid);
	free(p->file);
}

/*
 * A patch too big to be a real one: over SERIES_MAX_PATCH_MIB of text, or
 * a git binary patch that says it inflates past that ("literal N" and
 * "delta N" give the inflated size): 1 and 'why' says which.
 */
static int patch_too_big(const struct patch *p, struct buf *why)
{
	const size_t max = (size_t)SERIES_MAX_PATCH_MIB << 20;
	size_t len = strlen(p->diff) + strlen(p->message);
	if (len > max) {
		buf_addf(why, "is %zu MiB, more than the %d MiB a patch may be", (len + (1 << 20) - 1) >> 20,
			 SERIES_MAX_PATCH_MIB);
		return 1;
	}
	for (const char *l = p->diff; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		size_t skip = !strncmp(l, "literal ", 8) ? 8 : !strncmp(l, "delta ", 6) ? 6 : 0;
		unsigned long long n = skip ? strtoull(l + skip, NULL, 10) : 0;
		if (n > max) {
			buf_addf(why, "has a binary part that inflates to %llu MiB, more than the %d MiB a patch may be",
				 n >> 20, SERIES_MAX_PATCH_MIB);
			return 1;
		}
	}
	return 0;
}

static int parse_text(struct series *s, const char *file, const char *source,
		      unsigned default_version, struct buf *text, struct kperror *err)
{
	struct mail *mails = NULL;
	size_t n = 0;
	struct buf cover = BUF_INIT, base = BUF_INIT;
	int ret = -1;
	unsigned found = 0;

	if (split_mails(&mails, &n, file, text, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct patch p = { 0 };
		unsigned version = 0;
		if (proc_interrupted) {
			kperror_set(err, KPERROR_INTERRUPTED, "interrupted while reading '%s' (mail %zu of %zu)",
				    file, i + 1, n);
			goto out;
		}
		buf_reset(&base);
		int is_patch = mail_to_patch(&p, &mails[i], &version, &cover, &base);
		if (!version)
			version = default_version;
		struct revision *rv = (cover.len || base.len) ? revision_get(s, version, source) : NULL;
		if (rv && cover.len) {
			free(rv->title);
			rv->title = buf_detach(&cover, NULL);
			take_thread(rv, &mails[i], 1);
		}
		if (rv && base.len && !rv->base_commit)
			rv->base_commit = strdup(base.data);
		buf_reset(&cover);
		if (!is_patch) {
			s->skipped_mails++;
			continue;
		}
		if (!p.author[0]) {
			kperror_set(err, KPERROR_INPUT, "%s:%u: patch '%s' has no From: header",
				    file, p.line, p.subject);
			patch_release(&p);
			goto out;
		}
		struct buf why = BUF_INIT;
		if (patch_too_big(&p, &why)) {
			kperror_set(err, KPERROR_INPUT, "%s:%u: patch '%s' %s", file, p.line, p.subject, why.data);
			buf_release(&why);
			patch_release(&p);
			goto out;
		}
		buf_release(&why);
		p.file = strdup(file);
		struct revision *r = revision_get(s, version, source);
		if (!r) {
			kperror_set(err, KPERROR_INPUT, "%s:%u: patch '%s' is of a revision past the %d that one "
				    "series may have", file, p.line, p.subject, SERIES_MAX_REVISIONS);
			patch_release(&p);
			goto out;
		}
		/* the same N/M twice is sorted out once all are read (check_revision()) */
		if (r->nr == r->alloc) {
			r->alloc = r->alloc ? 2 * r->alloc : 16;
			r->patches = realloc(r->patches, r->alloc * sizeof(*r->patches));
		}
		take_thread(r, &mails[i], p.index + 1);
		p.seq = r->nr;
		r->patches[r->nr++] = p;
		found++;
	}
	if (!found) {
		kperror_set(err, KPERROR_INPUT, "'%s' holds no patch (%zu mail%s, none with a diff)",
			    file, n, n == 1 ? "" : "s");
		goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		mail_release(&mails[i]);
	free(mails);
	buf_release(&cover);
	buf_release(&base);
	return ret;
}

static int has_patch_suffix(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && (!strcmp(dot, ".patch") || !strcmp(dot, ".mbox") ||
		       !strcmp(dot, ".eml") || !strcmp(dot, ".diff"));
}

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read one file of a series, refusing one past SERIES_MAX_FILE_MIB (a pipe too). */
static int read_series_file(struct buf *text, const char *path, const char *what, struct kperror *err)
{
	int more = buf_read_file_max(text, path, (size_t)SERIES_MAX_FILE_MIB << 20);
	if (more < 0)
		return kperror_errno(err, KPERROR_INPUT, more, "cannot read %s'%s'", what, path);
	if (more)
		return kperror_set(err, KPERROR_INPUT, "'%s' is larger than %d MiB, more than one series "
				   "may be (split it, or pass its revisions one by one)", path, SERIES_MAX_FILE_MIB);
	return 0;
}


static int parse_path(struct series *s, const char *path, unsigned default_version,
		      struct kperror *err)
{
	struct stat st;
	struct buf text = BUF_INIT;
	int ret = -1;

	if (stat(path, &st) < 0)
		return kperror_errno(err, KPERROR_INPUT, errno, "cannot read series '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		if (read_series_file(&text, path, "series ", err) < 0)
			goto out;
		ret = parse_text(s, path, path, default_version, &text, err);
		goto out;
	}

	struct strvec files = STRVEC_INIT;
	DIR *d = opendir(path);
	if (!d) {
		kperror_errno(err, KPERROR_INPUT, errno, "cannot read directory '%s'", path);
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && has_patch_suffix(de->d_name))
			strvec_pushf(&files, "%s/%s", path, de->d_name);
	closedir(d);
	if (!files.nr) {
		kperror_set(err, KPERROR_INPUT, "directory '%s' holds no .patch or .mbox file", path);
		strvec_clear(&files);
		goto out;
	}
	qsort(files.v, files.nr, sizeof(char *), compare_str);
	ret = 0;
	for (size_t i = 0; i < files.nr && !ret; i++) {
		buf_reset(&text);
		ret = read_series_file(&text, files.v[i], "", err);
		if (!ret)
			ret = parse_text(s, files.v[i], path, default_version, &text, err);
	}
	strvec_clear(&files);
out:
	buf_release(&text);
	return ret;
}

/*
 * The same N/M sent twice (a RESEND): the later-dated mail wins (on a tie,
 * the one read last), saying so.  'r' is sorted: duplicates are adjacent.
 */
static void drop_duplicates(struct series *s, struct revision *r)
{
	size_t w = 0;
	for (size_t i = 0; i < r->nr; i++) {
		struct patch *p = &r->patches[i];
		if (!w || r->patches[w - 1].index != p->index) {
			r->patches[w++] = *p;
			continue;
		}
		struct patch *kept = &r->patches[w - 1];
		int newer = p->when >= kept->when;
		strvec_pushf(&s->problems, "v%u: patch %u/%u appears twice (%s:%u and %s:%u); using the %s one",
			     r->version, p->index, p->total, kept->file, kept->line, p->file, p->line,
			     newer ? "later" : "earlier-dated");
		if (newer) {
			patch_release(kept);
			*kept = *p;
		} else {
			patch_release(p);
		}
	}
	r->nr = w;
}

static int check_revision(struct series *s, struct revision *r, struct kperror *err)
{
	qsort(r->patches, r->nr, sizeof(*r->patches), compare_patches);
	drop_duplicates(s, r);
	unsigned total = r->patches[0].total;
	for (size_t i = 0; i < r->nr; i++) {
		if (r->patches[i].total != total)
			return kperror_set(err, KPERROR_INPUT,
					   "%s: v%u: patch '%s' says %u/%u but patch '%s' says %u/%u",
					   r->source, r->version, r->patches[0].subject,
					   r->patches[0].index, total, r->patches[i].subject,
					   r->patches[i].index, r->patches[i].total);
	}
	/* sorted and without duplicates: patch i must be i+1/total */
	for (size_t i = 0; i < r->nr && i < total; i++) {
		if (r->patches[i].index != i + 1)
			return kperror_set(err, KPERROR_INPUT,
					   "%s: v%u: patch %zu/%u is missing (found %zu of %u)",
					   r->source, r->version, i + 1, total, r->nr, total);
	}
	if (r->nr < total)
		return kperror_set(err, KPERROR_INPUT, "%s: v%u: patch %zu/%u is missing (found %zu of %u)",
				   r->source, r->version, r->nr + 1, total, r->nr, total);
	if (r->nr > total)
		return kperror_set(err, KPERROR_INPUT, "%s: v%u: %zu patches but the subjects say %u",
				   r->source, r->version, r->nr, total);
	if (!r->title)
		r->title = strdup(r->patches[0].subject);
	if (!r->change_id)
		r->change_id = strdup("");
	r->name = util_slug(r->title, 40);
	return 0;
}

/* Sort, check and name the revisions found. */
static int series_finish(struct series *s, struct kperror *err)
{
	if (!s->nr)
		return kperror_set(err, KPERROR_INPUT, "no patches found");
	qsort(s->revs, s->nr, sizeof(*s->revs), compare_revisions);
	for (size_t i = 0; i < s->nr; i++) {
		if (!s->revs[i].nr)
			return kperror_set(err, KPERROR_INPUT, "%s: v%u has a cover letter but no patches",
					   s->revs[i].source, s->revs[i].version);
		if (check_revision(s, &s->revs[i], err) < 0)
			return -1;
	}
	return 0;
}

int series_parse(struct series *out, char *const *paths, size_t n, struct kperror *err)
{
	struct series s = SERIES_INIT;
	for (size_t i = 0; i < n; i++)
		if (parse_path(&s, paths[i], n > 1 ? (unsigned)i + 1 : 1, err) < 0)
			goto fail;
	if (series_finish(&s, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	series_release(&s);
	return -1;
}

int series_parse_buffer(struct series *out, const char *name, const char *data, size_t len,
			struct kperror *err)
{
	struct series s = SERIES_INIT;
	struct buf text = BUF_INIT;
	buf_add(&text, data, len);
	int r = parse_text(&s, name, name, 1, &text, err);
	buf_release(&text);
	if (r < 0 || series_finish(&s, err) < 0) {
		series_release(&s);
		return -1;
	}
	*out = s;
	return 0;
}

void series_release(struct series *s)
{
	for (size_t i = 0; i < s->nr; i++)
		revision_release(&s->revs[i]);
	free(s->revs);
	s->revs = NULL;
	s->nr = 0;
	strvec_clear(&s->problems);
}

static int starts(const char *l, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	return (size_t)(end - l) >= n && !memcmp(l, prefix, n);
}

const char *series_find_unified_diff(const char *text)
{
	const char *prev[3] = { NULL, NULL, NULL }; /* the three lines above, nearest first */
	for (const char *l = text; l && *l;) {
		const char *e = strchr(l, '\n');
		if (!e)
			break;
		const char *l2 = e + 1, *e2 = strchr(l2, '\n');
		const char *l3 = e2 ? e2 + 1 : NULL;
		if (starts(l, e, "--- ") && e2 && starts(l2, e2, "+++ ") && l3 && !strncmp(l3, "@@ -", 4)) {
			const char *start = l;
			for (int k = 0; k < 3 && prev[k]; k++) {
				const char *pe = strchr(prev[k], '\n');
				if (!starts(prev[k], pe, "Index: ") && !starts(prev[k], pe, "====") &&
				    !starts(prev[k], pe, "diff "))
					break;
				start = prev[k];
			}
			return start;
		}
		prev[2] = prev[1];
		prev[1] = prev[0];
		prev[0] = l;
		l = e + 1;
	}
	return NULL;
}

/* The path of a "--- " or "+++ " line (from 'p', up to 'e'): no timestamp, first component gone. */
static void unified_path(struct buf *out, const char *p, const char *e)
{
	const char *tab = memchr(p, '\t', (size_t)(e - p));
	if (tab)
		e = tab;
	while (e > p && (e[-1] == ' ' || e[-1] == '\r'))
		e--;
	buf_reset(out);
	if ((size_t)(e - p) == 9 && !memcmp(p, "/dev/null", 9)) {
		buf_adds(out, "/dev/null");
		return;
	}
	const char *slash = memchr(p, '/', (size_t)(e - p));
	if (slash && slash + 1 < e)
		p = slash + 1;
	buf_add(out, p, (size_t)(e - p));
}

/* "@@ -S[,C] +S[,C] @@": the two counts (a missing one is 1); -1 if it does not read. */
static int hunk_counts(const char *l, long *old, long *new)
{
	char *q;
	if (strncmp(l, "@@ -", 4))
		return -1;
	strtol(l + 4, &q, 10);
	*old = *q == ',' ? strtol(q + 1, &q, 10) : 1;
	if (strncmp(q, " +", 2))
		return -1;
	strtol(q + 2, &q, 10);
	*new = *q == ',' ? strtol(q + 1, &q, 10) : 1;
	return strncmp(q, " @@", 3) || *old < 0 || *new < 0 ? -1 : 0;
}

int series_unified_to_git(struct buf *out, const char *diff, size_t len, unsigned *bad_line)
{
	const char *end = diff + len;
	struct buf from = BUF_INIT, to = BUF_INIT;
	unsigned line = 0, files = 0;
	int ret = -1;
	*bad_line = 0;
	for (const char *l = diff; l < end;) {
		const char *e = memchr(l, '\n', (size_t)(end - l));
		e = e ? e : end;
		line++;
		const char *l2 = e < end ? e + 1 : end;
		const char *e2 = l2 < end ? memchr(l2, '\n', (size_t)(end - l2)) : NULL;
		if (!(starts(l, e, "--- ") && e2 && starts(l2, e2, "+++ "))) {
			l = e + (e < end); /* between files: Index:, =====, diff -u ... */
			continue;
		}
		unified_path(&from, l + 4, e);
		unified_path(&to, l2 + 4, e2);
		const char *path = strcmp(to.data, "/dev/null") ? to.data : from.data;
		const char *old_path = strcmp(from.data, "/dev/null") ? from.data : path;
		buf_addf(out, "diff --git a/%s b/%s\n", old_path, path);
		if (!strcmp(from.data, "/dev/null"))
			buf_adds(out, "new file mode 100644\n");
		else if (!strcmp(to.data, "/dev/null"))
			buf_adds(out, "deleted file mode 100644\n");
		buf_addf(out, "--- %s%s\n+++ %s%s\n", strcmp(from.data, "/dev/null") ? "a/" : "", from.data,
			 strcmp(to.data, "/dev/null") ? "b/" : "", to.data);
		files++;
		line++;
		l = e2 + 1;
		/* the file's hunks, each by its counts */
		while (l < end && !strncmp(l, "@@ ", 3)) {
			long old, new;
			e = memchr(l, '\n', (size_t)(end - l));
			e = e ? e : end;
			line++;
			if (hunk_counts(l, &old, &new) < 0) {
				*bad_line = line;
				goto out;
			}
			buf_add(out, l, (size_t)(e - l));
			buf_addch(out, '\n');
			l = e + (e < end);
			unsigned hunk_line = line;
			while (old > 0 || new > 0 || (l < end && *l == '\\')) {
				if (l >= end) {
					*bad_line = hunk_line;
					goto out;
				}
				e = memchr(l, '\n', (size_t)(end - l));
				e = e ? e : end;
				line++;
				char c = e > l ? *l : ' '; /* a mailer may strip a context line's only space */
				if (c == ' ')
					old--, new--;
				else if (c == '-')
					old--;
				else if (c == '+')
					new--;
				else if (c != '\\') {
					*bad_line = hunk_line;
					goto out;
				}
				if (e == l)
					buf_addch(out, ' ');
				buf_add(out, l, (size_t)(e - l));
				buf_addch(out, '\n');
				l = e + (e < end);
				if (old < 0 || new < 0) {
					*bad_line = hunk_line;
					goto out;
				}
			}
		}
	}
	ret = files ? 0 : -1;
out:
	buf_release(&from);
	buf_release(&to);
	return ret;
}
