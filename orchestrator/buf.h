/*
 * buf: the one growable byte buffer used everywhere in kpipe (modelled on
 * git's strbuf).
 *
 * Invariants: 'data' is never NULL and is always NUL-terminated, so it can
 * be used as a C string; 'len' does not count the terminator.  A buffer set
 * to BUF_INIT owns no memory until something is added.  Allocation failure
 * aborts the program (like git's xmalloc): callers never check for it.
 */
#ifndef KPIPE_BUF_H
#define KPIPE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc;
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0 }

void buf_init(struct buf *b);
/* Free the memory and return the buffer to BUF_INIT. */
void buf_release(struct buf *b);
/* Make room for 'extra' more bytes after len. */
void buf_grow(struct buf *b, size_t extra);
/* Keep the memory, drop the contents. */
void buf_reset(struct buf *b);
void buf_truncate(struct buf *b, size_t len);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Strip trailing white space. */
void buf_rtrim(struct buf *b);
/* Hand the memory to the caller (free() it); the buffer becomes BUF_INIT. */
char *buf_detach(struct buf *b, size_t *len_out);
/*
 * Append the contents of the file at 'path'.  Returns 0, or -errno with
 * the buffer unchanged.
 */
int buf_read_file(struct buf *b, const char *path);
/*
 * The same for at most 'max' bytes of it: returns 1 if the file holds
 * more (the rest is not read), 0 if it was read whole, or -errno.
 */
int buf_read_file_max(struct buf *b, const char *path, size_t max);
/*
 * Replace the file at 'path' with the contents (mode 0644), all or nothing:
 * written to a temporary file beside it and renamed over it once complete,
 * so a full disk leaves the old file or none, never half of one.  Returns
 * 0 or -errno.
 */
int buf_write_file(const struct buf *b, const char *path);
/*
 * Append 's' escaped for XML/HTML text and attribute values (& < > " '),
 * dropping the control characters XML does not allow.
 */
void buf_add_xml_escaped(struct buf *b, const char *s);
/* Append 's' with JSON string escaping, without the surrounding quotes. */
void buf_add_json_escaped(struct buf *b, const char *s);
/*
 * The length (1-4) of the valid UTF-8 character at 's' (at most 'n'
 * bytes), or 0 if it is none: a stray continuation byte, an overlong
 * form, a surrogate, past U+10FFFF or cut short.  Both escapers above
 * write any invalid byte as U+FFFD, so what they make is valid UTF-8.
 */
size_t buf_utf8_len(const char *s, size_t n);
/*
 * Append 'n' bytes of untrusted text for a terminal or a text report: tab,
 * newline, printable ASCII and valid UTF-8 as they are; every control
 * character (ESC, CR, BEL...), DEL, C1 control, bidi override and invalid
 * byte escaped as "\x1b" or "\u202e", so that nothing in it can retitle
 * or clear the terminal, move the cursor, forge a link or reorder a line.
 * With 'partial', an incomplete UTF-8 character at the very end is left
 * for the next call.  Returns the number of bytes consumed.
 */
size_t buf_add_printable(struct buf *b, const char *s, size_t n, int partial);

#endif
