/* The test stage: the guest tests over ssh, judged by exit code and KTAP. */
#include "stage.h"
#include "guest.h"
#include "selftests.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void write_output(struct cell_run *r, const char *name, const char *suffix, const struct buf *b)
{
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/tests/%s.%s", r->cell->dir, name, suffix);
	stage_keep_file(r, b, path.data);
	buf_release(&path);
}

/* A flood of output was cut at [vm] output_limit: the kept output, the cell and the user say so. */
static void note_truncated(struct cell_run *r, const char *what, struct guest_exec_result *res)
{
	if (!res->truncated)
		return;
	int mib = r->ctx->cfg->vm_output_limit_mib;
	size_t limit = config_output_limit(r->ctx->cfg);
	struct buf *cut[] = { &res->out, &res->err };
	for (int i = 0; i < 2; i++)
		if (cut[i]->len >= limit)
			buf_addf(cut[i], "\n# kpipe: output truncated at %d MiB ([vm] output_limit)\n", mib);
	if (results_add_note(r->cell, "%s: output truncated at %d MiB ([vm] output_limit)", what, mib)) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "warning: %s printed more than %d MiB: the rest was dropped ([vm] output_limit)",
			 what, mib);
		stage_ui_note(r, m.data);
		buf_release(&m);
	}
}

/* 1 for kpipe's own guest tests, 0 for the tree's mm selftests. */
static int own_test(const char *name)
{
	return strncmp(name, SELFTESTS_NAME_PREFIX, strlen(SELFTESTS_NAME_PREFIX)) != 0;
}

/* Decide the verdict of test 'name' from its exit status and KTAP. */
static void judge_test(struct test_result *t, const char *name, const struct guest_exec_result *r, int timeout)
{
	struct buf why = BUF_INIT;
	ktap_parse(&t->ktap, r->out.data);
	t->exit_code = r->exit_code;
	t->seconds = r->seconds;
	if (r->lost) {
		t->verdict = TEST_LOST;
		buf_adds(&why, "the connection to the guest was lost");
	} else if (r->timed_out) {
		t->verdict = TEST_TIMEOUT;
		buf_addf(&why, "still running after %d s", timeout);
	} else if (r->exit_code == 4) {
		t->verdict = TEST_SKIP;
		for (size_t i = 0; i < t->ktap.nr && !why.len; i++)
			if (t->ktap.cases[i].status == KTAP_SKIP && t->ktap.cases[i].directive)
				buf_adds(&why, t->ktap.cases[i].directive);
		if (!why.len)
			buf_adds(&why, "skipped (no reason given)");
	} else if (r->exit_code == 0 && t->ktap.nr && t->ktap.skipped == t->ktap.nr) {
		/* kselftest's harness exits 0 when every case skipped: nothing was tested */
		t->verdict = TEST_SKIP;
		buf_adds(&why, "every case skipped");
		if (t->ktap.cases[0].directive && *t->ktap.cases[0].directive)
			buf_addf(&why, ": %s", t->ktap.cases[0].directive);
	} else if (r->exit_code == 0 && t->ktap.failed == 0) {
		t->verdict = TEST_PASS;
		/*
		 * kpipe's own tests must report every case they plan; a kselftest's
		 * exit status is its verdict (a forked child may print its parent's
		 * unflushed lines again into a pipe, as ksm_functional_tests does)
		 */
		if (own_test(name) && t->ktap.planned >= 0 && (size_t)t->ktap.planned != t->ktap.nr) {
			t->verdict = TEST_FAIL;
			buf_addf(&why, "planned %d cases, reported %zu", t->ktap.planned, t->ktap.nr);
		}
	} else {
		t->verdict = TEST_FAIL;
		if (r->exit_code > 128)
			buf_addf(&why, "killed by signal %d; ", r->exit_code - 128);
		else if (r->exit_code == 0)
			buf_adds(&why, "exit 0 but KTAP reports failures; ");
		size_t shown = 0;
		for (size_t i = 0; i < t->ktap.nr && shown < 3; i++) {
			if (t->ktap.cases[i].status == KTAP_FAIL) {
				buf_addf(&why, "%snot ok: %s", shown ? "; " : "", t->ktap.cases[i].name);
				shown++;
			}
		}
		if (t->ktap.failed > shown)
			buf_addf(&why, "; and %zu more", t->ktap.failed - shown);
		if (!t->ktap.nr)
			buf_addf(&why, "exit %d, no KTAP results", r->exit_code);
	}
	t->reason = why.len ? buf_detach(&why, NULL) : NULL;
	buf_release(&why);
}

/* Append a test that never ran (not built, not reached) to c->tests; takes over 'name'. */
static void add_unrun_test(struct cell *c, char *name, enum test_verdict verdict, const char *reason)
{
	struct test_result *t = &c->tests[c->nr_tests++];
	t->name = name;
	t->verdict = verdict;
	t->reason = strdup(reason);
	t->ktap.planned = -1;
}

/* KPERROR_HOST: libvirt, or the ssh connection to the guest's host, was lost while it ran 'test'. */
static int libvirt_lost(struct cell_run *r, const char *test, struct kperror *err)
{
	return vm_lost(r->vm, test, err);
}

/*
 * A guest_push() or guest_exec() for test 'name' failed with 'err': 1 the
 * guest died (err cleared: a finding), -1 with 'err' otherwise: libvirt
 * or the guest's host lost (KPERROR_HOST), or err as it was.  A guest
 * that seems to run but whose sshd does not answer is asked again: the
 * probe goes through a remote host's tunnel, which shows a lost host.
 */
static int guest_call_failed(struct cell_run *r, const char *name, struct kperror *err)
{
	enum vm_state st = vm_state(r->vm);
	if (st == VM_STATE_RUNNING && !vm_ssh_answers(r->vm))
		st = vm_state(r->vm);
	if (st == VM_STATE_GONE) {
		kperror_clear(err);
		return 1;
	}
	if (st == VM_STATE_UNKNOWN)
		return libvirt_lost(r, name, err);
	return -1;
}

/*
 * After test 't': 0 the guest is there for the next test; 1 it is not
 * (the domain stopped, or it stopped answering ssh: a finding about the
 * kernel); -1 with 'err' (KPERROR_HOST, KPERROR_INFRA) when the guest cannot be judged:
 * libvirt stopped answering, or the ssh connection broke while the guest
 * runs and its sshd still answers.
 */
static int guest_gone(struct cell_run *r, const struct test_result *t, struct kperror *err)
{
	switch (vm_state(r->vm)) {
	case VM_STATE_UNKNOWN:
		return libvirt_lost(r, t->name, err);
	case VM_STATE_GONE:
		return 1;
	case VM_STATE_RUNNING:
		break;
	}
	if (t->verdict != TEST_LOST)
		return 0;
	if (vm_ssh_answers(r->vm))
		return kperror_set(err, KPERROR_INFRA,
				   "the ssh connection to the guest broke during %s, though the guest runs and its sshd answers",
				   t->name);
	return 1;
}

/*
 * The guest kernel's taint flags that make a rerun meaningless: W (a
 * WARNING), D (an oops), B (a bad page), L (a soft lockup).  After one
 * of them a WARN_ON_ONCE stays quiet and the state it warned about may
 * linger, so a test that fails and then passes tells nothing about
 * flakiness.  Returns the letters found (empty: none, or unreadable).
 */
static void kernel_taint(struct guest *g, char *letters, size_t size)
{
	static const struct { unsigned bit; char letter; } bad[] = { { 9, 'W' }, { 7, 'D' }, { 5, 'B' }, { 14, 'L' } };
	struct guest_exec_result res = GUEST_EXEC_RESULT_INIT;
	struct kperror ignored = KPERROR_INIT;
	size_t n = 0;
	letters[0] = '\0';
	if (guest_exec(&res, g, "cat /proc/sys/kernel/tainted", 30, 4096, &ignored) == 0 && !res.exit_code &&
	    res.out.data) {
		unsigned long taint = strtoul(res.out.data, NULL, 10);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) && n + 1 < size; i++)
			if (taint & (1UL << bad[i].bit))
				letters[n++] = bad[i].letter;
		letters[n] = '\0';
	}
	guest_exec_result_release(&res);
	kperror_release(&ignored);
}

/* What the mm selftests' runs need (r->selftests_dir) into the guest's /kpipe/mm. */
static int push_selftests_dir(struct cell_run *r, struct guest *g, struct kperror *err)
{
	struct guest_exec_result res = GUEST_EXEC_RESULT_INIT;
	struct buf local = BUF_INIT, remote = BUF_INIT;
	int ret = -1;
	if (guest_exec(&res, g, "mkdir -p /kpipe/mm", 60, 4096, err) < 0) {
		if (guest_call_failed(r, "copying the mm selftests", err) > 0)
			ret = 0; /* the guest died: a finding, which the first test tells */
		goto out;
	}
	if (res.lost || res.timed_out) {
		ret = 0; /* the guest went away: the first test tells (lost), as for any test */
		goto out;
	}
	if (res.exit_code) {
		kperror_set(err, KPERROR_INFRA, "cannot create /kpipe/mm in the guest: %s",
			    res.err.data ? res.err.data : "no reason given");
		goto out;
	}
	DIR *d = opendir(r->selftests_dir);
	if (!d) {
		kperror_errno(err, KPERROR_INFRA, errno, "cannot read '%s'", r->selftests_dir);
		goto out;
	}
	stage_ui_alive(r, STAGE_TEST, 0, "copying the mm selftests and run_vmtests.sh");
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		buf_reset(&local);
		buf_reset(&remote);
		buf_addf(&local, "%s/%s", r->selftests_dir, de->d_name);
		buf_addf(&remote, "/kpipe/mm/%s", de->d_name);
		if (guest_push(g, local.data, remote.data, err) < 0) {
			closedir(d);
			if (guest_call_failed(r, "copying the mm selftests", err) > 0)
				ret = 0; /* the guest died: a finding, which the first test's push tells */
			goto out;
		}
	}
	closedir(d);
	/* where a distribution keeps it: /boot/config-$(uname -r) */
	guest_exec_result_release(&res);
	res = (struct guest_exec_result)GUEST_EXEC_RESULT_INIT;
	if (guest_exec(&res, g, "[ ! -f /kpipe/mm/" SELFTESTS_KERNEL_CONFIG " ] || { mkdir -p /boot && "
			   "cp /kpipe/mm/" SELFTESTS_KERNEL_CONFIG " /boot/config-$(uname -r); }",
		       60, 4096, err) < 0)
		goto out;
	ret = 0;
out:
	guest_exec_result_release(&res);
	buf_release(&local);
	buf_release(&remote);
	return ret;
}

int stage_test(struct cell_run *r, struct kperror *err)
{
	struct cell *c = r->cell;
	const struct strvec *tests = &r->tests;
	int test_timeout = r->ctx->cfg->test_timeout * r->arch->arch->slowdown;
	struct guest *g = NULL;
	struct buf remote = BUF_INIT, what = BUF_INIT;
	int ret = -1;
	double start = util_now();
	size_t failed = 0, limit = config_output_limit(r->ctx->cfg);

	stage_ui_start(r, STAGE_TEST, NULL);
	if (guest_connect(&g, vm_ssh_port(r->vm), r->key, err) < 0) {
		if (vm_state(r->vm) == VM_STATE_UNKNOWN)
			libvirt_lost(r, "the tests", err); /* the host went, not the guest */
		goto out;
	}
	c->tests = calloc(tests->nr + r->unbuilt.nr + 1, sizeof(*c->tests));
	if (r->selftests_dir && push_selftests_dir(r, g, err) < 0)
		goto out;
	size_t i;
	for (i = 0; i < tests->nr; i++) {
		const char *name = strrchr(tests->v[i], '/') + 1;
		struct guest_exec_result res = GUEST_EXEC_RESULT_INIT;
		struct test_result *t = &c->tests[c->nr_tests++];
		t->name = strdup(name);
		t->ktap.planned = -1;
		buf_reset(&remote);
		buf_addf(&remote, "/kpipe/%s", name);
		int call_failed = guest_push(g, tests->v[i], remote.data, err) < 0;
		if (!call_failed) {
			buf_reset(&what);
			buf_addf(&what, "running %s", name);
			stage_ui_alive(r, STAGE_TEST, util_now() - start, what.data);
			call_failed = guest_exec(&res, g, remote.data, test_timeout, limit, err) < 0;
		}
		if (call_failed) {
			guest_exec_result_release(&res);
			if (guest_call_failed(r, name, err) < 0)
				goto out;
			t->verdict = TEST_LOST;
			t->reason = strdup("the guest died before the test could start");
			break;
		}
		note_truncated(r, name, &res);
		judge_test(t, name, &res, test_timeout);
		write_output(r, name, "out", &res.out);
		write_output(r, name, "err", &res.err);
		/*
		 * A test that failed on what the kernel logged ("# kernel: ..." from
		 * ktap_test_kmsg()) is not run again: a WARN_ON_ONCE stays quiet the
		 * second time, which would make a kernel bug look flaky.
		 */
		int kernel_logged = res.out.data && strstr(res.out.data, "\n# kernel: ") != NULL;
		guest_exec_result_release(&res);
		t->runs = 1;
		t->failures = t->verdict == TEST_FAIL;
		/*
		 * Nor one that failed in a kernel that has warned during this boot,
		 * in this test or an earlier one: its rerun would run on a kernel
		 * whose once-only warnings are spent.
		 */
		char taint[8] = "";
		if (t->verdict == TEST_FAIL && !kernel_logged && r->ctx->cfg->test_retries > 0) {
			kernel_taint(g, taint, sizeof(taint));
			if (taint[0] && results_add_note(c, "%s: not run again after its failure: the kernel is "
						    "tainted %s (it warned during this boot), a pass would not make it flaky",
						    name, taint)) {
				struct buf m = BUF_INIT;
				buf_addf(&m, "%s failed on a kernel tainted %s: not run again", name, taint);
				stage_ui_note(r, m.data);
				buf_release(&m);
			}
		}
		kernel_logged |= taint[0] != '\0';
		/* a plain failure runs again: always = failure, sometimes = flaky */
		for (int k = 0; t->verdict == TEST_FAIL && !kernel_logged && k < r->ctx->cfg->test_retries; k++) {
			struct guest_exec_result again = GUEST_EXEC_RESULT_INIT;
			struct test_result rerun = { 0 };
			rerun.ktap.planned = -1;
			buf_reset(&what);
			buf_addf(&what, "running %s again (%d of %d) after a failure", name, k + 1,
				 r->ctx->cfg->test_retries);
			stage_ui_alive(r, STAGE_TEST, util_now() - start, what.data);
			if (guest_exec(&again, g, remote.data, test_timeout, limit, err) < 0) {
				guest_exec_result_release(&again);
				goto out;
			}
			note_truncated(r, name, &again);
			judge_test(&rerun, name, &again, test_timeout);
			struct buf suffix = BUF_INIT;
			buf_addf(&suffix, "rerun%d.out", k + 1);
			write_output(r, name, suffix.data, &again.out);
			buf_release(&suffix);
			guest_exec_result_release(&again);
			t->runs++;
			if (rerun.verdict == TEST_FAIL) {
				t->failures++;
			} else if (rerun.verdict == TEST_PASS) {
				t->verdict = TEST_FLAKY;
				struct buf why = BUF_INIT;
				buf_addf(&why, "failed %d of %d runs (first: %s)", t->failures, t->runs,
					 t->reason ? t->reason : "?");
				free(t->reason);
				t->reason = buf_detach(&why, NULL);
			}
			free(rerun.reason);
			ktap_release(&rerun.ktap);
			if (rerun.verdict != TEST_FAIL && rerun.verdict != TEST_PASS)
				break; /* it hung or the guest went away: keep the first verdict */
		}
		if (t->verdict == TEST_FAIL || t->verdict == TEST_TIMEOUT || t->verdict == TEST_LOST)
			failed++;
		int gone = guest_gone(r, t, err);
		if (gone < 0)
			goto out;
		if (gone)
			break; /* the guest is gone: no point in the rest */
		if (t->verdict == TEST_TIMEOUT) {
			/* the hung test may hold the session: start a fresh one */
			guest_close(g);
			g = NULL;
			if (guest_connect(&g, vm_ssh_port(r->vm), r->key, err) < 0) {
				kperror_clear(err);
				break;
			}
		}
	}
	/* the tests a dead or hung guest never reached are listed, not dropped */
	if (i < tests->nr) {
		struct buf why = BUF_INIT;
		const struct test_result *last = &c->tests[c->nr_tests - 1];
		buf_addf(&why, "the guest %s during %s", vm_state(r->vm) == VM_STATE_GONE ? "died" : "stopped answering",
			 last->name);
		for (size_t k = i + 1; k < tests->nr; k++)
			add_unrun_test(c, strdup(strrchr(tests->v[k], '/') + 1), TEST_NOT_RUN, why.data);
		buf_release(&why);
	}
	/* what could not be built for the guest is skipped, saying why */
	for (size_t k = 0; k < r->unbuilt.nr; k++) {
		const char *line = r->unbuilt.v[k], *tab = strchr(line, '\t');
		add_unrun_test(c, tab ? strndup(line, (size_t)(tab - line)) : strdup(line), TEST_SKIP,
			       tab ? tab + 1 : "could not be built");
	}
	if (g && vm_is_running(r->vm)) {
		struct guest_exec_result res = GUEST_EXEC_RESULT_INIT;
		if (guest_exec(&res, g, "dmesg", 60, limit, err) < 0) {
			guest_exec_result_release(&res);
			goto out;
		}
		note_truncated(r, "dmesg", &res);
		struct buf path = BUF_INIT;
		buf_addf(&path, "%s/dmesg.txt", c->dir);
		stage_keep_file(r, &res.out, path.data);
		buf_release(&path);
		guest_exec_result_release(&res);
	}
	ret = 0;
out:
	guest_close(g);
	c->seconds[STAGE_TEST] = util_now() - start;
	char outcome[64];
	snprintf(outcome, sizeof(outcome), "%zu test%s, %zu failed", c->nr_tests,
		 c->nr_tests == 1 ? "" : "s", failed);
	stage_ui_end(r, STAGE_TEST, ret < 0 ? "error" : outcome);
	buf_release(&remote);
	buf_release(&what);
	return ret;
}

