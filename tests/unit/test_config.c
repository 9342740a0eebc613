#include <stdlib.h>
#include "harness.h"
#include "config.h"

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

	p = write_tmp("[vm]\naccel = fast\n");
	CHECK(config_load(&c, p, "/d", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "accel: 'fast' is not auto, kvm or tcg");
	config_release(&c);
	unlink(p);

	CHECK(config_load(&c, "/nonexistent/kpipe.ini", "/d", &err) < 0);
	CHECK(err.kind == KPERROR_INPUT);
	CHECK_STR(err.msg.data, "cannot read config '/nonexistent/kpipe.ini': No such file or directory");
	config_release(&c);
	kperror_release(&err);
}

const struct unit_test config_tests[] = {
	{ "config defaults", config_defaults },
	{ "config user file overrides only what it names", config_user_file_overrides_only_what_it_names },
	{ "config unknown key names file and line", config_unknown_key_names_file_and_line },
	{ "config bad values and sections", config_bad_values_and_sections },
	{ NULL, NULL },
};
