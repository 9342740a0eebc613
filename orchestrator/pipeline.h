/*
 * pipeline: take one cell (a commit on one arch) through build, boot and
 * test, and fill its results.  Shared by 'kpipe run', 'build', 'boot' and
 * 'test'.  It never prints: the command layer passes a struct pipeline_ui
 * whose callbacks show progress.
 *
 * Verdicts about the kernel (build failed, panicked at boot, a test
 * failed, a splat) go into the cell and the functions return 0; only
 * failures of kpipe or the machine (libvirt down, disk full, Ctrl-C)
 * return -1 with 'err'.  Whatever happens, a started guest is destroyed
 * and its console log kept in the cell's directory.
 */
#ifndef KPIPE_PIPELINE_H
#define KPIPE_PIPELINE_H

#include <git2.h>
#include <libssh/libssh.h>

#include "config.h"
#include "kbuild.h"
#include "kperror.h"
#include "results.h"
#include "series.h"
#include "tree.h"
#include "vm.h"

struct pipeline_ui {
	void (*stage_start)(void *data, const struct cell *c, enum stage s, const char *what);
	void (*stage_end)(void *data, const struct cell *c, enum stage s, double seconds,
			  const char *outcome);
	/* a long step is still going: 'what' says what it does now */
	void (*alive)(void *data, const struct cell *c, enum stage s, double elapsed,
		      const char *what);
	/* something the user should know that is no failure */
	void (*note)(void *data, const struct cell *c, const char *msg);
	/* one patch of a revision was built on its own (--each-patch) */
	void (*patch_built)(void *data, const struct cell *c, const struct patch_build *pb);
	void *data;
};

struct pipeline {
	const struct config *cfg;
	struct tree *tree;
	const char *run_id;           /* unique per run: names the guests */
	const struct pipeline_ui *ui;
	const struct strvec *only_tests; /* run just these guest tests (NULL: the config's) */
};

/* A booted guest, from pipeline_boot() until pipeline_shutdown(). */
struct booted {
	struct vm *vm;
	ssh_key key;
	char *vmdir;        /* kernel, initrd and console of this guest */
	char *console;      /* the console log while the guest runs */
};

#define BOOTED_INIT { NULL, NULL, NULL, NULL }

/* Check out 'commit' and build it for c->arch into *out. */
int pipeline_build(struct kbuild_result *out, struct pipeline *p, struct cell *c,
		   const git_oid *commit, struct kperror *err);
/* Make sure the guest tests for 'arch' are built; list their paths. */
int pipeline_guest_tests(struct strvec *out, struct pipeline *p, const char *arch,
			 struct kperror *err);
/* Make sure the arch's initramfs is built and current; *out is its path. */
int pipeline_image(char **out, struct pipeline *p, const char *arch, struct kperror *err);
/*
 * Boot 'kernel' and wait for the guest's sshd.  If the guest dies or
 * never answers, the cell gets CELL_BOOT_FAILED and b->vm stays NULL.
 */
int pipeline_boot(struct booted *b, struct pipeline *p, struct cell *c, const char *kernel,
		  struct kperror *err);
/* Push and run the guest tests, collect dmesg; fills c->tests. */
int pipeline_test(struct pipeline *p, struct cell *c, struct booted *b,
		  const struct strvec *tests, struct kperror *err);
/* Destroy the guest, keep its console, find splats, settle the verdict. */
void pipeline_shutdown(struct pipeline *p, struct cell *c, struct booted *b);
/*
 * Build every patch of 'rev' in turn (commits[i] is patch i applied),
 * starting from 'base': fills c->patch_builds with whether each patch
 * builds and the compiler warnings it adds in the files it touches.  The
 * tree is left at the last patch, built.
 */
int pipeline_build_each_patch(struct pipeline *p, struct cell *c, const git_oid *base,
			      const git_oid *commits, const struct revision *rev,
			      struct kperror *err);
/*
 * For a revision cell with regressions (results_compare() has run), find
 * the first patch at which they appear: binary search over commits[]
 * (commits[i] = patches 1..i+1 applied), building incrementally and
 * booting only the commits it needs, running only the tests that failed
 * (all of them when a splat is among the regressions).  Sets
 * c->first_bad.  Probe results go to <run_dir>/<rev>-bisect-<N>-<arch>/.
 */
int pipeline_bisect(struct pipeline *p, struct cell *c, const struct revision *rev,
		    const git_oid *commits, const char *run_dir, struct kperror *err);
/* All of it for one cell, then write c->dir/result.json. */
int pipeline_run_cell(struct pipeline *p, struct cell *c, const git_oid *commit,
		      struct kperror *err);

#endif
