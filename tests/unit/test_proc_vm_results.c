#include "harness.h"
#include "history.h"
#include "report.h"

#include <stdio.h>
#include "proc.h"
#include "results.h"
#include "perfstat.h"
#include "util.h"
#include "vm.h"

#include <ctype.h>
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
	CHECK_CONTAINS(x.data, "panic=1 oops=panic kpipe.sshkey=AAA");
	CHECK_CONTAINS(x.data, "<on_reboot>destroy</on_reboot>");
	CHECK_CONTAINS(x.data, "<serial type='file'>");
	CHECK_CONTAINS(x.data, "hostfwd=tcp:127.0.0.1:40022-:22");
	CHECK_CONTAINS(x.data, "restrict=on,"); /* the guest reaches nothing but its ssh forward */
	CHECK(!strstr(x.data, "host-passthrough"));
	buf_reset(&x);
	vm_domain_xml(&x, &o, "kvm", 1);
	CHECK_CONTAINS(x.data, "<domain type='kvm'");
	buf_release(&x);
}

TEST(vm_domain_xml_arm64_is_virt_with_pl011_and_fast_cpu)
{
	struct buf x = BUF_INIT;
	struct vm_opts o = { .uri = "qemu:///system", .name = "kpipe-1-v1-arm64", .arch = "arm64",
			     .kernel = "/k/Image", .initrd = "/k/initrd", .cmdline = "",
			     .console_path = "/c/console.log", .memory_mib = 2048, .cpus = 2, .accel = "tcg" };
	vm_domain_xml(&x, &o, "tcg", 40023);
	CHECK_CONTAINS(x.data, "<type arch='aarch64' machine='virt'>hvm</type>");
	CHECK_CONTAINS(x.data, "console=ttyAMA0,115200 panic=1 oops=panic");
	CHECK_CONTAINS(x.data, "<model fallback='forbid'>cortex-a57</model>");
	CHECK_CONTAINS(x.data, "<emulator>/usr/bin/qemu-system-aarch64</emulator>");
	CHECK(!strstr(x.data, "<acpi/>"));
	CHECK_CONTAINS(x.data, "virtio-net-pci,netdev=kpnet0");
	buf_release(&x);
}

TEST(vm_accel_foreign_arch_is_always_emulated)
{
	struct buf a = BUF_INIT, why = BUF_INIT;
	struct kperror err = KPERROR_INIT;
	/* this suite runs on x86_64 hosts: an arm64 guest cannot use KVM */
	CHECK(vm_choose_accel(&a, &why, "auto", "arm64", &err) == 0);
	CHECK_STR(a.data, "tcg");
	CHECK_CONTAINS(why.data, "arm64 guest");
	CHECK(vm_choose_accel(&a, &why, "kvm", "arm64", &err) == 0);
	CHECK_STR(a.data, "tcg");
	buf_release(&a);
	buf_release(&why);
	kperror_release(&err);
}

TEST(vm_accel_tcg_always_possible)
{
	struct buf a = BUF_INIT, why = BUF_INIT;
	struct kperror err = KPERROR_INIT;
	CHECK(vm_choose_accel(&a, &why, "tcg", "x86_64", &err) == 0);
	CHECK_STR(a.data, "tcg");
	CHECK(vm_choose_accel(&a, &why, "auto", "x86_64", &err) == 0);
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
	c[0].nr_tests = 2;
	c[0].tests = calloc(2, sizeof(struct test_result));
	c[0].tests[0].name = strdup("t");
	c[0].tests[0].verdict = TEST_FAIL;
	c[0].tests[0].seconds = 1.5;
	c[0].tests[0].ktap.planned = -1;
	c[0].tests[1].name = strdup("after");
	c[0].tests[1].verdict = TEST_NOT_RUN;
	c[0].tests[1].reason = strdup("the guest died during t");
	c[0].tests[1].ktap.planned = -1;
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
	CHECK(results_write_summary(dir, &(struct results_run){ .title = (char *)"title" }, c, 2, &err) == 0);
	struct cell *back = NULL;
	size_t n = 0;
	CHECK(results_load_summary(&back, &n, NULL, dir, &err) == 0);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(back[0].verdict == CELL_FAIL && back[1].verdict == CELL_PASS);
		CHECK_STR(back[0].detail, "t: fail: not ok: tab here");
		CHECK(back[0].nr_tests == 2 && back[0].tests[0].verdict == TEST_FAIL);
		CHECK(back[0].nr_tests == 2 && back[0].tests[1].verdict == TEST_NOT_RUN);
		if (back[0].nr_tests == 2)
			CHECK_STR(back[0].tests[1].reason, "the guest died during t");
		CHECK(back[0].splats.nr == 1 && back[0].splats.v[0].count == 2);
		CHECK_STR(back[1].commit, "abc");
	}
	for (size_t i = 0; i < n; i++)
		results_cell_release(&back[i]);
	free(back);
	results_cell_release(&c[0]);
	results_cell_release(&c[1]);
	CHECK(results_load_summary(&back, &n, NULL, "/nonexistent", &err) < 0);
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
TEST(vm_uri_local_and_remote_over_ssh)
{
	struct vm_uri u;
	struct buf why = BUF_INIT;
	CHECK(vm_uri_parse(&u, "qemu:///system", &why) == 0);
	CHECK(!u.remote && !u.host && !u.keyfile);
	CHECK_STR(u.display, "qemu:///system");
	vm_uri_release(&u);
	CHECK(vm_uri_parse(&u, "qemu+ssh://root@127.0.0.1:2222/system?keyfile=/k/i%64&no_verify=1", &why) == 0);
	CHECK(u.remote && u.port == 2222 && u.no_verify);
	CHECK_STR(u.user, "root");
	CHECK_STR(u.host, "127.0.0.1");
	CHECK_STR(u.keyfile, "/k/id"); /* %XX decoded */
	CHECK_STR(u.display, "qemu+ssh://root@127.0.0.1:2222/system"); /* no key path in results */
	vm_uri_release(&u);
	CHECK(vm_uri_parse(&u, "qemu+ssh://kvm1/system", &why) == 0);
	CHECK(u.remote && !u.user && u.port == 0 && !u.no_verify);
	vm_uri_release(&u);
	CHECK(vm_uri_parse(&u, "qemu+tcp://kvm1/system", &why) < 0);
	CHECK_CONTAINS(why.data, "a remote host is reached over ssh");
	buf_reset(&why);
	CHECK(vm_uri_parse(&u, "qemu+ssh://kvm1:99999/system", &why) < 0);
	CHECK_CONTAINS(why.data, "port");
	buf_reset(&why);
	CHECK(vm_uri_parse(&u, "nonsense", &why) < 0);
	buf_release(&why);
}

TEST(vm_domain_xml_on_a_host_has_a_pty_console)
{
	struct buf x = BUF_INIT;
	struct vm_opts o = { .uri = "qemu+ssh://h/system", .name = "kpipe-1-v1-arm64", .arch = "arm64",
			     .kernel = "/local/Image", .initrd = "/local/initrd", .cmdline = "",
			     .console_path = "/c/console.log", .memory_mib = 2048, .cpus = 2, .accel = "tcg" };
	vm_domain_xml_on_host(&x, &o, "tcg", 30022, "/var/lib/libvirt/kpipe/kernel-x", "/var/lib/libvirt/kpipe/i", 1);
	CHECK_CONTAINS(x.data, "<kernel>/var/lib/libvirt/kpipe/kernel-x</kernel>");
	CHECK_CONTAINS(x.data, "<serial type='pty'>");
	CHECK(!strstr(x.data, "/c/console.log"));
	CHECK_CONTAINS(x.data, "hostfwd=tcp:127.0.0.1:30022-:22"); /* the host's loopback only */
	buf_release(&x);
}

const struct unit_test vm_tests[] = {
	{ "vm: URIs: local, remote over ssh (user, port, keyfile, no_verify), others refused", vm_uri_local_and_remote_over_ssh },
	{ "vm: a remote host's domain: its volumes' paths, a pty console", vm_domain_xml_on_a_host_has_a_pty_console },
	{ "vm: domain XML is transient TCG with local ssh", vm_domain_xml_is_transient_tcg_with_local_ssh },
	{ "vm: arm64 domain XML: virt, PL011, cortex-a57", vm_domain_xml_arm64_is_virt_with_pl011_and_fast_cpu },
	{ "vm: a foreign arch is always emulated", vm_accel_foreign_arch_is_always_emulated },
	{ "vm: accel tcg always possible", vm_accel_tcg_always_possible },
	{ NULL, NULL },
};

static void fill_cell(struct cell *c, const char *rev, const char *test, enum test_verdict v,
		      const char *splat)
{
	memset(c, 0, sizeof(*c));
	strvec_init(&c->missing_options);
	c->revision = strdup(rev);
	c->arch = strdup("x86_64");
	c->dir = strdup("/nonexistent");
	c->verdict = v == TEST_PASS && !splat ? CELL_PASS : CELL_FAIL;
	c->nr_tests = 1;
	c->tests = calloc(1, sizeof(struct test_result));
	c->tests[0].name = strdup(test);
	c->tests[0].verdict = v;
	c->tests[0].reason = v == TEST_FAIL ? strdup("not ok: <data> & \"marks\"") : NULL;
	c->tests[0].ktap.planned = -1;
	c->seconds[STAGE_BUILD] = 12.5;
	if (splat) {
		c->splats.nr = 1;
		c->splats.v = calloc(1, sizeof(struct splat));
		c->splats.v[0].title = strdup(splat);
		c->splats.v[0].count = 1;
		c->splats.v[0].report = strdup("WARNING: ... <stack>");
	}
}

TEST(history_round_trip_and_changes)
{
	char dir[] = "/tmp/kpipe-history-XXXXXX";
	struct kperror err = KPERROR_INIT;
	CHECK(mkdtemp(dir) != NULL);
	char db[128];
	snprintf(db, sizeof(db), "%s/h.sqlite", dir);
	struct cell first[2], second[2];
	fill_cell(&first[0], "v1", "t", TEST_FAIL, "WARNING in zap_pte_range");
	fill_cell(&first[1], "v2", "t", TEST_PASS, NULL);
	fill_cell(&second[0], "v1", "t", TEST_PASS, NULL);
	fill_cell(&second[1], "v2", "t", TEST_PASS, "BUG: Bad rss-counter state");
	struct strvec changes = STRVEC_INIT;
	struct buf about = BUF_INIT;
	CHECK(history_changes(&changes, &about, db, NULL, &err) == 0);
	CHECK_STR(about.data, "no run is recorded yet");
	CHECK(history_record(db, "/r/1", "series A", "base", first, 2, &err) == 0);
	CHECK(history_record(db, "/r/2", "series B", "base", first, 2, &err) == 0);
	buf_reset(&about);
	CHECK(history_changes(&changes, &about, db, "series A", &err) == 0);
	CHECK_CONTAINS(about.data, "no earlier run of 'series A'");
	CHECK(history_record(db, "/r/3", "series A", "base", second, 2, &err) == 0);
	buf_reset(&about);
	CHECK(history_changes(&changes, &about, db, "series A", &err) == 0);
	CHECK_CONTAINS(about.data, "run 3 of");
	CHECK_CONTAINS(about.data, "run 1 of");
	CHECK(changes.nr == 3);
	if (changes.nr == 3) {
		CHECK_STR(changes.v[0], "v1 x86_64 t: fail -> pass");
		CHECK_STR(changes.v[1], "v2 x86_64 new splat: BUG: Bad rss-counter state");
		CHECK_STR(changes.v[2], "v1 x86_64 splat gone: WARNING in zap_pte_range");
	}
	for (int i = 0; i < 2; i++) {
		results_cell_release(&first[i]);
		results_cell_release(&second[i]);
	}
	strvec_clear(&changes);
	buf_release(&about);
	util_rm_rf(dir);
	kperror_release(&err);
}

TEST(reports_junit_kcidb_html)
{
	struct cell c[2];
	struct buf b = BUF_INIT;
	fill_cell(&c[0], "base", "t", TEST_PASS, NULL);
	fill_cell(&c[1], "v1", "t", TEST_FAIL, "WARNING in zap_pte_range");
	c[1].baseline = strdup("base");
	c[1].patchset = strdup("ab12");
	results_compare(c, 2);
	report_junit(&b, "a <series>", c, 2);
	CHECK_CONTAINS(b.data, "<testsuites name=\"kpipe: a &lt;series&gt;\">");
	CHECK_CONTAINS(b.data, "<testsuite name=\"v1/x86_64\" tests=\"4\" failures=\"2\" errors=\"0\" skipped=\"0\"");
	CHECK_CONTAINS(b.data, "<testcase classname=\"kpipe.v1.x86_64\" name=\"t\" time=\"0.00\">");
	CHECK_CONTAINS(b.data, "<failure message=\"fail: not ok: &lt;data&gt; &amp; &quot;marks&quot;\"/>");
	CHECK_CONTAINS(b.data, "name=\"kernel splats\"");
	buf_reset(&b);
	report_kcidb(&b, "run1", c, 2);
	CHECK_CONTAINS(b.data, "\"version\": {\"major\": 4, \"minor\": 3}");
	CHECK_CONTAINS(b.data, "\"id\": \"kpipe:run1-v1\", \"origin\": \"kpipe\", \"patchset_hash\": \"ab12\"");
	CHECK_CONTAINS(b.data, "\"path\": \"kpipe.t\", \"status\": \"FAIL\"");
	buf_reset(&b);
	CHECK(!strstr(b.data, "<svg")); /* no figures, no drawing */
	report_html(&b, "s", NULL, c, 2);
	CHECK_CONTAINS(b.data, "<td class=\"fail\" title=\"not ok: &lt;data&gt; &amp; &quot;marks&quot;\"><a href=\"v1-x86_64/tests/t.out\">fail</a></td>");
	CHECK_CONTAINS(b.data, "<summary>v1/x86_64: WARNING in zap_pte_range (x1)</summary><pre>WARNING: ... &lt;stack&gt;</pre>");
	/* every sample drawn, per cell, on one scale */
	buf_reset(&b);
	for (int i = 0; i < 5; i++) {
		ktap_add_metric(&c[0].tests[0].ktap, "mprotect_rw", 20 + i, "ms");
		ktap_add_metric(&c[1].tests[0].ktap, "mprotect_rw", 40 + i, "ms");
	}
	report_html(&b, "s", NULL, c, 2);
	CHECK_CONTAINS(b.data, "<h2>Performance figures</h2>");
	CHECK_CONTAINS(b.data, "<figcaption>t: mprotect_rw</figcaption>");
	size_t dots = 0;
	for (const char *p = b.data; (p = strstr(p, "<circle")); p++)
		dots++;
	CHECK(dots == 10);
	CHECK_CONTAINS(b.data, ">22 ms (5)</text>");
	CHECK_CONTAINS(b.data, ">42 ms (5)</text>");
	buf_release(&b);
	results_cell_release(&c[0]);
	results_cell_release(&c[1]);
}

/* A JSON syntax check (RFC 8259) for the reports kpipe writes: 1 if 's' is one valid value in UTF-8. */
static const char *json_value(const char *p);
static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}
static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;
		if (!c || c < 0x20)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 5;
			} else if (strchr("\"\\/bfnrt", *p) && *p) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		size_t len = buf_utf8_len(p, strlen(p));
		if (!len)
			return NULL;
		p += len;
	}
	return p + 1;
}
static const char *json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if (!(p = json_string(json_ws(p))))
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			if (!(p = json_value(p)))
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	char *end;
	strtod(p, &end);
	return end > p ? end : NULL;
}
static int json_valid(const char *s)
{
	const char *end = s ? json_value(s) : NULL;
	return end && !*json_ws(end);
}

TEST(reports_stay_valid_on_hostile_input)
{
	struct cell c[3];
	struct buf b = BUF_INIT;
	CHECK(json_valid("{\"a\": [1, \"x\\u0001\", true, null, {}]}"));
	CHECK(!json_valid("{\"builds\": [, {}]}"));
	CHECK(!json_valid("[\"\xff\"]"));
	/* the first cell did not apply; names and reasons hold quotes, controls, invalid UTF-8 */
	fill_cell(&c[0], "v1", "t\"\x1b[2J", TEST_FAIL, NULL);
	c[0].verdict = CELL_APPLY_FAILED;
	results_set_detail(&c[0], "patch 1/2 'mm: \xff\xfe\x1b]0;pwned\x07' does not apply");
	fill_cell(&c[1], "v2", "t", TEST_FAIL, "WARNING in \xc3(zap\x01");
	fill_cell(&c[2], "v3\"}", "t", TEST_PASS, NULL);
	free(c[1].tests[0].reason);
	c[1].tests[0].reason = strdup("not ok 1 \xed\xa0\x80 \x1b[31m");
	report_kcidb(&b, "run\"1", c, 3);
	CHECK(json_valid(b.data));
	if (!json_valid(b.data))
		printf("#   %s\n", b.data);
	CHECK_CONTAINS(b.data, "\"builds\": [\n    {\"id\": \"kpipe:run\\\"1-v2-x86_64\"");
	buf_reset(&b);
	report_junit(&b, "a \xff series \x1b[2J", c, 3);
	for (size_t i = 0; i < b.len;) {
		size_t len = buf_utf8_len(b.data + i, b.len - i);
		unsigned char ch = (unsigned char)b.data[i];
		CHECK(len > 0 && (ch >= 0x20 || ch == '\n' || ch == '\t'));
		if (!len || (ch < 0x20 && ch != '\n' && ch != '\t'))
			break;
		i += len;
	}
	CHECK_CONTAINS(b.data, "<testsuites name=\"kpipe: a \xef\xbf\xbd series \xef\xbf\xbd[2J\">");
	/* summary.json and each result.json too */
	char dir[] = "/tmp/kpipe-unit-reports-XXXXXX";
	struct kperror err = KPERROR_INIT;
	CHECK(mkdtemp(dir) != NULL);
	CHECK(results_write_summary(dir, &(struct results_run){ .title = (char *)"t\xff\x1b" }, c, 3, &err) == 0);
	char path[128];
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	buf_reset(&b);
	CHECK(buf_read_file(&b, path) == 0 && json_valid(b.data));
	free(c[0].dir);
	c[0].dir = strdup(dir);
	CHECK(results_write_cell(&c[0], &err) == 0);
	snprintf(path, sizeof(path), "%s/result.json", dir);
	buf_reset(&b);
	CHECK(buf_read_file(&b, path) == 0 && json_valid(b.data));
	util_rm_rf(dir);
	kperror_release(&err);
	buf_release(&b);
	for (int i = 0; i < 3; i++)
		results_cell_release(&c[i]);
}

TEST(skip_reasons_are_said_once)
{
	struct cell c[3];
	struct strvec out = STRVEC_INIT;
	fill_cell(&c[0], "base", "uffd_rwp", TEST_SKIP, NULL);
	fill_cell(&c[1], "v1", "uffd_rwp", TEST_SKIP, NULL);
	fill_cell(&c[2], "v2", "uffd_rwp", TEST_SKIP, NULL);
	for (int i = 0; i < 3; i++)
		c[i].tests[0].reason = strdup("no UFFD_FEATURE_RWP in the headers");
	results_skip_reasons(&out, c, 3);
	CHECK(out.nr == 1);
	CHECK_STR(out.v[0], "every cell: uffd_rwp skipped: no UFFD_FEATURE_RWP in the headers");
	strvec_clear(&out);
	/* one reason differs: it is said on its own */
	free(c[2].tests[0].reason);
	c[2].tests[0].reason = strdup("the guest has no userfaultfd");
	results_skip_reasons(&out, c, 3);
	CHECK(out.nr == 2);
	if (out.nr == 2) {
		CHECK_STR(out.v[0], "base/x86_64, v1/x86_64: uffd_rwp skipped: no UFFD_FEATURE_RWP in the headers");
		CHECK_STR(out.v[1], "v2/x86_64: uffd_rwp skipped: the guest has no userfaultfd");
	}
	strvec_clear(&out);
	/* one cell alone is named, not "every cell" */
	results_skip_reasons(&out, &c[2], 1);
	CHECK(out.nr == 1 && !strcmp(out.v[0], "v2/x86_64: uffd_rwp skipped: the guest has no userfaultfd"));
	strvec_clear(&out);
	for (int i = 0; i < 3; i++)
		results_cell_release(&c[i]);
}

TEST(patchset_hash_as_kcidb_defines_it)
{
	struct buf h = BUF_INIT;
	const char *patches[] = { "a\n", "b\n" };
	/* sha256("a\n") and sha256("b\n"), each with a newline, hashed again */
	results_patchset_hash(&h, patches, 2);
	/* computed independently with Python's hashlib */
	CHECK_STR(h.data, "7b77b1b66500ed66bdb3e5f10e78f55ab6d4b404fa676ec1bee2ab5b31346a80");
	struct buf again = BUF_INIT;
	results_patchset_hash(&again, patches, 2);
	CHECK_STR(h.data, again.data);
	const char *one[] = { "a\n" };
	buf_reset(&again);
	results_patchset_hash(&again, one, 1);
	CHECK(strcmp(h.data, again.data));
	buf_reset(&again);
	results_patchset_hash(&again, one, 0);
	CHECK(again.len == 0);
	buf_release(&h);
	buf_release(&again);
}


TEST(changes_between_revisions)
{
	struct cell c[3];
	struct strvec out = STRVEC_INIT;
	fill_cell(&c[0], "v1", "t", TEST_FAIL, "WARNING in zap_pte_range");
	fill_cell(&c[1], "v2", "t", TEST_PASS, "WARNING in zap_pte_range");
	fill_cell(&c[2], "v3", "t", TEST_FAIL, NULL);
	results_changes(&out, c, 3);
	CHECK(out.nr == 4);
	if (out.nr == 4) {
		CHECK_STR(out.v[0], "v2 x86_64: fixed: t");
		CHECK_STR(out.v[1], "v2 x86_64: splat still present: WARNING in zap_pte_range");
		CHECK_STR(out.v[2], "v3 x86_64: new failure: t");
		CHECK_STR(out.v[3], "v3 x86_64: splat gone: WARNING in zap_pte_range");
	}
	strvec_clear(&out);
	/* a reroll line says what its revision did to the results: what it fixed and broke, or nothing */
	c[1].reroll = strdup("patch 1/2 changed (mm: a)");
	c[2].reroll = strdup("only the commit messages changed (patch 2/2)");
	results_changes(&out, c, 3);
	CHECK(out.nr == 6);
	if (out.nr == 6) {
		CHECK_STR(out.v[0], "v2: patch 1/2 changed (mm: a); fixed: t");
		CHECK_STR(out.v[3], "v3: only the commit messages changed (patch 2/2); new failure: t");
	}
	strvec_clear(&out);
	results_cell_release(&c[2]);
	fill_cell(&c[2], "v3", "t", TEST_PASS, "WARNING in zap_pte_range");
	c[2].reroll = strdup("only the commit messages changed (patch 2/2)");
	results_changes(&out, c, 3);
	CHECK(out.nr == 5 && !strcmp(out.v[3], "v3: only the commit messages changed (patch 2/2); results as v2"));
	strvec_clear(&out);
	for (int i = 0; i < 3; i++)
		results_cell_release(&c[i]);
}

/* The cells as results_load_summary() reads back what results_write_summary() wrote. */
static struct cell *summary_written_and_read(const struct cell *c, size_t n, size_t *nback)
{
	char dir[] = "/tmp/kpipe-summary-XXXXXX";
	struct kperror err = KPERROR_INIT;
	struct cell *back = NULL;
	*nback = 0;
	CHECK(mkdtemp(dir) != NULL);
	CHECK(results_write_summary(dir, &(struct results_run){ .title = (char *)"s" }, c, n, &err) == 0);
	CHECK(results_load_summary(&back, nback, NULL, dir, &err) == 0);
	util_rm_rf(dir);
	kperror_release(&err);
	return back;
}

static void cells_release(struct cell *cells, size_t n)
{
	for (size_t i = 0; i < n; i++)
		results_cell_release(&cells[i]);
	free(cells);
}

static void add_samples(struct cell *c, const char *name, const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ktap_add_metric(&c->tests[0].ktap, name, v[i], "ms");
}

TEST(perf_changes_only_beyond_noise)
{
	struct cell c[3];
	struct strvec out = STRVEC_INIT;
	fill_cell(&c[0], "base", "t", TEST_PASS, NULL);
	fill_cell(&c[1], "v1", "t", TEST_PASS, NULL);
	fill_cell(&c[2], "v2", "t", TEST_PASS, NULL);
	c[1].baseline = strdup("base");
	c[2].baseline = strdup("base");
	for (int i = 0; i < 3; i++)
		c[i].accel = strdup("kvm"); /* boots as steady as samples: no floor */
	static const double base[] = { 390, 400, 410, 395, 405 };
	static const double v1[] = { 290, 300, 310, 295, 305 };   /* -25%, every sample faster */
	static const double v2[] = { 250, 340, 360, 280, 330 };   /* vs v1: +10%, overlapping: noise */
	add_samples(&c[0], "pageout", base, 5);
	add_samples(&c[1], "pageout", v1, 5);
	add_samples(&c[2], "pageout", v2, 5);
	ktap_add_metric(&c[2].tests[0].ktap, "other", 1, "");  /* nothing to compare with */
	ktap_add_metric(&c[0].tests[0].ktap, "once", 10, "ms"); /* one sample each: says nothing */
	ktap_add_metric(&c[1].tests[0].ktap, "once", 30, "ms");
	results_changes(&out, c, 3);
	CHECK(out.nr == 1);
	if (out.nr == 1)
		CHECK_STR(out.v[0], "v1 x86_64: perf: t pageout: 400 -> 300 ms (-25% vs base, 5/5 samples faster, p=0.008; one boot each)");
	strvec_clear(&out);
	/* seen in one boot each: to measure again, in both kernels */
	results_perf_to_confirm(&out, c, 3, 1);
	CHECK(out.nr == 1 && !strcmp(out.v[0], "t"));
	strvec_clear(&out);
	results_perf_to_confirm(&out, c, 3, 2);
	CHECK(out.nr == 0);
	CHECK(results_perf_reference(c, 3, 1) == 0 && results_perf_reference(c, 3, 2) == 1 &&
	      results_perf_reference(c, 3, 0) == -1);
	/* second boots that show it too: listed as confirmed */
	static const double base2[] = { 380, 395, 400, 405, 420 }, v1_again[] = { 280, 290, 300, 305, 310 };
	for (size_t i = 0; i < 5; i++) {
		ktap_add_confirm_sample(&c[0].tests[0].ktap, "pageout", base2[i], "ms");
		ktap_add_confirm_sample(&c[1].tests[0].ktap, "pageout", v1_again[i], "ms");
	}
	results_changes(&out, c, 3);
	CHECK(out.nr == 1);
	if (out.nr == 1)
		CHECK_STR(out.v[0], "v1 x86_64: perf: t pageout: 400 -> 300 ms (-25% vs base, 5/5 samples faster, p=0.008; "
				    "again in second boots: -25%, p=0.008; every boot 1.3x faster, boots alone up to 1.1x)");
	strvec_clear(&out);

	/* kept in summary.tsv, every sample, and read back */
	size_t nback = 0;
	struct cell *back = summary_written_and_read(c, 3, &nback);
	CHECK(nback == 3 && back[2].nr_tests == 1 && back[2].tests[0].ktap.nr_metrics == 2);
	if (nback == 3 && back[2].nr_tests == 1 && back[2].tests[0].ktap.nr_metrics == 2) {
		const struct ktap_metric *m = &back[2].tests[0].ktap.metrics[0];
		CHECK_STR(m->name, "pageout");
		CHECK(m->nr_samples == 5 && m->samples[0] == 250 && m->samples[4] == 330);
		const struct ktap_metric *m1b = &back[1].tests[0].ktap.metrics[0];
		CHECK(m1b->nr_samples == 5 && m1b->nr_confirm == 5 && m1b->confirm[0] == 280); /* perf2 lines */
		CHECK(m->value == 330);
		CHECK_STR(m->unit, "ms");
	}
	cells_release(back, nback);
	/* second boots that do not show it: the first two boots differed, not the kernels */
	struct ktap_metric *m1 = &c[1].tests[0].ktap.metrics[0];
	for (size_t i = 0; i < m1->nr_confirm; i++)
		m1->confirm[i] = base2[i] + 1;
	results_changes(&out, c, 3);
	CHECK(out.nr == 0);
	strvec_clear(&out);

	/* under TCG (or an accelerator not known) boots differ up to 2x: -25% is not worth a second boot */
	free(c[1].accel);
	c[1].accel = strdup("tcg");
	results_perf_to_confirm(&out, c, 3, 1);
	CHECK(out.nr == 0);
	for (size_t i = 0; i < m1->nr_confirm; i++)
		m1->confirm[i] = v1_again[i];
	results_changes(&out, c, 3);
	CHECK(out.nr == 0);
	strvec_clear(&out);
	/* 3x slower in both boots: listed; the floor is said */
	for (size_t i = 0; i < m1->nr_samples; i++)
		m1->samples[i] = base[i] * 3;
	for (size_t i = 0; i < m1->nr_confirm; i++)
		m1->confirm[i] = base2[i] * 3;
	results_changes(&out, c, 3); /* and v2, at a third of that, is 3.6x faster than v1, one boot each */
	CHECK(out.nr == 2);
	if (out.nr == 2)
		CHECK_STR(out.v[0], "v1 x86_64: perf: t pageout: 400 -> 1.2e+03 ms (+200% vs base, 5/5 samples slower, p=0.008; "
				    "again in second boots: +200%, p=0.008; every boot 3x slower, boots alone up to 2x)");
	strvec_clear(&out);
	/* ... unless the base's own two boots lie further apart than that */
	struct ktap_metric *m0 = &c[0].tests[0].ktap.metrics[0];
	for (size_t i = 0; i < m0->nr_confirm; i++)
		m0->confirm[i] = base2[i] * 2.5;
	results_changes(&out, c, 3);
	CHECK(out.nr == 1);
	if (out.nr == 1)
		CHECK_STR(out.v[0], "v2 x86_64: perf: t pageout: 1.2e+03 -> 330 ms (-72% vs v1, 5/5 samples faster, p=0.008; one boot each)");
	strvec_clear(&out);
	for (int i = 0; i < 3; i++)
		results_cell_release(&c[i]);
}

TEST(perf_statistics)
{
	static const double lo[] = { 1, 2, 3, 4, 5 }, hi[] = { 6, 7, 8, 9, 10 };
	static const double mixed[] = { 1, 3, 5, 7, 9 }, even[] = { 2, 4, 6, 8, 10 };
	/* fully separated 5 against 5: 2 of the C(10,5) = 252 orders are as extreme */
	double p = perf_mann_whitney_p(hi, 5, lo, 5);
	CHECK(p > 0.00793 && p < 0.00794);
	CHECK(perf_mann_whitney_p(lo, 5, hi, 5) == p); /* two-sided */
	CHECK(perf_mann_whitney_p(mixed, 5, even, 5) > 0.5);
	CHECK(perf_mann_whitney_p(lo, 5, lo, 5) == 1); /* all tied */
	static const double many_a[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	static const double many_b[12] = { 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 };
	CHECK(perf_mann_whitney_p(many_a, 12, many_b, 12) < 1e-5);
	CHECK(perf_median(mixed, 5) == 5 && perf_median(lo, 4) == 2.5);

	struct perf_cmp cmp;
	static const double base[] = { 20, 21, 22, 23, 24 }, slow[] = { 44, 46, 47, 45, 50 };
	CHECK(perf_compare(base, 5, slow, 5, &cmp) == 0);
	CHECK(cmp.significant && cmp.slower == 5 && cmp.change > 1.0 && cmp.change < 1.2);
	static const double slight[] = { 24.02, 24.04, 24.06, 24.08, 24.1 }; /* +9%: consistent but too small */
	CHECK(perf_compare(base, 5, slight, 5, &cmp) == 0 && cmp.p < 0.01 && !cmp.significant);
	static const double noisy[] = { 10, 15, 20, 30, 40 }; /* its own spread is 75% */
	static const double up40[] = { 41, 42, 43, 44, 45 };   /* +115%: beyond that spread */
	static const double up60[] = { 31, 32, 33, 34, 35 };   /* +65%: inside it */
	CHECK(perf_compare(noisy, 5, up40, 5, &cmp) == 0 && cmp.significant);
	CHECK(perf_compare(noisy, 5, up60, 5, &cmp) == 0 && !cmp.significant);
	CHECK(perf_compare(base, 4, slow, 5, &cmp) == -1 && !cmp.significant); /* too few samples */

	/* boots against boots */
	struct perf_boots b;
	static const double ref[] = { 100, 120 }, twice[] = { 260, 300 }, near[] = { 200, 130 };
	perf_boots_compare(ref, twice, 2, PERF_TCG_BOOT_NOISE, &b);
	CHECK(b.differ == 1 && b.noise == 1.0 && b.least > 1.16 && b.least < 1.17); /* 260 / 120 */
	perf_boots_compare(ref, twice, 2, 0, &b);
	CHECK(b.differ == 1 && b.noise > 0.19 && b.noise < 0.21); /* the reference's own boots: 20% apart */
	perf_boots_compare(ref, near, 2, 0, &b);
	CHECK(b.differ == 0 && b.noise > 0.53); /* 130 vs 200: its own boots are 54% apart */
	perf_boots_compare(twice, ref, 2, PERF_TCG_BOOT_NOISE, &b);
	CHECK(b.differ == -1 && b.least < -0.53 && b.least > -0.54); /* 120 / 260: 2.17x faster */
	static const double overlap[] = { 110, 300 };
	perf_boots_compare(ref, overlap, 2, 0, &b);
	CHECK(b.differ == 0 && b.least == 0);
	perf_boots_compare(ref, twice, 1, PERF_TCG_BOOT_NOISE, &b); /* one boot: only the floor */
	CHECK(b.differ == 1 && b.noise == 1.0);
	perf_boots_compare(ref, ref, 0, 0, &b);
	CHECK(b.differ == 0);
}

/* Test 't' of cell 'c' failing exactly the KTAP cases named in 'names' (NULL-terminated). */
static void fail_cases(struct cell *c, const char *const *names)
{
	for (; *names; names++)
		ktap_add_case(&c->tests[0].ktap, KTAP_FAIL, *names);
}

TEST(failures_compared_case_by_case)
{
	struct cell c[4];
	fill_cell(&c[0], "base", "t", TEST_FAIL, NULL);
	fill_cell(&c[1], "v1", "t", TEST_FAIL, NULL);
	fill_cell(&c[2], "v2", "t", TEST_FAIL, NULL);
	fill_cell(&c[3], "v3", "t", TEST_FAIL, NULL);
	for (int i = 1; i < 4; i++)
		c[i].baseline = strdup("base");
	ktap_add_case(&c[0].tests[0].ktap, KTAP_PASS, "B");
	fail_cases(&c[0], (const char *const[]){ "A", NULL });
	fail_cases(&c[1], (const char *const[]){ "A", NULL });
	fail_cases(&c[2], (const char *const[]){ "A", "B", NULL });
	fail_cases(&c[3], (const char *const[]){ "B", "C", NULL });
	results_compare(c, 4);
	/* the base fails A too: nothing new */
	CHECK(c[1].tests[0].preexisting && !c[1].tests[0].new_cases && c[1].regressions == 0);
	/* B passes on the base: a regression although the test fails there too */
	CHECK(!c[2].tests[0].preexisting && c[2].regressions == 1);
	CHECK_STR(c[2].tests[0].new_cases ? c[2].tests[0].new_cases : "", "'B'");
	CHECK_STR(c[3].tests[0].new_cases ? c[3].tests[0].new_cases : "", "'B', 'C'");
	CHECK(!results_test_regressed(&c[1].tests[0], &c[0].tests[0]));
	CHECK(results_test_regressed(&c[2].tests[0], &c[0].tests[0]));
	CHECK(results_test_regressed(&c[1].tests[0], NULL));

	struct strvec out = STRVEC_INIT;
	results_changes(&out, c, 4);
	CHECK(out.nr == 2);
	if (out.nr == 2) {
		CHECK_STR(out.v[0], "v2 x86_64: t fails differently: now also 'B'");
		CHECK_STR(out.v[1], "v3 x86_64: t fails differently: now 'C'; no longer 'A'");
	}
	strvec_clear(&out);
	/* report.html says the same */
	struct buf html = BUF_INIT;
	report_html(&html, "s", NULL, c, 4);
	CHECK_CONTAINS(html.data, "<h2>Changes between revisions</h2>");
	CHECK_CONTAINS(html.data, "<li>v2 x86_64: t fails differently: now also &#39;B&#39;</li>");
	CHECK_CONTAINS(html.data, " (fails on the base too, but not &#39;B&#39;)\"><a href=\"v2-x86_64/tests/t.out\">fail");
	buf_release(&html);

	/* the failing cases are kept in summary.tsv: a cached baseline compares the same */
	size_t nback = 0;
	struct cell *back = summary_written_and_read(c, 4, &nback);
	CHECK(nback == 4);
	if (nback == 4) {
		CHECK(back[2].tests[0].ktap.failed == 2 && back[0].tests[0].ktap.failed == 1);
		results_compare(back, nback);
		CHECK(back[1].tests[0].preexisting && !back[2].tests[0].preexisting);
	}
	cells_release(back, nback);

	/* a baseline without case lines (an older cache): the test as a whole decides */
	ktap_release(&c[0].tests[0].ktap);
	c[0].tests[0].ktap.planned = -1;
	results_compare(c, 4);
	CHECK(c[2].tests[0].preexisting && !c[2].tests[0].new_cases);
	for (int i = 0; i < 4; i++)
		results_cell_release(&c[i]);
}

const struct unit_test results_tests[] = {
	{ "results: failures compared case by case", failures_compared_case_by_case },
	{ "results: summary round trip", results_summary_round_trip },
	{ "results: perf figures change only beyond noise, every sample kept", perf_changes_only_beyond_noise },
	{ "perfstat: Mann-Whitney U, medians, spread", perf_statistics },
	{ "history: round trip and changes", history_round_trip_and_changes },
	{ "report: JUnit, KCIDB, HTML", reports_junit_kcidb_html },
	{ "results: patchset hash as KCIDB defines it", patchset_hash_as_kcidb_defines_it },
	{ "results: a skip reason shared by several cells is said once, with its cells", skip_reasons_are_said_once },
	{ "report: KCIDB is valid JSON and JUnit valid UTF-8 XML whatever the input (first cell not applied, invalid UTF-8, controls, quotes)",
	  reports_stay_valid_on_hostile_input },
	{ "results: changes between revisions", changes_between_revisions },
	{ NULL, NULL },
};
