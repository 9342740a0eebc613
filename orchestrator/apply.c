#include "apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	buf_addf(&branch, "kpipe/%s/v%u", rev->name, rev->version);
	buf_addf(&refname, "refs/heads/%s", branch.data);
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
