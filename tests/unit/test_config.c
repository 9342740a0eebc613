#include <stdlib.h>
#include "harness.h"
#include "arch.h"
#include "config.h"
#include "kbuild.h"
#include "runner.h"

#include <stdio.h>
#include <unistd.h>

static char *write_tmp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/kpipe-cfg-XXXXXX");
	int fd = mkstemp(path);
	if (write(fd, text, strlen(text)) < 0)
		return NULL;
	close(fd);
	return path;
}

TEST(config_defaults)
{
	struct config c;
	struct kperror err = KPERROR_INIT;
	CHECK(config_load(&c, NULL, "/data", &err) == 0);
	CHECK_STR(c.cache_dir, "/var/cache/kpipe");
	CHECK_STR(c.vm_uri, "qemu:///system");
	CHECK(c.arches.nr == 2 && !strcmp(c.arches.v[0], "x86_64") && !strcmp(c.arches.v[1], "arm64"));
	CHECK(c.fragments.nr == 2);
	CHECK(c.vm_memory_mib == 2048);
	CHECK_STR(c.data_dir, "/data");
	CHECK_STR(c.source, "built-in default");
	config_release(&c);
	kperror_release(&err);
}

TEST(config_user_file_overrides_only_what_it_names)
{
	struct config c;
	struct kperror err = KPERROR_INIT;
	char *p = write_tmp("; my settings\n[vm]\nmemory = 4096\n\n[test]\ntests = a b\n");
	CHECK(config_load(&c, p, "/d", &err) == 0);
	CHECK(c.vm_memory_mib == 4096);
	CHECK(c.vm_cpus == 2);
	CHECK(c.tests.nr == 2);
	CHECK_STR(c.source, p);
	config_release(&c);
	unlink(p);
	kperror_release(&err);
}

TEST(config_unknown_key_names_file_and_line)
{
	struct config c;
	struct kperror err = KPERROR_INIT;
	char *p = write_tmp("[vm]\nmemory = 1024\nmemroy = 2048\n");
	CHECK(config_load(&c, p, "/d", &err) < 0);
	CHECK(err.kind == KPERROR_INPUT);
	char want[128];
	snprintf(want, sizeof(want), "%s:3: unknown key 'memroy' in [vm]", p);
	CHECK_STR(err.msg.data, want);
	config_release(&c);
	unlink(p);
	kperror_release(&err);
}

TEST(config_bad_values_and_sections)
{
	struct config c;
	struct kperror err = KPERROR_INIT;
	char *p = write_tmp("[vm]\ncpus = lots\n");
	CHECK(config_load(&c, p, "/d", &err) < 0);
	CHECK_CONTAINS(err.msg.data, ":2: [vm] cpus: 'lots' is not a whole number");
	config_release(&c);
	unlink(p);

	p = write_tmp("[vmm]\ncpus = 2\n");
	CHECK(config_load(&c, p, "/d", &err) < 0);
	CHECK_CONTAINS(err.msg.data, ":2: unknown section '[vmm]'");
	config_release(&c);
	unlink(p);

	p = write_tmp("[vm]\nthis line has no equals sign\n");
	CHECK(config_load(&c, p, "/d", &err) < 0);
	CHECK_CONTAINS(err.msg.data, ":2: syntax error");
	config_release(&c);
	unlink(p);

	/* ccache's remote storage: one URL of a scheme ccache speaks */
	const char *bad_remote[] = { "redis:/host", "ftp://host", "redis://a redis://b", "redis://h|read-only", "redis://" };
	for (size_t i = 0; i < sizeof(bad_remote) / sizeof(bad_remote[0]); i++) {
		char ini[128];
		snprintf(ini, sizeof(ini), "[build]\nccache_remote = %s\n", bad_remote[i]);
		p = write_tmp(ini);
		CHECK(config_load(&c, p, "/d", &err) < 0);
		CHECK_CONTAINS(err.msg.data, "[build] ccache_remote: '");
		CHECK(err.kind == KPERROR_INPUT);
		config_release(&c);
		unlink(p);
		kperror_clear(&err);
	}
	CHECK(config_ccache_remote_ok("redis://127.0.0.1:6379") && config_ccache_remote_ok("redis+unix:/run/r.sock?db=2") &&
	      config_ccache_remote_ok("http://cache.example.org/ccache") && config_ccache_remote_ok("https://c/x"));
	CHECK(kbuild_remote_writable("file:/s redis://h") && kbuild_remote_writable("file:/s|read-only redis://h"));
	CHECK(!kbuild_remote_writable("file:/s|read-only redis://h|read-only") && !kbuild_remote_writable(""));
	CHECK(kbuild_remote_writable("file:/s|shards=a|read-onlyish") && !kbuild_remote_writable("file:/s|x=1|read-only|y=2"));

	p = write_tmp("[build]\narches = arm64 riscv64\n");
	CHECK(config_load(&c, p, "/d", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "[build] arches: 'riscv64' is not supported (supported: x86_64, arm64)");
	config_release(&c);
	unlink(p);

	p = write_tmp("[test]\nselftests = touched cow\n");
	CHECK(config_load(&c, p, "/d", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "[test] selftests: 'touched' stands alone (touched, all, none, or program names)");
	config_release(&c);
	unlink(p);

	p = write_tmp("[vm]\naccel = fast\n");
	CHECK(config_load(&c, p, "/d", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "accel: 'fast' is not auto, kvm or tcg");
	config_release(&c);
	unlink(p);

	const char *bad_guests[] = { "0", "lots", "2x", "-1", "99999999999999999999999" };
	for (size_t k = 0; k < sizeof(bad_guests) / sizeof(bad_guests[0]); k++) {
		struct buf ini = BUF_INIT, want = BUF_INIT;
		buf_addf(&ini, "[vm]\nguests = %s\n", bad_guests[k]);
		buf_addf(&want, "[vm] guests: '%s' is not auto or a number from 1 to 64", bad_guests[k]);
		p = write_tmp(ini.data);
		CHECK(config_load(&c, p, "/d", &err) < 0);
		CHECK_CONTAINS(err.msg.data, want.data);
		config_release(&c);
		unlink(p);
		buf_release(&ini);
		buf_release(&want);
	}

	CHECK(config_load(&c, "/nonexistent/kpipe.ini", "/d", &err) < 0);
	CHECK(err.kind == KPERROR_INPUT);
	CHECK_STR(err.msg.data, "cannot read config '/nonexistent/kpipe.ini': No such file or directory");
	config_release(&c);
	kperror_release(&err);
}

TEST(guest_slots_as_configured_or_from_the_machine)
{
	struct config c;
	struct kperror err = KPERROR_INIT;
	char *p = write_tmp("[vm]\nguests = 3\n");
	CHECK(config_load(&c, p, "/d", &err) == 0);
	CHECK(runner_guest_slots(&c) == 3);
	config_release(&c);
	unlink(p);
	/* auto: at least one, and no more than half the cores */
	CHECK(config_load(&c, NULL, "/d", &err) == 0);
	CHECK_STR(c.vm_guests, "auto");
	size_t slots = runner_guest_slots(&c);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(slots >= 1 && (slots == 1 || (long)slots <= cores / 2));
	config_release(&c);
	kperror_release(&err);
}

TEST(sandbox_and_output_limit_defaults_and_bounds)
{
	struct config c;
	struct kperror err = KPERROR_INIT;
	CHECK(config_load(&c, NULL, "/d", &err) == 0);
	CHECK(c.build_sandbox == 1); /* a stranger's series is sandboxed unless the user says otherwise */
	CHECK(c.vm_output_limit_mib == 16);
	CHECK(config_output_limit(&c) == (size_t)16 << 20);
	config_release(&c);
	char *p = write_tmp("[build]\nsandbox = off\n[vm]\noutput_limit = 1\n");
	CHECK(config_load(&c, p, "/d", &err) == 0);
	CHECK(c.build_sandbox == 0 && config_output_limit(&c) == 1 << 20);
	config_release(&c);
	unlink(p);
	p = write_tmp("[vm]\noutput_limit = 0\n");
	CHECK(config_load(&c, p, "/d", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "output_limit");
	config_release(&c);
	unlink(p);
	kperror_release(&err);
}

TEST(arch_table_names_tools_and_packages)
{
	const struct arch *x = arch_find("x86_64"), *a = arch_find("arm64");
	CHECK(x && a && !arch_find("riscv64") && !arch_find(NULL));
	if (!x || !a)
		return;
	CHECK_STR(a->make_arch, "arm64");
	CHECK_STR(a->image, "arch/arm64/boot/Image");
	CHECK_STR(a->console, "ttyAMA0");
	CHECK_STR(x->image, "arch/x86/boot/bzImage");
	CHECK_CONTAINS(arch_names(), "arm64");
	/* this suite runs on x86_64 hosts: arm64 is cross-built */
	CHECK(!arch_is_cross(x) && arch_is_cross(a));
	CHECK_STR(arch_cc(x), "gcc");
	CHECK_STR(arch_cc(a), "aarch64-linux-gnu-gcc");
	/* a table row whose tools are missing is described by package */
	struct arch fake = *a;
	fake.cross_cc = "kpipe-no-such-gcc";
	fake.cross_libc = "/nonexistent/libc.a";
	fake.qemu = "/nonexistent/qemu";
	struct strvec missing = STRVEC_INIT;
	arch_missing_tools(&missing, &fake);
	CHECK(missing.nr == 3);
	if (missing.nr == 3) {
		CHECK_STR(missing.v[0], "the arm64 C compiler 'kpipe-no-such-gcc' (Debian package gcc-aarch64-linux-gnu)");
		CHECK_STR(missing.v[1], "the arm64 static C library '/nonexistent/libc.a' (Debian package libc6-dev-arm64-cross)");
		CHECK_STR(missing.v[2], "the arm64 emulator '/nonexistent/qemu' (Debian package qemu-system-arm)");
	}
	strvec_clear(&missing);
}

TEST(hosts_with_their_slots)
{
	struct config_host *h = NULL;
	size_t n = 0;
	struct buf why = BUF_INIT;
	CHECK(config_parse_hosts(&h, &n, "", "qemu:///system", &why) == 0);
	CHECK(n == 1 && h[0].slots == 0);
	CHECK_STR(h[0].uri, "qemu:///system");
	CHECK_STR(h[0].display, "qemu:///system");
	config_hosts_release(h, n);
	CHECK(config_parse_hosts(&h, &n, " qemu:///system*1\n qemu+ssh://root@kvm1/system?keyfile=/k*8 qemu+ssh://kvm2/system",
				 "qemu:///system", &why) == 0);
	CHECK(n == 3 && h[0].slots == 1 && h[1].slots == 8 && h[2].slots == 0);
	CHECK_STR(h[1].uri, "qemu+ssh://root@kvm1/system?keyfile=/k");
	CHECK_STR(h[1].display, "qemu+ssh://root@kvm1/system"); /* no key path in plans and results */
	CHECK(!h[0].remote && h[1].remote && h[2].remote);
	config_hosts_release(h, n);
	CHECK(config_parse_hosts(&h, &n, "qemu:///system*0", "qemu:///system", &why) < 0);
	CHECK_CONTAINS(why.data, "1 to 64 guest slots");
	buf_reset(&why);
	CHECK(config_parse_hosts(&h, &n, "qemu+ssh://a/system*1 qemu+ssh://a/system?keyfile=/k*2", "x", &why) < 0);
	CHECK_CONTAINS(why.data, "named twice");
	buf_reset(&why);
	CHECK(config_parse_hosts(&h, &n, "qemu+tls://a/system", "x", &why) < 0);
	buf_release(&why);
}

const struct unit_test config_tests[] = {
	{ "config: [vm] hosts: URIs with their slots, bad counts, twice, not ssh", hosts_with_their_slots },
	{ "config defaults", config_defaults },
	{ "config: guest slots as configured or from the machine", guest_slots_as_configured_or_from_the_machine },
	{ "config: sandbox on and output_limit 16 MiB by default, 0 MiB refused",
	  sandbox_and_output_limit_defaults_and_bounds },
	{ "config user file overrides only what it names", config_user_file_overrides_only_what_it_names },
	{ "config unknown key names file and line", config_unknown_key_names_file_and_line },
	{ "config bad values and sections", config_bad_values_and_sections },
	{ "arch table: names, tools and their packages", arch_table_names_tools_and_packages },
	{ NULL, NULL },
};
