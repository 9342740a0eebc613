/*
 * config: kpipe's settings, read from INI files with inih.
 *
 * config_load() always parses the embedded default (config_default_ini,
 * which documents every key) first, then the user's file if one is given,
 * so a user file only names what it changes.  An unknown section or key,
 * or a value of the wrong type, is an error naming the file and line.
 */
#ifndef KPIPE_CONFIG_H
#define KPIPE_CONFIG_H

#include <stddef.h>

#include "buf.h"
#include "kperror.h"
#include "strvec.h"

/* One libvirt host of [vm] hosts. */
struct config_host {
	char *uri;
	char *display;       /* the URI without its query (no key paths): for plans, results and messages */
	int remote;          /* reached over ssh (qemu+ssh://...) */
	size_t slots;        /* its guests at once; 0: not given ([vm] guests for a local URI, 1 for a remote one) */
};

struct config {
	char *cache_dir;     /* [paths] cache ("auto" is resolved: root's or the user's) */
	char *results_dir;   /* [paths] results */
	char *history_path;  /* [paths] history ("auto" is resolved: <cache>/history.sqlite) */
	char *tree_path;     /* [tree] path ("" = import the tarball) */
	char *tree_base;     /* [tree] base */
	char *tree_tarball;  /* [tree] tarball */
	struct strvec arches;    /* [build] arches */
	struct strvec fragments; /* [build] fragments */
	int build_jobs;      /* [build] jobs (0 = number of CPUs) */
	int build_timeout;   /* [build] timeout, seconds */
	int each_patch;      /* [build] each_patch: build after every patch */
	int build_sandbox;   /* [build] sandbox: builds of series' code in bubblewrap */
	char *ccache_shared; /* [build] ccache_shared ("": <cache>/ccache-shared) */
	char *ccache_remote; /* [build] ccache_remote: ccache's remote storage URL shared across machines, or "" */
	char *vm_uri;        /* [vm] uri ("auto" is resolved: system for root, else session) */
	char *vm_accel;      /* [vm] accel: auto, kvm, tcg */
	char *vm_cmdline;    /* [vm] cmdline: extra kernel parameters */
	int vm_memory_mib;   /* [vm] memory */
	int vm_cpus;         /* [vm] cpus */
	char *vm_guests;     /* [vm] guests: "auto" or a number of guests at once */
	char *vm_hosts;      /* [vm] hosts as written ("" = [vm] uri) */
	struct config_host *hosts; /* [vm] hosts parsed: at least one (the [vm] uri) */
	size_t nr_hosts;
	int vm_output_limit_mib; /* [vm] output_limit: MiB kept of each guest output */
	int boot_timeout;    /* [vm] boot_timeout, seconds */
	struct strvec tests; /* [test] tests ("all" = every guest test) */
	struct strvec selftests; /* [test] selftests: touched, all, none, or mm selftest names */
	int test_timeout;    /* [test] timeout, seconds per test */
	int test_retries;    /* [test] retries: reruns of a failed test */
	char *report_url;    /* [report] url: where results directories are served ("": file://) */
	char *report_from;   /* [report] from: reply.eml's From: ("": kpipe <kpipe@HOSTNAME>) */
	struct strvec splat_ignore; /* [splats] ignore: fnmatch patterns of known noise */

	char *data_dir;      /* where kconfigs/, images/, guest-tests/ live */
	char *source;        /* "built-in default" or the file read last */
};

extern const char config_default_ini[];

/*
 * Load the defaults, then 'path' if not NULL.  Returns 0, or -1 with
 * 'err' (KPERROR_INPUT) naming the file and line.  'data_dir' is where
 * kpipe's own files are (the directory of the kpipe binary).  The caller
 * owns *out and frees it with config_release().
 */
/*
 * 1 if 'url' is one ccache remote storage kpipe can pass on: redis://,
 * redis+unix:, http:// or https:// with something after it, and no space
 * or '|' (kpipe adds the attributes and the other storages itself).
 */
int config_ccache_remote_ok(const char *url);
/*
 * Parse [vm] hosts ("URI[*SLOTS] ..."; empty: 'default_uri' alone) into
 * *out (at least one host; free with config_hosts_release()).  -1 with
 * 'why' (one line) for a URI kpipe cannot use, a bad slot count, or a
 * host named twice.
 */
int config_parse_hosts(struct config_host **out, size_t *nr, const char *text,
		       const char *default_uri, struct buf *why);
void config_hosts_release(struct config_host *hosts, size_t nr);
int config_load(struct config *out, const char *path, const char *data_dir,
		struct kperror *err);
void config_release(struct config *cfg);
/* [vm] output_limit in bytes. */
size_t config_output_limit(const struct config *cfg);

#endif
