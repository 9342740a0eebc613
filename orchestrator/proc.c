#include "proc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int proc_in_path(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	struct buf b = BUF_INIT;
	int found = 0;
	while (*path && !found) {
		size_t n = strcspn(path, ":");
		buf_reset(&b);
		buf_add(&b, path, n);
		buf_addf(&b, "/%s", name);
		found = access(b.data, X_OK) == 0;
		path += n;
		if (*path == ':')
			path++;
	}
	buf_release(&b);
	return found;
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGTERM);
	for (int i = 0; i < 20; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(100 * 1000);
	}
	kill(-pid, SIGKILL);
}

int proc_run(struct proc *p, struct kperror *err)
{
	int pipefd[2] = { -1, -1 };
	int logfd = -1;
	int execfd[2] = { -1, -1 };
	int ret = -1;
	pid_t pid;

	p->exit_code = -1;
	p->timed_out = 0;
	p->elapsed = 0;
	if (!p->argv.nr)
		return kperror_set(err, KPERROR_INFRA, "proc_run: empty argv");
	if (!proc_in_path(p->argv.v[0]))
		return kperror_set(err, KPERROR_INFRA,
				   "cannot run '%s': not installed (not found in PATH)",
				   p->argv.v[0]);
	if (p->log_path) {
		logfd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (logfd < 0)
			return kperror_errno(err, KPERROR_INFRA, errno,
					     "cannot open log '%s'", p->log_path);
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(execfd, O_CLOEXEC) < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "pipe");
		goto out;
	}

	double start = util_now();
	pid = fork();
	if (pid < 0) {
		kperror_errno(err, KPERROR_INFRA, errno, "fork");
		goto out;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		for (size_t i = 0; i < p->env.nr; i++)
			putenv(p->env.v[i]);
		if (p->nice && nice(p->nice) < 0) {
			/* a niceness that cannot be raised leaves the child as it is */
		}
		if (p->cwd && chdir(p->cwd) < 0) {
			int e = errno;
			if (write(execfd[1], &e, sizeof(e)) < 0)
				_exit(127);
			_exit(127);
		}
		execvp(p->argv.v[0], p->argv.v);
		int e = errno;
		if (write(execfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	pipefd[1] = -1;
	close(execfd[1]);
	execfd[1] = -1;

	int child_errno = 0;
	if (read(execfd[0], &child_errno, sizeof(child_errno)) == sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		if (p->cwd && child_errno == ENOENT && access(p->cwd, F_OK) < 0)
			kperror_errno(err, KPERROR_INFRA, child_errno,
				      "cannot run '%s' in '%s'", p->argv.v[0], p->cwd);
		else
			kperror_errno(err, KPERROR_INFRA, child_errno,
				      "cannot run '%s'", p->argv.v[0]);
		goto out;
	}

	int tick_every = p->tick_seconds > 0 ? p->tick_seconds : 10;
	double next_tick = start + tick_every;
	int status = 0;
	int eof = 0, log_errno = 0;
	char chunk[65536];
	for (;;) {
		if (!eof) {
			struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
			int n = poll(&pfd, 1, 200);
			if (n > 0) {
				ssize_t r = read(pipefd[0], chunk, sizeof(chunk));
				if (r > 0) {
					if (p->out)
						buf_add(p->out, chunk, (size_t)r);
					if (logfd >= 0 && !log_errno && write(logfd, chunk, (size_t)r) < 0)
						log_errno = errno;
				} else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
					eof = 1;
				}
			}
		} else {
			usleep(50 * 1000);
		}
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid && eof)
			break;
		if (w == pid) {
			/* drain what is left, then stop */
			ssize_t r;
			fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
			while ((r = read(pipefd[0], chunk, sizeof(chunk))) > 0) {
				if (p->out)
					buf_add(p->out, chunk, (size_t)r);
				if (logfd >= 0 && !log_errno && write(logfd, chunk, (size_t)r) < 0)
					log_errno = errno;
			}
			break;
		}
		double now = util_now();
		if (proc_interrupted) {
			kill_group(pid);
			kperror_set(err, KPERROR_INTERRUPTED, "interrupted while running '%s'",
				    p->argv.v[0]);
			goto out;
		}
		if (p->timeout_seconds > 0 && now - start > p->timeout_seconds) {
			kill_group(pid);
			waitpid(pid, &status, 0);
			p->timed_out = 1;
			break;
		}
		if (p->tick && now >= next_tick) {
			p->tick(p->tick_data, now - start);
			next_tick = now + tick_every;
		}
	}
	p->elapsed = util_now() - start;
	if (log_errno) {
		/* a log cut short (a full disk) is no result to judge by */
		kperror_errno(err, KPERROR_INFRA, log_errno, "cannot write the log '%s'", p->log_path);
		goto out;
	}
	if (WIFEXITED(status))
		p->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		p->exit_code = 128 + WTERMSIG(status);
	ret = 0;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (execfd[0] >= 0)
		close(execfd[0]);
	if (execfd[1] >= 0)
		close(execfd[1]);
	if (logfd >= 0)
		close(logfd);
	return ret;
}

void proc_release(struct proc *p)
{
	strvec_clear(&p->argv);
	strvec_clear(&p->env);
}
