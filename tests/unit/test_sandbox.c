/* The sandbox's bwrap command line, and the bounded reads of guest output. */
#include "harness.h"
#include "sandbox.h"

#include <stdlib.h>
#include <unistd.h>

/* The index of 'want' in 'sv' at or after 'from', or -1. */
static long find(const struct strvec *sv, const char *want, size_t from)
{
	for (size_t i = from; i < sv->nr; i++)
		if (!strcmp(sv->v[i], want))
			return (long)i;
	return -1;
}

TEST(sandbox_wraps_the_command)
{
	struct proc p = PROC_INIT;
	struct sandbox s = SANDBOX_INIT;
	struct kperror err = KPERROR_INIT;
	strvec_pushl(&p.argv, "make", "-C", "/src", "O=/cache/build/x86_64", NULL);
	strvec_push(&p.env, "CCACHE_DIR=/cache/ccache-series/x");
	p.cwd = "/cache/build/x86_64";
	sandbox_read(&s, "/src");
	sandbox_write_at(&s, "/cache/build/x86_64.series", "/cache/build/x86_64");
	if (!proc_in_path("bwrap")) {
		CHECK(sandbox_wrap(&p, &s, &err) < 0);
		CHECK_CONTAINS(err.msg.data, "Debian package 'bubblewrap'");
		goto out;
	}
	CHECK(sandbox_wrap(&p, &s, &err) == 0);
	const struct strvec *a = &p.argv;
	CHECK_STR(a->v[0], "bwrap");
	/* no network, pid/ipc/uts of its own, a user namespace, nothing outlives kpipe */
	CHECK(find(a, "--unshare-all", 0) > 0);
	CHECK(find(a, "--unshare-user", 0) > 0);
	CHECK(find(a, "--die-with-parent", 0) > 0);
	CHECK(find(a, "--new-session", 0) > 0);
	long cap = find(a, "--cap-drop", 0);
	CHECK(cap > 0 && !strcmp(a->v[cap + 1], "ALL"));
	long uid = find(a, "--uid", 0);
	if (geteuid() == 0)
		CHECK(uid > 0 && !strcmp(a->v[uid + 1], "65534"));
	else
		CHECK(uid < 0);
	/* a clean environment: kpipe's is cleared, the proc's own entries are set */
	long clear = find(a, "--clearenv", 0);
	CHECK(clear > 0);
	long env = find(a, "CCACHE_DIR", 0);
	CHECK(env > clear && !strcmp(a->v[env - 1], "--setenv") &&
	      !strcmp(a->v[env + 1], "/cache/ccache-series/x"));
	CHECK(p.env.nr == 0);
	/* the system read-only; the paths given, each as asked */
	long usr = find(a, "/usr", 0);
	CHECK(usr > 0 && !strcmp(a->v[usr - 1], "--ro-bind"));
	long src = find(a, "/src", 0);
	CHECK(src > 0 && !strcmp(a->v[src - 1], "--ro-bind") && !strcmp(a->v[src + 1], "/src"));
	long bd = find(a, "/cache/build/x86_64.series", 0);
	CHECK(bd > 0 && !strcmp(a->v[bd - 1], "--bind") && !strcmp(a->v[bd + 1], "/cache/build/x86_64"));
	CHECK(find(a, "/root", 0) < 0 && find(a, "/home", 0) < 0 && find(a, "/etc/shadow", 0) < 0);
	CHECK(find(a, "/etc", 0) < 0); /* only single files of /etc, never all of it */
	/* it starts where the proc asked, then the command as it was */
	long cd = find(a, "--chdir", 0);
	CHECK(cd > 0 && !strcmp(a->v[cd + 1], "/cache/build/x86_64"));
	long dash = find(a, "--", 0);
	CHECK(dash > cd && !strcmp(a->v[dash + 1], "make") && !strcmp(a->v[dash + 4], "O=/cache/build/x86_64"));
	CHECK(a->nr == (size_t)dash + 5 && a->v[a->nr] == NULL);
	CHECK(p.cwd == NULL);
	CHECK(find(a, "--share-net", 0) < 0 && find(a, "/etc/resolv.conf", 0) < 0);
	/* a base build that shares a remote ccache keeps the host's network, and only that */
	proc_release(&p);
	p = (struct proc)PROC_INIT;
	strvec_push(&p.argv, "make");
	sandbox_share_net(&s);
	CHECK(sandbox_wrap(&p, &s, &err) == 0);
	long net = find(&p.argv, "--share-net", 0);
	CHECK(net > find(&p.argv, "--unshare-all", 0));
	CHECK(find(&p.argv, "/etc/resolv.conf", 0) > 0);
	CHECK(find(&p.argv, "/root", 0) < 0 && find(&p.argv, "/etc", 0) < 0);
	sandbox_release(&s);
	CHECK(!s.share_net); /* a sandbox made again starts without */
out:
	proc_release(&p);
	sandbox_release(&s);
	kperror_release(&err);
}

TEST(buf_read_file_max_stops_at_the_limit)
{
	char path[] = "/tmp/kpipe-unit-readmax-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(write(fd, "0123456789", 10) == 10);
	close(fd);
	struct buf b = BUF_INIT;
	CHECK(buf_read_file_max(&b, path, 4) == 1);
	CHECK_STR(b.data, "0123");
	buf_reset(&b);
	CHECK(buf_read_file_max(&b, path, 10) == 0); /* exactly the size: whole, nothing more */
	CHECK_STR(b.data, "0123456789");
	buf_reset(&b);
	CHECK(buf_read_file_max(&b, path, 1 << 20) == 0);
	CHECK(b.len == 10);
	buf_reset(&b);
	buf_adds(&b, "kept:");
	CHECK(buf_read_file_max(&b, path, 0) == 1); /* the limit counts what is read, not what was there */
	CHECK_STR(b.data, "kept:");
	unlink(path);
	CHECK(buf_read_file_max(&b, path, 4) < 0);
	CHECK_STR(b.data, "kept:");
	buf_release(&b);
}

const struct unit_test sandbox_tests[] = {
	{ "sandbox: bwrap with no network, no root, a clean environment and only the paths given",
	  sandbox_wraps_the_command },
	{ "buf_read_file_max: a flood of guest output is read up to the limit", buf_read_file_max_stops_at_the_limit },
	{ NULL, NULL },
};
