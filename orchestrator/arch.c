#include "arch.h"
#include "proc.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#define ARCH_COUNT 2
static const struct arch arches[ARCH_COUNT] = {
	{
		.name = "x86_64", .uname = "x86_64", .make_arch = "x86_64",
		.triplet = "x86_64-linux-gnu", .image = "arch/x86/boot/bzImage",
		.deb_arch = "amd64", .cross_cc = "x86_64-linux-gnu-gcc", .cross_package = "gcc-x86-64-linux-gnu",
		.cross_libc = "/usr/x86_64-linux-gnu/lib/libc.a",
		.cross_libc_package = "libc6-dev-amd64-cross",
		.qemu_package = "qemu-system-x86", .qemu = "/usr/bin/qemu-system-x86_64", .machine = "q35",
		.cpu_model = NULL, .console = "ttyS0", .acpi = 1, .slowdown = 1,
	},
	{
		/* cortex-a57 boots ~3x faster than 'max' under TCG (no pointer auth to emulate) */
		.name = "arm64", .uname = "aarch64", .make_arch = "arm64",
		.triplet = "aarch64-linux-gnu", .image = "arch/arm64/boot/Image",
		.deb_arch = "arm64", .cross_cc = "aarch64-linux-gnu-gcc", .cross_package = "gcc-aarch64-linux-gnu",
		.cross_libc = "/usr/aarch64-linux-gnu/lib/libc.a",
		.cross_libc_package = "libc6-dev-arm64-cross",
		.qemu_package = "qemu-system-arm", .qemu = "/usr/bin/qemu-system-aarch64", .machine = "virt",
		.cpu_model = "cortex-a57", .console = "ttyAMA0", .acpi = 0, .slowdown = 2,
	},
};

const struct arch *arch_find(const char *name)
{
	for (size_t i = 0; i < ARCH_COUNT; i++)
		if (name && !strcmp(arches[i].name, name))
			return &arches[i];
	return NULL;
}

const char *arch_names(void)
{
	static char names[64];
	if (!*names)
		for (size_t i = 0; i < ARCH_COUNT; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
				 arches[i].name);
	return names;
}

int arch_is_cross(const struct arch *a)
{
	struct utsname u;
	return uname(&u) < 0 || strcmp(u.machine, a->uname);
}

const char *arch_cc(const struct arch *a)
{
	return arch_is_cross(a) ? a->cross_cc : "gcc";
}

void arch_missing_tools(struct strvec *out, const struct arch *a)
{
	const char *cc = arch_cc(a);
	int cross = arch_is_cross(a);
	if (!proc_in_path(cc))
		strvec_pushf(out, "the %s C compiler '%s' (Debian package %s)", a->name, cc,
			     cross ? a->cross_package : "gcc");
	if (cross && !util_exists(a->cross_libc))
		strvec_pushf(out, "the %s static C library '%s' (Debian package %s)", a->name,
			     a->cross_libc, a->cross_libc_package);
	if (!util_exists(a->qemu))
		strvec_pushf(out, "the %s emulator '%s' (Debian package %s)", a->name, a->qemu,
			     a->qemu_package);
}
