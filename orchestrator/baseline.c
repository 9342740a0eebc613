#include "baseline.h"
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hash_file(uint64_t *h, const char *path, struct kperror *err)
{
	int e = util_hash_file(h, path);
	return e < 0 ? kperror_errno(err, KPERROR_INFRA, e, "cannot read '%s'", path) : 0;
}

int baseline_key(struct buf *out, const git_oid *base, const char *arch,
		 const struct config *cfg, const struct strvec *tests, struct kperror *err)
{
	uint64_t h = UTIL_HASH_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	struct buf path = BUF_INIT;
	int ret = -1;

	git_oid_tostr(hex, sizeof(hex), base);
	util_hash(&h, hex, strlen(hex));
	util_hash(&h, arch, strlen(arch));
	util_hash(&h, cfg->vm_cmdline ? cfg->vm_cmdline : "", cfg->vm_cmdline ? strlen(cfg->vm_cmdline) : 0);
	for (size_t i = 0; i <= cfg->fragments.nr; i++) {
		buf_reset(&path);
		buf_addf(&path, "%s/kconfigs/%s.config", cfg->data_dir,
			 i < cfg->fragments.nr ? cfg->fragments.v[i] : arch);
		if (hash_file(&h, path.data, err) < 0)
			goto out;
	}
	const char *image_files[] = { "images/init", "images/build-initramfs" };
	for (size_t i = 0; i < 2; i++) {
		buf_reset(&path);
		buf_addf(&path, "%s/%s", cfg->data_dir, image_files[i]);
		if (hash_file(&h, path.data, err) < 0)
			goto out;
	}
	for (size_t i = 0; i < tests->nr; i++) {
		/* the test's name and contents, not where this checkout keeps it */
		const char *slash = strrchr(tests->v[i], '/');
		const char *name = slash ? slash + 1 : tests->v[i];
		util_hash(&h, name, strlen(name));
		if (hash_file(&h, tests->v[i], err) < 0)
			goto out;
	}
	buf_addf(out, "%.12s-%s-%016llx", hex, arch, (unsigned long long)h);
	ret = 0;
out:
	buf_release(&path);
	return ret;
}

/* Copy the directory 'src' of the loaded cell 'from' into out->dir and move its results into *out. */
static int take_cell(struct cell *out, struct cell *from, const char *src, struct kperror *err)
{
	if (results_copy(src, out->dir, err) < 0)
		return -1;
	out->verdict = from->verdict;
	free(out->commit);
	out->commit = from->commit;
	from->commit = NULL;
	free(out->detail);
	out->detail = from->detail;
	from->detail = NULL;
	free(out->accel);
	out->accel = from->accel;
	from->accel = NULL;
	out->tests = from->tests;
	out->nr_tests = from->nr_tests;
	from->tests = NULL;
	from->nr_tests = 0;
	out->splats = from->splats;
	from->splats.v = NULL;
	from->splats.nr = 0;
	return 1;
}

/* The cell of 'arch' and 'patchset' among 'cells' (a revision's, not the base), or NULL. */
static struct cell *tested_cell(struct cell *cells, size_t n, const char *arch, const char *patchset)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(cells[i].revision, "base") && !strcmp(cells[i].arch, arch) && cells[i].patchset &&
		    !strcmp(cells[i].patchset, patchset) && cells[i].dir && cells[i].verdict != CELL_INFRA &&
		    cells[i].verdict != CELL_NOT_RUN)
			return &cells[i];
	return NULL;
}

int baseline_load_tested(struct cell *out, const char *run_dir, const char *arch, const char *patchset,
			 struct kperror *err)
{
	struct cell *cells = NULL;
	size_t n = 0;
	int ret;
	if (results_load_summary(&cells, &n, NULL, run_dir, err) < 0)
		return -1;
	struct cell *c = tested_cell(cells, n, arch, patchset);
	ret = !c ? 0 : out ? take_cell(out, c, c->dir, err) : 1;
	for (size_t i = 0; i < n; i++)
		results_cell_release(&cells[i]);
	free(cells);
	return ret;
}

int baseline_cached(const char *cache_dir, const char *key)
{
	struct buf cell_dir = BUF_INIT;
	buf_addf(&cell_dir, "%s/baselines/%s/cell", cache_dir, key);
	int found = util_exists(cell_dir.data);
	buf_release(&cell_dir);
	return found;
}

int baseline_load(struct cell *out, const char *cache_dir, const char *key, struct kperror *err)
{
	struct buf dir = BUF_INIT, cell_dir = BUF_INIT;
	struct cell *cells = NULL;
	size_t n = 0;
	int ret = 0;

	buf_addf(&dir, "%s/baselines/%s", cache_dir, key);
	buf_addf(&cell_dir, "%s/cell", dir.data);
	if (!util_exists(cell_dir.data))
		goto out;
	if (results_load_summary(&cells, &n, NULL, dir.data, err) < 0 || n != 1) {
		ret = n != 1 && !err->msg.len ? kperror_set(err, KPERROR_INFRA, "broken baseline '%s'", dir.data) : -1;
		goto out;
	}
	ret = take_cell(out, &cells[0], cell_dir.data, err);
out:
	for (size_t i = 0; i < n; i++)
		results_cell_release(&cells[i]);
	free(cells);
	buf_release(&dir);
	buf_release(&cell_dir);
	return ret;
}

int baseline_store(const struct cell *c, const char *cache_dir, const char *key,
		   struct kperror *err)
{
	struct buf dir = BUF_INIT, tmp = BUF_INIT, cell_dir = BUF_INIT;
	int ret = -1;
	if (c->verdict == CELL_INFRA || c->verdict == CELL_NOT_RUN || c->verdict == CELL_APPLY_FAILED)
		return 0; /* no verdict about the kernel: nothing to reuse */
	buf_addf(&dir, "%s/baselines/%s", cache_dir, key);
	buf_addf(&tmp, "%s.tmp", dir.data);
	buf_addf(&cell_dir, "%s/cell", tmp.data);
	util_rm_rf(tmp.data);
	if (results_copy(c->dir, cell_dir.data, err) < 0 ||
	    results_write_summary(tmp.data, &(struct results_run){ .title = (char *)"baseline" }, c, 1, err) < 0)
		goto out;
	util_rm_rf(dir.data);
	if (rename(tmp.data, dir.data) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot store baseline '%s'", dir.data);
		goto out;
	}
	ret = 0;
out:
	util_rm_rf(tmp.data);
	buf_release(&dir);
	buf_release(&tmp);
	buf_release(&cell_dir);
	return ret;
}
