/*
 * merge: the parts of one run (kpipe run --shard I/N or --cells, each
 * into its own results directory) joined into the cells the whole run
 * would have had, for 'kpipe report --merge'.  Pure: the caller loads the
 * parts (results_load_summary()) and copies their files.
 */
#ifndef KPIPE_MERGE_H
#define KPIPE_MERGE_H

#include "buf.h"
#include "results.h"

struct merge_part {
	const char *dir;        /* where the part's results are: for messages */
	struct results_run run; /* what its summary says of the run */
	struct cell *cells;     /* its cells (merge_cells() takes the ones it uses) */
	size_t nr;
};

/*
 * Join 'parts' (all of one plan: the same plan id) into *out: every cell
 * of the whole plan, in its order (*n of them; release each with
 * results_cell_release(), then free()).  (*from)[i] is the index of the
 * part cell i came from, or -1 for a cell no part held: that one is not
 * run, saying so (a part's job failed or was not given).  A base cell
 * several parts hold is taken from the first with a verdict; a revision's
 * cell two parts hold, a part of another plan or a cell the plan does not
 * have is an error: -1 with 'why' (one line naming the directory).
 * Cells taken are moved out of the parts (theirs are left empty); on
 * an error the parts are left as they were.
 */
int merge_cells(struct cell **out, long **from, size_t *n, struct merge_part *parts, size_t nr,
		struct buf *why);

#endif
