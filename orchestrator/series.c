#include "series.h"
#include "buf.h"
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

struct mail {
	struct buf from, subject, date, body;
	unsigned line;
};

static void mail_release(struct mail *m)
{
	buf_release(&m->from);
	buf_release(&m->subject);
	buf_release(&m->date);
	buf_release(&m->body);
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
		mails[0].line = 1;
		buf_init(&mails[0].body);
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
		if ((at_start || prev_blank) && is_from_line(p, end)) {
			mails = realloc(mails, (n + 1) * sizeof(*mails));
			cur = &mails[n++];
			memset(cur, 0, sizeof(*cur));
			buf_init(&cur->from);
			buf_init(&cur->subject);
			buf_init(&cur->date);
			buf_init(&cur->body);
			cur->line = line;
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

static void revision_release(struct revision *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		struct patch *p = &r->patches[i];
		free(p->subject);
		free(p->author);
		free(p->date);
		free(p->message);
		free(p->diff);
		free(p->file);
	}
	free(r->patches);
	free(r->title);
	free(r->name);
	free(r->source);
}

static struct revision *revision_get(struct series *s, unsigned version, const char *source)
{
	for (size_t i = 0; i < s->nr; i++)
		if (s->revs[i].version == version)
			return &s->revs[i];
	s->revs = realloc(s->revs, (s->nr + 1) * sizeof(*s->revs));
	struct revision *r = &s->revs[s->nr++];
	memset(r, 0, sizeof(*r));
	r->version = version;
	r->source = strdup(source);
	return r;
}

/*
 * Read one mail: headers, then the message up to "---", then the diff.
 * Returns 1 if it is a patch (filled into *p), 0 if not, and sets
 * *cover_title for a 0/N mail.
 */
static int mail_to_patch(struct patch *p, struct mail *m, unsigned *version,
			 struct buf *cover_title)
{
	struct buf *body = &m->body;
	strip_cr(body);
	const char *hdr_end = strstr(body->data, "\n\n");
	size_t hdr_len = hdr_end ? (size_t)(hdr_end - body->data) + 1 : body->len;
	const char *text = hdr_end ? hdr_end + 2 : body->data + body->len;

	header_value(&m->subject, body->data, hdr_len, "Subject");
	header_value(&m->from, body->data, hdr_len, "From");
	header_value(&m->date, body->data, hdr_len, "Date");

	unsigned idx, total;
	size_t off = series_parse_subject(m->subject.data, version, &idx, &total);
	const char *bare = m->subject.data + off;
	if (is_reply(m->subject.data))
		return 0;

	const char *diff = NULL;
	if (!strncmp(text, "diff --git ", 11))
		diff = text;
	else {
		const char *d = strstr(text, "\ndiff --git ");
		if (d)
			diff = d + 1;
	}
	if (!diff) {
		if (idx == 0 && total > 0) {
			buf_reset(cover_title);
			buf_adds(cover_title, bare);
		}
		return 0;
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
	buf_add(&b, diff, diff_len);
	p->diff = buf_detach(&b, NULL);
	p->subject = strdup(bare);
	p->author = strdup(m->from.data);
	p->date = strdup(m->date.data);
	p->index = idx ? idx : 1;
	p->total = total ? total : 1;
	p->line = m->line;
	return 1;
}

static int compare_patches(const void *a, const void *b)
{
	const struct patch *x = a, *y = b;
	return (int)x->index - (int)y->index;
}

static int compare_revisions(const void *a, const void *b)
{
	const struct revision *x = a, *y = b;
	return (int)x->version - (int)y->version;
}

static int parse_text(struct series *s, const char *file, const char *source,
		      unsigned default_version, struct buf *text, struct kperror *err)
{
	struct mail *mails = NULL;
	size_t n = 0;
	struct buf cover = BUF_INIT;
	int ret = -1;
	unsigned found = 0;

	if (split_mails(&mails, &n, file, text, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct patch p = { 0 };
		unsigned version = 0;
		int is_patch = mail_to_patch(&p, &mails[i], &version, &cover);
		if (!version)
			version = default_version;
		if (cover.len) {
			struct revision *r = revision_get(s, version, source);
			free(r->title);
			r->title = buf_detach(&cover, NULL);
		}
		if (!is_patch) {
			s->skipped_mails++;
			continue;
		}
		if (!p.author[0]) {
			kperror_set(err, KPERROR_INPUT, "%s:%u: patch '%s' has no From: header",
				    file, p.line, p.subject);
			free(p.subject); free(p.author); free(p.date); free(p.message); free(p.diff);
			goto out;
		}
		p.file = strdup(file);
		struct revision *r = revision_get(s, version, source);
		/* a later copy of the same N/M (a RESEND) replaces the earlier one */
		size_t j;
		for (j = 0; j < r->nr; j++)
			if (r->patches[j].index == p.index)
				break;
		if (j < r->nr) {
			struct revision tmp = { .patches = &r->patches[j], .nr = 1 };
			free(tmp.patches->subject); free(tmp.patches->author);
			free(tmp.patches->date); free(tmp.patches->message);
			free(tmp.patches->diff); free(tmp.patches->file);
			r->patches[j] = p;
		} else {
			r->patches = realloc(r->patches, (r->nr + 1) * sizeof(*r->patches));
			r->patches[r->nr++] = p;
		}
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

static int parse_path(struct series *s, const char *path, unsigned default_version,
		      struct kperror *err)
{
	struct stat st;
	struct buf text = BUF_INIT;
	int ret = -1;

	if (stat(path, &st) < 0)
		return kperror_errno(err, KPERROR_INPUT, errno, "cannot read series '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		int e = buf_read_file(&text, path);
		if (e < 0) {
			kperror_errno(err, KPERROR_INPUT, e, "cannot read series '%s'", path);
			goto out;
		}
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
		int e = buf_read_file(&text, files.v[i]);
		if (e < 0)
			ret = kperror_errno(err, KPERROR_INPUT, e, "cannot read '%s'", files.v[i]);
		else
			ret = parse_text(s, files.v[i], path, default_version, &text, err);
	}
	strvec_clear(&files);
out:
	buf_release(&text);
	return ret;
}

static int check_revision(struct revision *r, struct kperror *err)
{
	qsort(r->patches, r->nr, sizeof(*r->patches), compare_patches);
	unsigned total = r->patches[0].total;
	for (size_t i = 0; i < r->nr; i++) {
		if (r->patches[i].total != total)
			return kperror_set(err, KPERROR_INPUT,
					   "%s: v%u: patch '%s' says %u/%u but patch '%s' says %u/%u",
					   r->source, r->version, r->patches[0].subject,
					   r->patches[0].index, total, r->patches[i].subject,
					   r->patches[i].index, r->patches[i].total);
	}
	for (unsigned want = 1; want <= total; want++) {
		size_t i;
		for (i = 0; i < r->nr && r->patches[i].index != want; i++)
			;
		if (i == r->nr)
			return kperror_set(err, KPERROR_INPUT,
					   "%s: v%u: patch %u/%u is missing (found %zu of %u)",
					   r->source, r->version, want, total, r->nr, total);
	}
	if (r->nr > total)
		return kperror_set(err, KPERROR_INPUT, "%s: v%u: %zu patches but the subjects say %u",
				   r->source, r->version, r->nr, total);
	if (!r->title)
		r->title = strdup(r->patches[0].subject);
	r->name = util_slug(r->title, 40);
	return 0;
}

int series_parse(struct series *out, char *const *paths, size_t n, struct kperror *err)
{
	struct series s = SERIES_INIT;
	for (size_t i = 0; i < n; i++) {
		size_t before = s.nr;
		if (parse_path(&s, paths[i], n > 1 ? (unsigned)i + 1 : 1, err) < 0)
			goto fail;
		(void)before;
	}
	if (!s.nr) {
		kperror_set(err, KPERROR_INPUT, "no patches found");
		goto fail;
	}
	qsort(s.revs, s.nr, sizeof(*s.revs), compare_revisions);
	for (size_t i = 0; i < s.nr; i++) {
		if (!s.revs[i].nr) {
			kperror_set(err, KPERROR_INPUT, "%s: v%u has a cover letter but no patches",
				    s.revs[i].source, s.revs[i].version);
			goto fail;
		}
		if (check_revision(&s.revs[i], err) < 0)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	series_release(&s);
	return -1;
}

void series_release(struct series *s)
{
	for (size_t i = 0; i < s->nr; i++)
		revision_release(&s->revs[i]);
	free(s->revs);
	s->revs = NULL;
	s->nr = 0;
}
