#include "vm.h"
#include "arch.h"
#include "proc.h"
#include "tunnel.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct vm {
	char *uri, *name;
	struct vm_uri u;
	struct buf xml;
	virConnectPtr conn;
	virDomainPtr dom;
	int port;               /* where this machine reaches the guest's sshd */
	char accel[8];
	/* a remote host's guest: its volumes, its console, its ssh through the host */
	virStoragePoolPtr pool;
	virStorageVolPtr kernel_vol;
	virStreamPtr console;
	virConnectPtr console_conn; /* the console's own: its blocking receive must not hold the calls of 'conn' */
	virDomainPtr console_dom;
	pthread_t console_thread;
	int console_started;
	int console_fd;
	size_t console_limit;
	struct tunnel *tunnel;
};

/* A URI query value with its %XX escapes decoded. */
static char *decode_query_value(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], '\0' };
			*o++ = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

void vm_uri_release(struct vm_uri *u)
{
	free(u->transport);
	free(u->user);
	free(u->host);
	free(u->keyfile);
	free(u->known_hosts);
	free(u->display);
	memset(u, 0, sizeof(*u));
}

int vm_uri_parse(struct vm_uri *out, const char *uri, struct buf *why)
{
	memset(out, 0, sizeof(*out));
	const char *sep = strstr(uri, "://");
	const char *q = strchr(uri, '?');
	if (!sep || sep == uri || (q && q < sep)) {
		buf_addf(why, "'%s' is no libvirt URI (DRIVER[+TRANSPORT]://[[USER@]HOST[:PORT]]/PATH)", uri);
		return -1;
	}
	out->display = q ? strndup(uri, (size_t)(q - uri)) : strdup(uri);
	const char *plus = memchr(uri, '+', (size_t)(sep - uri));
	if (plus)
		out->transport = strndup(plus + 1, (size_t)(sep - plus - 1));
	const char *auth = sep + 3, *path = strchr(auth, '/');
	if (!path || (q && q < path))
		path = q ? q : auth + strlen(auth);
	if (path > auth) {
		const char *at = memchr(auth, '@', (size_t)(path - auth));
		const char *hp = at ? at + 1 : auth;
		if (at)
			out->user = strndup(auth, (size_t)(at - auth));
		const char *colon = memchr(hp, ':', (size_t)(path - hp));
		out->host = strndup(hp, (size_t)((colon ? colon : path) - hp));
		if (colon) {
			char *end = NULL;
			long port = strtol(colon + 1, &end, 10);
			if (end != path || port < 1 || port > 65535) {
				buf_addf(why, "'%s': the port is not a number from 1 to 65535", out->display);
				goto fail;
			}
			out->port = (int)port;
		}
		out->remote = *out->host != '\0';
	}
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (eq) {
			size_t klen = (size_t)(eq - p);
			char *value = decode_query_value(eq + 1, (size_t)(end - eq - 1));
			if (klen == 7 && !strncmp(p, "keyfile", 7)) {
				free(out->keyfile);
				out->keyfile = value;
			} else if (klen == 11 && !strncmp(p, "known_hosts", 11)) {
				free(out->known_hosts);
				out->known_hosts = value;
			} else {
				if (klen == 9 && !strncmp(p, "no_verify", 9))
					out->no_verify = atoi(value) != 0;
				free(value);
			}
		}
		p = amp ? amp + 1 : end;
	}
	if (out->remote && (!out->transport || (strcmp(out->transport, "ssh") && strcmp(out->transport, "libssh")))) {
		buf_addf(why, "'%s': a remote host is reached over ssh (qemu+ssh://...): kpipe reaches "
			      "its guests through the host's sshd", out->display);
		goto fail;
	}
	return 0;
fail:
	vm_uri_release(out);
	return -1;
}

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
	vm_domain_xml_on_host(b, o, accel, port, o->kernel, o->initrd, 0);
}

void vm_domain_xml_on_host(struct buf *b, const struct vm_opts *o, const char *accel, int port,
			   const char *kernel, const char *initrd, int pty_console)
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
	buf_add_xml_escaped(b, kernel);
	buf_adds(b, "</kernel>\n    <initrd>");
	buf_add_xml_escaped(b, initrd);
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
	if (pty_console) {
		buf_adds(b, "    <serial type='pty'>\n");
	} else {
		buf_adds(b, "    <serial type='file'>\n      <source path='");
		buf_add_xml_escaped(b, o->console_path);
		buf_adds(b, "'/>\n");
	}
	buf_adds(b, "      <target port='0'/>\n    </serial>\n"
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

/* Local URIs (no host) reach this machine's daemon: kpipe may start it. */
static int connect_libvirt(virConnectPtr *out, const char *uri, int remote, int wait_seconds,
			   struct kperror *err)
{
	if (!remote)
		kvm_device_as_udev_sets_it();
	virSetErrorFunc(NULL, quiet_libvirt);
	*out = virConnectOpen(uri);
	if (*out)
		return 0;
	if (remote || strcmp(uri, "qemu:///system") || geteuid() != 0)
		return kperror_set(err, KPERROR_HOST, "cannot connect to libvirt at '%s': %s",
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
	return kperror_set(err, KPERROR_HOST,
			   "started libvirtd, but '%s' did not answer within %d s: %s", uri,
			   wait_seconds, libvirt_message());
}

/* ---- guests on remote hosts: volumes, console, accelerator ---- */

#define VM_POOL "kpipe"
#define VM_POOL_PATH "/var/lib/libvirt/kpipe"
/* a console that floods is cut here, as for any untrusted output */
#define VM_CONSOLE_LIMIT (64u << 20) /* when vm_opts.console_limit is 0 */

/* One slot at a time makes a host's pool or uploads an initramfs: two would clash. */
static pthread_mutex_t host_storage_lock = PTHREAD_MUTEX_INITIALIZER;

static int host_error(struct kperror *err, const struct vm *vm, const char *what)
{
	return kperror_set(err, KPERROR_HOST, "%s on %s: %s", what, vm->u.display, libvirt_message());
}

static int pool_open(struct vm *vm, struct kperror *err)
{
	int ret = -1;
	pthread_mutex_lock(&host_storage_lock);
	vm->pool = virStoragePoolLookupByName(vm->conn, VM_POOL);
	if (!vm->pool) {
		/* transient: it lasts as long as that host's libvirtd, its files stay for the next one */
		vm->pool = virStoragePoolCreateXML(vm->conn,
						   "<pool type='dir'><name>" VM_POOL "</name><target><path>"
						   VM_POOL_PATH "</path></target></pool>",
						   VIR_STORAGE_POOL_CREATE_WITH_BUILD);
		if (!vm->pool)
			vm->pool = virStoragePoolLookupByName(vm->conn, VM_POOL); /* another run made it */
	} else if (virStoragePoolIsActive(vm->pool) == 0 && virStoragePoolCreate(vm->pool, 0) < 0) {
		host_error(err, vm, "cannot start the storage pool '" VM_POOL "'");
		goto out;
	}
	if (!vm->pool) {
		host_error(err, vm, "cannot make the storage pool '" VM_POOL "' (" VM_POOL_PATH ")");
		goto out;
	}
	ret = 0;
out:
	pthread_mutex_unlock(&host_storage_lock);
	return ret;
}

static int send_file_part(virStreamPtr st, char *data, size_t n, void *opaque)
{
	(void)st;
	ssize_t r;
	do
		r = read(*(int *)opaque, data, n);
	while (r < 0 && errno == EINTR);
	return (int)r;
}

/* Create volume 'name' in the pool with the contents of local file 'path' (empty: 'path' NULL). */
static int volume_upload(virStorageVolPtr *out, struct vm *vm, const char *name, const char *path,
			 struct kperror *err)
{
	struct stat st = { 0 };
	struct buf xml = BUF_INIT;
	virStreamPtr stream = NULL;
	virStorageVolPtr vol = NULL;
	int fd = -1, ret = -1;
	if (path && ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot read '%s'", path);
		goto out;
	}
	buf_adds(&xml, "<volume><name>");
	buf_add_xml_escaped(&xml, name);
	/* 0644: qemu on the host runs as its own user */
	buf_addf(&xml, "</name><capacity unit='bytes'>%lld</capacity><target><format type='raw'/>"
		       "<permissions><mode>0644</mode></permissions></target></volume>",
		 path ? (long long)st.st_size : 1LL);
	vol = virStorageVolCreateXML(vm->pool, xml.data, 0);
	if (!vol) {
		host_error(err, vm, "cannot create a volume in the storage pool '" VM_POOL "'");
		goto out;
	}
	if (path) {
		stream = virStreamNew(vm->conn, 0);
		if (!stream || virStorageVolUpload(vol, stream, 0, (unsigned long long)st.st_size, 0) < 0 ||
		    virStreamSendAll(stream, send_file_part, &fd) < 0 || virStreamFinish(stream) < 0) {
			struct buf what = BUF_INIT;
			buf_addf(&what, "cannot upload '%s' as volume '%s'", path, name);
			host_error(err, vm, what.data);
			buf_release(&what);
			if (stream)
				virStreamAbort(stream);
			virStorageVolDelete(vol, 0);
			goto out;
		}
	}
	*out = vol;
	vol = NULL;
	ret = 0;
out:
	if (stream)
		virStreamFree(stream);
	if (vol)
		virStorageVolFree(vol);
	if (fd >= 0)
		close(fd);
	buf_release(&xml);
	return ret;
}

/*
 * The initramfs as a volume of the host's pool, uploaded once per host
 * and content: NAME holds it, NAME.done says the upload finished (a run
 * killed while uploading leaves no .done, and the next one uploads again).
 */
static int image_volume_path(char **out, struct vm *vm, const char *arch, const char *path,
			     struct kperror *err)
{
	uint64_t h = UTIL_HASH_INIT;
	int e = util_hash_file(&h, path);
	if (e < 0)
		return kperror_errno(err, KPERROR_INFRA, -e, "cannot read '%s'", path);
	char name[96], done[104];
	snprintf(name, sizeof(name), "initramfs-%s-%016llx", arch, (unsigned long long)h);
	snprintf(done, sizeof(done), "%s.done", name);
	int ret = -1;
	pthread_mutex_lock(&host_storage_lock);
	virStorageVolPtr vol = virStorageVolLookupByName(vm->pool, name);
	virStorageVolPtr mark = virStorageVolLookupByName(vm->pool, done);
	if (!vol || !mark) {
		if (vol) {
			virStorageVolDelete(vol, 0); /* half uploaded */
			virStorageVolFree(vol);
			vol = NULL;
		}
		if (volume_upload(&vol, vm, name, path, err) < 0)
			goto out;
		if (!mark && volume_upload(&mark, vm, done, NULL, err) < 0)
			goto out;
	}
	*out = virStorageVolGetPath(vol);
	if (!*out) {
		host_error(err, vm, "cannot find the initramfs volume");
		goto out;
	}
	ret = 0;
out:
	pthread_mutex_unlock(&host_storage_lock);
	if (vol)
		virStorageVolFree(vol);
	if (mark)
		virStorageVolFree(mark);
	return ret;
}

/* KVM on a remote host: its own arch, KVM in its domain capabilities, vmx/svm on x86. */
static int remote_accel(struct buf *out, struct buf *why, const char *wanted, struct vm *vm,
			const struct arch *a, struct kperror *err)
{
	char *caps = virConnectGetCapabilities(vm->conn);
	if (!caps)
		return host_error(err, vm, "cannot read the host's capabilities");
	struct buf host_arch = BUF_INIT;
	const char *cpu = strstr(caps, "<cpu>"), *arch = cpu ? strstr(cpu, "<arch>") : NULL;
	if (arch)
		buf_add(&host_arch, arch + 6, strcspn(arch + 6, "<"));
	int same_arch = host_arch.data && !strcmp(host_arch.data, a->uname);
	int virt = strcmp(a->uname, "x86_64") || strstr(caps, "<feature name='vmx'/>") ||
		   strstr(caps, "<feature name='svm'/>");
	char *domcaps = same_arch ? virConnectGetDomainCapabilities(vm->conn, NULL, a->uname, a->machine,
								     "kvm", 0)
				  : NULL;
	int kvm = same_arch && virt && domcaps;
	if (!same_arch)
		buf_addf(why, "an %s guest on %s (%s) is emulated", a->name, vm->u.display,
			 host_arch.data ? host_arch.data : "arch unknown");
	else if (!domcaps)
		buf_addf(why, "%s offers no KVM", vm->u.display);
	else if (!virt)
		buf_addf(why, "%s's CPU has no vmx/svm flag", vm->u.display);
	else
		buf_addf(why, "%s offers KVM", vm->u.display);
	free(caps);
	free(domcaps);
	buf_release(&host_arch);
	if (!strcmp(wanted, "tcg") || (!strcmp(wanted, "auto") && !kvm))
		buf_adds(out, "tcg");
	else if (kvm)
		buf_adds(out, "kvm");
	else
		return kperror_set(err, KPERROR_INPUT, "[vm] accel = kvm, but KVM does not work there: %s",
				   why->data);
	return 0;
}

static void *console_main(void *arg)
{
	struct vm *vm = arg;
	char data[16384];
	size_t kept = 0;
	for (;;) {
		int n = virStreamRecv(vm->console, data, sizeof(data));
		if (n <= 0)
			return NULL; /* the guest is gone (EOF) or so is the connection */
		size_t keep = kept < vm->console_limit ? vm->console_limit - kept : 0;
		if ((size_t)n < keep)
			keep = (size_t)n;
		if (keep && write(vm->console_fd, data, keep) != (ssize_t)keep)
			keep = 0; /* a full disk: the cell's files say so when they are written */
		kept += keep;
	}
}

static int console_open(struct vm *vm, const char *path, struct kperror *err)
{
	vm->console_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (vm->console_fd < 0)
		return kperror_errno(err, KPERROR_INFRA, errno, "cannot create '%s'", path);
	if (connect_libvirt(&vm->console_conn, vm->uri, 1, 0, err) < 0)
		return -1;
	vm->console_dom = virDomainLookupByName(vm->console_conn, vm->name);
	vm->console = vm->console_dom ? virStreamNew(vm->console_conn, 0) : NULL;
	if (!vm->console || virDomainOpenConsole(vm->console_dom, NULL, vm->console, VIR_DOMAIN_CONSOLE_FORCE) < 0)
		return host_error(err, vm, "cannot open the guest's console");
	int e = pthread_create(&vm->console_thread, NULL, console_main, vm);
	if (e)
		return kperror_errno(err, KPERROR_INFRA, e, "cannot start the console's thread");
	vm->console_started = 1;
	return 0;
}

/* Wait for the console's thread after the domain went: -1 if it does not end (then nothing is freed). */
static int console_close(struct vm *vm)
{
	int ret = 0;
	if (vm->console_started) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 15;
		if (pthread_timedjoin_np(vm->console_thread, NULL, &ts)) {
			virStreamAbort(vm->console);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 5;
			if (pthread_timedjoin_np(vm->console_thread, NULL, &ts))
				ret = -1;
		}
		vm->console_started = 0;
	}
	if (ret == 0) {
		if (vm->console)
			virStreamFree(vm->console);
		if (vm->console_dom)
			virDomainFree(vm->console_dom);
		if (vm->console_conn)
			virConnectClose(vm->console_conn);
		vm->console = NULL;
		vm->console_dom = NULL;
		vm->console_conn = NULL;
	}
	if (vm->console_fd >= 0)
		close(vm->console_fd);
	vm->console_fd = -1;
	return ret;
}

/* A port on the remote host's loopback for the guest's ssh forward: QEMU says if it is taken. */
static int random_port(void)
{
	static unsigned seed;
	if (!seed)
		seed = (unsigned)getpid() ^ (unsigned)(util_now() * 1e6);
	return 20000 + (int)(rand_r(&seed) % 40000);
}

/* Start the guest on the remote host vm->conn reaches: volumes, domain, console, tunnel. */
static int start_on_host(struct vm *vm, const struct vm_opts *o, const char *accel, struct buf *xml,
			 struct kperror *err)
{
	char *initrd = NULL, *kernel = NULL;
	int ret = -1;
	if (pool_open(vm, err) < 0 || image_volume_path(&initrd, vm, o->arch, o->initrd, err) < 0)
		goto out;
	struct buf name = BUF_INIT;
	buf_addf(&name, VM_KERNEL_VOLUME_PREFIX "%s", o->name);
	virStorageVolPtr stale = virStorageVolLookupByName(vm->pool, name.data);
	if (stale) {
		virStorageVolDelete(stale, 0); /* of an earlier guest of this name that lost its host */
		virStorageVolFree(stale);
	}
	int r = volume_upload(&vm->kernel_vol, vm, name.data, o->kernel, err);
	buf_release(&name);
	if (r < 0)
		goto out;
	kernel = virStorageVolGetPath(vm->kernel_vol);
	if (!kernel) {
		host_error(err, vm, "cannot find the kernel volume");
		goto out;
	}
	int guest_port = 0;
	for (int attempt = 0; attempt < 5 && !vm->dom; attempt++) {
		guest_port = random_port();
		buf_reset(xml);
		vm_domain_xml_on_host(xml, o, accel, guest_port, kernel, initrd, 1);
		/* paused until the console is open: nothing the kernel prints is lost */
		vm->dom = virDomainCreateXML(vm->conn, xml->data,
					     VIR_DOMAIN_START_AUTODESTROY | VIR_DOMAIN_START_PAUSED);
		if (!vm->dom && !strstr(libvirt_message(), "host forwarding"))
			break;
	}
	if (!vm->dom) {
		struct buf what = BUF_INIT;
		buf_addf(&what, "cannot start domain '%s'", o->name);
		host_error(err, vm, what.data);
		buf_release(&what);
		goto out;
	}
	if (console_open(vm, o->console_path, err) < 0)
		goto out;
	struct tunnel_opts t = {
		.host = vm->u.host, .port = vm->u.port, .user = vm->u.user, .keyfile = vm->u.keyfile,
		.known_hosts = vm->u.known_hosts, .no_verify = vm->u.no_verify, .target_port = guest_port,
	};
	if (tunnel_open(&vm->tunnel, &t, err) < 0)
		goto out;
	vm->port = tunnel_port(vm->tunnel);
	if (virDomainResume(vm->dom) < 0) {
		host_error(err, vm, "cannot resume the guest");
		goto out;
	}
	ret = 0;
out:
	free(initrd);
	free(kernel);
	return ret;
}

int vm_start(struct vm **out, const struct vm_opts *o, struct kperror *err)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct buf accel = BUF_INIT, why = BUF_INIT, xml = BUF_INIT;
	vm->xml = (struct buf)BUF_INIT;
	vm->console_fd = -1;
	vm->console_limit = o->console_limit ? o->console_limit : VM_CONSOLE_LIMIT;
	int ret = -1;
	const struct arch *a = arch_find(o->arch);

	if (!a) {
		kperror_set(err, KPERROR_INPUT, "cannot boot arch '%s'", o->arch);
		goto out;
	}
	if (vm_uri_parse(&vm->u, o->uri, &why) < 0) {
		kperror_set(err, KPERROR_INPUT, "[vm]: %s", why.data);
		goto out;
	}
	vm->uri = strdup(o->uri);
	vm->name = strdup(o->name);
	if (!vm->u.remote && vm_choose_accel(&accel, &why, o->accel, o->arch, err) < 0)
		goto out;
	if (connect_libvirt(&vm->conn, o->uri, vm->u.remote, 90, err) < 0)
		goto out;
	if (vm->u.remote) {
		if (remote_accel(&accel, &why, o->accel, vm, a, err) < 0)
			goto out;
		snprintf(vm->accel, sizeof(vm->accel), "%s", accel.data);
		if (start_on_host(vm, o, accel.data, &xml, err) < 0)
			goto out;
	} else {
		snprintf(vm->accel, sizeof(vm->accel), "%s", accel.data);
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
			kperror_set(err, KPERROR_HOST, "cannot start domain '%s': %s", o->name, libvirt_message());
			goto out;
		}
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

const char *vm_host(const struct vm *vm)
{
	return vm->u.display;
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

/* What libvirt says of the domain (vm_state() adds the ssh connection to a remote host). */
static enum vm_state libvirt_state(struct vm *vm)
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

enum vm_state vm_state(struct vm *vm)
{
	if (vm->tunnel && tunnel_broken(vm->tunnel, NULL))
		return VM_STATE_UNKNOWN;
	return libvirt_state(vm);
}

int vm_lost(struct vm *vm, const char *during, struct kperror *err)
{
	struct buf why = BUF_INIT;
	if (vm->tunnel && tunnel_broken(vm->tunnel, &why))
		kperror_set(err, KPERROR_HOST, "lost the ssh connection to host %s during %s: %s",
			    vm->u.display, during, why.data);
	else
		kperror_set(err, KPERROR_HOST, "lost the connection to libvirt at '%s' during %s (the guest was still up)",
			    vm->u.display, during);
	buf_release(&why);
	return -1;
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
				ret = vm_lost(vm, "the boot", err);
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
	if (connect_libvirt(&conn, vm->uri, vm->u.remote, 60, &err) == 0) {
		virDomainPtr dom = virDomainLookupByName(conn, vm->name);
		if (dom) {
			virDomainDestroy(dom);
			virDomainFree(dom);
		}
		virConnectClose(conn);
	}
	kperror_release(&err);
}

int vm_host_remove_volumes(const char *uri, const char *prefix, struct kperror *err)
{
	struct vm vm = { .uri = (char *)uri, .console_fd = -1 };
	struct buf why = BUF_INIT;
	int ret = -1, removed = 0;
	if (vm_uri_parse(&vm.u, uri, &why) < 0) {
		kperror_set(err, KPERROR_INPUT, "%s", why.data);
		goto out;
	}
	if (!vm.u.remote) {
		ret = 0; /* local guests have no volumes */
		goto out;
	}
	if (connect_libvirt(&vm.conn, uri, 1, 0, err) < 0)
		goto out;
	vm.pool = virStoragePoolLookupByName(vm.conn, VM_POOL);
	virStorageVolPtr *vols = NULL;
	int n = vm.pool ? virStoragePoolListAllVolumes(vm.pool, &vols, 0) : 0;
	for (int i = 0; i < n; i++) {
		const char *name = virStorageVolGetName(vols[i]);
		if (name && !strncmp(name, prefix, strlen(prefix)) && virStorageVolDelete(vols[i], 0) == 0)
			removed++;
		virStorageVolFree(vols[i]);
	}
	free(vols);
	ret = removed;
out:
	if (vm.pool)
		virStoragePoolFree(vm.pool);
	if (vm.conn)
		virConnectClose(vm.conn);
	vm_uri_release(&vm.u);
	buf_release(&why);
	return ret;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	/* first the ssh connection kpipe holds to a remote host: nothing waits on it below */
	tunnel_close(vm->tunnel);
	vm->tunnel = NULL;
	int console_stuck = 0;
	if (vm->dom) {
		enum vm_state st = libvirt_state(vm);
		if (st == VM_STATE_RUNNING)
			virDomainDestroy(vm->dom);
		console_stuck = console_close(vm) < 0;
		if (!console_stuck) {
			virDomainFree(vm->dom);
			if (st == VM_STATE_UNKNOWN)
				destroy_by_name(vm);
		}
	} else {
		console_stuck = console_close(vm) < 0;
	}
	if (console_stuck)
		return; /* its thread still uses the connection: leave it all, rather than free under it */
	if (vm->kernel_vol) {
		virStorageVolDelete(vm->kernel_vol, 0); /* fails when the host is gone: the next guest of that name removes it */
		virStorageVolFree(vm->kernel_vol);
	}
	if (vm->pool)
		virStoragePoolFree(vm->pool);
	if (vm->conn)
		virConnectClose(vm->conn);
	free(vm->uri);
	free(vm->name);
	vm_uri_release(&vm->u);
	buf_release(&vm->xml);
	free(vm);
}
