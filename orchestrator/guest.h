/*
 * guest: talk to a booted guest's sshd with libssh.
 *
 * kpipe makes a fresh ed25519 key per run (guest_key_generate()), hands
 * the public half to the guest on its kernel command line, and logs in
 * as root over the forwarded port.  The guest is a throw-away VM behind a
 * 127.0.0.1-only forward started by this run, so its host key is not
 * checked against known_hosts.  Files are pushed through an exec channel
 * ("cat > FILE"), so a guest without an sftp server works too.
 */
#ifndef KPIPE_GUEST_H
#define KPIPE_GUEST_H

#include <libssh/libssh.h>

#include "buf.h"
#include "kperror.h"

struct guest;

struct guest_exec_result {
	int exit_code;   /* the command's exit status; -1 if none came */
	int timed_out;   /* 1: ran over the limit and was abandoned */
	int lost;        /* 1: the connection broke (guest died?) */
	int truncated;   /* 1: stdout or stderr went past the limit; the rest was dropped */
	struct buf out;  /* stdout */
	struct buf err;  /* stderr */
	double seconds;
};

#define GUEST_EXEC_RESULT_INIT { -1, 0, 0, 0, BUF_INIT, BUF_INIT, 0.0 }

/* Make a key pair; *out is freed with ssh_key_free().  'pub' gets base64. */
int guest_key_generate(ssh_key *out, struct buf *pub, struct kperror *err);
/* Save the private key (0600) so a user can ssh in by hand. */
int guest_key_save(ssh_key key, const char *path, struct kperror *err);

/* Connect and authenticate as root.  Free with guest_close(). */
int guest_connect(struct guest **out, int port, ssh_key key, struct kperror *err);
/* Copy the local file to 'remote' in the guest, mode 0755. */
int guest_push(struct guest *g, const char *local, const char *remote, struct kperror *err);
/*
 * Run 'command' in the guest with a time limit.  At most 'limit' bytes
 * each of stdout and stderr are kept (the guest's output is untrusted:
 * a flood is read and dropped, and 'truncated' says so).  Returns 0 when
 * the outcome is known (fill *out: exit code, or timed_out/lost set), -1
 * with 'err' when interrupted or the channel could not be opened.
 */
int guest_exec(struct guest_exec_result *out, struct guest *g, const char *command,
	       int timeout_seconds, size_t limit, struct kperror *err);
void guest_exec_result_release(struct guest_exec_result *r);
void guest_close(struct guest *g);

#endif
