/*
 * arch: what kpipe knows about each guest architecture, in one table.
 *
 * Every module that needs an arch-specific name (make's ARCH=, the cross
 * compiler, the kernel image, QEMU's machine and console, Debian's
 * package arch) looks it up here, so adding an arch is adding a row.
 */
#ifndef KPIPE_ARCH_H
#define KPIPE_ARCH_H

#include "strvec.h"

struct arch {
	const char *name;          /* kpipe's name, as in [build] arches: "arm64" */
	const char *uname;         /* uname -m of a host of this arch: "aarch64" */
	const char *make_arch;     /* the kernel's ARCH= */
	const char *triplet;       /* GNU triplet: CROSS_COMPILE is "<triplet>-" */
	const char *image;         /* bootable image below the build dir */
	const char *deb_arch;      /* Debian architecture for guest packages */
	const char *cross_cc;      /* "<triplet>-gcc" */
	const char *cross_package; /* the Debian package that has it */
	const char *cross_libc;    /* static libc for cross-built guest programs */
	const char *cross_libc_package;
	const char *qemu;          /* QEMU system emulator */
	const char *qemu_package;
	const char *machine;       /* libvirt <type machine=...> */
	const char *cpu_model;     /* CPU model under TCG, NULL: QEMU's default */
	const char *console;       /* serial console device */
	int acpi;                  /* the machine describes itself by ACPI (else device tree) */
	int slowdown;              /* boot/test timeouts are multiplied by this under TCG */
};

/* The arch called 'name', or NULL. */
const struct arch *arch_find(const char *name);
/* Every supported arch name, comma-separated ("x86_64, arm64"): for messages.  Static string. */
const char *arch_names(void);
/* 1 when kernels and programs for 'a' must be cross-compiled on this host. */
int arch_is_cross(const struct arch *a);
/*
 * The C compiler for 'a' on this host: "gcc" natively, else
 * "<triplet>-gcc".  Static string.
 */
const char *arch_cc(const struct arch *a);
/*
 * Check that this host has what it takes to build and boot 'a' (the
 * compiler, the static C library, the QEMU emulator); push one line per
 * missing part, naming the Debian package that has it.
 */
void arch_missing_tools(struct strvec *out, const struct arch *a);

#endif
