/*
 * vm: boot a kernel in a transient libvirt domain (QEMU).
 *
 * The domain boots the kernel and initramfs directly, writes its serial
 * console to a file, forwards ssh on 127.0.0.1:<port> only (QEMU user
 * networking), turns a panic or reboot into "destroyed" so the console
 * keeps the whole trace (an Oops or BUG panics too, oops=panic: a task
 * killed holding locks would otherwise leave the test hanging until its
 * timeout), and is started with VIR_DOMAIN_START_AUTODESTROY:
 * if kpipe dies, libvirt removes the guest.  KVM is used only where it
 * really works (vmx/svm and no PVM module), TCG otherwise.
 */
#ifndef KPIPE_VM_H
#define KPIPE_VM_H

#include "buf.h"
#include "kperror.h"

struct vm_opts {
	const char *uri;          /* libvirt URI, e.g. qemu:///system */
	const char *name;         /* unique domain name */
	const char *arch;         /* "x86_64", "arm64": see arch.h */
	const char *kernel;       /* image path, readable by the qemu user */
	const char *initrd;
	const char *cmdline;      /* appended to kpipe's console/panic options */
	const char *console_path; /* serial console log (created) */
	size_t console_limit;     /* a remote guest's console: bytes kept in console_path, the rest read and
				     dropped (0: 64 MiB); a local one is QEMU's file, cut when it is read */
	int memory_mib;
	int cpus;
	const char *accel;        /* "auto", "kvm" or "tcg" */
};

struct vm;

/*
 * A libvirt URI as kpipe needs it: local (no host: qemu:///system) or
 * remote over ssh (qemu+ssh://[USER@]HOST[:PORT]/system?keyfile=K&no_verify=1,
 * libvirt's own syntax and parameters).  A guest on a remote host gets
 * its kernel and initramfs as volumes of a 'kpipe' storage pool there
 * (virStorageVolUpload(): the initramfs once per host and content, the
 * kernel per guest, removed with it), its console through
 * virDomainOpenConsole() into console_path, and its ssh forward on that
 * host's 127.0.0.1, reached through the host's sshd (tunnel.h).
 */
struct vm_uri {
	int remote;
	char *transport;   /* "ssh", "libssh", "unix", ... or NULL */
	char *user, *host; /* NULL for local URIs; user NULL: root */
	int port;          /* 0: the transport's default */
	char *keyfile, *known_hosts; /* the query's keyfile=, known_hosts= (decoded), or NULL */
	int no_verify;     /* no_verify=1 */
	char *display;     /* the URI without its query, for results and messages */
};

/* Parse 'uri'; -1 with 'why' (one line) if kpipe cannot use it. */
int vm_uri_parse(struct vm_uri *out, const char *uri, struct buf *why);
void vm_uri_release(struct vm_uri *u);

enum vm_wait_result { VM_READY = 0, VM_DIED = 1, VM_TIMEOUT = 2 };

/*
 * Decide the accelerator: writes "kvm" or "tcg" to 'out' and the reason to
 * 'why'.  'wanted' is the config's accel; "kvm" where KVM does not really
 * work is an error (KPERROR_INPUT).  KVM applies to guests of the host's
 * own 'arch' only: other arches are always emulated (TCG).
 */
int vm_choose_accel(struct buf *out, struct buf *why, const char *wanted, const char *arch,
		    struct kperror *err);

/*
 * Connect to libvirt (starting virtlogd and libvirtd if the URI is the
 * local system daemon and none answers), pick a free port and start the
 * domain (on a remote host: volumes, console and ssh tunnel as above).
 * Returns 0 with *out (free with vm_destroy()), or -1 with 'err':
 * KPERROR_HOST when the host failed (unreachable, refused the domain).
 */
int vm_start(struct vm **out, const struct vm_opts *o, struct kperror *err);
/* The host port forwarded to the guest's port 22. */
int vm_ssh_port(const struct vm *vm);
/* The domain XML the guest was started with (owned by 'vm'). */
const char *vm_domain_xml_used(const struct vm *vm);
/* The host the guest runs on: its URI without the query (owned by 'vm'). */
const char *vm_host(const struct vm *vm);
/* The accelerator actually used ("kvm" or "tcg"). */
const char *vm_accel(const struct vm *vm);
enum vm_state {
	VM_STATE_RUNNING,  /* the domain runs */
	VM_STATE_GONE,     /* it stopped: shut off, crashed, destroyed (panic, reboot) */
	VM_STATE_UNKNOWN,  /* libvirt does not answer (daemon died or restarted), or the ssh connection
			    * to a remote host broke: the guest may well live */
};
/* What the domain is doing, as libvirt says. */
enum vm_state vm_state(struct vm *vm);
/*
 * The host could not be asked (vm_state() said VM_STATE_UNKNOWN): set
 * 'err' (KPERROR_HOST) saying what was lost, libvirt or the ssh
 * connection to the host, and 'during' what.  Always returns -1.
 */
int vm_lost(struct vm *vm, const char *during, struct kperror *err);
/* 1 while the domain runs (vm_state() is VM_STATE_RUNNING). */
int vm_is_running(struct vm *vm);
/* 1 if the guest's sshd sends its banner within a few seconds. */
int vm_ssh_answers(struct vm *vm);
/*
 * Wait until the guest's sshd sends its "SSH-" banner.  Returns
 * VM_READY, VM_DIED (the domain stopped: panic, reboot) or VM_TIMEOUT, or
 * -1 with 'err' if interrupted (KPERROR_INTERRUPTED) or libvirt stopped
 * answering (KPERROR_INFRA).  'tick' is called every few seconds.
 */
int vm_wait_for_ssh(struct vm *vm, int timeout_seconds,
		    void (*tick)(void *data, double elapsed), void *tick_data,
		    struct kperror *err);
/*
 * Destroy the domain (if still running) and free 'vm'.  NULL is fine.
 * When libvirt stopped answering (the daemon died: the domain lost its
 * auto-destroy with the connection), connect again, waiting up to a
 * minute (starting the local daemon as vm_start() would), and destroy it
 * by name.
 */
void vm_destroy(struct vm *vm);

/*
 * Remove the volumes of host 'uri' whose names start with 'prefix'
 * (kernels of guests that lost their host before vm_destroy() could
 * remove them).  The number removed, or -1 with 'err' (KPERROR_HOST: the
 * host still cannot be reached).  A local URI has none: 0.
 */
int vm_host_remove_volumes(const char *uri, const char *prefix, struct kperror *err);
/* A remote guest's kernel is the volume VM_KERNEL_VOLUME_PREFIX + its domain name. */
#define VM_KERNEL_VOLUME_PREFIX "kernel-"

/*
 * Build the domain XML (exposed for unit tests).  With 'pty_console' the
 * serial console is a pty (read through libvirt) rather than the file
 * o->console_path; 'kernel' and 'initrd' are the paths on the host.
 */
void vm_domain_xml(struct buf *out, const struct vm_opts *o, const char *accel, int port);
void vm_domain_xml_on_host(struct buf *out, const struct vm_opts *o, const char *accel, int port,
			   const char *kernel, const char *initrd, int pty_console);

#endif
