/* --each-patch: every patch of a revision built in turn, incrementally. */
#include "stage.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The files a patch touches, from its diff. */
static void touched_files(struct strvec *out, const char *diff_text)
{
	git_diff *diff = NULL;
	if (git_diff_from_buffer(&diff, diff_text, strlen(diff_text)) < 0)
		return;
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;
		if (path && !strvec_contains(out, path))
			strvec_push(out, path);
	}
	git_diff_free(diff);
}

/*
 * The warnings of 'log' located in one of the 'files', named by that
 * file's path in the tree whatever prefix the compiler printed.
 */
static void warnings_in(struct strvec *out, const char *log, const char *srcdir,
			const struct strvec *files)
{
	struct strvec all = STRVEC_INIT;
	kbuild_warnings(&all, log, srcdir);
	for (size_t i = 0; i < all.nr; i++) {
		const char *w = strstr(all.v[i], ": warning: ");
		size_t flen = (size_t)(w - all.v[i]);
		for (size_t f = 0; f < files->nr; f++) {
			size_t tlen = strlen(files->v[f]);
			if (flen >= tlen && !memcmp(all.v[i] + flen - tlen, files->v[f], tlen) &&
			    (flen == tlen || all.v[i][flen - tlen - 1] == '/')) {
				strvec_pushf(out, "%s%s", files->v[f], w);
				break;
			}
		}
	}
	strvec_clear(&all);
}

int stage_each_patch(struct cell_run *r, const git_oid *base, const git_oid *commits,
		     const struct revision *rev, struct kperror *err)
{
	struct cell *c = r->cell;
	struct kbuild_opts o;
	struct buf kconfigs = BUF_INIT, log = BUF_INIT, text = BUF_INIT, msg = BUF_INIT;
	struct kbuild_result kb = KBUILD_RESULT_INIT;
	int ret = -1;
	double started = util_now();

	buf_addf(&log, "%s/patches", c->dir);
	int e = util_mkdir_p(log.data, 0755);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", log.data);
		goto out;
	}
	buf_addf(&log, "/00-base.log");
	stage_ui_start(r, STAGE_PATCHES, "the base, before the first patch");
	if (stage_build_opts(&o, r, &kconfigs, log.data, STAGE_PATCHES, err) < 0 ||
	    tree_checkout(r->ctx->tree, base, err) < 0 || kbuild_run(&kb, &o, err) < 0)
		goto out;
	if (!kb.ok) {
		stage_ui_note(r, "warning: the base does not build: no per-patch results");
		ret = 0;
		goto out;
	}
	c->patch_builds = calloc(rev->nr, sizeof(*c->patch_builds));
	for (size_t k = 0; k < rev->nr; k++) {
		const struct patch *pt = &rev->patches[k];
		struct patch_build *pb = &c->patch_builds[c->nr_patch_builds++];
		struct strvec files = STRVEC_INIT, before = STRVEC_INIT, after = STRVEC_INIT;
		double start = util_now();
		pb->index = pt->index;
		pb->total = pt->total;
		pb->subject = strdup(pt->subject);
		strvec_init(&pb->new_warnings);

		/* the touched files' warnings before the patch (ccache makes this cheap) */
		touched_files(&files, pt->diff);
		buf_reset(&text);
		if (kbuild_recompile(&o, &files, &text, err) < 0)
			goto next_fail;
		warnings_in(&before, text.data, kbuild_make_srcdir(&o), &files);

		buf_reset(&log);
		buf_addf(&log, "%s/patches/%02u.log", c->dir, pt->index);
		unlink(log.data);
		kbuild_result_release(&kb);
		kb = (struct kbuild_result)KBUILD_RESULT_INIT;
		if (tree_checkout(r->ctx->tree, &commits[k], err) < 0 || kbuild_run(&kb, &o, err) < 0)
			goto next_fail;
		pb->ok = kb.ok;
		if (!kb.ok) {
			buf_rtrim(&kb.errors);
			pb->error = strndup(kb.errors.data, strcspn(kb.errors.data, "\n"));
		}
		buf_reset(&text);
		buf_read_file(&text, log.data);
		warnings_in(&after, text.data, kbuild_make_srcdir(&o), &files);
		for (size_t w = 0; w < after.nr; w++)
			if (!strvec_contains(&before, after.v[w]))
				strvec_push(&pb->new_warnings, after.v[w]);
		pb->seconds = util_now() - start;

		if (r->ctx->ui && r->ctx->ui->patch_built)
			r->ctx->ui->patch_built(r->ctx->ui->data, c, pb);
		strvec_clear(&files);
		strvec_clear(&before);
		strvec_clear(&after);
		continue;
next_fail:
		strvec_clear(&files);
		strvec_clear(&before);
		strvec_clear(&after);
		goto out;
	}
	ret = 0;
out:
	c->seconds[STAGE_PATCHES] = util_now() - started;
	kbuild_result_release(&kb);
	buf_release(&kconfigs);
	r->tick_log = NULL; /* it pointed into 'log' */
	buf_release(&log);
	buf_release(&text);
	buf_release(&msg);
	return ret;
}

