/*
 * The kernel stage: the built kernel is copied into the guest's own
 * directory, <cache>/vm/kpipe-<run>-<rev>-<arch>, so the build directory
 * can move on to the next commit before this guest boots.
 */
#include "stage.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Remove the guest directories that killed runs (SIGKILL, a lost machine)
 * left in <cache>/vm: named kpipe-PID-..., their PID no longer alive.  A
 * guest of a live kpipe (`kpipe boot` holding one up) is left alone.
 */
static void remove_stale_vmdirs(struct cell_run *r)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	buf_addf(&dir, "%s/vm", r->ctx->cfg->cache_dir);
	DIR *d = opendir(dir.data);
	size_t removed = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		if (strncmp(de->d_name, "kpipe-", 6))
			continue;
		long pid = strtol(de->d_name + 6, &end, 10);
		if (end == de->d_name + 6 || *end != '-' || pid <= 0 || pid == (long)getpid() ||
		    !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		buf_reset(&path);
		buf_addf(&path, "%s/%s", dir.data, de->d_name);
		if (!util_rm_rf(path.data))
			removed++;
	}
	if (d)
		closedir(d);
	if (removed) {
		buf_reset(&path);
		buf_addf(&path, "removed %zu guest director%s in %s left by kpipe runs that were killed", removed,
			 removed == 1 ? "y" : "ies", dir.data);
		stage_ui_note(r, path.data);
	}
	buf_release(&dir);
	buf_release(&path);
}

int stage_kernel(struct cell_run *r, struct kperror *err)
{
	struct cell *c = r->cell;
	const char *kernel = r->kb.image;
	struct buf path = BUF_INIT;
	int ret = -1;
	remove_stale_vmdirs(r);
	buf_addf(&path, "%s/vm/kpipe-%s-%s-%s", r->ctx->cfg->cache_dir, r->ctx->run_id, c->revision, c->arch);
	util_rm_rf(path.data);
	int e = util_mkdir_p(path.data, 0755);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot create '%s'", path.data);
		goto out;
	}
	r->vmdir = strdup(path.data);
	buf_addf(&path, "/kernel");
	e = util_copy_file(kernel, path.data);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot copy the kernel '%s'", kernel);
		goto out;
	}
	ret = 0;
out:
	buf_release(&path);
	return ret;
}

