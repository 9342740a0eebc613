/*
 * tree: the base kernel tree series are applied onto, and the worktree
 * kernels are built from.
 *
 * By default kpipe imports Debian's linux-source tarball once into a git
 * repository under the cache directory (libgit2) and reuses it.  With
 * [tree] path set, kpipe makes its own repository in the cache that
 * borrows the user's objects (objects/info/alternates, as "git clone
 * --shared" does), so nothing is ever written to the user's repository:
 * not a branch, not a file.
 */
#ifndef KPIPE_TREE_H
#define KPIPE_TREE_H

#include <git2.h>

#include "config.h"
#include "kperror.h"
#include "strvec.h"

struct tree {
	git_repository *repo; /* kpipe's own repository (owned) */
	char *workdir;        /* its worktree: the source kernels are built from */
	git_oid base;         /* the commit series are applied onto */
	char *base_desc;      /* e.g. "v6.12.57 (Debian linux-source-6.12)" */
	char *origin;         /* the tarball or the user's tree */
	git_repository *origin_repo; /* the user's tree, only read (NULL by default) */
};

/* Called with a short description of a slow step (the import). */
typedef void (*tree_progress_fn)(void *data, const char *what);

/*
 * Open (importing first if needed) the base tree the config names.
 * Returns 0, or -1 with 'err': KPERROR_INPUT for a path that is no git
 * tree or a base that is not in it, KPERROR_INFRA for a failed import.
 * Free *out with tree_free().
 */
int tree_open(struct tree **out, const struct config *cfg, tree_progress_fn progress,
	      void *progress_data, struct kperror *err);
/* Make the worktree hold 'commit' (only files that differ are rewritten). */
int tree_checkout(struct tree *t, const git_oid *commit, struct kperror *err);
void tree_free(struct tree *t);
/*
 * Resolve a commit name (ref, branch, id, "HEAD~2") in kpipe's repository
 * or, for a user's tree, in that tree.  Returns 0, or -1 (KPERROR_INPUT).
 */
int tree_resolve(git_oid *out, struct tree *t, const char *spec, struct kperror *err);
/*
 * Find the commit 'hex' (full or abbreviated) a series names as its base:
 * 0 if it is the configured base, in its history, or in the user's own
 * tree; -1 if there is no such commit; -2 if only kpipe's own series
 * branches have it (another series' commit: no base for this one).
 */
int tree_find_base_commit(git_oid *out, struct tree *t, const char *hex);
/*
 * Resolve 'ref' ("base" or NULL: the base; a branch such as kpipe/NAME/v2,
 * or a commit id) in the tree.  KPERROR_INPUT if it is not there.
 */
int tree_resolve_ref(git_oid *out, struct tree *t, const char *ref, struct kperror *err);
/*
 * Open the default or configured tree only if it is already there (no
 * import).  Returns 0 and *out (NULL when there is no tree yet), or -1.
 */
int tree_open_existing(struct tree **out, const struct config *cfg, struct kperror *err);

/*
 * Push onto 'out' the paths of the files that differ between the commits
 * 'from' and 'to' (added, changed, deleted), only under 'prefix' (a
 * directory, "tools/testing/selftests/mm/") unless it is NULL.
 */
int tree_changed_paths(struct strvec *out, struct tree *t, const git_oid *from, const git_oid *to,
		       const char *prefix, struct kperror *err);

/* Fill 'err' from libgit2's last error, prefixed by 'what'; returns -1. */
int tree_git_error(struct kperror *err, enum kperror_kind kind, const char *what);

#endif
