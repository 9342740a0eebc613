#include "sandbox.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The uid and gid a root kpipe runs the series' code as ("nobody"). */
#define SANDBOX_UID "65534"

/* The few files of /etc that compilers, make, sh and perl read. */
static const char *const etc_files[] = {
	"/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/perl", "/etc/localtime",
};

/* Top-level links or directories of the system: /bin -> usr/bin on a merged /usr. */
static const char *const sys_dirs[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };

static void add_bind(struct sandbox *s, const char *how, const char *path, const char *inside)
{
	strvec_push(&s->binds, how);
	strvec_push(&s->binds, path);
	strvec_push(&s->binds, inside);
}

void sandbox_read(struct sandbox *s, const char *path)
{
	add_bind(s, "r", path, path);
}

void sandbox_write(struct sandbox *s, const char *path)
{
	add_bind(s, "w", path, path);
}

void sandbox_write_at(struct sandbox *s, const char *path, const char *inside)
{
	add_bind(s, "w", path, inside);
}

void sandbox_read_at(struct sandbox *s, const char *path, const char *inside)
{
	add_bind(s, "r", path, inside);
}

void sandbox_share_net(struct sandbox *s)
{
	s->share_net = 1;
}

void sandbox_release(struct sandbox *s)
{
	strvec_clear(&s->binds);
	s->share_net = 0;
}

static void push_system(struct strvec *a)
{
	strvec_pushl(a, "--ro-bind", "/usr", "/usr", NULL);
	for (size_t i = 0; i < sizeof(sys_dirs) / sizeof(sys_dirs[0]); i++) {
		struct stat st;
		if (lstat(sys_dirs[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlink(sys_dirs[i], target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			strvec_pushl(a, "--symlink", target, sys_dirs[i], NULL);
		} else if (S_ISDIR(st.st_mode)) {
			strvec_pushl(a, "--ro-bind", sys_dirs[i], sys_dirs[i], NULL);
		}
	}
	for (size_t i = 0; i < sizeof(etc_files) / sizeof(etc_files[0]); i++)
		strvec_pushl(a, "--ro-bind-try", etc_files[i], etc_files[i], NULL);
}

/* What name resolution and TLS read, for a sandbox with the network. */
static const char *const net_files[] = { "/etc/hosts", "/etc/resolv.conf", "/etc/gai.conf", "/etc/ssl",
					 "/etc/ca-certificates" };

/* The bwrap options up to and including "--": everything but the binds' paths' order. */
static void push_options(struct strvec *a, int share_net)
{
	strvec_pushl(a, "bwrap", "--unshare-all", "--unshare-user", "--die-with-parent",
		     "--new-session", "--cap-drop", "ALL", NULL);
	if (share_net) {
		strvec_push(a, "--share-net");
		for (size_t i = 0; i < sizeof(net_files) / sizeof(net_files[0]); i++)
			strvec_pushl(a, "--ro-bind-try", net_files[i], net_files[i], NULL);
	}
	if (geteuid() == 0)
		strvec_pushl(a, "--uid", SANDBOX_UID, "--gid", SANDBOX_UID, NULL);
	push_system(a);
	strvec_pushl(a, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", NULL);
	strvec_pushl(a, "--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
		     "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8", NULL);
}

int sandbox_wrap(struct proc *p, const struct sandbox *s, struct kperror *err)
{
	struct strvec a = STRVEC_INIT;

	if (!proc_in_path("bwrap"))
		return kperror_set(err, KPERROR_INFRA,
				   "bubblewrap is not installed (Debian package 'bubblewrap'; "
				   "run 'make deps'), or set [build] sandbox = off");
	push_options(&a, s->share_net);
	for (size_t i = 0; i + 2 < s->binds.nr; i += 3)
		strvec_pushl(&a, !strcmp(s->binds.v[i], "w") ? "--bind" : "--ro-bind",
			     s->binds.v[i + 1], s->binds.v[i + 2], NULL);
	for (size_t i = 0; i < p->env.nr; i++) {
		const char *eq = strchr(p->env.v[i], '=');
		if (!eq)
			continue;
		char *name = strndup(p->env.v[i], (size_t)(eq - p->env.v[i]));
		strvec_pushl(&a, "--setenv", name, eq + 1, NULL);
		free(name);
	}
	strvec_pushl(&a, "--chdir", p->cwd ? p->cwd : "/tmp", "--", NULL);
	for (size_t i = 0; i < p->argv.nr; i++)
		strvec_push(&a, p->argv.v[i]);
	strvec_clear(&p->argv);
	strvec_clear(&p->env);
	p->argv = a;
	p->cwd = NULL; /* bwrap starts anywhere; --chdir places the command */
	return 0;
}

static int read_sysctl(const char *path)
{
	struct buf b = BUF_INIT;
	int v = -1;
	if (buf_read_file(&b, path) == 0 && b.len)
		v = atoi(b.data);
	buf_release(&b);
	return v;
}

int sandbox_check(struct kperror *err)
{
	struct proc p = PROC_INIT;
	struct buf out = BUF_INIT;
	struct sandbox s = SANDBOX_INIT;
	int ret = -1;

	strvec_push(&p.argv, "true");
	if (sandbox_wrap(&p, &s, err) < 0)
		goto out;
	p.out = &out;
	p.timeout_seconds = 30;
	if (proc_run(&p, err) < 0)
		goto out;
	if (!p.exit_code) {
		ret = 0;
		goto out;
	}
	if (read_sysctl("/proc/sys/user/max_user_namespaces") == 0)
		kperror_set(err, KPERROR_INFRA,
			    "the sandbox needs user namespaces, which are off here (sysctl "
			    "user.max_user_namespaces=0): raise it, or set [build] sandbox = off");
	else if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0 && geteuid() != 0)
		kperror_set(err, KPERROR_INFRA,
			    "the sandbox needs unprivileged user namespaces, which are off here "
			    "(sysctl kernel.unprivileged_userns_clone=0): set it to 1, or set "
			    "[build] sandbox = off");
	else {
		buf_rtrim(&out);
		kperror_set(err, KPERROR_INFRA, "bubblewrap cannot make a sandbox here: %.*s "
			    "(or set [build] sandbox = off)",
			    (int)strcspn(out.data ? out.data : "", "\n"), out.data ? out.data : "no output");
	}
out:
	proc_release(&p);
	buf_release(&out);
	sandbox_release(&s);
	return ret;
}
