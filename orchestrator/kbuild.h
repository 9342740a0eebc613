/*
 * kbuild: configure and build a guest kernel, incrementally.
 *
 * One persistent build directory per arch (O=<cache>/build/<arch>) and
 * ccache (<cache>/ccache) for every compile, so a revision that changes a
 * few files rebuilds only those.  The .config is made from tinyconfig plus
 * the kconfigs/ fragments, again only when the fragments changed; every
 * option a fragment sets is then checked in the .config.
 */
#ifndef KPIPE_KBUILD_H
#define KPIPE_KBUILD_H

#include "buf.h"
#include "kperror.h"
#include "sandbox.h"
#include "strvec.h"

struct kbuild_opts {
	const char *arch;          /* "x86_64", "arm64": see arch.h */
	const char *srcdir;        /* the kernel worktree */
	const char *cache_dir;     /* build/<arch> and ccache/ go below it */
	/* Where the O= directory really is (NULL: <cache_dir>/build/<arch>). */
	const char *builddir;
	/*
	 * The source and O= directories as make is told them (NULL: srcdir
	 * and builddir): a sandbox shows them at fixed paths, the same for
	 * every user and machine, so that compiles of the same source are the
	 * same compile to ccache wherever they run (see stage_build_opts()).
	 */
	const char *make_srcdir, *make_builddir;
	const char *ccache_dir;    /* the ccache written (NULL: <cache_dir>/ccache) */
	const char *ccache_remote; /* CCACHE_REMOTE_STORAGE ("file:DIR|read-only redis://..."), or NULL */
	const struct sandbox *sandbox; /* run every make inside it; NULL: unsandboxed */
	const char *kconfig_dir;   /* where NAME.config fragments are */
	const struct strvec *fragments; /* fragment names, ARCH.config is added */
	int jobs;                  /* make -j */
	int timeout_seconds;
	const char *log_path;      /* the whole build output is appended here */
	void (*tick)(void *data, double elapsed);
	void *tick_data;
};

struct kbuild_result {
	int ok;                 /* 1: the kernel image was built */
	char *builddir;         /* O= directory (owned) */
	char *image;            /* the bootable kernel image (owned) */
	struct strvec missing;  /* "CONFIG_X=y" requested but not in .config */
	struct buf errors;      /* the first compiler errors when !ok */
	int configured;         /* 1: the .config was (re)made this time */
	double seconds;
};

#define KBUILD_RESULT_INIT { 0, NULL, NULL, STRVEC_INIT, BUF_INIT, 0, 0.0 }

/*
 * Configure (if needed) and build.  Returns 0 when make ran: ok says
 * whether the kernel built (a broken revision is a result, not an error).
 * Returns -1 with 'err' when it could not even try: no compiler, no
 * fragment file (KPERROR_INPUT), no disk space, interrupted.
 */
int kbuild_run(struct kbuild_result *out, const struct kbuild_opts *o, struct kperror *err);
void kbuild_result_release(struct kbuild_result *r);
/* The source directory as make is told it (o->make_srcdir, else o->srcdir). */
const char *kbuild_make_srcdir(const struct kbuild_opts *o);

/*
 * Export the uAPI headers of the tree as built ('make headers') into the
 * arch's build directory; *out (owned) is their include directory as
 * make sees it (<make_builddir>/usr/include).  Output goes to o->log_path.
 */
int kbuild_headers(char **out, const struct kbuild_opts *o, struct kperror *err);

/*
 * Check each "CONFIG_X=v" / "# CONFIG_X is not set" line of 'fragment'
 * against 'dotconfig' (both file contents); push what is not as asked.
 * Exposed for unit tests.
 */
void kbuild_check_options(struct strvec *missing, const char *fragment, const char *dotconfig);
/*
 * Compiler warnings in 'log', one entry each, normalised so the same
 * warning matches across patches that move it: "FILE: warning: MESSAGE"
 * without line and column, FILE relative to the source tree ('srcdir'
 * prefix dropped).  Pushed once each.
 */
void kbuild_warnings(struct strvec *out, const char *log, const char *srcdir);
/*
 * Rebuild the objects of these source files ("mm/memory.c" -> mm/memory.o)
 * from scratch (ccache makes it cheap) and append make's output to
 * *log_out: a way to learn a file's warnings at the current commit.
 * Files that are not .c are ignored.  Returns 0 when make ran.
 */
int kbuild_recompile(const struct kbuild_opts *o, const struct strvec *files, struct buf *log_out,
		     struct kperror *err);
/* Copy the first compiler/linker error lines of 'log' (at most 'max'). */
void kbuild_first_errors(struct buf *out, const char *log, int max);

/*
 * 1 if one of the space-separated ccache remote storages 'storages' is
 * writable (has no "|read-only" attribute): the build then shares its
 * local hits too (CCACHE_RESHARE).
 */
int kbuild_remote_writable(const char *storages);

#endif
