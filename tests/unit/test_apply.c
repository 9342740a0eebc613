#include "harness.h"
#include "apply.h"
#include "series.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TEST(author_and_date_parsing)
{
	struct buf n = BUF_INIT, e = BUF_INIT;
	CHECK(apply_parse_author("\"Tester, Ada\" <ada@example.org>", &n, &e) == 0);
	CHECK_STR(n.data, "Tester, Ada");
	CHECK_STR(e.data, "ada@example.org");
	buf_reset(&n);
	buf_reset(&e);
	CHECK(apply_parse_author("nobody", &n, &e) < 0);
	long long when;
	int off;
	CHECK(series_parse_date("Thu, 12 Nov 2026 10:03:00 +0100", &when, &off) == 0);
	CHECK(off == 60);
	CHECK(when == 1794474180LL);
	CHECK(series_parse_date("3 Nov 2026 09:00:01 -0530", &when, &off) == 0);
	CHECK(off == -330);
	CHECK(series_parse_date("yesterday", &when, &off) < 0);
	buf_release(&n);
	buf_release(&e);
}

/* A scratch repository holding hello.txt = 'hello' (a string). */
static struct tree *scratch_tree_holding(char *dir, const char *hello)
{
	git_repository *repo;
	git_index *idx;
	git_oid blob, tree_id, commit;
	git_tree *tree;
	git_signature *sig;
	git_treebuilder *tb;
	struct tree *t = calloc(1, sizeof(*t));
	git_libgit2_init();
	if (!mkdtemp(dir) || git_repository_init(&repo, dir, 1) < 0)
		return NULL;
	git_blob_create_from_buffer(&blob, repo, hello, strlen(hello));
	git_treebuilder_new(&tb, repo, NULL);
	git_treebuilder_insert(NULL, tb, "hello.txt", &blob, GIT_FILEMODE_BLOB);
	git_treebuilder_write(&tree_id, tb);
	git_treebuilder_free(tb);
	git_tree_lookup(&tree, repo, &tree_id);
	git_signature_new(&sig, "t", "t@t", 0, 0);
	git_commit_create(&commit, repo, "refs/heads/main", sig, sig, NULL, "base\n", tree, 0, NULL);
	git_signature_free(sig);
	git_tree_free(tree);
	(void)idx;
	t->repo = repo;
	git_oid_cpy(&t->base, &commit);
	return t;
}

/* A scratch repository holding hello.txt = "hello\nworld\n". */
static struct tree *scratch_tree(char *dir)
{
	return scratch_tree_holding(dir, "hello\nworld\n");
}

static int parse_fixture(struct series *s, const char *name)
{
	char path[256];
	struct kperror err = KPERROR_INIT;
	snprintf(path, sizeof(path), "%s/series/%s", harness_fixtures, name);
	char *paths[] = { path };
	*s = (struct series)SERIES_INIT;
	int r = series_parse(s, paths, 1, &err);
	kperror_release(&err);
	return r;
}

static int branch_count(git_repository *repo)
{
	git_branch_iterator *it;
	git_reference *ref;
	git_branch_t type;
	int n = 0;
	git_branch_iterator_new(&it, repo, GIT_BRANCH_LOCAL);
	while (git_branch_next(&ref, &type, it) == 0) {
		n++;
		git_reference_free(ref);
	}
	git_branch_iterator_free(it);
	return n;
}

TEST(apply_makes_commits_keeping_author_and_date)
{
	char dir[] = "/tmp/kpipe-apply-XXXXXX";
	struct tree *t = scratch_tree(dir);
	struct series s;
	struct apply_result ar;
	struct kperror err = KPERROR_INIT;
	CHECK(t != NULL);
	if (!t)
		return;
	CHECK(parse_fixture(&s, "lore-thread.mbox") == 0);
	CHECK(apply_revision(&ar, t, &s.revs[0], NULL, &err) == 0);
	CHECK_STR(ar.branch, "kpipe/mm-teach-greet-to-count-15ff86/v3");
	git_commit *c = NULL;
	CHECK(git_commit_lookup(&c, t->repo, &ar.head) == 0);
	if (c) {
		CHECK_STR(git_commit_summary(c), "greet: say it twice");
		CHECK_STR(git_commit_author(c)->name, "Ada Tester");
		CHECK(git_commit_author(c)->when.time == 1793696402LL);
		CHECK(git_commit_parentcount(c) == 1);
		git_tree *tree;
		git_commit_tree(&tree, c);
		const git_tree_entry *e = git_tree_entry_byname(tree, "hello.txt");
		git_blob *blob;
		git_blob_lookup(&blob, t->repo, git_tree_entry_id(e));
		CHECK(git_blob_rawsize(blob) == 22);
		CHECK(!memcmp(git_blob_rawcontent(blob), "hello\nworld\nhello\nend\n", 22));
		git_blob_free(blob);
		git_tree_free(tree);
		git_commit_free(c);
	}
	apply_result_release(&ar);
	series_release(&s);
	tree_free(t);
	util_rm_rf(dir);
	kperror_release(&err);
}

TEST(apply_failure_names_patch_file_and_hunk_and_leaves_no_branch)
{
	char dir[] = "/tmp/kpipe-apply-XXXXXX";
	struct tree *t = scratch_tree(dir);
	struct series s;
	struct apply_result ar;
	struct kperror err = KPERROR_INIT;
	if (!t)
		return;
	int before = branch_count(t->repo);
	CHECK(parse_fixture(&s, "stale-context.mbox") == 0);
	CHECK(apply_revision(&ar, t, &s.revs[0], NULL, &err) < 0);
	CHECK(err.kind == KPERROR_INPUT);
	CHECK_CONTAINS(err.msg.data, "patch 2/2 'greet: change a line that is not there' does not apply: hello.txt: hunk #1 '@@ -1,3 +1,3 @@' failed");
	CHECK(branch_count(t->repo) == before);
	series_release(&s);

	CHECK(parse_fixture(&s, "other-tree.mbox") == 0);
	CHECK(apply_revision(&ar, t, &s.revs[0], NULL, &err) < 0);
	CHECK_CONTAINS(err.msg.data, "patch 1/1 'drivers/foo: fix bar' does not apply: drivers/foo/bar.c");
	CHECK(branch_count(t->repo) == before);
	series_release(&s);
	tree_free(t);
	util_rm_rf(dir);
	kperror_release(&err);
}


TEST(base_commit_is_never_another_series_commit)
{
	char dir[] = "/tmp/kpipe-apply-XXXXXX";
	struct tree *t = scratch_tree(dir);
	struct series s;
	struct apply_result ar;
	struct kperror err = KPERROR_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid found;
	if (!t)
		return;
	CHECK(parse_fixture(&s, "lore-thread.mbox") == 0);
	CHECK(apply_revision(&ar, t, &s.revs[0], NULL, &err) == 0);
	git_oid_tostr(hex, sizeof(hex), &t->base);
	CHECK(tree_find_base_commit(&found, t, hex) == 0 && git_oid_equal(&found, &t->base));
	/* a series' commit is in kpipe's repository, but no base for another series */
	git_oid_tostr(hex, sizeof(hex), &ar.head);
	CHECK(tree_find_base_commit(&found, t, hex) == -2);
	hex[12] = '\0';
	CHECK(tree_find_base_commit(&found, t, hex) == -2);
	CHECK(tree_find_base_commit(&found, t, "0123456789abcdef0123") == -1);
	CHECK(tree_find_base_commit(&found, t, "xyz") == -1);
	apply_result_release(&ar);
	series_release(&s);
	tree_free(t);
	util_rm_rf(dir);
	kperror_release(&err);
}

TEST(branch_names_are_valid_and_per_sender)
{
	struct patch pa = { 0 }, pb = { 0 };
	struct revision a = { 0 }, b = { 0 };
	struct buf na = BUF_INIT, nb = BUF_INIT;
	pa.author = "Ada Tester <Ada@Example.org>";
	pb.author = "Mallory <mallory@example.org>";
	a.patches = &pa, a.nr = 1, a.version = 1, a.name = util_slug("mm: batch it", 40);
	b.patches = &pb, b.nr = 1, b.version = 1, b.name = util_slug("mm: batch it", 40);
	apply_branch_name(&na, &a);
	apply_branch_name(&nb, &b);
	CHECK(strcmp(na.data, nb.data)); /* one subject, two senders: two branches */
	CHECK(!strncmp(na.data, "kpipe/mm-batch-it-", 18) && !strcmp(na.data + na.len - 3, "/v1"));
	/* the sender's address decides, not how it is written */
	pb.author = "\"Tester, Ada\" <ada@example.ORG>";
	buf_reset(&nb);
	apply_branch_name(&nb, &b);
	CHECK_STR(nb.data, na.data);
	/* v2 of the same series sits beside v1 */
	a.version = 2;
	buf_reset(&nb);
	apply_branch_name(&nb, &a);
	CHECK(!strncmp(nb.data, na.data, na.len - 1) && nb.data[nb.len - 1] == '2');
	/* subjects that are no ref: dots, a leading dot, ".lock", nothing at all */
	const char *subjects[] = { "...", ".hidden", "x.lock", "a..b", "\x1b[2J", "" };
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		free(a.name);
		a.name = util_slug(subjects[i], 40);
		buf_reset(&na);
		apply_branch_name(&na, &a);
		struct buf ref = BUF_INIT;
		buf_addf(&ref, "refs/heads/%s", na.data);
		int valid = 0;
		CHECK(git_reference_name_is_valid(&valid, ref.data) == 0 && valid);
		if (!valid)
			printf("#   subject '%s' gave '%s'\n", subjects[i], ref.data);
		buf_release(&ref);
	}
	free(a.name);
	free(b.name);
	buf_release(&na);
	buf_release(&nb);
}

TEST(range_of_commits_becomes_a_revision)
{
	char dir[] = "/tmp/kpipe-apply-XXXXXX";
	struct tree *t = scratch_tree(dir);
	struct series s;
	struct apply_result ar, rr;
	struct revision *rev = calloc(1, sizeof(*rev));
	git_oid base;
	struct kperror err = KPERROR_INIT;
	if (!t)
		return;
	CHECK(parse_fixture(&s, "lore-thread.mbox") == 0);
	CHECK(apply_revision(&ar, t, &s.revs[0], NULL, &err) == 0);
	CHECK(apply_revision_from_range(rev, &rr, &base, t, "kpipe/mm-teach-greet-to-count-15ff86/v3", 2, &err) == 0);
	CHECK(git_oid_equal(&base, &t->base));
	CHECK(rev->nr == 2 && rr.nr_commits == 2);
	if (rev->nr == 2 && rr.nr_commits == 2) {
		CHECK(git_oid_equal(&rr.commits[0], &ar.commits[0]));
		CHECK(git_oid_equal(&rr.commits[1], &ar.commits[1]));
		CHECK_STR(rev->patches[0].subject, "greet: add a line");
		CHECK_STR(rev->patches[1].subject, "greet: say it twice");
		CHECK_STR(rev->patches[1].author, "Ada Tester <ada@example.org>");
		CHECK_STR(rev->patches[1].date, "Tue, 03 Nov 2026 09:00:02 +0000");
		CHECK(rev->patches[1].index == 2 && rev->patches[1].total == 2);
		CHECK_CONTAINS(rev->patches[1].diff, "+hello\n");
		CHECK(rev->version == 2);
	}
	struct series holder = SERIES_INIT;
	holder.revs = rev;
	holder.nr = 1;
	series_release(&holder); /* frees the revision's contents and the array */
	apply_result_release(&rr);

	struct revision r2;
	CHECK(apply_revision_from_range(&r2, &rr, &base, t, "base..base", 1, &err) < 0);
	CHECK_STR(err.msg.data, "the range 'base..base' holds no commits");
	CHECK(apply_revision_from_range(&r2, &rr, &base, t, "nope..base", 1, &err) < 0);
	CHECK_CONTAINS(err.msg.data, "'nope' is not a commit");
	apply_result_release(&ar);
	series_release(&s);
	tree_free(t);
	util_rm_rf(dir);
	kperror_release(&err);
}

/* The content of 'path' in commit 'id' into 'out' (empty if none). */
static void blob_at(struct buf *out, git_repository *repo, const git_oid *id, const char *path)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	buf_reset(out);
	if (git_commit_lookup(&c, repo, id) || git_commit_tree(&tree, c))
		goto out;
	const git_tree_entry *e = git_tree_entry_byname(tree, path);
	if (e && !git_blob_lookup(&blob, repo, git_tree_entry_id(e)))
		buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
out:
	git_blob_free(blob);
	git_tree_free(tree);
	git_commit_free(c);
}

TEST(quilt_and_plain_diff_patches_apply)
{
	char dir[] = "/tmp/kpipe-apply-XXXXXX";
	struct tree *t = scratch_tree_holding(dir, "hello\nworld\n-- x\n");
	struct series s;
	struct apply_result ar;
	struct kperror err = KPERROR_INIT;
	struct buf b = BUF_INIT;
	CHECK(t != NULL);
	if (!t)
		return;
	CHECK(parse_fixture(&s, "quilt.mbox") == 0);
	CHECK(s.nr == 1 && s.revs[0].nr == 2);
	if (s.nr == 1 && s.revs[0].nr == 2) {
		const struct patch *p = &s.revs[0].patches[0];
		CHECK(!strncmp(p->diff, "diff --git a/hello.txt b/hello.txt\n--- a/hello.txt\n+++ b/hello.txt\n@@ ", 70));
		CHECK(strstr(p->message, "Signed-off-by: Andrew Morton") && !strstr(p->message, "Index: linux"));
		CHECK(strstr(s.revs[0].patches[1].message, "diffstat") && !strstr(s.revs[0].patches[1].message, "notes.txt |"));
		CHECK(apply_revision(&ar, t, &s.revs[0], NULL, &err) == 0);
		blob_at(&b, t->repo, &ar.head, "hello.txt");
		CHECK(b.len == 19 && !memcmp(b.data, "hello\nworld\ngoodbye", 19));
		blob_at(&b, t->repo, &ar.head, "notes.txt");
		CHECK(b.data && !strcmp(b.data, "first note\nsecond note\n"));
		apply_result_release(&ar);
	}
	series_release(&s);
	tree_free(t);
	util_rm_rf(dir);
	kperror_release(&err);
	buf_release(&b);
}

const struct unit_test apply_tests[] = {
	{ "apply: author and date parsing", author_and_date_parsing },
	{ "apply: a base-commit only another series' branch has is no base", base_commit_is_never_another_series_commit },
	{ "apply: branch names are valid refs whatever the subject, and per sender", branch_names_are_valid_and_per_sender },
	{ "apply: commits keep author and date", apply_makes_commits_keeping_author_and_date },
	{ "apply: failure names patch, file and hunk, leaves no branch", apply_failure_names_patch_file_and_hunk_and_leaves_no_branch },
	{ "apply: a range of commits becomes a revision", range_of_commits_becomes_a_revision },
	{ "apply: quilt and plain diff -u patches (no diff --git line) apply like git's", quilt_and_plain_diff_patches_apply },
	{ NULL, NULL },
};
