#include "inbox.h"
#include "strvec.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_MAIL ((size_t)INBOX_MAX_MAIL_MIB << 20)

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int inbox_kind(enum inbox_kind *out, const char *path, struct kperror *err)
{
	struct buf p = BUF_INIT;
	int ret = 0;
	buf_addf(&p, "%s/git/0.git", path);
	if (is_dir(p.data)) {
		*out = INBOX_PUBLIC_INBOX;
		goto out;
	}
	buf_reset(&p);
	buf_addf(&p, "%s/cur", path);
	int cur = is_dir(p.data);
	buf_reset(&p);
	buf_addf(&p, "%s/new", path);
	if (cur && is_dir(p.data)) {
		*out = INBOX_MAILDIR;
		goto out;
	}
	ret = kperror_set(err, KPERROR_INPUT,
			  "'%s' is neither a public-inbox v2 inbox (no git/0.git) nor a maildir (no cur/ and new/)",
			  path);
out:
	buf_release(&p);
	return ret;
}

/* The epochs of a public-inbox, "0", "1", ... in numeric order. */
static int list_epochs(struct strvec *out, const char *path, struct kperror *err)
{
	struct buf dir = BUF_INIT;
	buf_addf(&dir, "%s/git", path);
	DIR *d = opendir(dir.data);
	if (!d) {
		kperror_errno(err, KPERROR_INPUT, errno, "cannot read '%s'", dir.data);
		buf_release(&dir);
		return -1;
	}
	unsigned long max = 0;
	int any = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		unsigned long n = strtoul(e->d_name, &end, 10);
		if (end != e->d_name && !strcmp(end, ".git") && n < 100000) {
			if (!any || n > max)
				max = n;
			any = 1;
		}
	}
	closedir(d);
	buf_release(&dir);
	for (unsigned long n = 0; any && n <= max; n++) {
		struct buf p = BUF_INIT;
		buf_addf(&p, "%s/git/%lu.git", path, n);
		if (is_dir(p.data))
			strvec_pushf(out, "%lu", n);
		buf_release(&p);
	}
	return 0;
}

/* The commit 'since' names for 'epoch' ("pi:0=OID,1=OID"), or NULL. */
static const char *since_for(const char *since, const char *epoch, char *oid)
{
	size_t el = strlen(epoch);
	const char *p = !strncmp(since, "pi:", 3) ? since + 3 : "";
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == el + 1 + GIT_OID_HEXSZ && !strncmp(p, epoch, el) && p[el] == '=') {
			memcpy(oid, p + el + 1, GIT_OID_HEXSZ);
			oid[GIT_OID_HEXSZ] = '\0';
			return oid;
		}
		p += len + (comma ? 1 : 0);
	}
	return NULL;
}

static int git_fail(struct kperror *err, const char *what, const char *path)
{
	const git_error *e = git_error_last();
	return kperror_set(err, KPERROR_INPUT, "%s '%s': %s", what, path, e && e->message ? e->message : "?");
}

static int read_epoch(const char *path, const char *epoch, const char *since, inbox_mail_fn fn, void *data,
		      struct buf *next, unsigned *too_big, struct buf *note, struct kperror *err)
{
	struct buf repo_path = BUF_INIT;
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	const char *from = since_for(since, epoch, hex);
	git_oid oid, last;
	int ret = -1, have_last = 0;

	buf_addf(&repo_path, "%s/git/%s.git", path, epoch);
	if (git_repository_open_bare(&repo, repo_path.data) < 0) {
		git_fail(err, "cannot open the public-inbox epoch", repo_path.data);
		goto out;
	}
	if (git_repository_head_unborn(repo) == 1) {
		ret = 0; /* an epoch without mail yet */
		goto keep;
	}
	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_push_head(walk) < 0) {
		git_fail(err, "cannot walk the public-inbox epoch", repo_path.data);
		goto out;
	}
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	if (from) {
		git_oid seen;
		git_commit *c = NULL;
		if (git_oid_fromstr(&seen, from) == 0 && git_commit_lookup(&c, repo, &seen) == 0) {
			git_revwalk_hide(walk, &seen);
			git_oid_cpy(&last, &seen);
			have_last = 1;
			git_commit_free(c);
		} else {
			buf_addf(note, "%sepoch %s of '%s' no longer holds commit %.12s (rewritten): read again from its start",
				 note->len ? "; " : "", epoch, path, from);
		}
	}
	while (git_revwalk_next(&oid, walk) == 0) {
		git_commit *c = NULL;
		git_tree *tree = NULL;
		git_blob *blob = NULL;
		const git_tree_entry *m;
		int r = 0;
		if (git_commit_lookup(&c, repo, &oid) < 0 || git_commit_tree(&tree, c) < 0) {
			git_commit_free(c);
			git_fail(err, "cannot read a commit of", repo_path.data);
			goto out;
		}
		/* "m" is the message; a commit without it ("d": a deletion) carries none */
		m = git_tree_entry_byname(tree, "m");
		if (m && git_tree_entry_type(m) == GIT_OBJECT_BLOB &&
		    git_blob_lookup(&blob, repo, git_tree_entry_id(m)) == 0) {
			size_t len = (size_t)git_blob_rawsize(blob);
			if (len > MAX_MAIL)
				(*too_big)++;
			else
				r = fn(data, git_blob_rawcontent(blob), len);
		}
		git_blob_free(blob);
		git_tree_free(tree);
		git_commit_free(c);
		git_oid_cpy(&last, &oid);
		have_last = 1;
		if (r < 0)
			goto keep_out;
	}
	ret = 0;
keep:
	if (have_last) {
		git_oid_tostr(hex, sizeof(hex), &last);
		buf_addf(next, "%s%s=%s", next->len > 3 ? "," : "", epoch, hex);
	}
	goto out;
keep_out:
	ret = -1;
out:
	git_revwalk_free(walk);
	git_repository_free(repo);
	buf_release(&repo_path);
	return ret;
}

static int read_public_inbox(const char *path, const char *since, inbox_mail_fn fn, void *data,
			     struct buf *next, unsigned *too_big, struct buf *note, struct kperror *err)
{
	struct strvec epochs = STRVEC_INIT;
	int ret = -1;
	git_libgit2_init();
	if (list_epochs(&epochs, path, err) < 0)
		goto out;
	buf_reset(next);
	buf_adds(next, "pi:");
	for (size_t i = 0; i < epochs.nr; i++)
		if (read_epoch(path, epochs.v[i], since, fn, data, next, too_big, note, err) < 0)
			goto out;
	ret = 0;
out:
	strvec_clear(&epochs);
	git_libgit2_shutdown();
	return ret;
}

struct maildir_entry {
	char *path;
	long long ctime_ns;
};

static int compare_entries(const void *a, const void *b)
{
	const struct maildir_entry *x = a, *y = b;
	if (x->ctime_ns != y->ctime_ns)
		return x->ctime_ns < y->ctime_ns ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int read_maildir(const char *path, const char *since, inbox_mail_fn fn, void *data,
			struct buf *next, unsigned *too_big, struct kperror *err)
{
	static const char *const subdirs[] = { "new", "cur" };
	struct maildir_entry *entries = NULL;
	size_t n = 0, alloc = 0;
	long long from = !strncmp(since, "md:", 3) ? strtoll(since + 3, NULL, 10) : -1, newest = from;
	struct buf text = BUF_INIT;
	int ret = -1;

	for (size_t s = 0; s < 2; s++) {
		struct buf dir = BUF_INIT;
		buf_addf(&dir, "%s/%s", path, subdirs[s]);
		DIR *d = opendir(dir.data);
		if (!d) {
			kperror_errno(err, KPERROR_INPUT, errno, "cannot read '%s'", dir.data);
			buf_release(&dir);
			goto out;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			struct stat st;
			if (e->d_name[0] == '.')
				continue;
			char *file = util_strfmt("%s/%s", dir.data, e->d_name);
			if (stat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
				free(file);
				continue;
			}
			long long ns = (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
			if (ns < from) {
				free(file);
				continue;
			}
			if ((size_t)st.st_size > MAX_MAIL) {
				(*too_big)++;
				free(file);
				continue;
			}
			if (n == alloc) {
				alloc = alloc ? 2 * alloc : 64;
				entries = realloc(entries, alloc * sizeof(*entries));
			}
			entries[n++] = (struct maildir_entry){ file, ns };
		}
		closedir(d);
		buf_release(&dir);
	}
	qsort(entries, n, sizeof(*entries), compare_entries);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&text);
		int r = buf_read_file_max(&text, entries[i].path, MAX_MAIL);
		if (r < 0)
			continue; /* moved from new/ to cur/ while read: found there next time */
		if (entries[i].ctime_ns > newest)
			newest = entries[i].ctime_ns;
		if (fn(data, text.data, text.len) < 0)
			goto out;
	}
	ret = 0;
out:
	buf_reset(next);
	buf_addf(next, "md:%lld", newest < 0 ? 0 : newest);
	for (size_t i = 0; i < n; i++)
		free(entries[i].path);
	free(entries);
	buf_release(&text);
	return ret;
}

int inbox_read(const char *path, const char *since, inbox_mail_fn fn, void *data, struct buf *next,
	       unsigned *too_big, struct buf *note, struct kperror *err)
{
	enum inbox_kind kind;
	if (inbox_kind(&kind, path, err) < 0)
		return -1;
	if (kind == INBOX_PUBLIC_INBOX)
		return read_public_inbox(path, since ? since : "", fn, data, next, too_big, note, err);
	return read_maildir(path, since ? since : "", fn, data, next, too_big, err);
}
