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
	/*
	 * A directory holding the static libraries some programs link (libnuma
	 * for migration and ksm_tests, libcap for memfd_secret and
	 * mlock-random-test) for o->arch: DIR/usr/include and
	 * DIR/usr/lib/TRIPLET, as Debian's -dev packages unpack.  NULL: none.
	 */
	const char *libs;
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
 * arch, against o->khdr and o->libs) into o->outdir.  KSFT_SKIP is
 * defined as kselftest.h defines it: 6.12's khugepaged.c uses it without
 * including kselftest.h (later trees include it through vm_util.h).  Pushes the paths of the built
 * programs onto 'built' and, for each that did not build,
 * "selftest-mm-NAME\tdoes not build statically for ARCH: ERROR" onto
 * 'unbuilt' (the first compiler error, e.g. a header of a library that
 * has no static build here), as struct booted's 'unbuilt' takes it.
 * Returns 0, or -1 if make could not run at all.
 */
int selftests_build(struct strvec *built, struct strvec *unbuilt, const struct selftests_build_opts *o,
		    const struct strvec *names, struct kperror *err);

/* The tree's own runner of the mm selftests, in SELFTESTS_MM_DIR. */
#define SELFTESTS_RUNNER "run_vmtests.sh"

/*
 * One test the tree's run_vmtests.sh runs: a line
 * 'CATEGORY="thp" run_test ./khugepaged -s 2' at top level (not in a
 * function such as run_gup_matrix, which only -a calls).
 */
struct selftest_run {
	char *name;     /* results name without SELFTESTS_NAME_PREFIX: "khugepaged_-s_2", "cow" */
	char *program;  /* the built program it starts ("khugepaged"), or the script ("test_hmm.sh") */
	char *category; /* what run_vmtests.sh -t selects it by */
	char *pattern;  /* a bash pattern its words ("$*" of run_test) match: an unknown variable is '*' (or '?( *)', no word) */
	unsigned nth;   /* 1, or 2 for the second call of the same words in the same category */
	unsigned line;  /* its line in run_vmtests.sh (for the user) */
};

struct selftest_runs {
	struct selftest_run *v;
	size_t nr;
	int hookable; /* the script defines run_test() on a line selftests_runner_script() can hook */
};

/*
 * Read run_vmtests.sh's text into 'out' (pure; cost linear in the text).
 * A run's name is its program with its arguments, '_' between them and
 * for any other character than [A-Za-z0-9.+-], variables set once at top
 * level to a plain word resolved (uffd_stress_bin=./uffd-stress), others
 * kept by name ("$half_ufd_size_MB" -> half_ufd_size_MB); 'sudo -u USER'
 * and 'bash' in front are not part of it.  A name met twice gets "#2".
 */
void selftests_parse_runner(struct selftest_runs *out, const char *script);
void selftest_runs_release(struct selftest_runs *runs);

/*
 * The runs of 'runs' for the picked programs, onto 'out' (pointers into
 * 'runs'): with 'all', every run; else those whose program (or script
 * PROGRAM.sh) is in 'picked'.  The picked programs no run starts go onto
 * 'bare' (when not 'all': a new program the script does not know yet is
 * run on its own, without arguments).
 */
void selftests_runs_for(const struct selftest_run **out, size_t *nr, struct strvec *bare,
			const struct selftest_runs *runs, const struct strvec *picked, int all);

/*
 * run_vmtests.sh with one change on the line that defines run_test():
 * with KPIPE_RUN_CATEGORY, KPIPE_RUN_ARGS (a run's pattern) and
 * KPIPE_RUN_NTH set, run_test runs only the Nth call of that category
 * whose words match, so each test is started with the script's own set-up
 * around it (huge pages, sysctls, mounts) and nothing else.  (Not by line:
 * bash's BASH_LINENO drifts after a subshell piped inside an 'if', as
 * 6.12's memfd_secret block has.)  Line numbers are kept.  NULL when the
 * script has no such line.  Caller frees.
 */
char *selftests_runner_script(const char *script);

/*
 * The reason program 'name' did not build, from make's output 'log':
 * its first "NAME.c:LINE:COL: error: ..." (or a linker error naming it),
 * else a generic line.  Caller frees.
 */
char *selftests_build_error(const char *log, const char *name);

#endif
