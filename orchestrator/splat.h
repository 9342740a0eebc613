/*
 * splat: find kernel splats in a console log or dmesg and give each a
 * stable title in the style kernel bots use ("WARNING in zap_pte_range",
 * "KASAN: slab-use-after-free in folio_remove_rmap_ptes", "possible
 * deadlock in collapse_huge_page", "INFO: task hung in ...").  Kinds:
 * WARNING, BUG, kernel BUG, Oops, general protection fault, unable to
 * handle page fault, KASAN, KFENCE, UBSAN, lockdep (circular, recursive,
 * inconsistent lock state), RCU stalls, soft and hard lockups, hung
 * tasks, Bad page state/map, Bad rss-counter state, kernel panic.
 * Timestamps, log levels and GCC clone suffixes (.isra.0) do not change
 * a title; the same title twice is one entry with a count.
 */
#ifndef KPIPE_SPLAT_H
#define KPIPE_SPLAT_H

#include <stddef.h>

#include "strvec.h"

struct splat {
	char *title;
	unsigned count;
	char *report;    /* the first report's lines (owned) */
	int preexisting; /* seen on the baseline too (set by the caller) */
	int ignored;     /* matches the known-noise list (splat_ignore()) */
};

struct splat_list {
	struct splat *v;
	size_t nr;
};

#define SPLAT_LIST_INIT { NULL, 0 }

/* Append the splats in 'log' to *out (merging equal titles). */
void splat_scan(struct splat_list *out, const char *log);
/* Add one made-up entry, e.g. for a guest that stopped answering. */
void splat_add(struct splat_list *out, const char *title, const char *report);
/* Mark the splats whose title matches one of the fnmatch() 'patterns'. */
void splat_ignore(struct splat_list *l, const struct strvec *patterns);
/* 1 if the list holds a panic (the guest died of it). */
int splat_has_panic(const struct splat_list *l);
void splat_list_release(struct splat_list *l);

#endif
