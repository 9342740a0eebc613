#include "mime.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void mime_decode_qp(struct buf *out, const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '=') {
			buf_addch(out, in[i]);
			continue;
		}
		/* soft line break: "=" at the end of a line (maybe with blanks) */
		size_t j = i + 1;
		while (j < len && (in[j] == ' ' || in[j] == '\t' || in[j] == '\r'))
			j++;
		if (j < len && in[j] == '\n') {
			i = j;
			continue;
		}
		if (j >= len) {
			i = j;
			continue;
		}
		int hi = i + 1 < len ? hexval((unsigned char)in[i + 1]) : -1;
		int lo = i + 2 < len ? hexval((unsigned char)in[i + 2]) : -1;
		if (hi >= 0 && lo >= 0) {
			buf_addch(out, (char)(hi * 16 + lo));
			i += 2;
		} else {
			buf_addch(out, '=');
		}
	}
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int mime_decode_base64(struct buf *out, const char *in, size_t len)
{
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)in[i];
		if (isspace(c))
			continue;
		if (c == '=')
			break;
		int v = b64val(c);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addch(out, (char)((acc >> bits) & 0xff));
		}
	}
	return 0;
}

static void latin1_to_utf8(struct buf *out, const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x80) {
			buf_addch(out, (char)c);
		} else {
			buf_addch(out, (char)(0xc0 | (c >> 6)));
			buf_addch(out, (char)(0x80 | (c & 0x3f)));
		}
	}
}

/* Decode one "=?charset?enc?text?=" at 'p'; returns its length, or 0 if it is none. */
/*
 * RFC 2047 allows 75 bytes per encoded word; mailers keep to it.  A
 * longer one is taken as plain text, so no start of one ever scans more
 * than this: decoding stays linear in the header, whatever it holds.
 */
#define ENCODED_WORD_MAX 256

/* The first 'c' in p[0..max) before white space or the end, or NULL. */
static const char *find_in_word(const char *p, const char *what, size_t max)
{
	size_t wlen = strlen(what);
	for (size_t i = 0; i < max && p[i] && p[i] != ' ' && p[i] != '\t' && p[i] != '\n'; i++)
		if (!strncmp(p + i, what, wlen))
			return p + i;
	return NULL;
}

static size_t decode_word(struct buf *out, const char *p)
{
	if (p[0] != '=' || p[1] != '?')
		return 0;
	const char *cs = p + 2;
	const char *q1 = find_in_word(cs, "?", ENCODED_WORD_MAX);
	if (!q1 || !q1[1] || q1[2] != '?')
		return 0;
	char enc = (char)tolower((unsigned char)q1[1]);
	if (enc != 'q' && enc != 'b')
		return 0;
	const char *text = q1 + 3;
	size_t used = (size_t)(text - p);
	const char *end = used < ENCODED_WORD_MAX ? find_in_word(text, "?=", ENCODED_WORD_MAX - used) : NULL;
	if (!end)
		return 0;
	struct buf raw = BUF_INIT;
	if (enc == 'b') {
		if (mime_decode_base64(&raw, text, (size_t)(end - text)) < 0) {
			buf_release(&raw);
			return 0;
		}
	} else {
		for (const char *c = text; c < end; c++) {
			if (*c == '_') {
				buf_addch(&raw, ' ');
			} else if (*c == '=' && c + 2 < end && hexval((unsigned char)c[1]) >= 0 &&
				   hexval((unsigned char)c[2]) >= 0) {
				buf_addch(&raw, (char)(hexval((unsigned char)c[1]) * 16 + hexval((unsigned char)c[2])));
				c += 2;
			} else {
				buf_addch(&raw, *c);
			}
		}
	}
	size_t cslen = (size_t)(q1 - cs);
	if ((cslen == 10 && !strncasecmp(cs, "iso-8859-1", 10)) ||
	    (cslen == 6 && !strncasecmp(cs, "latin1", 6)))
		latin1_to_utf8(out, raw.data, raw.len);
	else
		buf_add(out, raw.data, raw.len);
	buf_release(&raw);
	return (size_t)(end + 2 - p);
}

void mime_decode_header(struct buf *out, const char *in)
{
	const char *p = in;
	int after_word = 0;
	while (*p) {
		size_t n = decode_word(out, p);
		if (n) {
			p += n;
			after_word = 1;
			continue;
		}
		if (after_word && (*p == ' ' || *p == '\t')) {
			/* white space between two encoded words is not part of the text */
			const char *q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			struct buf probe = BUF_INIT;
			size_t m = decode_word(&probe, q);
			buf_release(&probe);
			if (m) {
				p = q;
				continue;
			}
		}
		after_word = 0;
		buf_addch(out, *p++);
	}
}

const char *mime_param(const char *value, const char *name, size_t *len)
{
	size_t nlen = strlen(name);
	for (const char *p = strchr(value, ';'); p; p = strchr(p + 1, ';')) {
		const char *k = p + 1;
		while (*k == ' ' || *k == '\t')
			k++;
		if (strncasecmp(k, name, nlen) || k[nlen] != '=')
			continue;
		const char *v = k + nlen + 1;
		if (*v == '"') {
			const char *e = strchr(v + 1, '"');
			if (!e)
				return NULL;
			*len = (size_t)(e - v - 1);
			return v + 1;
		}
		*len = strcspn(v, "; \t");
		return v;
	}
	return NULL;
}
