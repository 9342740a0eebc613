/*
 * apply: apply one revision of a series onto the base tree, as commits,
 * with libgit2 and without touching any worktree.
 *
 * Each patch becomes a commit that keeps the mail's author, date and
 * message (committer = author, so the same series on the same base always
 * gives the same commit ids).  Only when every patch applied is the branch
 * "kpipe/<series>/v<N>" created (or moved) to the last commit: a failing
 * patch leaves no branch behind.
 */
#ifndef KPIPE_APPLY_H
#define KPIPE_APPLY_H

#include <git2.h>

#include "kperror.h"
#include "series.h"
#include "tree.h"

struct apply_result {
	git_oid head;     /* the last commit */
	char *branch;     /* "kpipe/<name>-<sender>/v<N>" (owned): see apply_branch_name() */
	git_oid *commits; /* one per patch, in order (owned) */
	size_t nr_commits;
};

/*
 * Apply 'rev' onto the commit 'onto' (t->base when NULL).  Returns 0 with
 * *out filled (free with apply_result_release()), or -1 with 'err'
 * (KPERROR_INPUT) naming the patch (N/M and subject), the file and the
 * hunk that failed.
 */
/*
 * The branch of a revision: "kpipe/<name>-<sender>/v<N>", <name> the
 * series' slug (util_slug(): a valid ref part whatever the subject) and
 * <sender> six hex digits of a hash of the first patch's From: address,
 * so the same subject from two senders never shares a branch, while the
 * revisions of one series sit side by side.
 */
void apply_branch_name(struct buf *out, const struct revision *rev);
int apply_revision(struct apply_result *out, struct tree *t, const struct revision *rev,
		   const git_oid *onto, struct kperror *err);
/*
 * Check that every patch of 'rev' is a diff libgit2 can read, without any
 * tree.  Returns 0, or -1 with 'err' (KPERROR_INPUT) naming the mail.
 */
int apply_check_revision(const struct revision *rev, struct kperror *err);
void apply_result_release(struct apply_result *r);

/*
 * Take the commits of 'range' ("A..B", or "B" for base..B) in the tree as
 * revision 'version': *rev gets one patch per commit (subject, author,
 * date, message and its diff against its parent), *out the commits (no
 * branch is made: they exist), *base the commit before the first.
 * Returns 0, or -1 with 'err' (KPERROR_INPUT: unknown name, no commits,
 * a merge in the range).  Free *rev's contents as a series' revisions are.
 */
int apply_revision_from_range(struct revision *rev, struct apply_result *out, git_oid *base,
			      struct tree *t, const char *range, unsigned version,
			      struct kperror *err);

/*
 * Split "Name <email>" into its parts (quotes around the name dropped).
 * Returns 0, or -1 if there is no <email>.  Exposed for unit tests.
 */
int apply_parse_author(const char *from, struct buf *name, struct buf *email);

#endif
