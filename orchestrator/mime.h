/*
 * mime: the parts of MIME that patch mails use: quoted-printable and
 * base64 bodies, RFC 2047 encoded words in headers, and finding the part
 * of a multipart mail that carries the patch.  Pure functions: they read
 * their input and append to a buffer.
 */
#ifndef KPIPE_MIME_H
#define KPIPE_MIME_H

#include <stddef.h>

#include "buf.h"

/* Decode quoted-printable (soft line breaks, =XX).  Bad escapes are kept. */
void mime_decode_qp(struct buf *out, const char *in, size_t len);
/* Decode base64, skipping white space.  Returns 0, or -1 on a bad character. */
int mime_decode_base64(struct buf *out, const char *in, size_t len);
/*
 * Decode RFC 2047 encoded words ("=?UTF-8?q?caf=C3=A9?=", "=?utf-8?b?...?=")
 * in a header value; white space between two encoded words is dropped.
 * ISO-8859-1/Latin-1 is converted to UTF-8; other charsets are copied as
 * they are.
 */
void mime_decode_header(struct buf *out, const char *in);
/*
 * Return a pointer to the value of parameter 'name' in a header value such
 * as 'multipart/mixed; boundary="xyz"' and its length in *len, or NULL.
 */
const char *mime_param(const char *value, const char *name, size_t *len);

#endif
