/*
 * stage: the steps one cell (a commit on one arch) goes through, one file
 * each: stage_build.c (check out and build the kernel), stage_kernel.c
 * (give the guest its own copy of the kernel), stage_guest_tests.c (the
 * guest tests and mm selftests built against the revision's uAPI
 * headers), stage_boot.c, stage_test.c, stage_verdict.c (the guest
 * destroyed, its console kept, splats found, the verdict settled), and
 * stage_each_patch.c (--each-patch).  stage_image.c makes what an arch
 * needs before its first cell (tools checked, guest tests, the image).
 * The runner (runner.h) decides which stages run, in which lane.
 *
 * Every stage is int stage_x(struct cell_run *, struct kperror *): 0 with
 * any verdict about the kernel in the cell (a stage that decides the cell
 * sets r->cell->verdict, and the runner stops there); -1 with 'err' only
 * for kpipe's or the machine's failures (libvirt lost, disk full, Ctrl-C).
 * Stages never print: progress goes through the run_ui callbacks, which
 * may be called from a guest slot's thread.
 */
#ifndef KPIPE_STAGE_H
#define KPIPE_STAGE_H

#include <git2.h>
#include <libssh/libssh.h>

#include "arch.h"
#include "config.h"
#include "kbuild.h"
#include "kperror.h"
#include "results.h"
#include "sandbox.h"
#include "series.h"
#include "tree.h"
#include "vm.h"

struct run_ui {
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
	/* a step of the run, not of one cell: 'tag' is a revision ("v2"), or NULL for a top-level step */
	void (*say)(void *data, const char *tag, const char *msg);
	void *data;
};

/* What an arch needs before its first cell: made once per run (stage_image.c). */
struct arch_ready {
	const struct arch *arch;
	struct strvec tests; /* the host-built guest tests the config picks, full paths, sorted */
	char *image;         /* the guest initramfs, current */
	int series_builddir_ready; /* <cache>/build/<arch>.series was copied afresh this run */
};

/* What every cell of a run shares. */
struct run_ctx {
	const struct config *cfg;
	struct tree *tree;            /* NULL until the tree is open */
	const char *run_id;           /* unique per run: names the guests */
	const struct run_ui *ui;
	struct arch_ready *ready;     /* one per prepared arch (run_ctx_prepare_arch()) */
	size_t nr_ready;
};

/* One cell on its way through the stages. */
struct cell_run {
	struct run_ctx *ctx;
	struct cell *cell;
	const struct arch_ready *arch;
	git_oid commit;
	const struct strvec *only_tests; /* a bisect probe runs just these (NULL: all) */
	struct kbuild_result kb;
	/* what the cell's builds run in, and the paths kbuild_opts point to (stage_build_opts()) */
	struct sandbox sandbox;
	char *builddir, *ccache_dir, *ccache_remote, *make_builddir;
	/* the guest, from stage_kernel() until stage_verdict() */
	char *vmdir;            /* <cache>/vm/kpipe-<run>-<rev>-<arch>: kernel, tests, console */
	char *console;
	const char *host_uri;   /* the libvirt host its guest boots on (a runner's slot's); NULL: the first of [vm] hosts */
	struct vm *vm;
	ssh_key key;
	struct strvec tests;    /* staged test binaries, in order */
	char *selftests_dir;    /* with mm selftests run by the tree's run_vmtests.sh: what goes to the guest's /kpipe/mm */
#define SELFTESTS_KERNEL_CONFIG "kernel.config" /* in it: the kernel's .config, for the guest's /boot */
	struct strvec unbuilt;  /* "NAME\tREASON": tests that could not be built, reported as skipped */
	int guest_died;         /* set by stage_verdict() */
	int settled;            /* stage_verdict() has run */
	int write_errno;        /* the first result file that could not be written ... */
	char *write_path;       /* ... and where: the cell cannot be trusted (stage_keep_file()) */
	/* what the progress ticks of a long step report */
	enum stage tick_stage;
	const char *tick_log;   /* its last line says what make does, or NULL */
};

/*
 * Start 'r' for cell 'c' at 'commit' on the arch ctx has ready for
 * c->arch (KPERROR_INPUT if none).  Release with cell_run_release(),
 * which also removes a guest stage_verdict() did not.
 */
int cell_run_init(struct cell_run *r, struct run_ctx *ctx, struct cell *c, const git_oid *commit,
		  struct kperror *err);
void cell_run_release(struct cell_run *r);

/*
 * Check the arch's tools (a missing compiler, static libc or emulator is
 * KPERROR_INFRA naming its Debian package), build the guest tests and the
 * image, and keep them in ctx->ready.  Once per arch: a second call for
 * the same arch does nothing.
 */
int run_ctx_prepare_arch(struct run_ctx *ctx, const char *arch, struct kperror *err);
/* The arch ready under 'name', or NULL. */
const struct arch_ready *run_ctx_arch(const struct run_ctx *ctx, const char *name);
void run_ctx_release(struct run_ctx *ctx);
/* Make sure the arch's initramfs is built and current; *out is its path. */
int stage_image(char **out, const struct run_ctx *ctx, const char *arch, struct kperror *err);

/* Check out r->commit and build it into r->kb; CELL_BUILD_FAILED if it does not build. */
int stage_build(struct cell_run *r, struct kperror *err);
/*
 * Copy the built kernel into the guest's own directory (r->vmdir), so the
 * build directory can move on to the next commit before this guest boots.
 */
int stage_kernel(struct cell_run *r, struct kperror *err);
/*
 * Build the guest tests against the uAPI headers of the tree as just
 * built ('make headers') into r->vmdir/tests, so a series that adds a
 * uAPI is tested with it (if they do not build, a note says so and the
 * host-built ones are used); then the tree's own mm selftests that
 * [test] selftests picks (for "touched", those c->onto..c->commit
 * changes) as "selftest-mm-NAME", those that do not build into
 * r->unbuilt.  r->tests gets the binaries in order.  The worktree must
 * hold the cell's commit; the time counts as the cell's build time.
 */
int stage_guest_tests(struct cell_run *r, struct kperror *err);
/*
 * Boot the kernel in r->vmdir and wait for the guest's sshd (the timeout
 * scaled by the arch's slowdown).  CELL_BOOT_FAILED if the guest dies or
 * never answers.
 */
int stage_boot(struct cell_run *r, struct kperror *err);
/*
 * Push and run the tests over ssh, rerun plain failures, collect dmesg;
 * fills c->tests (tests a dead guest never reached are not run, saying
 * why).  Losing libvirt while the guest lives is KPERROR_INFRA.
 */
int stage_test(struct cell_run *r, struct kperror *err);
/*
 * Destroy the guest, keep its console in the cell's directory, find the
 * splats, settle the verdict (verdict_settle()), remove r->vmdir.  Safe
 * at any point and more than once.
 */
void stage_verdict(struct cell_run *r);
/*
 * Forget what the guest lane did to the cell (its host went down before
 * the cell could be judged): the guest destroyed, its key and console
 * dropped, the cell's tests, splats, notes after the first 'notes', boot
 * and test times and outputs gone, the verdict back to not run: another
 * host boots it from its vmdir as if for the first time.
 */
void stage_guest_forget(struct cell_run *r, size_t notes);
/*
 * Build every patch of 'rev' in turn (commits[i] is patch i applied),
 * starting from 'base': fills c->patch_builds with whether each patch
 * builds and the compiler warnings it adds in the files it touches.  The
 * tree is left at the last patch, built.
 */
int stage_each_patch(struct cell_run *r, const git_oid *base, const git_oid *commits,
		     const struct revision *rev, struct kperror *err);

/*
 * Write 'b' to the cell's file 'path'; a failure (a full disk) is kept in
 * r->write_errno / r->write_path for the runner, which makes the cell an
 * infrastructure error: a result with a file missing is no result.
 */
void stage_keep_file(struct cell_run *r, const struct buf *b, const char *path);

/* For the stage files: progress through ctx->ui (any may be NULL). */
void stage_ui_start(struct cell_run *r, enum stage s, const char *what);
void stage_ui_end(struct cell_run *r, enum stage s, const char *outcome);
void stage_ui_alive(struct cell_run *r, enum stage s, double elapsed, const char *what);
void stage_ui_note(struct cell_run *r, const char *msg);
/* ctx->ui->say(), formatted */
void run_ctx_say(const struct run_ctx *ctx, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The options of every kernel build of the run; 'kconfigs' holds a path
 * they point to.  With [build] sandbox on, the build runs in r->sandbox:
 * the base in <cache>/build/<arch>, writing <cache>/ccache and the shared
 * ccache; any other commit (a series' code) in <cache>/build/<arch>.series
 * (copied from the base's at the first such build of the run), writing
 * only there and in a ccache of its series, the shared one read-only.
 * Either is seen as STAGE_SANDBOX_BUILD/<arch>, the tree as
 * STAGE_SANDBOX_SRC (o->make_*): paths in the build are those.
 * A step that writes elsewhere adds the path to r->sandbox.
 */
int stage_build_opts(struct kbuild_opts *o, struct cell_run *r, struct buf *kconfigs,
		     const char *log_path, enum stage s, struct kperror *err);
/* Where a sandboxed build sees the tree and the build directories (of every arch below). */
#define STAGE_SANDBOX_SRC "/kpipe/linux"
#define STAGE_SANDBOX_BUILD "/kpipe/build"

#endif
