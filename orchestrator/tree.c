#include "tree.h"
#include "proc.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASE_REF "refs/kpipe/base"

int tree_git_error(struct kperror *err, enum kperror_kind kind, const char *what)
{
	const git_error *e = git_error_last();
	return kperror_set(err, kind, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

static int read_make_var(const char *makefile, const char *var, struct buf *out)
{
	struct buf text = BUF_INIT;
	int ret = buf_read_file(&text, makefile);
	if (ret < 0)
		goto out;
	ret = -ENOENT;
	size_t vlen = strlen(var);
	for (char *line = text.data; line && *line;) {
		char *eol = strchr(line, '\n');
		if (!strncmp(line, var, vlen) && (line[vlen] == ' ' || line[vlen] == '=')) {
			char *v = strchr(line, '=');
			if (v) {
				v++;
				while (*v == ' ')
					v++;
				buf_add(out, v, eol ? (size_t)(eol - v) : strlen(v));
				buf_rtrim(out);
				ret = 0;
				break;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
out:
	buf_release(&text);
	return ret;
}

/*
 * Add every file below 'rel' (relative to the worktree) to the index.
 * Ignore rules are not consulted: Debian's linux-source tarball carries a
 * .gitignore that ignores every top-level path, and the
 * import must hold exactly what the tarball holds.
 */
static int add_tree(git_index *index, const char *workdir, struct buf *rel)
{
	struct buf abs = BUF_INIT;
	int ret = 0;
	buf_addf(&abs, "%s/%s", workdir, rel->data);
	DIR *d = opendir(abs.data);
	buf_release(&abs);
	if (!d)
		return -1;
	struct dirent *de;
	size_t base = rel->len;
	while (!ret && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!base && !strcmp(de->d_name, ".git"))
			continue;
		buf_truncate(rel, base);
		if (base)
			buf_addch(rel, '/');
		buf_adds(rel, de->d_name);
		if (de->d_type == DT_DIR)
			ret = add_tree(index, workdir, rel);
		else
			ret = git_index_add_bypath(index, rel->data);
	}
	buf_truncate(rel, base);
	closedir(d);
	return ret;
}

/* Extract the tarball into 'tmp' and commit it as the only commit. */
static int import_tarball(const struct config *cfg, const char *tmp, const char *final,
			  struct kperror *err)
{
	struct proc p = PROC_INIT;
	struct buf out = BUF_INIT, msg = BUF_INIT, ver = BUF_INIT, mk = BUF_INIT;
	git_repository *repo = NULL;
	git_index *index = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid tree_id, commit_id;
	int ret = -1;

	if (access(cfg->tree_tarball, R_OK) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno,
			      "cannot read kernel source '%s' (run 'make deps' to install linux-source-6.12)",
			      cfg->tree_tarball);
		goto out;
	}
	util_rm_rf(tmp);
	int e = util_mkdir_p(tmp, 0755);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", tmp);
		goto out;
	}
	strvec_pushl(&p.argv, "tar", "-xf", cfg->tree_tarball, "-C", tmp,
		     "--strip-components=1", NULL);
	p.out = &out;
	if (proc_run(&p, err) < 0)
		goto out;
	if (p.exit_code) {
		buf_rtrim(&out);
		kperror_set(err, KPERROR_INFRA, "cannot extract '%s': %s", cfg->tree_tarball, out.data);
		goto out;
	}
	buf_addf(&mk, "%s/Makefile", tmp);
	const char *vars[] = { "VERSION", "PATCHLEVEL", "SUBLEVEL" };
	for (int i = 0; i < 3; i++) {
		struct buf v = BUF_INIT;
		if (read_make_var(mk.data, vars[i], &v) < 0) {
			kperror_set(err, KPERROR_INFRA, "'%s' is not a kernel source tarball (no %s in its Makefile)",
				    cfg->tree_tarball, vars[i]);
			buf_release(&v);
			goto out;
		}
		buf_addf(&ver, "%s%s", i ? "." : "", v.data);
		buf_release(&v);
	}

	if (git_repository_init(&repo, tmp, 0) < 0 ||
	    git_repository_index(&index, repo) < 0) {
		tree_git_error(err, KPERROR_INFRA, "cannot create a git repository");
		goto out;
	}
	struct buf rel = BUF_INIT;
	int added = add_tree(index, tmp, &rel);
	buf_release(&rel);
	if (added < 0 || git_index_write(index) < 0 ||
	    git_index_write_tree(&tree_id, index) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0) {
		tree_git_error(err, KPERROR_INFRA, "cannot add the kernel source to git");
		goto out;
	}
	buf_addf(&msg, "Linux %s\n\nImported by kpipe from %s.\n", ver.data, cfg->tree_tarball);
	if (git_signature_new(&sig, "kpipe", "kpipe@localhost", 0, 0) < 0 ||
	    git_commit_create(&commit_id, repo, "HEAD", sig, sig, NULL, msg.data, tree, 0, NULL) < 0 ||
	    git_reference_create(NULL, repo, BASE_REF, &commit_id, 1, "kpipe import") < 0) {
		tree_git_error(err, KPERROR_INFRA, "cannot commit the kernel source");
		goto out;
	}
	git_index_free(index);
	index = NULL;
	git_repository_free(repo);
	repo = NULL;
	util_rm_rf(final);
	if (rename(tmp, final) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot rename '%s' to '%s'", tmp, final);
		goto out;
	}
	ret = 0;
out:
	git_tree_free(tree);
	git_signature_free(sig);
	git_index_free(index);
	git_repository_free(repo);
	proc_release(&p);
	buf_release(&out);
	buf_release(&msg);
	buf_release(&ver);
	buf_release(&mk);
	return ret;
}

static void set_base_desc(struct tree *t, const char *ref)
{
	git_commit *c = NULL;
	char hex[13];
	git_oid_tostr(hex, sizeof(hex), &t->base);
	if (git_commit_lookup(&c, t->repo, &t->base) == 0) {
		struct buf b = BUF_INIT;
		buf_addf(&b, "%s %s", hex, git_commit_summary(c));
		if (ref && *ref)
			buf_addf(&b, " (%s)", ref);
		t->base_desc = buf_detach(&b, NULL);
		git_commit_free(c);
	} else {
		t->base_desc = strdup(hex);
	}
}

/* kpipe's own repository borrowing the objects of the user's tree. */
static int open_user_tree(struct tree *t, const struct config *cfg, struct kperror *err)
{
	git_repository *user = NULL;
	git_object *obj = NULL;
	struct buf dir = BUF_INIT, alt = BUF_INIT, content = BUF_INIT;
	int ret = -1;

	int rc = git_repository_open_ext(&user, cfg->tree_path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	const git_error *ge = rc < 0 ? git_error_last() : NULL;
	/* libgit2 1.5 says GIT_EOWNER, or "config value 'safe.directory' was not found" */
	if (rc == GIT_EOWNER || (ge && ge->message && strstr(ge->message, "safe.directory"))) {
		/* git's own rule for another user's repository (root's cache, say): the user decides */
		kperror_set(err, KPERROR_INPUT, "%s: [tree] path '%s' belongs to another user: trust it as git "
			    "does, with 'git config --global --add safe.directory %s'", cfg->source,
			    cfg->tree_path, cfg->tree_path);
		goto out;
	}
	if (rc < 0) {
		kperror_set(err, KPERROR_INPUT, "%s: [tree] path '%s' is not a git repository",
			    cfg->source, cfg->tree_path);
		goto out;
	}
	if (git_revparse_single(&obj, user, cfg->tree_base) < 0) {
		kperror_set(err, KPERROR_INPUT, "%s: [tree] base '%s' is not a commit in '%s'",
			    cfg->source, cfg->tree_base, cfg->tree_path);
		goto out;
	}
	git_object *commit = NULL;
	if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		kperror_set(err, KPERROR_INPUT, "%s: [tree] base '%s' is not a commit",
			    cfg->source, cfg->tree_base);
		goto out;
	}
	git_oid_cpy(&t->base, git_object_id(commit));
	git_object_free(commit);

	char *slug = util_slug(cfg->tree_path, 60);
	buf_addf(&dir, "%s/trees/%s", cfg->cache_dir, slug);
	free(slug);
	if (git_repository_open(&t->repo, dir.data) < 0 &&
	    git_repository_init(&t->repo, dir.data, 0) < 0) {
		tree_git_error(err, KPERROR_INFRA, "cannot create the work repository");
		goto out;
	}
	buf_addf(&alt, "%s/objects/info/alternates", git_repository_path(t->repo));
	buf_addf(&content, "%sobjects\n", git_repository_path(user));
	int e = buf_write_file(&content, alt.data);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot write '%s'", alt.data);
		goto out;
	}
	/* reopen so the new alternates are read */
	git_repository_free(t->repo);
	t->repo = NULL;
	if (git_repository_open(&t->repo, dir.data) < 0) {
		tree_git_error(err, KPERROR_INFRA, "cannot open the work repository");
		goto out;
	}
	t->workdir = strdup(dir.data);
	t->origin = strdup(cfg->tree_path);
	t->origin_repo = user;
	user = NULL;
	set_base_desc(t, cfg->tree_base);
	ret = 0;
out:
	git_object_free(obj);
	git_repository_free(user);
	buf_release(&dir);
	buf_release(&alt);
	buf_release(&content);
	return ret;
}

int tree_open(struct tree **out, const struct config *cfg, tree_progress_fn progress,
	      void *progress_data, struct kperror *err)
{
	struct tree *t = calloc(1, sizeof(*t));
	struct buf final = BUF_INIT, tmp = BUF_INIT, gitdir = BUF_INIT;
	git_reference *ref = NULL;

	git_libgit2_init();
	if (cfg->tree_path && *cfg->tree_path) {
		if (open_user_tree(t, cfg, err) < 0)
			goto fail;
		*out = t;
		return 0;
	}
	buf_addf(&final, "%s/linux", cfg->cache_dir);
	buf_addf(&tmp, "%s/linux.import", cfg->cache_dir);
	buf_addf(&gitdir, "%s/.git", final.data);
	if (!util_exists(gitdir.data)) {
		int e = util_mkdir_p(cfg->cache_dir, 0755);
		if (e < 0) {
			kperror_errno(err, KPERROR_INFRA, e, "cannot create cache '%s'", cfg->cache_dir);
			goto fail;
		}
		if (progress)
			progress(progress_data, "importing the kernel source into git (once)");
		if (import_tarball(cfg, tmp.data, final.data, err) < 0)
			goto fail;
	}
	if (git_repository_open(&t->repo, final.data) < 0) {
		tree_git_error(err, KPERROR_INFRA, "cannot open the base tree");
		goto fail;
	}
	if (git_reference_lookup(&ref, t->repo, BASE_REF) < 0 ||
	    git_reference_resolve(&ref, ref) < 0) {
		kperror_set(err, KPERROR_INFRA, "'%s' has no %s: remove it to import again",
			    final.data, BASE_REF);
		goto fail;
	}
	git_oid_cpy(&t->base, git_reference_target(ref));
	t->workdir = strdup(final.data);
	t->origin = strdup(cfg->tree_tarball);
	set_base_desc(t, NULL);
	git_reference_free(ref);
	buf_release(&final);
	buf_release(&tmp);
	buf_release(&gitdir);
	*out = t;
	return 0;
fail:
	git_reference_free(ref);
	buf_release(&final);
	buf_release(&tmp);
	buf_release(&gitdir);
	tree_free(t);
	return -1;
}

int tree_checkout(struct tree *t, const git_oid *commit, struct kperror *err)
{
	git_commit *c = NULL;
	git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
	int ret = -1;

	opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
	if (git_commit_lookup(&c, t->repo, commit) < 0 ||
	    git_checkout_tree(t->repo, (git_object *)c, &opts) < 0 ||
	    git_repository_set_head_detached(t->repo, commit) < 0) {
		tree_git_error(err, KPERROR_INFRA, "cannot check out the build tree");
		goto out;
	}
	ret = 0;
out:
	git_commit_free(c);
	return ret;
}

static int push_delta_path(const git_diff_delta *delta, float progress, void *payload)
{
	(void)progress;
	strvec_push(payload, delta->new_file.path ? delta->new_file.path : delta->old_file.path);
	return 0;
}

int tree_changed_paths(struct strvec *out, struct tree *t, const git_oid *from, const git_oid *to,
		       const char *prefix, struct kperror *err)
{
	git_commit *a = NULL, *b = NULL;
	git_tree *ta = NULL, *tb = NULL;
	git_diff *diff = NULL;
	git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
	char *spec[1] = { (char *)prefix };
	int ret = -1;

	if (prefix) {
		opts.pathspec.strings = spec;
		opts.pathspec.count = 1;
	}
	if (git_commit_lookup(&a, t->repo, from) < 0 || git_commit_lookup(&b, t->repo, to) < 0 ||
	    git_commit_tree(&ta, a) < 0 || git_commit_tree(&tb, b) < 0 ||
	    git_diff_tree_to_tree(&diff, t->repo, ta, tb, &opts) < 0 ||
	    git_diff_foreach(diff, push_delta_path, NULL, NULL, NULL, out) < 0) {
		tree_git_error(err, KPERROR_INFRA, "cannot list the files a revision changes");
		goto out;
	}
	ret = 0;
out:
	git_diff_free(diff);
	git_tree_free(ta);
	git_tree_free(tb);
	git_commit_free(a);
	git_commit_free(b);
	return ret;
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	git_repository_free(t->repo);
	git_repository_free(t->origin_repo);
	free(t->workdir);
	free(t->base_desc);
	free(t->origin);
	free(t);
}

int tree_find_base_commit(git_oid *out, struct tree *t, const char *hex)
{
	git_oid prefix, found;
	git_commit *c = NULL;
	size_t len = strlen(hex);
	if (len < 4 || len > GIT_OID_HEXSZ || git_oid_fromstrn(&prefix, hex, len) < 0)
		return -1;
	if (git_commit_lookup_prefix(&c, t->repo, &prefix, len) < 0)
		return -1;
	git_oid_cpy(&found, git_commit_id(c));
	git_commit_free(c);
	/*
	 * kpipe's repository also holds every series it applied: a commit only
	 * they have is another sender's work, never a base.  A base is the
	 * configured base or its history, or a commit of the user's own tree.
	 */
	int ok = git_oid_equal(&found, &t->base) || git_graph_descendant_of(t->repo, &t->base, &found) == 1;
	if (!ok && t->origin_repo && git_commit_lookup(&c, t->origin_repo, &found) == 0) {
		git_commit_free(c);
		ok = 1;
	}
	if (!ok)
		return -2;
	git_oid_cpy(out, &found);
	return 0;
}

int tree_open_existing(struct tree **out, const struct config *cfg, struct kperror *err)
{
	struct buf gitdir = BUF_INIT;
	*out = NULL;
	if (!cfg->tree_path || !*cfg->tree_path) {
		buf_addf(&gitdir, "%s/linux/.git", cfg->cache_dir);
		int there = util_exists(gitdir.data);
		buf_release(&gitdir);
		if (!there)
			return 0;
	}
	return tree_open(out, cfg, NULL, NULL, err);
}

int tree_resolve(git_oid *out, struct tree *t, const char *spec, struct kperror *err)
{
	git_repository *repos[] = { t->repo, t->origin_repo };
	if (!strcmp(spec, "base")) {
		git_oid_cpy(out, &t->base);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		git_object *obj = NULL, *commit = NULL;
		if (!repos[i] || git_revparse_single(&obj, repos[i], spec) < 0)
			continue;
		int r = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
		git_object_free(obj);
		if (r < 0)
			continue;
		git_oid_cpy(out, git_object_id(commit));
		git_object_free(commit);
		return 0;
	}
	return kperror_set(err, KPERROR_INPUT, "'%s' is not a commit in '%s'", spec,
			   t->origin_repo ? t->origin : t->workdir);
}

int tree_resolve_ref(git_oid *out, struct tree *t, const char *ref, struct kperror *err)
{
	git_object *obj = NULL, *commit = NULL;
	if (!ref || !strcmp(ref, "base")) {
		git_oid_cpy(out, &t->base);
		return 0;
	}
	if (git_revparse_single(&obj, t->repo, ref) < 0 ||
	    git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		git_object_free(obj);
		return kperror_set(err, KPERROR_INPUT,
				   "'%s' is not a commit in '%s' (try 'base' or a kpipe/... branch from 'kpipe apply')",
				   ref, t->workdir);
	}
	git_oid_cpy(out, git_object_id(commit));
	git_object_free(commit);
	git_object_free(obj);
	return 0;
}
