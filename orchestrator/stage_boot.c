/* The boot stage: the staged kernel in a transient libvirt domain, up to its sshd. */
#include "stage.h"
#include "guest.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tail of the console for a one-line verdict: the panic message, if any. */
static void boot_failure_detail(struct cell *c, const char *console, const char *what)
{
	struct buf text = BUF_INIT;
	struct splat_list l = SPLAT_LIST_INIT;
	buf_read_file(&text, console);
	splat_scan(&l, text.data);
	if (l.nr)
		results_set_detail(c, "%s: %s", what, l.v[l.nr - 1].title);
	else
		results_set_detail(c, "%s (see console.log)", what);
	splat_list_release(&l);
	buf_release(&text);
}

static void boot_tick(void *data, double elapsed)
{
	stage_ui_alive(data, STAGE_BOOT, elapsed, NULL);
}

int stage_boot(struct cell_run *r, struct kperror *err)
{
	struct cell *c = r->cell;
	struct buf name = BUF_INIT, pub = BUF_INIT, cmdline = BUF_INIT, path = BUF_INIT;
	char ready[256];
	int ret = -1;
	double start = util_now();
	const char *outcome = "error";
	int boot_timeout = r->ctx->cfg->boot_timeout * r->arch->arch->slowdown;

	stage_ui_start(r, STAGE_BOOT, NULL);
	buf_addf(&name, "kpipe-%s-%s-%s", r->ctx->run_id, c->revision, c->arch);
	buf_reset(&path);
	buf_addf(&path, "%s/console.log", r->vmdir);
	r->console = strdup(path.data);
	buf_reset(&path);
	buf_addf(&path, "%s/kernel", r->vmdir);

	if (guest_key_generate(&r->key, &pub, err) < 0)
		goto out;
	buf_addf(&cmdline, "kpipe.sshkey=%s", pub.data);
	if (r->ctx->cfg->vm_cmdline && *r->ctx->cfg->vm_cmdline)
		buf_addf(&cmdline, " %s", r->ctx->cfg->vm_cmdline);
	struct vm_opts o = {
		.uri = r->host_uri ? r->host_uri : r->ctx->cfg->hosts[0].uri, .name = name.data, .arch = c->arch,
		.kernel = path.data, .initrd = r->arch->image, .cmdline = cmdline.data,
		.console_path = r->console, .console_limit = config_output_limit(r->ctx->cfg) + 1, /* +1: seen as cut */
		.memory_mib = r->ctx->cfg->vm_memory_mib,
		.cpus = r->ctx->cfg->vm_cpus, .accel = r->ctx->cfg->vm_accel,
	};
	if (vm_start(&r->vm, &o, err) < 0)
		goto out;
	free(c->host);
	c->host = strdup(vm_host(r->vm));
	/* how the guest was started, for the user (and make bench's bare virsh boot) */
	struct buf xml = BUF_INIT, xml_path = BUF_INIT;
	buf_adds(&xml, vm_domain_xml_used(r->vm));
	buf_addf(&xml_path, "%s/domain.xml", c->dir);
	stage_keep_file(r, &xml, xml_path.data);
	buf_release(&xml);
	buf_release(&xml_path);
	int w = vm_wait_for_ssh(r->vm, boot_timeout, boot_tick, r, err);
	if (w < 0)
		goto out;
	if (w != VM_READY) {
		c->verdict = CELL_BOOT_FAILED;
		if (w == VM_DIED) {
			boot_failure_detail(c, r->console, "the guest died while booting");
			outcome = "DIED";
		} else {
			vm_destroy(r->vm);
			r->vm = NULL;
			boot_failure_detail(c, r->console, "sshd did not answer");
			results_set_detail(c, "no ssh within %d s (%s)", boot_timeout,
					   c->detail);
			splat_add(&c->splats, "guest hang: no ssh after boot", c->detail);
			outcome = "TIMEOUT";
		}
		vm_destroy(r->vm);
		r->vm = NULL;
		ret = 0;
		goto out;
	}
	/* a remote guest's 127.0.0.1 port is kpipe's end of the tunnel: its host says more */
	if (r->ctx->cfg->nr_hosts > 1 || r->ctx->cfg->hosts[0].remote)
		snprintf(ready, sizeof(ready), "ssh on %s (%s)", vm_host(r->vm), vm_accel(r->vm));
	else
		snprintf(ready, sizeof(ready), "ssh on 127.0.0.1:%d (%s)", vm_ssh_port(r->vm), vm_accel(r->vm));
	free(c->accel);
	c->accel = strdup(vm_accel(r->vm));
	outcome = ready;
	ret = 0;
out:
	c->seconds[STAGE_BOOT] = util_now() - start;
	stage_ui_end(r, STAGE_BOOT, outcome);
	buf_release(&name);
	buf_release(&pub);
	buf_release(&cmdline);
	buf_release(&path);
	return ret;
}

