/*
 * revcmp: what changed from one revision of a series to the next, patch
 * by patch, the way a reviewer reads a reroll: which patches are new,
 * dropped, unchanged (the same patch-id), changed only in their commit
 * message, or changed.
 *
 * A patch-id is git's idea (git patch-id --stable): the diff with its
 * line numbers, index lines and whitespace left out, so a patch rebased
 * onto moved code keeps its id.  Patches are paired by patch-id first,
 * then by subject.  Pure functions, no allocation the caller sees except
 * the line revcmp_describe() fills.
 */
#ifndef KPIPE_REVCMP_H
#define KPIPE_REVCMP_H

#include <stdint.h>

#include "buf.h"
#include "series.h"

/* The patch-id of 'diff' (a git-style diff): 0 for no diff at all. */
uint64_t revcmp_patch_id(const char *diff);

enum revcmp_kind { REVCMP_SAME, REVCMP_MESSAGE, REVCMP_CHANGED, REVCMP_NEW, REVCMP_DROPPED };

/*
 * One line saying what 'now' changed from 'before' (the revision before
 * it), for the list of changes between revisions: "patch 2/3 changed
 * (mm/rmap: ...); patch 3/3 new (...)", "only the commit messages
 * changed (patch 1/2)", "the same patches as v1".  Patches in 'now' are
 * named by their N/M, dropped ones by their N/M in 'before'.  Returns the
 * number of changed, new or dropped patches (0: the code is the same).
 * 'changed' (if not NULL) gets the N of each changed patch of 'now', in
 * order, as "N" words (what a range-diff shows).
 */
unsigned revcmp_describe(struct buf *out, struct strvec *changed, const struct revision *before,
			 const struct revision *now);

#endif
