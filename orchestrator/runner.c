#include "runner.h"
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum lane { LANE_BUILD, LANE_GUEST };

/* Every stage a cell can go through, in order, and the lane it runs in. */
static const struct {
	int (*fn)(struct cell_run *r, struct kperror *err);
	enum lane lane;
} stage_table[] = {
	{ stage_build, LANE_BUILD },
	{ stage_kernel, LANE_BUILD },
	{ stage_guest_tests, LANE_BUILD },
	{ stage_boot, LANE_GUEST },
	{ stage_test, LANE_GUEST },
};

/* The stages of 'lane' in order, until one decides the cell (build or boot failed). */
static int run_lane(struct cell_run *r, enum lane lane, struct kperror *err)
{
	for (size_t i = 0; i < sizeof(stage_table) / sizeof(stage_table[0]); i++) {
		if (stage_table[i].lane != lane)
			continue;
		if (r->cell->verdict != CELL_NOT_RUN)
			return 0;
		if (stage_table[i].fn(r, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * The end of every cell: the verdict stage; 'ret' < 0 (with 'err') makes
 * it infra or not run; then its result.json.  Returns 'ret', or -1 with
 * 'err' if the result could not be written.
 */
static int finish_cell(struct cell_run *r, int ret, struct kperror *err)
{
	struct cell *c = r->cell;
	stage_verdict(r);
	if (ret == 0 && r->write_errno)
		ret = kperror_errno(err, KPERROR_INFRA, r->write_errno, "cannot write '%s'", r->write_path);
	if (ret < 0) {
		c->verdict = err->kind == KPERROR_INTERRUPTED ? CELL_NOT_RUN : CELL_INFRA;
		results_set_detail(c, "%s", err->msg.data);
	}
	struct kperror werr = KPERROR_INIT;
	if (results_write_cell(c, &werr) < 0 && ret == 0) {
		kperror_set(err, werr.kind, "%s", werr.msg.data);
		ret = -1;
	}
	kperror_release(&werr);
	return ret;
}

/* The build lane of a cell: each patch first when asked, then the build stages. */
static int build_lane(struct cell_run *r, const struct runner_cell_opts *o, struct kperror *err)
{
	if (o && o->rev && stage_each_patch(r, o->base, o->commits, o->rev, err) < 0)
		return -1;
	return run_lane(r, LANE_BUILD, err);
}

int runner_run_cell(struct run_ctx *ctx, struct cell *c, const git_oid *commit,
		    const struct runner_cell_opts *o, struct kperror *err)
{
	struct cell_run r;
	int ret = cell_run_init(&r, ctx, c, commit, err);
	if (ret == 0) {
		r.only_tests = o ? o->only_tests : NULL;
		ret = build_lane(&r, o, err);
	}
	if (ret == 0)
		ret = run_lane(&r, LANE_GUEST, err);
	ret = finish_cell(&r, ret, err);
	cell_run_release(&r);
	if (o && o->done)
		o->done(o->done_data, c);
	return ret;
}

size_t runner_guest_slots(const struct config *cfg)
{
	if (strcmp(cfg->vm_guests, "auto"))
		return (size_t)strtoul(cfg->vm_guests, NULL, 10);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	/* a build takes the cores it has; each emulated guest wants one more and its memory */
	long by_cores = cores > 2 ? cores / 2 : 1;
	struct buf meminfo = BUF_INIT;
	long by_memory = by_cores;
	if (buf_read_file(&meminfo, "/proc/meminfo") == 0) {
		const char *avail = strstr(meminfo.data, "MemAvailable:");
		long kib = avail ? strtol(avail + strlen("MemAvailable:"), NULL, 10) : 0;
		/* keep 4 GiB for the builds (compilers, linking) */
		long spare = kib / 1024 - 4096;
		by_memory = spare / (cfg->vm_memory_mib + 256);
	}
	buf_release(&meminfo);
	long slots = by_cores < by_memory ? by_cores : by_memory;
	return slots < 1 ? 1 : (size_t)slots;
}

struct runner_job {
	struct cell_run r;      /* built and staged: its vmdir holds kernel and tests */
	struct runner_cell_opts o;
	struct runner_job *next;
};

/* A libvirt host and its slots. */
struct runner_host {
	char *uri, *name;
	size_t slots, busy;     /* under runner.lock */
	int down;               /* failed: no more guests there (under runner.lock) */
};

struct runner_slot {
	struct runner *rn;
	size_t host;
	pthread_t thread;
};

struct runner {
	struct run_ctx *ctx;
	struct runner_slot *slots;
	size_t nr_slots;
	struct runner_host *hosts;
	size_t nr_hosts;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct runner_job *head, *tail;
	int closing;               /* no more jobs will come */
	int failed;                /* 'err' is set: later jobs are not run */
	struct kperror err;
};

static void job_done(struct runner_job *j)
{
	struct cell *c = j->r.cell;
	cell_run_release(&j->r);
	if (j->o.done)
		j->o.done(j->o.done_data, c);
	free(j);
}

static int hosts_up(const struct runner *rn)
{
	int up = 0;
	for (size_t h = 0; h < rn->nr_hosts; h++)
		up += !rn->hosts[h].down;
	return up;
}

/*
 * The job slot 'host' takes next (under the lock): the first planned for
 * it, else the first whose planned host is down or has no free slot.
 */
static struct runner_job *take_job(struct runner *rn, size_t host)
{
	struct runner_job **pick = NULL;
	for (struct runner_job **p = &rn->head; *p; p = &(*p)->next) {
		size_t want = (*p)->o.host < rn->nr_hosts ? (*p)->o.host : 0;
		const struct runner_host *w = &rn->hosts[want];
		if (want == host) {
			pick = p;
			break;
		}
		if (!pick && (w->down || w->busy >= w->slots || rn->failed))
			pick = p;
	}
	if (!pick)
		return NULL;
	struct runner_job *j = *pick;
	*pick = j->next;
	if (rn->tail == j) {
		rn->tail = NULL;
		for (struct runner_job *q = rn->head; q; q = q->next)
			rn->tail = q;
	}
	j->next = NULL;
	return j;
}

/* Put 'j' back first in the queue, for another host (under the lock). */
static void requeue_first(struct runner *rn, struct runner_job *j)
{
	j->next = rn->head;
	rn->head = j;
	if (!rn->tail)
		rn->tail = j;
	pthread_cond_broadcast(&rn->wake);
}

/*
 * Host 'h' failed under cell 'j': mark it down and, while another host is
 * up, give the cell to it (1); 0 if there is none (the error stands).
 */
static int host_failed(struct runner *rn, size_t h, struct runner_job *j, const struct kperror *err)
{
	struct cell *c = j->r.cell;
	pthread_mutex_lock(&rn->lock);
	int first = !rn->hosts[h].down;
	rn->hosts[h].down = 1;
	int others = hosts_up(rn) > 0 && rn->nr_hosts > 1;
	pthread_mutex_unlock(&rn->lock);
	if (first && rn->nr_hosts > 1)
		run_ctx_say(rn->ctx, NULL, "host %s is down (%s)%s", rn->hosts[h].name, err->msg.data,
			    others ? ": its cells go to the other hosts" : ": no host is left");
	if (!others)
		return 0;
	stage_guest_forget(&j->r, j->o.notes);
	results_add_note(c, "its guest moved to another host: %s went down (%s)", rn->hosts[h].name,
			 err->msg.data);
	pthread_mutex_lock(&rn->lock);
	requeue_first(rn, j);
	pthread_mutex_unlock(&rn->lock);
	return 1;
}

static void *guest_slot_main(void *arg)
{
	struct runner_slot *slot = arg;
	struct runner *rn = slot->rn;
	struct runner_host *host = &rn->hosts[slot->host];
	for (;;) {
		pthread_mutex_lock(&rn->lock);
		struct runner_job *j = NULL;
		for (;;) {
			/* a host that went down leaves its jobs to the others, or, with none left, finishes them */
			if (host->down && hosts_up(rn) > 0)
				break;
			if ((j = take_job(rn, slot->host)) || rn->closing)
				break;
			pthread_cond_wait(&rn->wake, &rn->lock);
		}
		int skip = rn->failed || host->down;
		if (j)
			host->busy++;
		pthread_mutex_unlock(&rn->lock);
		if (!j)
			return NULL;

		struct kperror err = KPERROR_INIT;
		int moved = 0;
		j->r.host_uri = host->uri;
		if (skip || proc_interrupted) {
			kperror_set(&err, proc_interrupted ? KPERROR_INTERRUPTED : KPERROR_INFRA,
				    "not run: %s", proc_interrupted ? "interrupted" : "an earlier guest run failed");
			finish_cell(&j->r, -1, &err);
		} else {
			int r = run_lane(&j->r, LANE_GUEST, &err);
			if (r < 0 && err.kind == KPERROR_HOST)
				moved = host_failed(rn, slot->host, j, &err);
			if (!moved && finish_cell(&j->r, r, &err) < 0) {
				pthread_mutex_lock(&rn->lock);
				if (!rn->failed) {
					rn->failed = 1;
					kperror_set(&rn->err, err.kind, "%s", err.msg.data);
				}
				pthread_cond_broadcast(&rn->wake);
				pthread_mutex_unlock(&rn->lock);
			}
		}
		kperror_release(&err);
		pthread_mutex_lock(&rn->lock);
		host->busy--;
		pthread_cond_broadcast(&rn->wake); /* a free slot: jobs waiting for it may be taken */
		pthread_mutex_unlock(&rn->lock);
		if (!moved)
			job_done(j);
	}
}

int runner_start(struct runner **out, struct run_ctx *ctx, const struct plan_host *hosts, size_t nr_hosts,
		 struct kperror *err)
{
	struct runner *rn = calloc(1, sizeof(*rn));
	size_t total = 0;
	for (size_t h = 0; h < nr_hosts; h++)
		total += hosts[h].slots ? hosts[h].slots : 1;
	if (!rn || !nr_hosts || !(rn->slots = calloc(total, sizeof(*rn->slots))) ||
	    !(rn->hosts = calloc(nr_hosts, sizeof(*rn->hosts)))) {
		if (rn)
			free(rn->slots);
		free(rn);
		return kperror_errno(err, KPERROR_INFRA, ENOMEM, "cannot start the guest slots");
	}
	rn->ctx = ctx;
	rn->err = (struct kperror)KPERROR_INIT;
	pthread_mutex_init(&rn->lock, NULL);
	pthread_cond_init(&rn->wake, NULL);
	for (size_t h = 0; h < nr_hosts; h++) {
		rn->hosts[h].uri = strdup(hosts[h].uri);
		rn->hosts[h].name = strdup(hosts[h].name);
		rn->hosts[h].slots = hosts[h].slots ? hosts[h].slots : 1;
	}
	rn->nr_hosts = nr_hosts;
	/* the slots of the hosts in turn: with fewer jobs than slots, every host gets its share */
	for (size_t k = 0, made = 0; made < total; k++)
		for (size_t h = 0; h < nr_hosts; h++) {
			if (k >= rn->hosts[h].slots)
				continue;
			struct runner_slot *slot = &rn->slots[rn->nr_slots];
			*slot = (struct runner_slot){ rn, h, 0 };
			made++;
			int e = pthread_create(&slot->thread, NULL, guest_slot_main, slot);
			if (e) {
				kperror_errno(err, KPERROR_INFRA, e, "cannot start guest slot %zu", rn->nr_slots + 1);
				struct kperror ignored = KPERROR_INIT;
				runner_finish(rn, &ignored);
				kperror_release(&ignored);
				return -1;
			}
			rn->nr_slots++;
		}
	*out = rn;
	return 0;
}

int runner_failed(struct runner *rn)
{
	pthread_mutex_lock(&rn->lock);
	int failed = rn->failed;
	pthread_mutex_unlock(&rn->lock);
	return failed;
}

int runner_submit(struct runner *rn, struct cell *c, const git_oid *commit,
		  const struct runner_cell_opts *o, struct kperror *err)
{
	struct runner_job *j = calloc(1, sizeof(*j));
	if (!j) {
		kperror_errno(err, KPERROR_INFRA, ENOMEM, "out of memory");
		if (o && o->done)
			o->done(o->done_data, c);
		return -1;
	}
	if (o)
		j->o = *o;
	int ret = cell_run_init(&j->r, rn->ctx, c, commit, err);
	if (ret == 0) {
		j->r.only_tests = j->o.only_tests;
		ret = build_lane(&j->r, &j->o, err);
	}
	j->o.notes = c->notes.nr;
	if (ret < 0 || c->verdict != CELL_NOT_RUN) {
		/* failed here, or decided (it did not build): final now */
		ret = finish_cell(&j->r, ret, err);
		job_done(j);
		return ret;
	}
	/* built: the guest is a slot's, while this thread builds on */
	pthread_mutex_lock(&rn->lock);
	if (rn->tail)
		rn->tail->next = j;
	else
		rn->head = j;
	rn->tail = j;
	pthread_cond_broadcast(&rn->wake); /* the slot it is planned for may not be the one a signal wakes */
	pthread_mutex_unlock(&rn->lock);
	return 0;
}

int runner_finish(struct runner *rn, struct kperror *err)
{
	if (!rn)
		return 0;
	pthread_mutex_lock(&rn->lock);
	rn->closing = 1;
	pthread_cond_broadcast(&rn->wake);
	pthread_mutex_unlock(&rn->lock);
	for (size_t i = 0; i < rn->nr_slots; i++)
		pthread_join(rn->slots[i].thread, NULL);
	/* a host that went down kept the kernels of the guests it lost: remove them if it is back */
	for (size_t h = 0; h < rn->nr_hosts; h++) {
		if (!rn->hosts[h].down)
			continue;
		struct kperror verr = KPERROR_INIT;
		char *prefix = util_strfmt(VM_KERNEL_VOLUME_PREFIX "kpipe-%s-", rn->ctx->run_id);
		int n = vm_host_remove_volumes(rn->hosts[h].uri, prefix, &verr);
		if (n < 0)
			run_ctx_say(rn->ctx, NULL, "host %s is still down: the kernels of this run's guests there "
				    "(volumes %s* of its pool 'kpipe') stay until it is back", rn->hosts[h].name, prefix);
		else if (n > 0)
			run_ctx_say(rn->ctx, NULL, "host %s answers again: removed the %d kernel volume%s its lost guests left",
				    rn->hosts[h].name, n, n == 1 ? "" : "s");
		free(prefix);
		kperror_release(&verr);
	}
	int ret = 0;
	if (rn->failed)
		ret = kperror_set(err, rn->err.kind, "%s", rn->err.msg.data);
	kperror_release(&rn->err);
	for (size_t h = 0; h < rn->nr_hosts; h++) {
		free(rn->hosts[h].uri);
		free(rn->hosts[h].name);
	}
	free(rn->hosts);
	pthread_mutex_destroy(&rn->lock);
	pthread_cond_destroy(&rn->wake);
	free(rn->slots);
	free(rn);
	return ret;
}
