/*
 * strvec: a NULL-terminated, growable vector of owned strings (modelled on
 * git's strvec).  'v' is never NULL and v[nr] is always NULL, so it can be
 * handed to execv() as it is.  Strings pushed are copied; the vector owns
 * them and strvec_clear() frees them.
 */
#ifndef KPIPE_STRVEC_H
#define KPIPE_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v;
	size_t nr;
	size_t alloc;
};

extern char *strvec_empty[];
#define STRVEC_INIT { strvec_empty, 0, 0 }

void strvec_init(struct strvec *sv);
void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Push each NULL-terminated argument. */
void strvec_pushl(struct strvec *sv, ...);
/* Split 's' at commas and/or white space and push each non-empty word. */
void strvec_split(struct strvec *sv, const char *s);
/* Return 1 if 's' is one of the strings. */
int strvec_contains(const struct strvec *sv, const char *s);
void strvec_clear(struct strvec *sv);

#endif
