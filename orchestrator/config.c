#include "config.h"
#include "util.h"
#include "arch.h"
#include "vm.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char config_default_ini[] =
	"# kpipe configuration.  Every key is optional; these are the defaults.\n"
	"[paths]\n"
	"# base tree, build directories, ccache, guest images (kept between runs);\n"
	"# auto: /var/cache/kpipe as root, else $XDG_CACHE_HOME/kpipe (~/.cache/kpipe)\n"
	"cache = auto\n"
	"# one directory per run is made below this\n"
	"results = results\n"
	"# the SQLite database of every run and of what kpipe watch has read and\n"
	"# tested; auto: history.sqlite in the cache\n"
	"history = auto\n"
	"\n"
	"[tree]\n"
	"# an existing kernel git tree; empty: import 'tarball' once into the cache\n"
	"path =\n"
	"# the commit (or ref) series are applied onto, in 'path'\n"
	"base = HEAD\n"
	"tarball = /usr/src/linux-source-6.12.tar.xz\n"
	"\n"
	"[build]\n"
	"# architectures to build and boot\n"
	"arches = x86_64 arm64\n"
	"# kconfigs/NAME.config fragments merged onto tinyconfig (plus kconfigs/ARCH.config)\n"
	"fragments = base mm\n"
	"# parallel make jobs; 0: one per CPU\n"
	"jobs = 0\n"
	"# build after every patch of a revision too (finds the patch that breaks\n"
	"# the build or adds warnings); also: kpipe run --each-patch\n"
	"each_patch = no\n"
	"# run every build of a series' code (make, its scripts, the guest tests and\n"
	"# selftests against its headers) in a bubblewrap sandbox: no network, an\n"
	"# unprivileged user, nothing writable but its own build directory and\n"
	"# ccache; off runs them as kpipe itself (and every run says so)\n"
	"sandbox = on\n"
	"# the ccache every machine's or user's base builds fill and series builds\n"
	"# only read (file:DIR storage); empty: <cache>/ccache-shared.  A directory\n"
	"# this user cannot write (another user's cache) is only read\n"
	"ccache_shared =\n"
	"# a ccache remote storage every machine running kpipe shares (ccache's own\n"
	"# URL: redis://HOST[:PORT], redis+unix:SOCKET, http://HOST/PATH); base\n"
	"# builds read and fill it (their sandbox keeps the network for it), series\n"
	"# builds never see it (with sandbox = off they only read it); empty: none\n"
	"ccache_remote =\n"
	"# seconds before a kernel build is given up\n"
	"timeout = 5400\n"
	"\n"
	"[vm]\n"
	"# libvirt; auto: qemu:///system as root, qemu:///session as anyone else\n"
	"uri = auto\n"
	"# auto: KVM only where it really works, else TCG; or kvm, tcg\n"
	"accel = auto\n"
	"# guest memory in MiB, and virtual CPUs\n"
	"memory = 2048\n"
	"cpus = 2\n"
	"# guests booted and tested at once, while the next kernel builds: a number,\n"
	"# or auto (from the cores and free memory: 1 on 2 cores, where one kernel\n"
	"# build and one emulated guest already fill the machine)\n"
	"guests = auto\n"
	"# libvirt hosts the guests run on, each URI with its guest slots after '*':\n"
	"#   hosts = qemu:///system*1 qemu+ssh://root@kvm1/system?keyfile=/root/.ssh/kvm1*8\n"
	"# A remote host is reached over ssh (its user and keyfile= from the URI, its\n"
	"# host key from known_hosts unless no_verify=1): kernels and initramfs go\n"
	"# up as volumes of a 'kpipe' storage pool, the console comes back through\n"
	"# libvirt, the guest's ssh is forwarded to the host's 127.0.0.1 only and\n"
	"# reached through its sshd.  A host that fails is left for the rest of the\n"
	"# run and its cells go to the others.  Empty: uri, with guests slots\n"
	"hosts =\n"
	"# extra kernel command line parameters for the guest\n"
	"cmdline =\n"
	"# MiB of a guest's output kept: each test's stdout and stderr, dmesg and the\n"
	"# console (a kernel under test may print without end; the rest is dropped\n"
	"# and the result says it was truncated)\n"
	"output_limit = 16\n"
	"# seconds from start until the guest's sshd answers\n"
	"boot_timeout = 300\n"
	"\n"
	"[test]\n"
	"# guest tests to run (names from guest-tests/), or all\n"
	"tests = all\n"
	"# the tree's own tools/testing/selftests/mm programs, built statically and\n"
	"# run in the guest after the guest tests: touched (those the revision's\n"
	"# patches add or change), all, none, or program names\n"
	"selftests = touched\n"
	"# seconds each test may run\n"
	"timeout = 600\n"
	"# a test that fails runs this many more times in the same guest: failing\n"
	"# every time is a failure, only sometimes is reported as flaky\n"
	"retries = 2\n"
	"\n"
	"[report]\n"
	"# where the results directories are served (https://ci.example.org/kpipe):\n"
	"# the links in checks.json and reply.eml; empty: file:// paths on this machine\n"
	"url =\n"
	"# the From: of reply.eml; empty: kpipe <kpipe@HOSTNAME>\n"
	"from =\n"
	"\n"
	"[splats]\n"
	"# known noise: splat titles to ignore, fnmatch patterns, one per line\n"
	"# (indent further lines), e.g.  ignore = WARNING in some_driver_*\n"
	"ignore =\n";

enum key_type { KEY_STRING, KEY_INT, KEY_LIST, KEY_BOOL, KEY_LINES };

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	int min, max;
};

#define S(sec, n, field) { sec, n, KEY_STRING, offsetof(struct config, field), 0, 0 }
#define I(sec, n, field, lo, hi) { sec, n, KEY_INT, offsetof(struct config, field), lo, hi }
#define B(sec, n, field) { sec, n, KEY_BOOL, offsetof(struct config, field), 0, 1 }
#define M(sec, n, field) { sec, n, KEY_LINES, offsetof(struct config, field), 0, 0 }
#define L(sec, n, field) { sec, n, KEY_LIST, offsetof(struct config, field), 0, 0 }

static const struct key keys[] = {
	S("paths", "cache", cache_dir),
	S("paths", "results", results_dir),
	S("paths", "history", history_path),
	S("tree", "path", tree_path),
	S("tree", "base", tree_base),
	S("tree", "tarball", tree_tarball),
	L("build", "arches", arches),
	L("build", "fragments", fragments),
	I("build", "jobs", build_jobs, 0, 1024),
	I("build", "timeout", build_timeout, 60, 7 * 24 * 3600),
	B("build", "each_patch", each_patch),
	B("build", "sandbox", build_sandbox),
	S("build", "ccache_shared", ccache_shared),
	S("build", "ccache_remote", ccache_remote),
	S("vm", "uri", vm_uri),
	S("vm", "accel", vm_accel),
	S("vm", "cmdline", vm_cmdline),
	I("vm", "memory", vm_memory_mib, 256, 1024 * 1024),
	I("vm", "cpus", vm_cpus, 1, 64),
	S("vm", "guests", vm_guests),
	S("vm", "hosts", vm_hosts),
	I("vm", "output_limit", vm_output_limit_mib, 1, 4096),
	I("vm", "boot_timeout", boot_timeout, 5, 24 * 3600),
	L("test", "tests", tests),
	L("test", "selftests", selftests),
	I("test", "timeout", test_timeout, 1, 24 * 3600),
	I("test", "retries", test_retries, 0, 100),
	S("report", "url", report_url),
	S("report", "from", report_from),
	M("splats", "ignore", splat_ignore),
};

struct parse_state {
	struct config *cfg;
	struct buf first_error;
};

static int set_key(struct parse_state *st, const struct key *k, const char *value)
{
	char *field = (char *)st->cfg + k->offset;
	switch (k->type) {
	case KEY_STRING: {
		char **s = (char **)field;
		free(*s);
		*s = strdup(value);
		return 1;
	}
	case KEY_LIST: {
		struct strvec *sv = (struct strvec *)field;
		strvec_clear(sv);
		strvec_split(sv, value);
		return 1;
	}
	case KEY_LINES: {
		/* inih calls again for each continuation line: keep them all */
		if (*value)
			strvec_push((struct strvec *)field, value);
		return 1;
	}
	case KEY_BOOL: {
		static const char *const yes[] = { "yes", "true", "on", "1" };
		static const char *const no[] = { "no", "false", "off", "0" };
		for (int i = 0; i < 4; i++) {
			if (!strcasecmp(value, yes[i]) || !strcasecmp(value, no[i])) {
				*(int *)field = !strcasecmp(value, yes[i]);
				return 1;
			}
		}
		if (!st->first_error.len)
			buf_addf(&st->first_error, "[%s] %s: '%s' is not yes or no", k->section, k->name, value);
		return 0;
	}
	case KEY_INT: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < k->min || v > k->max) {
			if (!st->first_error.len)
				buf_addf(&st->first_error,
					 "[%s] %s: '%s' is not a whole number from %d to %d",
					 k->section, k->name, value, k->min, k->max);
			return 0;
		}
		*(int *)field = (int)v;
		return 1;
	}
	}
	return 0;
}

static int handle(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	int section_known = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].section, section))
			continue;
		section_known = 1;
		if (!strcmp(keys[i].name, name))
			return set_key(st, &keys[i], value);
	}
	if (!st->first_error.len) {
		if (!section_known)
			buf_addf(&st->first_error, "unknown section '[%s]'", section);
		else
			buf_addf(&st->first_error, "unknown key '%s' in [%s]", name, section);
	}
	return 0;
}

static int parse_one(struct parse_state *st, const char *label, FILE *f,
		     struct kperror *err)
{
	buf_reset(&st->first_error);
	int line = ini_parse_file(f, handle, st);
	if (line == 0)
		return 0;
	if (line == -2)
		return kperror_set(err, KPERROR_INFRA, "out of memory reading '%s'", label);
	if (!st->first_error.len)
		buf_adds(&st->first_error, "syntax error (expected '[section]' or 'key = value')");
	return kperror_set(err, KPERROR_INPUT, "%s:%d: %s", label, line, st->first_error.data);
}

/* "auto" values: what suits the user kpipe runs as (root, or anyone else). */
static int resolve_auto(struct config *cfg, struct kperror *err)
{
	int root = geteuid() == 0;
	if (!strcmp(cfg->cache_dir, "auto")) {
		const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
		free(cfg->cache_dir);
		if (root)
			cfg->cache_dir = strdup("/var/cache/kpipe");
		else if (xdg && *xdg == '/')
			cfg->cache_dir = util_strfmt("%s/kpipe", xdg);
		else if (home && *home == '/')
			cfg->cache_dir = util_strfmt("%s/.cache/kpipe", home);
		else
			return kperror_set(err, KPERROR_INPUT, "%s: [paths] cache = auto needs $XDG_CACHE_HOME "
					   "or $HOME (an absolute path): set [paths] cache", cfg->source);
	}
	if (!*cfg->history_path || !strcmp(cfg->history_path, "auto")) {
		free(cfg->history_path);
		cfg->history_path = util_strfmt("%s/history.sqlite", cfg->cache_dir);
	}
	if (!strcmp(cfg->vm_uri, "auto")) {
		free(cfg->vm_uri);
		cfg->vm_uri = strdup(root ? "qemu:///system" : "qemu:///session");
	}
	return 0;
}

int config_ccache_remote_ok(const char *url)
{
	static const char *const schemes[] = { "redis://", "redis+unix:", "http://", "https://" };
	if (strpbrk(url, " \t|"))
		return 0; /* one storage: kpipe adds its own attributes and storages around it */
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(url, schemes[i], strlen(schemes[i])) && url[strlen(schemes[i])])
			return 1;
	return 0;
}

void config_hosts_release(struct config_host *hosts, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(hosts[i].uri);
		free(hosts[i].display);
	}
	free(hosts);
}

int config_parse_hosts(struct config_host **out, size_t *nr_out, const char *text,
		       const char *default_uri, struct buf *why)
{
	struct config_host *hosts = NULL;
	size_t nr = 0, alloc = 0;
	const char *p = text ? text : "";
	for (;;) {
		p += strspn(p, " \t\n");
		if (!*p)
			break;
		size_t len = strcspn(p, " \t\n");
		char *token = strndup(p, len);
		p += len;
		char *star = strrchr(token, '*');
		size_t slots = 0;
		if (star && star[1] && strspn(star + 1, "0123456789") == strlen(star + 1)) {
			long n = strtol(star + 1, NULL, 10);
			if (n < 1 || n > 64 || strlen(star + 1) > 2) {
				buf_addf(why, "'%s': a host has 1 to 64 guest slots", token);
				free(token);
				goto fail;
			}
			slots = (size_t)n;
			*star = '\0';
		}
		struct vm_uri u;
		if (vm_uri_parse(&u, token, why) < 0) {
			free(token);
			goto fail;
		}
		for (size_t i = 0; i < nr; i++) {
			if (!strcmp(hosts[i].display, u.display)) {
				buf_addf(why, "'%s' is named twice (give one entry its slots: URI*N)", u.display);
				vm_uri_release(&u);
				free(token);
				goto fail;
			}
		}
		if (nr == alloc) {
			alloc = alloc ? 2 * alloc : 4;
			hosts = realloc(hosts, alloc * sizeof(*hosts));
		}
		hosts[nr++] = (struct config_host){ token, strdup(u.display), u.remote, slots };
		vm_uri_release(&u);
	}
	if (!nr) {
		/* [vm] uri is whatever libvirt takes: kept as it is when it is not one of ours */
		struct vm_uri u;
		struct buf ignored = BUF_INIT;
		int parsed = vm_uri_parse(&u, default_uri, &ignored) == 0;
		hosts = calloc(1, sizeof(*hosts));
		hosts[nr++] = (struct config_host){ strdup(default_uri), strdup(parsed ? u.display : default_uri),
						    parsed && u.remote, 0 };
		if (parsed)
			vm_uri_release(&u);
		buf_release(&ignored);
	}
	*out = hosts;
	*nr_out = nr;
	return 0;
fail:
	config_hosts_release(hosts, nr);
	return -1;
}

int config_load(struct config *out, const char *path, const char *data_dir,
		struct kperror *err)
{
	struct parse_state st = { out, BUF_INIT };
	FILE *f = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	strvec_init(&out->arches);
	strvec_init(&out->fragments);
	strvec_init(&out->tests);
	strvec_init(&out->selftests);
	strvec_init(&out->splat_ignore);
	out->data_dir = strdup(data_dir);
	out->source = strdup("built-in default");

	f = fmemopen((void *)config_default_ini, strlen(config_default_ini), "r");
	if (!f || parse_one(&st, "built-in default", f, err) < 0)
		goto out;
	fclose(f);
	f = NULL;

	if (path) {
		f = fopen(path, "r");
		if (!f) {
			kperror_errno(err, KPERROR_INPUT, errno, "cannot read config '%s'", path);
			goto out;
		}
		if (parse_one(&st, path, f, err) < 0)
			goto out;
		free(out->source);
		out->source = strdup(path);
	}
	if (resolve_auto(out, err) < 0)
		goto out;
	if (strcmp(out->vm_accel, "auto") && strcmp(out->vm_accel, "kvm") &&
	    strcmp(out->vm_accel, "tcg")) {
		kperror_set(err, KPERROR_INPUT, "%s: [vm] accel: '%s' is not auto, kvm or tcg",
			    out->source, out->vm_accel);
		goto out;
	}
	char *end = NULL;
	long guests = strtol(out->vm_guests, &end, 10);
	if (strcmp(out->vm_guests, "auto") && (end == out->vm_guests || *end || guests < 1 || guests > 64)) {
		kperror_set(err, KPERROR_INPUT, "%s: [vm] guests: '%s' is not auto or a number from 1 to 64",
			    out->source, out->vm_guests);
		goto out;
	}
	struct buf why = BUF_INIT;
	if (config_parse_hosts(&out->hosts, &out->nr_hosts, out->vm_hosts, out->vm_uri, &why) < 0) {
		kperror_set(err, KPERROR_INPUT, "%s: [vm] hosts: %s", out->source, why.data);
		buf_release(&why);
		goto out;
	}
	buf_release(&why);
	if (out->ccache_remote && *out->ccache_remote && !config_ccache_remote_ok(out->ccache_remote)) {
		kperror_set(err, KPERROR_INPUT,
			    "%s: [build] ccache_remote: '%s' is no ccache remote storage URL "
			    "(redis://HOST[:PORT], redis+unix:SOCKET, http://HOST/PATH; one, no spaces or '|')",
			    out->source, out->ccache_remote);
		goto out;
	}
	if (!out->arches.nr) {
		kperror_set(err, KPERROR_INPUT, "%s: [build] arches is empty", out->source);
		goto out;
	}
	for (size_t i = 0; i < out->arches.nr; i++) {
		if (!arch_find(out->arches.v[i])) {
			kperror_set(err, KPERROR_INPUT,
				    "%s: [build] arches: '%s' is not supported (supported: %s)",
				    out->source, out->arches.v[i], arch_names());
			goto out;
		}
	}
	for (size_t i = 0; i < out->selftests.nr; i++) {
		const char *w = out->selftests.v[i];
		if (out->selftests.nr > 1 &&
		    (!strcmp(w, "touched") || !strcmp(w, "all") || !strcmp(w, "none"))) {
			kperror_set(err, KPERROR_INPUT,
				    "%s: [test] selftests: '%s' stands alone (touched, all, none, or program names)",
				    out->source, w);
			goto out;
		}
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	buf_release(&st.first_error);
	return ret;
}

void config_release(struct config *cfg)
{
	free(cfg->cache_dir);
	free(cfg->results_dir);
	free(cfg->history_path);
	free(cfg->tree_path);
	free(cfg->tree_base);
	free(cfg->tree_tarball);
	free(cfg->vm_uri);
	free(cfg->vm_accel);
	free(cfg->vm_guests);
	free(cfg->vm_hosts);
	config_hosts_release(cfg->hosts, cfg->nr_hosts);
	free(cfg->ccache_shared);
	free(cfg->ccache_remote);
	free(cfg->vm_cmdline);
	free(cfg->report_url);
	free(cfg->report_from);
	free(cfg->data_dir);
	free(cfg->source);
	strvec_clear(&cfg->arches);
	strvec_clear(&cfg->fragments);
	strvec_clear(&cfg->tests);
	strvec_clear(&cfg->selftests);
	strvec_clear(&cfg->splat_ignore);
	memset(cfg, 0, sizeof(*cfg));
}

size_t config_output_limit(const struct config *cfg)
{
	return (size_t)cfg->vm_output_limit_mib << 20;
}
