#include "apply.h"

#include <ctype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

struct apply_progress {
	struct buf file;
	struct buf hunk;
	int hunk_nr;
};

static int on_delta(const git_diff_delta *delta, void *payload)
{
	struct apply_progress *ap = payload;
	buf_reset(&ap->file);
	buf_adds(&ap->file, delta->new_file.path ? delta->new_file.path : delta->old_file.path);
	buf_reset(&ap->hunk);
	ap->hunk_nr = 0;
	return 0;
}

static int on_hunk(const git_diff_hunk *hunk, void *payload)
{
	struct apply_progress *ap = payload;
	buf_reset(&ap->hunk);
	buf_add(&ap->hunk, hunk->header, hunk->header_len);
	buf_rtrim(&ap->hunk);
	ap->hunk_nr++;
	return 0;
}

int apply_parse_author(const char *from, struct buf *name, struct buf *email)
{
	const char *lt = strrchr(from, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	if (!lt || !gt) {
		/* a bare address */
		if (!strchr(from, '@'))
			return -1;
		buf_adds(email, from);
		buf_add(name, from, strcspn(from, "@"));
		return 0;
	}
	buf_add(email, lt + 1, (size_t)(gt - lt - 1));
	const char *s = from, *e = lt;
	while (s < e && (*s == ' ' || *s == '"'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '"'))
		e--;
	buf_add(name, s, (size_t)(e - s));
	if (!name->len)
		buf_add(name, email->data, strcspn(email->data, "@"));
	return 0;
}

static int patch_signature(git_signature **out, const struct patch *p)
{
	struct buf name = BUF_INIT, email = BUF_INIT;
	long long when;
	int offset;
	int ret;
	if (apply_parse_author(p->author, &name, &email) < 0) {
		buf_release(&name);
		buf_release(&email);
		return -1;
	}
	if (series_parse_date(p->date, &when, &offset) == 0)
		ret = git_signature_new(out, name.data, email.data, (git_time_t)when, offset);
	else
		ret = git_signature_now(out, name.data, email.data);
	buf_release(&name);
	buf_release(&email);
	return ret;
}

int apply_check_revision(const struct revision *rev, struct kperror *err)
{
	git_libgit2_init();
	for (size_t i = 0; i < rev->nr; i++) {
		const struct patch *p = &rev->patches[i];
		git_diff *diff = NULL;
		if (git_diff_from_buffer(&diff, p->diff, strlen(p->diff)) < 0) {
			const git_error *e = git_error_last();
			return kperror_set(err, KPERROR_INPUT,
					   "%s:%u: v%u patch %u/%u '%s' is not a valid diff: %s",
					   p->file, p->line, rev->version, p->index, p->total, p->subject,
					   e ? e->message : "parse error");
		}
		size_t n = git_diff_num_deltas(diff);
		git_diff_free(diff);
		if (!n)
			return kperror_set(err, KPERROR_INPUT, "%s:%u: v%u patch %u/%u '%s' changes no file",
					   p->file, p->line, rev->version, p->index, p->total, p->subject);
	}
	return 0;
}

void apply_branch_name(struct buf *out, const struct revision *rev)
{
	/* whose series: the first patch's sender, so one subject from two senders is two series */
	const char *from = rev->nr ? rev->patches[0].author : NULL;
	const char *lt = from ? strrchr(from, '<') : NULL, *gt = lt ? strchr(lt, '>') : NULL;
	uint64_t h = UTIL_HASH_INIT;
	struct buf who = BUF_INIT;
	if (lt && gt)
		buf_add(&who, lt + 1, (size_t)(gt - lt - 1));
	else if (from)
		buf_adds(&who, from);
	for (size_t i = 0; i < who.len; i++)
		who.data[i] = (char)tolower((unsigned char)who.data[i]);
	util_hash(&h, who.data ? who.data : "", who.len);
	buf_addf(out, "kpipe/%s-%06llx/v%u", rev->name, (unsigned long long)(h & 0xffffff), rev->version);
	buf_release(&who);
}

int apply_revision(struct apply_result *out, struct tree *t, const struct revision *rev,
		   const git_oid *onto, struct kperror *err)
{
	struct apply_progress ap = { BUF_INIT, BUF_INIT, 0 };
	git_apply_options opts = GIT_APPLY_OPTIONS_INIT;
	git_commit *parent = NULL;
	git_oid head;
	int ret = -1;

	opts.delta_cb = on_delta;
	opts.hunk_cb = on_hunk;
	opts.payload = &ap;
	memset(out, 0, sizeof(*out));
	git_oid_cpy(&head, onto ? onto : &t->base);

	for (size_t i = 0; i < rev->nr; i++) {
		const struct patch *p = &rev->patches[i];
		git_diff *diff = NULL;
		git_tree *tree = NULL, *new_tree = NULL;
		git_index *index = NULL;
		git_signature *sig = NULL;
		git_oid tree_id, commit_id;
		struct buf msg = BUF_INIT;
		int failed = 1;

		buf_reset(&ap.file);
		buf_reset(&ap.hunk);
		ap.hunk_nr = 0;
		if (proc_interrupted) {
			/* the branch is made only once every patch applied: none is left half-made */
			kperror_set(err, KPERROR_INTERRUPTED, "interrupted while applying v%u (patch %zu of %zu)",
				    rev->version, i + 1, rev->nr);
			goto next;
		}
		if (git_commit_lookup(&parent, t->repo, &head) < 0 ||
		    git_commit_tree(&tree, parent) < 0) {
			tree_git_error(err, KPERROR_INFRA, "cannot read the base commit");
			goto next;
		}
		if (git_diff_from_buffer(&diff, p->diff, strlen(p->diff)) < 0) {
			const git_error *e = git_error_last();
			kperror_set(err, KPERROR_INPUT, "%s:%u: patch %u/%u '%s' is not a valid diff: %s",
				    p->file, p->line, p->index, p->total, p->subject,
				    e ? e->message : "parse error");
			goto next;
		}
		if (git_apply_to_tree(&index, t->repo, tree, diff, &opts) < 0) {
			const git_error *e = git_error_last();
			if (ap.hunk.len)
				kperror_set(err, KPERROR_INPUT,
					    "patch %u/%u '%s' does not apply: %s: hunk #%d '%s' failed (%s)",
					    p->index, p->total, p->subject, ap.file.data, ap.hunk_nr,
					    ap.hunk.data, e ? e->message : "no match");
			else
				kperror_set(err, KPERROR_INPUT, "patch %u/%u '%s' does not apply: %s%s%s",
					    p->index, p->total, p->subject, ap.file.data,
					    ap.file.len ? ": " : "", e ? e->message : "no match");
			goto next;
		}
		if (git_index_write_tree_to(&tree_id, index, t->repo) < 0 ||
		    git_tree_lookup(&new_tree, t->repo, &tree_id) < 0) {
			tree_git_error(err, KPERROR_INFRA, "cannot write the patched tree");
			goto next;
		}
		if (patch_signature(&sig, p) < 0) {
			kperror_set(err, KPERROR_INPUT, "%s:%u: patch %u/%u '%s': bad From: '%s'",
				    p->file, p->line, p->index, p->total, p->subject, p->author);
			goto next;
		}
		buf_adds(&msg, p->subject);
		if (*p->message)
			buf_addf(&msg, "\n\n%s", p->message);
		buf_addch(&msg, '\n');
		const git_commit *parents[] = { parent };
		if (git_commit_create(&commit_id, t->repo, NULL, sig, sig, NULL, msg.data,
				      new_tree, 1, parents) < 0) {
			tree_git_error(err, KPERROR_INFRA, "cannot create a commit");
			goto next;
		}
		git_oid_cpy(&head, &commit_id);
		out->commits = realloc(out->commits, (out->nr_commits + 1) * sizeof(*out->commits));
		git_oid_cpy(&out->commits[out->nr_commits++], &commit_id);
		failed = 0;
next:
		buf_release(&msg);
		git_signature_free(sig);
		git_tree_free(new_tree);
		git_index_free(index);
		git_tree_free(tree);
		git_diff_free(diff);
		git_commit_free(parent);
		parent = NULL;
		if (failed)
			goto out;
	}

	struct buf branch = BUF_INIT, refname = BUF_INIT;
	apply_branch_name(&branch, rev);
	buf_addf(&refname, "refs/heads/%s", branch.data);
	int valid = 0;
	if (git_reference_name_is_valid(&valid, refname.data) < 0 || !valid) {
		kperror_set(err, KPERROR_INPUT, "%s: v%u: '%s' cannot be a branch name", rev->source,
			    rev->version, branch.data);
		buf_release(&branch);
		buf_release(&refname);
		goto out;
	}
	if (git_reference_create(NULL, t->repo, refname.data, &head, 1, "kpipe apply") < 0) {
		tree_git_error(err, KPERROR_INFRA, "cannot create the branch");
		buf_release(&branch);
		buf_release(&refname);
		goto out;
	}
	buf_release(&refname);
	git_oid_cpy(&out->head, &head);
	out->branch = buf_detach(&branch, NULL);
	ret = 0;
out:
	if (ret < 0)
		apply_result_release(out);
	buf_release(&ap.file);
	buf_release(&ap.hunk);
	return ret;
}

void apply_result_release(struct apply_result *r)
{
	free(r->branch);
	free(r->commits);
	r->branch = NULL;
	r->commits = NULL;
	r->nr_commits = 0;
}

/* "Name <email>" and an RFC 2822 date for a commit's author. */
static void describe_author(struct patch *p, const git_signature *a)
{
	struct buf b = BUF_INIT;
	char date[64];
	time_t when = (time_t)a->when.time + (time_t)a->when.offset * 60;
	struct tm tm;
	gmtime_r(&when, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S", &tm);
	int off = a->when.offset < 0 ? -a->when.offset : a->when.offset;
	buf_addf(&b, "%s <%s>", a->name, a->email);
	p->author = buf_detach(&b, NULL);
	buf_addf(&b, "%s %c%02d%02d", date, a->when.offset < 0 ? '-' : '+', off / 60, off % 60);
	p->date = buf_detach(&b, NULL);
	p->when = (long long)a->when.time;
}

static int commit_to_patch(struct patch *p, git_repository *repo, git_commit *c,
			   struct kperror *err)
{
	git_commit *parent = NULL;
	git_tree *old_tree = NULL, *new_tree = NULL;
	git_diff *diff = NULL;
	git_buf text = { 0 };
	int ret = -1;
	char hex[13];
	git_oid_tostr(hex, sizeof(hex), git_commit_id(c));
	if (git_commit_parentcount(c) != 1) {
		kperror_set(err, KPERROR_INPUT, "commit %s '%s' is a merge or a root: give a linear range",
			    hex, git_commit_summary(c));
		goto out;
	}
	if (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&old_tree, parent) < 0 ||
	    git_commit_tree(&new_tree, c) < 0 ||
	    git_diff_tree_to_tree(&diff, repo, old_tree, new_tree, NULL) < 0 ||
	    git_diff_to_buf(&text, diff, GIT_DIFF_FORMAT_PATCH) < 0) {
		tree_git_error(err, KPERROR_INFRA, "cannot diff a commit");
		goto out;
	}
	p->subject = strdup(git_commit_summary(c) ? git_commit_summary(c) : "");
	const char *body = git_commit_body(c);
	p->message = strdup(body ? body : "");
	p->diff = strndup(text.ptr ? text.ptr : "", text.size);
	describe_author(p, git_commit_author(c));
	ret = 0;
out:
	git_buf_dispose(&text);
	git_diff_free(diff);
	git_tree_free(old_tree);
	git_tree_free(new_tree);
	git_commit_free(parent);
	return ret;
}

int apply_revision_from_range(struct revision *rev, struct apply_result *out, git_oid *base,
			      struct tree *t, const char *range, unsigned version,
			      struct kperror *err)
{
	git_revwalk *walk = NULL;
	git_oid tip, oid;
	struct buf from = BUF_INIT;
	int ret = -1;
	const char *dots = strstr(range, "..");

	memset(rev, 0, sizeof(*rev));
	memset(out, 0, sizeof(*out));
	if (dots)
		buf_add(&from, range, (size_t)(dots - range));
	else
		buf_adds(&from, "base");
	if (tree_resolve(base, t, from.data, err) < 0 ||
	    tree_resolve(&tip, t, dots ? dots + 2 : range, err) < 0)
		goto out;
	if (git_revwalk_new(&walk, t->repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(walk, &tip) < 0 || git_revwalk_hide(walk, base) < 0) {
		tree_git_error(err, KPERROR_INPUT, "cannot walk the range");
		goto out;
	}
	while (git_revwalk_next(&oid, walk) == 0) {
		git_commit *c = NULL;
		if (git_commit_lookup(&c, t->repo, &oid) < 0) {
			tree_git_error(err, KPERROR_INFRA, "cannot read a commit of the range");
			goto out;
		}
		rev->patches = realloc(rev->patches, (rev->nr + 1) * sizeof(*rev->patches));
		struct patch *p = &rev->patches[rev->nr];
		memset(p, 0, sizeof(*p));
		int r = commit_to_patch(p, t->repo, c, err);
		git_commit_free(c);
		if (r < 0)
			goto out;
		p->index = (unsigned)++rev->nr;
		p->file = strdup(range);
		out->commits = realloc(out->commits, (out->nr_commits + 1) * sizeof(*out->commits));
		git_oid_cpy(&out->commits[out->nr_commits++], &oid);
	}
	if (!rev->nr) {
		kperror_set(err, KPERROR_INPUT, "the range '%s' holds no commits", range);
		goto out;
	}
	for (size_t i = 0; i < rev->nr; i++)
		rev->patches[i].total = (unsigned)rev->nr;
	rev->version = version;
	rev->title = strdup(range);
	rev->name = util_slug(range, 40);
	rev->source = strdup(range);
	git_oid_cpy(&out->head, &tip);
	out->branch = strdup(range);
	ret = 0;
out:
	git_revwalk_free(walk);
	buf_release(&from);
	return ret;
}
