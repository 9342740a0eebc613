/* The verdict stage: the guest destroyed, its console kept and read for splats, the verdict settled. */
#include "stage.h"
#include "util.h"
#include "verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stage_verdict(struct cell_run *r)
{
	struct cell *c = r->cell;
	struct buf path = BUF_INIT, log = BUF_INIT;
	if (r->settled)
		return;
	r->settled = 1;
	if (r->vm && vm_state(r->vm) == VM_STATE_GONE)
		r->guest_died = 1;
	vm_destroy(r->vm);
	r->vm = NULL;
	if (r->console) {
		/* what a kernel prints is untrusted: kept and read up to [vm] output_limit */
		size_t limit = config_output_limit(r->ctx->cfg);
		int more = buf_read_file_max(&log, r->console, limit);
		if (more >= 0) {
			/* splats: the console has everything the kernel printed */
			splat_scan(&c->splats, log.data);
			if (more) {
				buf_addf(&log, "\n[kpipe: console truncated at %d MiB ([vm] output_limit)]\n",
					 r->ctx->cfg->vm_output_limit_mib);
				results_add_note(c, "the console was truncated at %d MiB ([vm] output_limit)",
						 r->ctx->cfg->vm_output_limit_mib);
			}
			buf_addf(&path, "%s/console.log", c->dir);
			stage_keep_file(r, &log, path.data);
		}
	}
	/* a guest that stopped talking is a finding too */
	for (size_t i = 0; i < c->nr_tests; i++) {
		struct buf title = BUF_INIT;
		if (c->tests[i].verdict == TEST_TIMEOUT)
			buf_addf(&title, "guest hang: %s did not finish", c->tests[i].name);
		else if (c->tests[i].verdict == TEST_LOST && !splat_has_panic(&c->splats))
			buf_addf(&title, "guest stopped answering during %s", c->tests[i].name);
		if (title.len)
			splat_add(&c->splats, title.data, c->tests[i].reason);
		buf_release(&title);
	}
	splat_ignore(&c->splats, &r->ctx->cfg->splat_ignore);
	verdict_settle(c, r->guest_died);
	if (r->key)
		ssh_key_free(r->key);
	r->key = NULL;
	if (r->vmdir)
		util_rm_rf(r->vmdir);
	free(r->vmdir);
	free(r->console);
	r->vmdir = r->console = NULL;
	strvec_clear(&r->unbuilt);
	buf_release(&path);
	buf_release(&log);
}

