/* kpipe boot [--arch A] [REF]: build, boot and leave the guest up for ssh. */
#include "single.h"
#include "../guest.h"
#include "../proc.h"
#include "../util.h"

#include <stdio.h>
#include <unistd.h>

int cmd_boot(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct single s;
	struct cell_run r;
	struct buf key = BUF_INIT;
	int started = 0, ret = -1;
	if (single_setup(&s, argc, argv, ctx, "usage: kpipe boot [--arch ARCH] [REF]\n", err) < 0 || s.help)
		goto out;
	if (cell_run_init(&r, &s.ctx, &s.cell, &s.commit, err) < 0)
		goto out;
	started = 1;
	if (stage_build(&r, err) < 0)
		goto out;
	if (!r.kb.ok) {
		printf("build failed:\n%s", r.kb.errors.data);
		ret = 1;
		goto out;
	}
	if (stage_kernel(&r, err) < 0)
		goto out;
	/* the guest has its own kernel copy: other kpipe runs may use the tree and builds now */
	cmd_unlock_cache(ctx);
	if (stage_boot(&r, err) < 0)
		goto out;
	if (!r.vm) {
		printf("boot failed: %s\nconsole: %s/console.log\n", s.cell.detail, s.cell.dir);
		ret = 1;
		goto out;
	}
	buf_addf(&key, "%s/id_ed25519", s.run_dir);
	if (guest_key_save(r.key, key.data, err) < 0)
		goto out;
	printf("\nThe guest is up. Log in with:\n"
	       "  ssh -i %s -p %d -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1\n"
	       "console: %s\n"
	       "Press Ctrl-C to destroy it.\n",
	       key.data, vm_ssh_port(r.vm), r.console);
	fflush(stdout);
	while (!proc_interrupted && vm_is_running(r.vm))
		sleep(1);
	printf("%s\n", proc_interrupted ? "destroying the guest" : "the guest stopped");
	proc_interrupted = 0;
	ret = 0;
out:
	if (s.help)
		ret = 0;
	if (started)
		cell_run_release(&r);
	buf_release(&key);
	single_release(&s);
	return ret;
}
