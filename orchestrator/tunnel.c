#include "tunnel.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* connections carried at once: the boot's banner probes (16) and the test session, with room */
#define TUNNEL_CONNS 32

struct tunnel_conn {
	int fd;             /* our end, on this machine's 127.0.0.1; -1: unused */
	ssh_channel ch;
	int local_eof;      /* the local side closed its writing end: EOF sent on the channel */
};

struct tunnel {
	ssh_session session;
	int listen_fd, port, target_port;
	int wake[2];        /* tunnel_close() writes here to stop the thread */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;
	int broken;         /* under 'lock' */
	struct buf why;     /* under 'lock' */
	struct tunnel_conn conns[TUNNEL_CONNS];
};

static void mark_broken(struct tunnel *t, const char *what)
{
	pthread_mutex_lock(&t->lock);
	if (!t->broken) {
		t->broken = 1;
		buf_reset(&t->why);
		const char *e = ssh_get_error(t->session);
		buf_adds(&t->why, e && *e ? e : what);
	}
	pthread_mutex_unlock(&t->lock);
}

static void conn_close(struct tunnel_conn *c)
{
	if (c->ch) {
		if (ssh_channel_is_open(c->ch))
			ssh_channel_close(c->ch);
		ssh_channel_free(c->ch);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->ch = NULL;
	c->local_eof = 0;
}

static void accept_one(struct tunnel *t)
{
	int fd = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct tunnel_conn *c = NULL;
	for (int i = 0; i < TUNNEL_CONNS && !c; i++)
		if (t->conns[i].fd < 0)
			c = &t->conns[i];
	if (!c) {
		close(fd); /* full: the client sees a closed connection, as for a guest not up yet */
		return;
	}
	ssh_channel ch = ssh_channel_new(t->session);
	if (!ch || ssh_channel_open_forward(ch, "127.0.0.1", t->target_port, "127.0.0.1", 22) != SSH_OK) {
		if (ch)
			ssh_channel_free(ch);
		if (!ssh_is_connected(t->session))
			mark_broken(t, "the ssh connection to the host broke");
		close(fd);
		return;
	}
	c->fd = fd;
	c->ch = ch;
}

/* Move what is waiting in either direction on 'c'; 0 while it lasts, -1 when it is over. */
static int pump(struct tunnel_conn *c, short revents)
{
	char data[32768];
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->local_eof) {
		ssize_t n = read(c->fd, data, sizeof(data)); /* poll said it would not block */
		if (n < 0 && errno != EINTR)
			return -1;
		if (n == 0) {
			ssh_channel_send_eof(c->ch);
			c->local_eof = 1;
		} else if (n > 0 && ssh_channel_write(c->ch, data, (uint32_t)n) != n) {
			return -1;
		}
	}
	for (;;) {
		int n = ssh_channel_read_nonblocking(c->ch, data, sizeof(data), 0);
		if (n == SSH_ERROR)
			return -1;
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = send(c->fd, data + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1; /* our side went away (a banner probe that has seen enough) */
			off += w;
		}
	}
	if (ssh_channel_is_eof(c->ch) || !ssh_channel_is_open(c->ch))
		return -1;
	return 0;
}

static void *tunnel_main(void *arg)
{
	struct tunnel *t = arg;
	struct pollfd pfd[TUNNEL_CONNS + 3];
	int map[TUNNEL_CONNS + 3];
	double next_ping = util_now() + 15;
	for (;;) {
		int n = 0;
		pfd[n++] = (struct pollfd){ .fd = t->wake[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = ssh_get_fd(t->session), .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = t->listen_fd, .events = POLLIN };
		for (int i = 0; i < TUNNEL_CONNS; i++) {
			if (t->conns[i].fd < 0)
				continue;
			map[n] = i;
			pfd[n++] = (struct pollfd){ .fd = t->conns[i].fd,
						    .events = t->conns[i].local_eof ? 0 : POLLIN };
		}
		/* short: libssh may hold channel data it read while writing */
		poll(pfd, (nfds_t)n, 50);
		if (pfd[0].revents)
			return NULL;
		if (pfd[2].revents & POLLIN)
			accept_one(t);
		for (int k = 3; k < n; k++) {
			struct tunnel_conn *c = &t->conns[map[k]];
			if (c->fd >= 0 && pump(c, pfd[k].revents) < 0) {
				/*
				 * The session first: a client that sees its end close
				 * asks tunnel_broken() at once, and must hear the truth.
				 */
				if (!ssh_is_connected(t->session))
					mark_broken(t, "the ssh connection to the host broke");
				conn_close(c);
			}
		}
		if (!ssh_is_connected(t->session)) {
			mark_broken(t, "the ssh connection to the host closed");
			for (int i = 0; i < TUNNEL_CONNS; i++)
				if (t->conns[i].fd >= 0)
					conn_close(&t->conns[i]);
		}
		if (util_now() >= next_ping) {
			/* a host that vanished without closing shows here, not only at the next channel */
			if (ssh_is_connected(t->session) && ssh_send_ignore(t->session, "kpipe") != SSH_OK)
				mark_broken(t, "the ssh connection to the host broke");
			next_ping = util_now() + 15;
		}
	}
}

static int listen_loopback(int *fd_out, int *port_out, struct kperror *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return kperror_errno(err, KPERROR_INFRA, e, "cannot listen on 127.0.0.1");
	}
	*fd_out = fd;
	*port_out = ntohs(a.sin_port);
	return 0;
}

static int login(struct tunnel *t, const struct tunnel_opts *o, struct kperror *err)
{
	long timeout = 30;
	int no = 0;
	unsigned int port = o->port > 0 ? (unsigned int)o->port : 22;
	const char *user = o->user && *o->user ? o->user : "root";
	ssh_options_set(t->session, SSH_OPTIONS_HOST, o->host);
	ssh_options_set(t->session, SSH_OPTIONS_PORT, &port);
	ssh_options_set(t->session, SSH_OPTIONS_USER, user);
	ssh_options_set(t->session, SSH_OPTIONS_TIMEOUT, &timeout);
	ssh_options_set(t->session, SSH_OPTIONS_PROCESS_CONFIG, &no);
	if (o->known_hosts)
		ssh_options_set(t->session, SSH_OPTIONS_KNOWNHOSTS, o->known_hosts);
	if (ssh_connect(t->session) != SSH_OK)
		return kperror_set(err, KPERROR_HOST, "cannot reach the host's sshd at %s:%u: %s", o->host,
				   port, ssh_get_error(t->session));
	if (!o->no_verify) {
		enum ssh_known_hosts_e k = ssh_session_is_known_server(t->session);
		if (k != SSH_KNOWN_HOSTS_OK)
			return kperror_set(err, KPERROR_HOST,
					   "the host key of %s:%u is %s in known_hosts (ssh to it once by hand, "
					   "or add no_verify=1 to the URI as libvirt allows)",
					   o->host, port, k == SSH_KNOWN_HOSTS_CHANGED ? "not the one" :
					   k == SSH_KNOWN_HOSTS_OTHER ? "of another type than the one" : "not");
	}
	int auth;
	if (o->keyfile && *o->keyfile) {
		ssh_key key = NULL;
		if (ssh_pki_import_privkey_file(o->keyfile, NULL, NULL, NULL, &key) != SSH_OK)
			return kperror_set(err, KPERROR_INPUT, "cannot read the ssh key '%s' of host %s",
					   o->keyfile, o->host);
		auth = ssh_userauth_publickey(t->session, NULL, key);
		ssh_key_free(key);
	} else {
		auth = ssh_userauth_publickey_auto(t->session, NULL, NULL);
	}
	if (auth != SSH_AUTH_SUCCESS)
		return kperror_set(err, KPERROR_HOST, "the sshd of %s:%u refused %s@ with %s: %s", o->host,
				   port, user, o->keyfile && *o->keyfile ? o->keyfile : "the default keys",
				   ssh_get_error(t->session));
	return 0;
}

int tunnel_open(struct tunnel **out, const struct tunnel_opts *o, struct kperror *err)
{
	struct tunnel *t = calloc(1, sizeof(*t));
	if (!t)
		return kperror_errno(err, KPERROR_INFRA, ENOMEM, "cannot open a tunnel");
	t->listen_fd = t->wake[0] = t->wake[1] = -1;
	t->why = (struct buf)BUF_INIT;
	t->target_port = o->target_port;
	pthread_mutex_init(&t->lock, NULL);
	for (int i = 0; i < TUNNEL_CONNS; i++)
		t->conns[i].fd = -1;
	t->session = ssh_new();
	if (!t->session) {
		kperror_set(err, KPERROR_INFRA, "cannot create an ssh session");
		goto fail;
	}
	if (login(t, o, err) < 0 || listen_loopback(&t->listen_fd, &t->port, err) < 0)
		goto fail;
	if (pipe2(t->wake, O_CLOEXEC) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot open a tunnel");
		goto fail;
	}
	int e = pthread_create(&t->thread, NULL, tunnel_main, t);
	if (e) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot start the tunnel's thread");
		goto fail;
	}
	t->thread_started = 1;
	*out = t;
	return 0;
fail:
	tunnel_close(t);
	return -1;
}

int tunnel_port(const struct tunnel *t)
{
	return t->port;
}

int tunnel_broken(struct tunnel *t, struct buf *why)
{
	pthread_mutex_lock(&t->lock);
	int broken = t->broken;
	if (broken && why) {
		buf_reset(why);
		buf_add(why, t->why.data, t->why.len);
	}
	pthread_mutex_unlock(&t->lock);
	return broken;
}

void tunnel_close(struct tunnel *t)
{
	if (!t)
		return;
	if (t->thread_started) {
		char c = 'q';
		if (write(t->wake[1], &c, 1) != 1) {
			/* cannot happen with an empty pipe; the join below would wait */
		}
		pthread_join(t->thread, NULL);
	}
	for (int i = 0; i < TUNNEL_CONNS; i++)
		if (t->conns[i].fd >= 0)
			conn_close(&t->conns[i]);
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	for (int i = 0; i < 2; i++)
		if (t->wake[i] >= 0)
			close(t->wake[i]);
	if (t->session) {
		if (ssh_is_connected(t->session))
			ssh_disconnect(t->session);
		ssh_free(t->session);
	}
	buf_release(&t->why);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
