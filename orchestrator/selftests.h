/*
 * selftests: the kernel tree's own tools/testing/selftests/mm programs,
 * picked, built statically for a guest arch and named for the results.
 *
 * Quiet like every module: it returns errors and never prints.  The
 * caller stages what selftests_build() made next to the guest tests and
 * reports what it could not build as skipped, with the reason.
 */
#ifndef KPIPE_SELFTESTS_H
#define KPIPE_SELFTESTS_H

#include "arch.h"
#include "kperror.h"
#include "sandbox.h"
#include "strvec.h"

/* Where the mm selftests live in a kernel tree (with the trailing slash). */
#define SELFTESTS_MM_DIR "tools/testing/selftests/mm/"
/* Results name of mm selftest program P: "selftest-mm-P". */
#define SELFTESTS_NAME_PREFIX "selftest-mm-"

/*
 * Which programs to run.  'mode' is [test] selftests: "touched" picks
 * the programs whose source a revision changes ('changed': paths from
 * the tree's root, as tree_changed_paths() gives them), "all" every one
 * in 'programs', "none" nothing, else the names it lists.  Pushes the
 * picked names onto 'out'; onto 'unmatched', the changed files under
 * SELFTESTS_MM_DIR that are no program's own source (vm_util.c, a .h,
 * the Makefile: they may change any program) or the listed names that
 * are no program of this tree.
 */
void selftests_pick(struct strvec *out, struct strvec *unmatched, const struct strvec *mode,
		    const struct strvec *programs, const struct strvec *changed);

struct selftests_build_opts {
	const char *srcdir;   /* the kernel tree's root */
	const struct arch *arch;
	const char *khdr;     /* the tree's exported uAPI headers (make headers), or NULL */
	const char *outdir;   /* programs go here (created) */
	const char *log_path; /* make's output is appended here */
	int jobs;
	const struct sandbox *sandbox; /* make runs in it (it must show outdir writable), or NULL */
};

/*
 * The mm selftest programs the tree's Makefile builds for o->arch
 * (TEST_GEN_FILES and TEST_GEN_PROGS), pushed onto 'out'.  Returns 0, or
 * -1 (KPERROR_INFRA) if make cannot even say.
 */
int selftests_programs(struct strvec *out, const struct selftests_build_opts *o, struct kperror *err);

/*
 * Build 'names' statically (LDFLAGS=-static, CROSS_COMPILE for a foreign
 * arch, against o->khdr) into o->outdir.  Pushes the paths of the built
 * programs onto 'built' and, for each that did not build,
 * "selftest-mm-NAME\tdoes not build statically for ARCH: ERROR" onto
 * 'unbuilt' (the first compiler error, e.g. a header of a library that
 * has no static build here), as struct booted's 'unbuilt' takes it.
 * Returns 0, or -1 if make could not run at all.
 */
int selftests_build(struct strvec *built, struct strvec *unbuilt, const struct selftests_build_opts *o,
		    const struct strvec *names, struct kperror *err);

/*
 * The reason program 'name' did not build, from make's output 'log':
 * its first "NAME.c:LINE:COL: error: ..." (or a linker error naming it),
 * else a generic line.  Caller frees.
 */
char *selftests_build_error(const char *log, const char *name);

#endif
