#include "buf.h"

#include <stdint.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char buf_empty[1];

static void *xrealloc(void *p, size_t n)
{
	void *r = realloc(p, n);
	if (!r) {
		fputs("kpipe: out of memory\n", stderr);
		abort();
	}
	return r;
}

void buf_init(struct buf *b)
{
	b->data = buf_empty;
	b->len = b->alloc = 0;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->data);
	buf_init(b);
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->alloc)
		return;
	size_t n = b->alloc ? b->alloc : 64;
	while (n < need)
		n *= 2;
	if (!b->alloc) {
		b->data = xrealloc(NULL, n);
		b->data[0] = '\0';
	} else {
		b->data = xrealloc(b->data, n);
	}
	b->alloc = n;
}

void buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	buf_grow(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n <= 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void buf_rtrim(struct buf *b)
{
	while (b->len && strchr(" \t\r\n", b->data[b->len - 1]))
		b->len--;
	if (b->alloc)
		b->data[b->len] = '\0';
}

char *buf_detach(struct buf *b, size_t *len_out)
{
	char *r;
	if (len_out)
		*len_out = b->len;
	if (!b->alloc) {
		r = xrealloc(NULL, 1);
		r[0] = '\0';
	} else {
		r = b->data;
	}
	buf_init(b);
	return r;
}

int buf_read_file_max(struct buf *b, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t old = b->len;
	int more = 0;
	for (;;) {
		buf_grow(b, 65536);
		size_t room = b->alloc - b->len - 1, left = max - (b->len - old);
		if (!left) {
			char probe;
			ssize_t n = read(fd, &probe, 1);
			if (n < 0 && errno == EINTR)
				continue;
			more = n > 0;
			break;
		}
		ssize_t n = read(fd, b->data + b->len, room < left ? room : left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			buf_truncate(b, old);
			return -e;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	b->data[b->len] = '\0';
	close(fd);
	return more;
}

int buf_read_file(struct buf *b, const char *path)
{
	int r = buf_read_file_max(b, path, SIZE_MAX);
	return r < 0 ? r : 0;
}

int buf_write_file(const struct buf *b, const char *path)
{
	/* all or nothing: a temporary file beside it, renamed over it once complete */
	size_t plen = strlen(path);
	char *tmp = malloc(plen + sizeof(".tmp-XXXXXX"));
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp-XXXXXX", sizeof(".tmp-XXXXXX"));
	int fd = mkostemp(tmp, O_CLOEXEC);
	int e = 0;
	if (fd < 0) {
		e = -errno;
		free(tmp);
		return e;
	}
	size_t off = 0;
	while (off < b->len && !e) {
		ssize_t n = write(fd, b->data + off, b->len - off);
		if (n < 0 && errno != EINTR)
			e = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (!e && fchmod(fd, 0644) < 0)
		e = -errno;
	if (close(fd) < 0 && !e)
		e = -errno;
	if (!e && rename(tmp, path) < 0)
		e = -errno;
	if (e)
		unlink(tmp);
	free(tmp);
	return e;
}

size_t buf_utf8_len(const char *str, size_t n)
{
	const unsigned char *p = (const unsigned char *)str;
	if (!n)
		return 0;
	if (p[0] < 0x80)
		return 1;
	size_t len;
	unsigned cp;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0; /* a continuation byte, an overlong lead (c0, c1) or past U+10FFFF */
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, too large, or a UTF-16 surrogate */
	return len;
}

/* The code point of the valid sequence of 'len' bytes at 'p'. */
static unsigned utf8_decode(const unsigned char *p, size_t len)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned cp = p[0] & lead_mask[len];
	for (size_t i = 1; i < len; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

#define UTF8_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

void buf_add_json_escaped(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = buf_utf8_len(s + i, n - i);
		if (!len) {
			buf_adds(b, UTF8_REPLACEMENT); /* JSON is UTF-8: a stray byte becomes U+FFFD */
			i++;
			continue;
		}
		if (len > 1) {
			buf_add(b, s + i, len);
		} else {
			switch (c) {
			case '"': buf_adds(b, "\\\""); break;
			case '\\': buf_adds(b, "\\\\"); break;
			case '\n': buf_adds(b, "\\n"); break;
			case '\r': buf_adds(b, "\\r"); break;
			case '\t': buf_adds(b, "\\t"); break;
			default:
				if (c < 0x20 || c == 0x7f)
					buf_addf(b, "\\u%04x", c);
				else
					buf_addch(b, (char)c);
			}
		}
		i += len;
	}
}

void buf_add_xml_escaped(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = buf_utf8_len(s + i, n - i);
		if (!len) {
			buf_adds(b, UTF8_REPLACEMENT);
			i++;
			continue;
		}
		if (len > 1) {
			unsigned cp = utf8_decode((const unsigned char *)s + i, len);
			/* not a character XML 1.0 allows (C1 controls are allowed but mean nothing here) */
			if (cp == 0xfffe || cp == 0xffff || (cp >= 0x80 && cp <= 0x9f))
				buf_adds(b, UTF8_REPLACEMENT);
			else
				buf_add(b, s + i, len);
			i += len;
			continue;
		}
		switch (c) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default:
			if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f)
				buf_adds(b, UTF8_REPLACEMENT); /* not allowed in XML 1.0 at all */
			else
				buf_addch(b, (char)c);
		}
		i++;
	}
}

/* Code points that reorder or hide text on a terminal (bidi overrides and isolates). */
static int is_bidi_control(unsigned cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	       cp == 0x200f || cp == 0x061c;
}

size_t buf_add_printable(struct buf *b, const char *s, size_t n, int partial)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = buf_utf8_len(s + i, n - i);
		if (!len && partial && c >= 0xc2 && c <= 0xf4 && n - i < 4) {
			/* maybe the start of a character whose rest comes in the next write */
			size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2, k;
			for (k = i + 1; k < n && ((unsigned char)s[k] & 0xc0) == 0x80; k++)
				;
			if (k == n && n - i < want)
				return i;
		}
		if (len == 1 && (c >= 0x20 || c == '\n' || c == '\t') && c != 0x7f) {
			buf_addch(b, (char)c);
		} else if (len > 1) {
			unsigned cp = utf8_decode((const unsigned char *)s + i, len);
			if ((cp >= 0x80 && cp <= 0x9f) || is_bidi_control(cp))
				buf_addf(b, "\\u%04x", cp);
			else
				buf_add(b, s + i, len);
		} else {
			buf_addf(b, "\\x%02x", c); /* ESC, CR, BEL, a stray byte: shown, never obeyed */
			len = 1;
		}
		i += len;
	}
	return i;
}
