#include "guest.h"
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct guest {
	ssh_session session;
};

int guest_key_generate(ssh_key *out, struct buf *pub, struct kperror *err)
{
	char *b64 = NULL;
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, out) != SSH_OK)
		return kperror_set(err, KPERROR_INFRA, "cannot generate an ssh key");
	if (ssh_pki_export_pubkey_base64(*out, &b64) != SSH_OK) {
		ssh_key_free(*out);
		*out = NULL;
		return kperror_set(err, KPERROR_INFRA, "cannot export the ssh public key");
	}
	buf_adds(pub, b64);
	ssh_string_free_char(b64);
	return 0;
}

int guest_key_save(ssh_key key, const char *path, struct kperror *err)
{
	char *text = NULL;
	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &text) != SSH_OK)
		return kperror_set(err, KPERROR_INFRA, "cannot export the ssh key for '%s'", path);
	/* created 0600: never readable by others, not even for a moment */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t len = strlen(text);
	int e = fd < 0 ? errno : 0;
	if (!e && write(fd, text, len) != (ssize_t)len)
		e = errno ? errno : EIO;
	if (fd >= 0 && close(fd) < 0 && !e)
		e = errno;
	ssh_string_free_char(text);
	if (e) {
		if (fd >= 0)
			unlink(path);
		return kperror_errno(err, KPERROR_INFRA, e, "cannot write ssh key '%s'", path);
	}
	return 0;
}

int guest_connect(struct guest **out, int port, ssh_key key, struct kperror *err)
{
	struct guest *g = calloc(1, sizeof(*g));
	long timeout = 30;
	int no = 0;
	unsigned int uport = (unsigned int)port;

	g->session = ssh_new();
	if (!g->session) {
		free(g);
		return kperror_set(err, KPERROR_INFRA, "cannot create an ssh session");
	}
	ssh_options_set(g->session, SSH_OPTIONS_HOST, "127.0.0.1");
	ssh_options_set(g->session, SSH_OPTIONS_PORT, &uport);
	ssh_options_set(g->session, SSH_OPTIONS_USER, "root");
	ssh_options_set(g->session, SSH_OPTIONS_TIMEOUT, &timeout);
	ssh_options_set(g->session, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(g->session, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	ssh_options_set(g->session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	if (ssh_connect(g->session) != SSH_OK) {
		kperror_set(err, KPERROR_INFRA, "cannot connect to the guest on 127.0.0.1:%d: %s",
			    port, ssh_get_error(g->session));
		guest_close(g);
		return -1;
	}
	if (ssh_userauth_publickey(g->session, NULL, key) != SSH_AUTH_SUCCESS) {
		kperror_set(err, KPERROR_INFRA, "the guest refused kpipe's key: %s",
			    ssh_get_error(g->session));
		guest_close(g);
		return -1;
	}
	*out = g;
	return 0;
}

static ssh_channel open_exec(struct guest *g, const char *command, struct kperror *err)
{
	ssh_channel ch = ssh_channel_new(g->session);
	if (!ch || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, command) != SSH_OK) {
		kperror_set(err, KPERROR_INFRA, "cannot run '%s' in the guest: %s", command,
			    ssh_get_error(g->session));
		if (ch)
			ssh_channel_free(ch);
		return NULL;
	}
	return ch;
}

/* Keep what fits in 'limit' bytes of 'to'; what does not is read and dropped, and said. */
static void keep_output(struct guest_exec_result *out, struct buf *to, const char *data, size_t n,
			size_t limit)
{
	size_t room = to->len < limit ? limit - to->len : 0;
	buf_add(to, data, n < room ? n : room);
	if (n > room)
		out->truncated = 1;
}

int guest_exec(struct guest_exec_result *out, struct guest *g, const char *command,
	       int timeout_seconds, size_t limit, struct kperror *err)
{
	char chunk[16384];
	double start = util_now();
	ssh_channel ch = open_exec(g, command, err);
	if (!ch)
		return -1;
	out->exit_code = -1;
	for (;;) {
		int n = ssh_channel_read_timeout(ch, chunk, sizeof(chunk), 0, 200);
		if (n == SSH_ERROR) {
			out->lost = 1;
			break;
		}
		if (n > 0)
			keep_output(out, &out->out, chunk, (size_t)n, limit);
		int m = ssh_channel_read_nonblocking(ch, chunk, sizeof(chunk), 1);
		if (m == SSH_ERROR) {
			out->lost = 1;
			break;
		}
		if (m > 0)
			keep_output(out, &out->err, chunk, (size_t)m, limit);
		if (ssh_channel_is_eof(ch) && n <= 0 && m <= 0)
			break;
		if (proc_interrupted) {
			ssh_channel_free(ch);
			return kperror_set(err, KPERROR_INTERRUPTED, "interrupted while running '%s'", command);
		}
		if (util_now() - start > timeout_seconds) {
			out->timed_out = 1;
			break;
		}
	}
	if (!out->lost && !out->timed_out) {
		int m;
		while ((m = ssh_channel_read_nonblocking(ch, chunk, sizeof(chunk), 1)) > 0)
			keep_output(out, &out->err, chunk, (size_t)m, limit);
		out->exit_code = ssh_channel_get_exit_status(ch);
	}
	out->seconds = util_now() - start;
	if (!out->timed_out && !out->lost)
		ssh_channel_close(ch);
	ssh_channel_free(ch);
	return 0;
}

int guest_push(struct guest *g, const char *local, const char *remote, struct kperror *err)
{
	struct buf data = BUF_INIT, cmd = BUF_INIT;
	ssh_channel ch = NULL;
	int ret = -1;
	int e = buf_read_file(&data, local);
	if (e < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot read '%s'", local);
		goto out;
	}
	buf_addf(&cmd, "cat > '%s' && chmod 755 '%s'", remote, remote);
	ch = open_exec(g, cmd.data, err);
	if (!ch)
		goto out;
	for (size_t off = 0; off < data.len;) {
		size_t n = data.len - off > 32768 ? 32768 : data.len - off;
		int w = ssh_channel_write(ch, data.data + off, (uint32_t)n);
		if (w < 0) {
			kperror_set(err, KPERROR_INFRA, "cannot copy '%s' to the guest: %s", local,
				    ssh_get_error(g->session));
			goto out;
		}
		off += (size_t)w;
	}
	ssh_channel_send_eof(ch);
	char sink[256];
	while (ssh_channel_read_timeout(ch, sink, sizeof(sink), 0, 30000) > 0)
		;
	int status = ssh_channel_get_exit_status(ch);
	if (status != 0) {
		kperror_set(err, KPERROR_INFRA, "cannot write '%s' in the guest (exit %d)", remote, status);
		goto out;
	}
	ret = 0;
out:
	if (ch) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	buf_release(&data);
	buf_release(&cmd);
	return ret;
}

void guest_exec_result_release(struct guest_exec_result *r)
{
	buf_release(&r->out);
	buf_release(&r->err);
}

void guest_close(struct guest *g)
{
	if (!g)
		return;
	if (g->session) {
		ssh_disconnect(g->session);
		ssh_free(g->session);
	}
	free(g);
}
