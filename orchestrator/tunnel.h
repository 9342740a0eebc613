/*
 * tunnel: reach a port on a remote host's loopback through that host's
 * sshd (a direct-tcpip channel per connection, as 'ssh -L' does), for
 * guests on remote libvirt hosts: their ssh forward binds the host's
 * 127.0.0.1 only, so no port is opened to the network.
 *
 * tunnel_open() logs in to the host (its user and key, its host key
 * checked against known_hosts unless told not to) and listens on a free
 * port of this machine's 127.0.0.1; every connection made to that port is
 * carried to 'target_port' on the host's own 127.0.0.1 by a thread that
 * owns the ssh session (libssh sessions are not shared between threads).
 */
#ifndef KPIPE_TUNNEL_H
#define KPIPE_TUNNEL_H

#include "kperror.h"

struct tunnel_opts {
	const char *host;          /* the ssh server, as in the libvirt URI */
	int port;                  /* its port; 0: 22 */
	const char *user;          /* NULL: root */
	const char *keyfile;       /* private key; NULL: ssh's default keys and agent */
	const char *known_hosts;   /* NULL: ~/.ssh/known_hosts */
	int no_verify;             /* 1: do not check the host key (libvirt's no_verify=1) */
	int target_port;           /* the port on the host's 127.0.0.1 */
};

struct tunnel;

/* Log in and start listening.  -1 with 'err' (KPERROR_HOST: the host is unreachable or refused). */
int tunnel_open(struct tunnel **out, const struct tunnel_opts *o, struct kperror *err);
/* The port on this machine's 127.0.0.1 that leads to the target. */
int tunnel_port(const struct tunnel *t);
/* 1 once the ssh connection to the host broke; 'why' (may be NULL) gets the reason. */
int tunnel_broken(struct tunnel *t, struct buf *why);
/* Stop the thread, close every connection and the session.  NULL is fine. */
void tunnel_close(struct tunnel *t);

#endif
