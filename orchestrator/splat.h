/*
 * splat: find kernel splats (WARNING, BUG, Oops, panics, "Bad page",
 * "Bad rss-counter", lockdep, KASAN ...) in a console log or dmesg and
 * give each a stable title in the style kernel bots use, e.g.
 * "WARNING in zap_pte_range".  The same title twice is one entry with a
 * count.
 */
#ifndef KPIPE_SPLAT_H
#define KPIPE_SPLAT_H

#include <stddef.h>

struct splat {
	char *title;
	unsigned count;
	char *report;   /* the first report's lines (owned) */
	int preexisting; /* seen on the baseline too (set by the caller) */
};

struct splat_list {
	struct splat *v;
	size_t nr;
};

#define SPLAT_LIST_INIT { NULL, 0 }

/* Append the splats in 'log' to *out (merging equal titles). */
void splat_scan(struct splat_list *out, const char *log);
/* 1 if the list holds a panic (the guest died of it). */
int splat_has_panic(const struct splat_list *l);
void splat_list_release(struct splat_list *l);

#endif
