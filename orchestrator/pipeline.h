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
 *
 * Threads: the ui callbacks may be called from the tester's thread (see
 * below); everything else runs in the caller's.
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
	struct strvec unbuilt; /* "NAME\tREASON": tests that could not be built, reported as skipped */
};

#define BOOTED_INIT { NULL, NULL, NULL, NULL, STRVEC_INIT }

/* Check out 'commit' and build it for c->arch into *out. */
int pipeline_build(struct kbuild_result *out, struct pipeline *p, struct cell *c,
		   const git_oid *commit, struct kperror *err);
/* Make sure the guest tests for 'arch' are built; list their paths. */
int pipeline_guest_tests(struct strvec *out, struct pipeline *p, const char *arch,
			 struct kperror *err);
/*
 * Everything an arch needs before its first build: the compiler, static
 * libc and emulator (a missing one is KPERROR_INFRA naming its Debian
 * package), the guest tests and the guest image.
 */
int pipeline_prepare_arch(struct pipeline *p, const char *arch, struct kperror *err);
/* Make sure the arch's initramfs is built and current; *out is its path. */
int pipeline_image(char **out, struct pipeline *p, const char *arch, struct kperror *err);
/*
 * Copy the built 'kernel' into the guest's own directory (b->vmdir,
 * <cache>/vm/<guest name>), so the build directory can move on to the
 * next commit before this guest boots.  pipeline_shutdown() removes it.
 */
int pipeline_stage_kernel(struct booted *b, struct pipeline *p, struct cell *c, const char *kernel,
			  struct kperror *err);
/*
 * Build the guest 'tests' (paths from pipeline_guest_tests()) against the
 * uAPI headers of the tree as just built ('make headers'), into
 * b->vmdir/tests, so a series that adds a uAPI is tested with it; *out
 * gets their paths.  If they do not build against those headers, a note
 * says so and *out gets 'tests' (built with the host's headers).  Then
 * the tree's own mm selftests that [test] selftests picks (for
 * "touched", those c->onto..c->commit changes) are built statically
 * into b->vmdir/tests as "selftest-mm-NAME" and added to *out; the
 * ones that do not build go to b->unbuilt.  The worktree must hold the
 * cell's commit.  The time counts as the cell's build time.
 */
int pipeline_stage_tests(struct strvec *out, struct booted *b, struct pipeline *p, struct cell *c,
			 const struct strvec *tests, struct kperror *err);
/*
 * Boot the kernel pipeline_stage_kernel() put in b->vmdir and wait for
 * the guest's sshd (the boot timeout is scaled by the arch's emulation
 * slowdown).  If the guest dies or never answers, the cell gets
 * CELL_BOOT_FAILED and b->vm stays NULL.
 */
int pipeline_boot(struct booted *b, struct pipeline *p, struct cell *c, struct kperror *err);
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
 * (all of them when a splat is among the regressions).  A probe is bad
 * when one of those tests regresses against 'baseline' (c's baseline
 * cell, or NULL) as results_test_regressed() says, or has one of those
 * splats.  Sets c->first_bad.  Probe results go to
 * <run_dir>/<rev>-bisect-<N>-<arch>/.
 */
int pipeline_bisect(struct pipeline *p, struct cell *c, const struct cell *baseline,
		    const struct revision *rev, const git_oid *commits, const char *run_dir,
		    struct kperror *err);
/* All of it for one cell, then write c->dir/result.json. */
int pipeline_run_cell(struct pipeline *p, struct cell *c, const git_oid *commit,
		      struct kperror *err);

/*
 * The tester: one thread that boots and tests built kernels, one guest at
 * a time, in the order they were built, while the caller's thread builds
 * the next cell (the next arch or revision).  A build and an emulated
 * guest share the machine well; two builds do not.
 *
 * pipeline_build_cell() builds c in the caller's thread.  A kernel that
 * does not build is finished there; a built one is staged and queued, and
 * the tester boots, tests, shuts down and writes it.  Either way done(c)
 * is called once the cell is final (from the tester's thread for queued
 * cells); cells must stay put until pipeline_tester_finish().  Returns -1
 * with 'err' only when the cell could not be built for the machine's
 * reasons (the cell is then written as infra).
 *
 * After the tester meets an infrastructure error it runs no more guests:
 * the cells still queued are written as not run, pipeline_tester_failed()
 * says 1, and pipeline_tester_finish() (which waits for the queue to
 * drain and frees the tester) returns -1 with that error.
 */
struct pipeline_tester;
int pipeline_tester_start(struct pipeline_tester **out, struct pipeline *p, struct kperror *err);
int pipeline_build_cell(struct pipeline *p, struct pipeline_tester *t, struct cell *c,
			const git_oid *commit, void (*done)(void *data, struct cell *c),
			void *done_data, struct kperror *err);
int pipeline_tester_failed(struct pipeline_tester *t);
int pipeline_tester_finish(struct pipeline_tester *t, struct kperror *err);

#endif
