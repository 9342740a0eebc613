#include "harness.h"
#include "proc.h"
#include "results.h"
#include "util.h"
#include "vm.h"

#include <stdlib.h>

TEST(proc_captures_output_and_exit_code)
{
	struct proc p = PROC_INIT;
	struct buf out = BUF_INIT;
	struct kperror err = KPERROR_INIT;
	strvec_pushl(&p.argv, "sh", "-c", "echo out; echo err >&2; echo $KP_X; pwd; exit 3", NULL);
	strvec_push(&p.env, "KP_X=from-env");
	p.cwd = "/tmp";
	p.out = &out;
	CHECK(proc_run(&p, &err) == 0);
	CHECK(p.exit_code == 3);
	CHECK(!p.timed_out);
	CHECK_STR(out.data, "out\nerr\nfrom-env\n/tmp\n");
	proc_release(&p);
	buf_release(&out);
	kperror_release(&err);
}

static int ticks;
static void count_tick(void *data, double elapsed)
{
	(void)data;
	(void)elapsed;
	ticks++;
}

TEST(proc_timeout_kills_the_process_group)
{
	struct proc p = PROC_INIT;
	struct kperror err = KPERROR_INIT;
	strvec_pushl(&p.argv, "sh", "-c", "sleep 30 & sleep 30; echo never", NULL);
	p.timeout_seconds = 1;
	p.tick = count_tick;
	p.tick_seconds = 1;
	double t0 = util_now();
	CHECK(proc_run(&p, &err) == 0);
	CHECK(p.timed_out);
	CHECK(util_now() - t0 < 10);
	proc_release(&p);
	kperror_release(&err);
}

TEST(proc_reports_what_cannot_start)
{
	struct proc p = PROC_INIT;
	struct kperror err = KPERROR_INIT;
	strvec_push(&p.argv, "kpipe-no-such-program");
	CHECK(proc_run(&p, &err) < 0);
	CHECK_STR(err.msg.data, "cannot run 'kpipe-no-such-program': not installed (not found in PATH)");
	proc_release(&p);
	struct proc q = PROC_INIT;
	strvec_push(&q.argv, "true");
	q.cwd = "/nonexistent-dir";
	CHECK(proc_run(&q, &err) < 0);
	CHECK_CONTAINS(err.msg.data, "cannot run 'true' in '/nonexistent-dir'");
	proc_release(&q);
	kperror_release(&err);
}

TEST(vm_domain_xml_is_transient_tcg_with_local_ssh)
{
	struct buf x = BUF_INIT;
	struct vm_opts o = { .uri = "qemu:///system", .name = "kpipe-1-v1-x86_64", .arch = "x86_64",
			     .kernel = "/k/bzImage", .initrd = "/k/init&rd", .cmdline = "kpipe.sshkey=AAA",
			     .console_path = "/c/console.log", .memory_mib = 2048, .cpus = 2, .accel = "tcg" };
	vm_domain_xml(&x, &o, "tcg", 40022);
	CHECK_CONTAINS(x.data, "<domain type='qemu'");
	CHECK_CONTAINS(x.data, "<name>kpipe-1-v1-x86_64</name>");
	CHECK_CONTAINS(x.data, "<initrd>/k/init&amp;rd</initrd>");
	CHECK_CONTAINS(x.data, "panic=1 kpipe.sshkey=AAA");
	CHECK_CONTAINS(x.data, "<on_reboot>destroy</on_reboot>");
	CHECK_CONTAINS(x.data, "<serial type='file'>");
	CHECK_CONTAINS(x.data, "hostfwd=tcp:127.0.0.1:40022-:22");
	CHECK(!strstr(x.data, "host-passthrough"));
	buf_reset(&x);
	vm_domain_xml(&x, &o, "kvm", 1);
	CHECK_CONTAINS(x.data, "<domain type='kvm'");
	buf_release(&x);
}

TEST(vm_accel_tcg_always_possible)
{
	struct buf a = BUF_INIT, why = BUF_INIT;
	struct kperror err = KPERROR_INIT;
	CHECK(vm_choose_accel(&a, &why, "tcg", &err) == 0);
	CHECK_STR(a.data, "tcg");
	CHECK(vm_choose_accel(&a, &why, "auto", &err) == 0);
	CHECK(!strcmp(a.data, "tcg") || !strcmp(a.data, "kvm"));
	CHECK(why.len > 0);
	buf_release(&a);
	buf_release(&why);
	kperror_release(&err);
}

TEST(results_summary_round_trip)
{
	char dir[] = "/tmp/kpipe-results-XXXXXX";
	struct kperror err = KPERROR_INIT;
	CHECK(mkdtemp(dir) != NULL);
	struct cell c[2];
	memset(c, 0, sizeof(c));
	c[0].revision = strdup("v1");
	c[0].arch = strdup("x86_64");
	c[0].verdict = CELL_FAIL;
	c[0].detail = strdup("t: fail: not ok: tab\there");
	c[0].nr_tests = 1;
	c[0].tests = calloc(1, sizeof(struct test_result));
	c[0].tests[0].name = strdup("t");
	c[0].tests[0].verdict = TEST_FAIL;
	c[0].tests[0].seconds = 1.5;
	c[0].tests[0].ktap.planned = -1;
	c[0].splats.nr = 1;
	c[0].splats.v = calloc(1, sizeof(struct splat));
	c[0].splats.v[0].title = strdup("WARNING in zap_pte_range");
	c[0].splats.v[0].count = 2;
	c[0].splats.v[0].report = strdup("r");
	c[1].revision = strdup("v2");
	c[1].arch = strdup("x86_64");
	c[1].verdict = CELL_PASS;
	c[1].commit = strdup("abc");
	CHECK(results_make_cell_dir(&c[0], dir, &err) == 0);
	CHECK(results_write_cell(&c[0], &err) == 0);
	CHECK(results_write_summary(dir, "title", c, 2, &err) == 0);
	struct cell *back = NULL;
	size_t n = 0;
	CHECK(results_load_summary(&back, &n, dir, &err) == 0);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(back[0].verdict == CELL_FAIL && back[1].verdict == CELL_PASS);
		CHECK_STR(back[0].detail, "t: fail: not ok: tab here");
		CHECK(back[0].nr_tests == 1 && back[0].tests[0].verdict == TEST_FAIL);
		CHECK(back[0].splats.nr == 1 && back[0].splats.v[0].count == 2);
		CHECK_STR(back[1].commit, "abc");
	}
	for (size_t i = 0; i < n; i++)
		results_cell_release(&back[i]);
	free(back);
	results_cell_release(&c[0]);
	results_cell_release(&c[1]);
	CHECK(results_load_summary(&back, &n, "/nonexistent", &err) < 0);
	CHECK_CONTAINS(err.msg.data, "is not a kpipe run directory");
	util_rm_rf(dir);
	kperror_release(&err);
}

const struct unit_test proc_tests[] = {
	{ "proc: captures output and exit code", proc_captures_output_and_exit_code },
	{ "proc: timeout kills the process group", proc_timeout_kills_the_process_group },
	{ "proc: reports what cannot start", proc_reports_what_cannot_start },
	{ NULL, NULL },
};
const struct unit_test vm_tests[] = {
	{ "vm: domain XML is transient TCG with local ssh", vm_domain_xml_is_transient_tcg_with_local_ssh },
	{ "vm: accel tcg always possible", vm_accel_tcg_always_possible },
	{ NULL, NULL },
};
const struct unit_test results_tests[] = {
	{ "results: summary round trip", results_summary_round_trip },
	{ NULL, NULL },
};
