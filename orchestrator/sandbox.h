/*
 * sandbox: run a series' code (its Makefiles and scripts, the compiler on
 * its sources) where it can do no harm, with bubblewrap.
 *
 * A series off a mailing list is a stranger's code: make runs its
 * Makefiles' $(shell ...) lines, its scripts, and its headers go into the
 * guest tests.  sandbox_wrap() turns a struct proc into 'bwrap ... --
 * argv' so that the command runs
 *
 *   - as an unprivileged user (uid 65534 when kpipe is root, in a user
 *     namespace of its own; kpipe's own uid otherwise), with no
 *     capabilities;
 *   - with no network, and its own pid, ipc, uts and cgroup namespaces:
 *     nothing it starts outlives it (--die-with-parent);
 *   - in a clean environment: PATH, HOME=/tmp, LANG, and the proc's own
 *     env entries, nothing of kpipe's;
 *   - seeing only the system's programs and libraries (/usr and the /bin,
 *     /lib... links or directories, a few files of /etc: never /root,
 *     /home, /etc/shadow or kpipe's cache), read-only, the paths added
 *     with sandbox_read() read-only, the paths added with sandbox_write()
 *     writable, an empty /tmp, and /dev and /proc of its own.
 *
 * A path may be shown at another place inside (sandbox_read_at(),
 * sandbox_write_at()), which need not exist on the host: kpipe shows the
 * source and build directories at fixed paths, whoever and wherever runs
 * the build.
 */
#ifndef KPIPE_SANDBOX_H
#define KPIPE_SANDBOX_H

#include "kperror.h"
#include "proc.h"
#include "strvec.h"

struct sandbox {
	struct strvec binds; /* "r" or "w", then host path, then path inside: three entries each */
	int share_net;       /* sandbox_share_net(): the host's network (never for a series' code) */
};

#define SANDBOX_INIT { STRVEC_INIT, 0 }

/* Let the command read 'path' (a file or directory that exists). */
void sandbox_read(struct sandbox *s, const char *path);
/* Let the command write 'path' (a directory that exists). */
void sandbox_write(struct sandbox *s, const char *path);
/* Let it write host directory 'path', which it sees as 'inside'. */
void sandbox_write_at(struct sandbox *s, const char *path, const char *inside);
/* Let it read host path 'path', which it sees as 'inside'. */
void sandbox_read_at(struct sandbox *s, const char *path, const char *inside);
/*
 * Let the command use the host's network (and read /etc/hosts,
 * resolv.conf and the CA certificates): for the base tree's builds when
 * they share a remote ccache, never for a series' code.
 */
void sandbox_share_net(struct sandbox *s);
void sandbox_release(struct sandbox *s);

/*
 * Make 'p' run its command inside 's': p->argv becomes bwrap's, p->env is
 * moved into bwrap's --setenv options, and p->cwd (which must be one of
 * the paths the sandbox shows, or /tmp) is where the command starts.
 * Returns 0, or -1 with 'err' (KPERROR_INFRA) if bubblewrap is missing.
 */
int sandbox_wrap(struct proc *p, const struct sandbox *s, struct kperror *err);

/*
 * Check once that a sandbox can be made on this machine: bubblewrap
 * installed, user namespaces allowed.  Returns 0, or -1 with a one-line
 * KPERROR_INFRA error naming the package or the sysctl to change, and
 * the way out ([build] sandbox = off).
 */
int sandbox_check(struct kperror *err);

#endif
