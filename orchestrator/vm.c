#include "vm.h"
#include "arch.h"
#include "proc.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct vm {
	char *uri, *name;
	struct buf xml;
	virConnectPtr conn;
	virDomainPtr dom;
	int port;
	char accel[8];
};

static void quiet_libvirt(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

static const char *libvirt_message(void)
{
	virErrorPtr e = virGetLastError();
	return e && e->message ? e->message : "unknown libvirt error";
}

int vm_choose_accel(struct buf *out, struct buf *why, const char *wanted, const char *arch,
		    struct kperror *err)
{
	struct buf cpuinfo = BUF_INIT, modules = BUF_INIT;
	int has_kvm_dev = access("/dev/kvm", R_OK | W_OK) == 0;
	buf_read_file(&cpuinfo, "/proc/cpuinfo");
	buf_read_file(&modules, "/proc/modules");
	int has_virt = strstr(cpuinfo.data, " vmx") || strstr(cpuinfo.data, " svm");
	int is_pvm = strstr(modules.data, "kvm_pvm") != NULL;
	int ret = 0;
	int real_kvm = has_kvm_dev && has_virt && !is_pvm;

	buf_reset(out);
	buf_reset(why);
	const struct arch *a = arch_find(arch);
	if (a && arch_is_cross(a)) {
		/* KVM runs guests of the host's own architecture only */
		buf_addf(why, "an %s guest on this host is emulated", a->name);
		buf_adds(out, "tcg");
		goto out;
	}
	if (!has_kvm_dev)
		buf_adds(why, "no usable /dev/kvm");
	else if (is_pvm)
		buf_adds(why, "/dev/kvm is PVM (kvm_pvm loaded): ordinary guest kernels do not run on it");
	else if (!has_virt)
		buf_adds(why, "the CPU has no vmx/svm flag");
	else
		buf_adds(why, "/dev/kvm with vmx/svm");

	if (!strcmp(wanted, "tcg") || (!strcmp(wanted, "auto") && !real_kvm)) {
		buf_adds(out, "tcg");
	} else if (real_kvm) {
		buf_adds(out, "kvm");
	} else {
		ret = kperror_set(err, KPERROR_INPUT, "[vm] accel = kvm, but KVM does not work here: %s",
				  why->data);
	}
out:
	buf_release(&cpuinfo);
	buf_release(&modules);
	return ret;
}

void vm_domain_xml(struct buf *b, const struct vm_opts *o, const char *accel, int port)
{
	int kvm = !strcmp(accel, "kvm");
	buf_addf(b, "<domain type='%s' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n",
		 kvm ? "kvm" : "qemu");
	buf_adds(b, "  <name>");
	buf_add_xml_escaped(b, o->name);
	buf_adds(b, "</name>\n");
	buf_addf(b, "  <memory unit='MiB'>%d</memory>\n  <vcpu>%d</vcpu>\n", o->memory_mib, o->cpus);
	const struct arch *a = arch_find(o->arch);
	buf_addf(b, "  <os>\n    <type arch='%s' machine='%s'>hvm</type>\n    <kernel>", a->uname,
		 a->machine);
	buf_add_xml_escaped(b, o->kernel);
	buf_adds(b, "</kernel>\n    <initrd>");
	buf_add_xml_escaped(b, o->initrd);
	buf_addf(b, "</initrd>\n    <cmdline>console=%s,115200 panic=1 oops=panic ", a->console);
	buf_add_xml_escaped(b, o->cmdline ? o->cmdline : "");
	buf_adds(b, "</cmdline>\n  </os>\n");
	if (a->acpi)
		buf_adds(b, "  <features><acpi/></features>\n");
	if (kvm)
		buf_adds(b, "  <cpu mode='host-passthrough'/>\n");
	else if (a->cpu_model)
		buf_addf(b, "  <cpu mode='custom' match='exact'><model fallback='forbid'>%s</model></cpu>\n",
			 a->cpu_model);
	buf_adds(b, "  <clock offset='utc'/>\n"
		    "  <on_poweroff>destroy</on_poweroff>\n"
		    "  <on_reboot>destroy</on_reboot>\n"
		    "  <on_crash>destroy</on_crash>\n"
		    "  <devices>\n");
	buf_addf(b, "    <emulator>%s</emulator>\n", a->qemu);
	buf_adds(b, "    <serial type='file'>\n      <source path='");
	buf_add_xml_escaped(b, o->console_path);
	buf_adds(b, "'/>\n      <target port='0'/>\n    </serial>\n"
		    "    <controller type='usb' model='none'/>\n"
		    "    <memballoon model='none'/>\n"
		    "  </devices>\n"
		    "  <qemu:commandline>\n"
		    "    <qemu:arg value='-netdev'/>\n");
	/* restrict=on: the guest reaches nothing (no internet, no host service on 10.0.2.2), only its ssh forward */
	buf_addf(b, "    <qemu:arg value='user,id=kpnet0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22'/>\n", port);
	buf_adds(b, "    <qemu:arg value='-device'/>\n"
		    "    <qemu:arg value='virtio-net-pci,netdev=kpnet0'/>\n"
		    "  </qemu:commandline>\n"
		    "</domain>\n");
}

static int free_port(int *out)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	if (fd < 0)
		return -errno;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*out = ntohs(a.sin_port);
	close(fd);
	return 0;
}

static int start_daemons(struct kperror *err)
{
	const char *daemons[] = { "virtlogd", "libvirtd" };
	for (int i = 0; i < 2; i++) {
		struct proc p = PROC_INIT;
		struct buf out = BUF_INIT;
		strvec_pushl(&p.argv, daemons[i], "-d", NULL);
		p.out = &out;
		int r = proc_run(&p, err);
		proc_release(&p);
		buf_release(&out);
		if (r < 0)
			return kperror_wrap(err, "cannot start libvirt (run 'make deps')");
	}
	return 0;
}

/*
 * Without udev /dev/kvm stays root:root 0600: libvirtd probes QEMU as root
 * with KVM, then finds that the qemu user cannot open it, calls its
 * capability cache stale and probes again at every domain start (about
 * 48 s each on x86_64).  Give the device what Debian's udev rule
 * (50-udev-default.rules) gives it: group kvm, mode 0660.
 */
static void kvm_device_as_udev_sets_it(void)
{
	struct stat st;
	struct group *kvm = getgrnam("kvm");
	if (geteuid() != 0 || !kvm || stat("/dev/kvm", &st) < 0 || !S_ISCHR(st.st_mode))
		return;
	if (st.st_gid == 0 && (st.st_mode & 0777) == 0600 && chown("/dev/kvm", 0, kvm->gr_gid) == 0)
		chmod("/dev/kvm", 0660);
}

static int connect_libvirt(virConnectPtr *out, const char *uri, int wait_seconds, struct kperror *err)
{
	kvm_device_as_udev_sets_it();
	virSetErrorFunc(NULL, quiet_libvirt);
	*out = virConnectOpen(uri);
	if (*out)
		return 0;
	if (strcmp(uri, "qemu:///system") || geteuid() != 0)
		return kperror_set(err, KPERROR_INFRA, "cannot connect to libvirt at '%s': %s",
				   uri, libvirt_message());
	if (start_daemons(err) < 0)
		return -1;
	double deadline = util_now() + wait_seconds;
	while (util_now() < deadline) {
		if (proc_interrupted)
			return kperror_set(err, KPERROR_INTERRUPTED, "interrupted while starting libvirtd");
		*out = virConnectOpen(uri);
		if (*out)
			return 0;
		usleep(500 * 1000);
	}
	return kperror_set(err, KPERROR_INFRA,
			   "started libvirtd, but '%s' did not answer within %d s: %s", uri,
			   wait_seconds, libvirt_message());
}

int vm_start(struct vm **out, const struct vm_opts *o, struct kperror *err)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct buf accel = BUF_INIT, why = BUF_INIT, xml = BUF_INIT;
	vm->xml = (struct buf)BUF_INIT;
	int ret = -1;

	if (!arch_find(o->arch)) {
		kperror_set(err, KPERROR_INPUT, "cannot boot arch '%s'", o->arch);
		goto out;
	}
	if (vm_choose_accel(&accel, &why, o->accel, o->arch, err) < 0)
		goto out;
	snprintf(vm->accel, sizeof(vm->accel), "%s", accel.data);
	vm->uri = strdup(o->uri);
	vm->name = strdup(o->name);
	if (connect_libvirt(&vm->conn, o->uri, 90, err) < 0)
		goto out;
	for (int attempt = 0; attempt < 5 && !vm->dom; attempt++) {
		int e = free_port(&vm->port);
		if (e < 0) {
			kperror_errno(err, KPERROR_INFRA, e, "cannot find a free port");
			goto out;
		}
		buf_reset(&xml);
		vm_domain_xml(&xml, o, accel.data, vm->port);
		vm->dom = virDomainCreateXML(vm->conn, xml.data, VIR_DOMAIN_START_AUTODESTROY);
		if (!vm->dom && !strstr(libvirt_message(), "host forwarding"))
			break; /* not a port clash: do not retry */
	}
	if (!vm->dom) {
		kperror_set(err, KPERROR_INFRA, "cannot start domain '%s': %s", o->name, libvirt_message());
		goto out;
	}
	buf_add(&vm->xml, xml.data, xml.len);
	*out = vm;
	vm = NULL;
	ret = 0;
out:
	vm_destroy(vm);
	buf_release(&accel);
	buf_release(&why);
	buf_release(&xml);
	return ret;
}

const char *vm_domain_xml_used(const struct vm *vm)
{
	return vm->xml.data;
}

int vm_ssh_port(const struct vm *vm)
{
	return vm->port;
}

const char *vm_accel(const struct vm *vm)
{
	return vm->accel;
}

enum vm_state vm_state(struct vm *vm)
{
	int state = 0, reason = 0;
	if (!vm->dom)
		return VM_STATE_GONE;
	if (virDomainGetState(vm->dom, &state, &reason, 0) < 0) {
		virErrorPtr e = virGetLastError();
		if (e && e->code == VIR_ERR_NO_DOMAIN)
			return VM_STATE_GONE; /* a transient domain that stopped is undefined */
		return VM_STATE_UNKNOWN;
	}
	return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED || state == VIR_DOMAIN_PAUSED
		       ? VM_STATE_RUNNING
		       : VM_STATE_GONE;
}

int vm_is_running(struct vm *vm)
{
	return vm_state(vm) == VM_STATE_RUNNING;
}

/*
 * Probes for the guest's SSH banner.  QEMU's user network accepts a
 * connection to the forwarded port at once, then connects on to the
 * guest: before the guest's network is up, that connection just waits.
 * So a new probe starts every PROBE_EVERY seconds and each waits up to
 * PROBE_WAIT seconds for its banner: the guest is seen within PROBE_EVERY
 * of its sshd answering, however long a banner takes to come.
 */
#define PROBES 16
#define PROBE_EVERY 0.15
#define PROBE_WAIT 2.0

struct probes {
	int fd[PROBES];
	double started[PROBES];
	char got[PROBES][4];
	size_t len[PROBES];
	double last;
};

static void probes_init(struct probes *p)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < PROBES; i++)
		p->fd[i] = -1;
}

static void probe_close(struct probes *p, int i)
{
	if (p->fd[i] >= 0)
		close(p->fd[i]);
	p->fd[i] = -1;
}

static void probes_release(struct probes *p)
{
	for (int i = 0; i < PROBES; i++)
		probe_close(p, i);
}

static void probe_start(struct probes *p, int port, double now)
{
	int i = 0;
	while (i < PROBES && p->fd[i] >= 0)
		i++;
	if (i == PROBES)
		return;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return;
	}
	p->fd[i] = fd;
	p->started[i] = now;
	p->len[i] = 0;
	p->last = now;
}

/* Start a probe when one is due, wait up to 'seconds' for a banner on any: 1 if one came. */
static int probes_wait(struct probes *p, int port, double seconds)
{
	double now = util_now();
	if (now - p->last >= PROBE_EVERY)
		probe_start(p, port, now);
	struct pollfd pfd[PROBES];
	int map[PROBES], n = 0;
	for (int i = 0; i < PROBES; i++) {
		if (p->fd[i] < 0)
			continue;
		if (now - p->started[i] > PROBE_WAIT) {
			probe_close(p, i);
			continue;
		}
		pfd[n] = (struct pollfd){ .fd = p->fd[i], .events = POLLIN };
		map[n++] = i;
	}
	if (poll(pfd, (nfds_t)n, (int)(seconds * 1000)) <= 0)
		return 0;
	for (int k = 0; k < n; k++) {
		int i = map[k];
		if (!pfd[k].revents)
			continue;
		ssize_t r = read(p->fd[i], p->got[i] + p->len[i], sizeof(p->got[i]) - p->len[i]);
		if (r <= 0) {
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				probe_close(p, i); /* refused or closed: the guest's sshd is not there yet */
			continue;
		}
		p->len[i] += (size_t)r;
		if (p->len[i] == sizeof(p->got[i])) {
			if (!memcmp(p->got[i], "SSH-", 4))
				return 1;
			probe_close(p, i);
		}
	}
	return 0;
}

/* 1 if something on the port sends an "SSH-" banner within 'seconds'. */
static int banner_within(int port, double seconds)
{
	struct probes p;
	double end = util_now() + seconds;
	int seen = 0;
	probes_init(&p);
	while (!seen && util_now() < end)
		seen = probes_wait(&p, port, PROBE_EVERY);
	probes_release(&p);
	return seen;
}

int vm_wait_for_ssh(struct vm *vm, int timeout_seconds,
		    void (*tick)(void *data, double elapsed), void *tick_data,
		    struct kperror *err)
{
	double start = util_now(), next_tick = start + 10, next_state = start;
	struct probes probes;
	int ret = VM_TIMEOUT;
	probes_init(&probes);
	for (;;) {
		double now = util_now();
		if (proc_interrupted) {
			ret = kperror_set(err, KPERROR_INTERRUPTED, "interrupted while the guest booted");
			break;
		}
		if (now >= next_state) {
			/* what libvirt says, twice a second: a probe is cheap, asking libvirt is not */
			enum vm_state st = vm_state(vm);
			if (st == VM_STATE_UNKNOWN) {
				ret = kperror_set(err, KPERROR_INFRA,
						  "lost the connection to libvirt at '%s' while the guest booted: %s",
						  vm->uri, libvirt_message());
				break;
			}
			if (st == VM_STATE_GONE) {
				ret = VM_DIED;
				break;
			}
			next_state = now + 0.5;
		}
		if (probes_wait(&probes, vm->port, PROBE_EVERY)) {
			ret = VM_READY;
			break;
		}
		if (now - start > timeout_seconds)
			break;
		if (tick && now >= next_tick) {
			tick(tick_data, now - start);
			next_tick = now + 10;
		}
	}
	probes_release(&probes);
	return ret;
}

int vm_ssh_answers(struct vm *vm)
{
	return banner_within(vm->port, 5);
}

/* libvirt went away while the domain ran: connect again and destroy it by name. */
static void destroy_by_name(struct vm *vm)
{
	struct kperror err = KPERROR_INIT;
	virConnectPtr conn = NULL;
	if (vm->conn)
		virConnectClose(vm->conn);
	vm->conn = NULL;
	if (connect_libvirt(&conn, vm->uri, 60, &err) == 0) {
		virDomainPtr dom = virDomainLookupByName(conn, vm->name);
		if (dom) {
			virDomainDestroy(dom);
			virDomainFree(dom);
		}
		virConnectClose(conn);
	}
	kperror_release(&err);
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->dom) {
		enum vm_state st = vm_state(vm);
		if (st == VM_STATE_RUNNING)
			virDomainDestroy(vm->dom);
		virDomainFree(vm->dom);
		if (st == VM_STATE_UNKNOWN)
			destroy_by_name(vm);
	}
	if (vm->conn)
		virConnectClose(vm->conn);
	free(vm->uri);
	free(vm->name);
	buf_release(&vm->xml);
	free(vm);
}
