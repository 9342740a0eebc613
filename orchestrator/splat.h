/*
 * splat: find kernel reports in a console log or dmesg and title each the
 * way syzbot does ("WARNING in zap_pte_range", "KASAN:
 * slab-use-after-free Read in folio_remove_rmap_ptes", "possible deadlock
 * in collapse_huge_page", "BUG: corrupted list in lkdtm_CORRUPT_LIST_ADD",
 * "INFO: task hung in ...", "kernel panic: ..."), so a title can be looked
 * up where kernel people look.  Every console format is read (timestamps
 * or none, printk caller ids with other callers' lines left out, dmesg
 * -x prefixes, CR and ANSI noise); the title names the first frame that is
 * no reporting or locking machinery, or "corrupted" when there is none.
 * The same title twice is one entry with a count.  The kinds and their
 * formats are the tables in splat.c; docs/results.md lists them.
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
