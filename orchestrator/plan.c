#include "plan.h"

#include "util.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct plan_cell *add_cell(struct plan *p, const char *name, size_t rev, size_t arch, unsigned steps)
{
	struct plan_cell *c = &p->cells[p->nr_cells++];
	c->revision = strdup(name);
	c->rev = rev;
	c->arch = arch;
	c->baseline = PLAN_NONE;
	c->prev = PLAN_NONE;
	c->steps = steps;
	c->whole = p->nr_cells - 1;
	return c;
}

/* Spread the guest cells over the hosts by their slots (see plan.h). */
static void assign_hosts(struct plan *p)
{
	long *current = calloc(p->nr_hosts, sizeof(*current)), total = 0;
	for (size_t h = 0; h < p->nr_hosts; h++)
		total += (long)p->hosts[h].slots;
	for (size_t i = 0; i < p->nr_cells; i++) {
		struct plan_cell *c = &p->cells[i];
		c->host = PLAN_NONE;
		if (!(c->steps & PLAN_GUEST))
			continue;
		size_t best = 0;
		for (size_t h = 0; h < p->nr_hosts; h++) {
			current[h] += (long)p->hosts[h].slots;
			if (current[h] > current[best])
				best = h;
		}
		current[best] -= total;
		c->host = best;
	}
	free(current);
}

void plan_make(struct plan *out, const struct plan_input *in)
{
	struct plan *p = out;
	size_t narch = in->arches->nr;
	*p = (struct plan)PLAN_INIT;
	for (size_t a = 0; a < narch; a++)
		strvec_push(&p->arches, in->arches->v[a]);
	p->revs = calloc(in->nr_revs ? in->nr_revs : 1, sizeof(*p->revs));
	for (size_t r = 0; r < in->nr_revs; r++) {
		p->revs[r] = in->revs[r];
		p->revs[r].name = strdup(in->revs[r].name);
		p->revs[r].patchset = in->revs[r].patchset ? strdup(in->revs[r].patchset) : NULL;
	}
	p->nr_revs = in->nr_revs;
	p->cells = calloc((in->nr_revs + 1) * narch, sizeof(*p->cells));
	p->tests = calloc(narch ? narch : 1, sizeof(*p->tests));
	for (size_t a = 0; a < narch; a++) {
		strvec_init(&p->tests[a]);
		for (size_t t = 0; in->tests && t < in->tests[a].nr; t++)
			strvec_push(&p->tests[a], in->tests[a].v[t]);
	}
	p->selftests = strdup(in->selftests ? in->selftests : "");
	p->nr_hosts = in->nr_hosts ? in->nr_hosts : 1;
	p->hosts = calloc(p->nr_hosts, sizeof(*p->hosts));
	p->guest_slots = 0;
	for (size_t h = 0; h < p->nr_hosts; h++) {
		const struct plan_host *from = in->nr_hosts ? &in->hosts[h] : NULL;
		p->hosts[h].uri = strdup(from ? from->uri : "local");
		p->hosts[h].name = strdup(from ? from->name : "local");
		p->hosts[h].slots = from ? from->slots : in->guest_slots;
		if (!p->hosts[h].slots)
			p->hosts[h].slots = 1;
		p->guest_slots += p->hosts[h].slots;
	}

	/* the unpatched base, once per arch: from the cache, or tested and then kept */
	for (size_t a = 0; in->with_baseline && a < narch; a++)
		add_cell(p, "base", PLAN_NONE, a,
			 in->base_cached && in->base_cached[a] ? PLAN_LOAD : PLAN_BUILD | PLAN_GUEST | PLAN_STORE);
	for (size_t r = 0; r < in->nr_revs; r++) {
		const struct plan_revision *rev = &p->revs[r];
		for (size_t a = 0; a < narch; a++) {
			unsigned steps = rev->tested ? PLAN_LOAD : PLAN_BUILD | PLAN_GUEST;
			if (!rev->from_commits)
				steps |= PLAN_APPLY; /* a tested one too: its commits show what changed since */
			if (in->each_patch && !rev->tested)
				steps |= PLAN_EACH_PATCH;
			if (in->bisect && !rev->tested)
				steps |= PLAN_BISECT;
			struct plan_cell *c = add_cell(p, rev->name, r, a, steps);
			if (in->with_baseline && rev->on_base)
				c->baseline = plan_find(p, PLAN_NONE, a);
			if (r > 0)
				c->prev = plan_find(p, r - 1, a);
		}
	}
	assign_hosts(p);
	uint64_t h = UTIL_HASH_INIT;
	const char *base = in->base ? in->base : "";
	util_hash(&h, base, strlen(base) + 1);
	util_hash(&h, in->with_baseline ? "b" : "-", 1);
	for (size_t a = 0; a < narch; a++)
		util_hash(&h, in->arches->v[a], strlen(in->arches->v[a]) + 1);
	for (size_t r = 0; r < p->nr_revs; r++) {
		const char *ps = p->revs[r].patchset ? p->revs[r].patchset : "";
		util_hash(&h, p->revs[r].name, strlen(p->revs[r].name) + 1);
		util_hash(&h, ps, strlen(ps) + 1);
	}
	char id[17];
	snprintf(id, sizeof(id), "%016" PRIx64, h);
	p->id = strdup(id);
	for (size_t i = 0; i < p->nr_cells; i++)
		strvec_pushf(&p->whole, "%s/%s", p->cells[i].revision, p->arches.v[p->cells[i].arch]);
}

/* Cell 'i' and every cell it is compared with, marked in 'keep'. */
static void keep_with_baseline(const struct plan *p, unsigned char *keep, size_t i)
{
	keep[i] = 1;
	if (p->cells[i].baseline != PLAN_NONE)
		keep[p->cells[i].baseline] = 1;
}

int plan_select(struct plan *p, const struct strvec *patterns, unsigned shard, unsigned nr_shards,
		struct buf *why)
{
	size_t n = p->nr_cells, nr_chosen = 0;
	unsigned char *chosen = calloc(n ? n : 1, 1), *keep = calloc(n ? n : 1, 1);
	size_t *order = calloc(n ? n : 1, sizeof(*order)), *renumber = calloc(n ? n : 1, sizeof(*renumber));
	int ret = -1;
	if (nr_shards && (shard < 1 || shard > nr_shards)) {
		buf_addf(why, "shard %u/%u: I must be from 1 to N", shard, nr_shards);
		goto out;
	}
	for (size_t k = 0; patterns && k < patterns->nr; k++) {
		size_t matched = 0;
		for (size_t i = 0; i < n; i++)
			if (!fnmatch(patterns->v[k], p->whole.v[i], 0)) {
				chosen[i] = 1;
				matched++;
			}
		if (!matched) {
			buf_addf(why, "--cells '%s' matches no cell of the plan (", patterns->v[k]);
			for (size_t i = 0; i < n; i++)
				buf_addf(why, "%s%s", i ? ", " : "", p->whole.v[i]);
			buf_adds(why, n ? ")" : "it has none)");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!patterns || !patterns->nr)
			chosen[i] = p->cells[i].rev != PLAN_NONE;
	/* the chosen cells by arch, then revision; a shard takes a run of them */
	for (size_t a = 0; a < p->arches.nr; a++)
		for (size_t i = 0; i < n; i++)
			if (chosen[i] && p->cells[i].arch == a)
				order[nr_chosen++] = i;
	size_t from = 0, to = nr_chosen;
	if (nr_shards) {
		from = nr_chosen * (shard - 1) / nr_shards;
		to = nr_chosen * shard / nr_shards;
	}
	for (size_t k = from; k < to; k++)
		keep_with_baseline(p, keep, order[k]);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		renumber[i] = keep[i] ? kept : PLAN_NONE;
		if (!keep[i]) {
			free(p->cells[i].revision);
			continue;
		}
		p->cells[kept++] = p->cells[i];
	}
	for (size_t i = 0; i < kept; i++) {
		struct plan_cell *c = &p->cells[i];
		c->baseline = c->baseline == PLAN_NONE ? PLAN_NONE : renumber[c->baseline];
		c->prev = c->prev == PLAN_NONE ? PLAN_NONE : renumber[c->prev];
	}
	p->selected = kept < n;
	p->nr_cells = kept;
	assign_hosts(p);
	p->shard = nr_shards ? shard : 0;
	p->nr_shards = nr_shards;
	ret = 0;
out:
	free(chosen);
	free(keep);
	free(order);
	free(renumber);
	return ret;
}

size_t plan_find(const struct plan *p, size_t rev, size_t arch)
{
	for (size_t i = 0; i < p->nr_cells; i++)
		if (p->cells[i].rev == rev && p->cells[i].arch == arch)
			return i;
	return PLAN_NONE;
}

static void describe_steps(struct buf *out, const struct plan *p, const struct plan_cell *c)
{
	static const struct {
		unsigned bit;
		const char *what;
	} names[] = {
		{ PLAN_LOAD, "cached: loaded, not built" },
		{ PLAN_APPLY, "apply" },
		{ PLAN_EACH_PATCH, "build each patch" },
		{ PLAN_BUILD, "build" },
		{ PLAN_GUEST, "boot and test" },
		{ PLAN_STORE, "keep in the cache" },
		{ PLAN_BISECT, "bisect if it regresses" },
	};
	int first = 1;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		if (!(c->steps & names[k].bit))
			continue;
		const char *what = names[k].bit == PLAN_LOAD && c->rev != PLAN_NONE
					   ? "tested in an earlier run: loaded, not built" : names[k].what;
		buf_addf(out, "%s%s", first ? "" : ", ", what);
		first = 0;
	}
	if (c->steps & PLAN_APPLY)
		buf_addf(out, " (%zu patch%s)", p->revs[c->rev].nr_patches,
			 p->revs[c->rev].nr_patches == 1 ? "" : "es");
	if (c->baseline != PLAN_NONE)
		buf_addf(out, "; compared with %s/%s", p->cells[c->baseline].revision, p->arches.v[c->arch]);
	else if (c->rev != PLAN_NONE)
		buf_adds(out, "; no baseline: every failure counts");
	if (c->prev != PLAN_NONE)
		buf_addf(out, "; changes since %s", p->cells[c->prev].revision);
}

void plan_describe(struct buf *out, const struct plan *p)
{
	size_t builds = 0, guests = 0, cached = 0;
	for (size_t i = 0; i < p->nr_cells; i++) {
		builds += !!(p->cells[i].steps & PLAN_BUILD);
		guests += !!(p->cells[i].steps & PLAN_GUEST);
		cached += !!(p->cells[i].steps & PLAN_LOAD);
	}
	buf_adds(out, "plan: ");
	if (p->nr_shards)
		buf_addf(out, "shard %u/%u of run %s, ", p->shard, p->nr_shards, p->id);
	else if (p->selected)
		buf_addf(out, "part of run %s, ", p->id);
	if (p->selected)
		buf_addf(out, "%zu of its %zu cells", p->nr_cells, p->whole.nr);
	else
		buf_addf(out, "%zu cell%s", p->nr_cells, p->nr_cells == 1 ? "" : "s");
	buf_addf(out, ": %zu kernel build%s (one at a time), %zu guest%s (%zu at a time), %zu cached\n",
		 builds, builds == 1 ? "" : "s", guests, guests == 1 ? "" : "s", p->guest_slots, cached);
	int many_hosts = p->nr_hosts > 1;
	if (many_hosts) {
		buf_adds(out, "  hosts:");
		for (size_t h = 0; h < p->nr_hosts; h++)
			buf_addf(out, "%s %s (%zu slot%s)", h ? "," : "", p->hosts[h].name, p->hosts[h].slots,
				 p->hosts[h].slots == 1 ? "" : "s");
		buf_adds(out, "; a cell moves on when its host is busy or down\n");
	}
	for (size_t i = 0; i < p->nr_cells; i++) {
		const struct plan_cell *c = &p->cells[i];
		buf_addf(out, "  %zu. %s/%s: ", i + 1, c->revision, p->arches.v[c->arch]);
		describe_steps(out, p, c);
		if (many_hosts && c->host != PLAN_NONE)
			buf_addf(out, " [on %s]", p->hosts[c->host].name);
		buf_addch(out, '\n');
	}
	if (p->selected) {
		size_t left = 0, i = 0;
		for (size_t w = 0; w < p->whole.nr; w++) {
			if (i < p->nr_cells && p->cells[i].whole == w) { /* the cells keep the whole plan's order */
				i++;
				continue;
			}
			buf_addf(out, "%s%s", left++ ? ", " : "  left to the other parts: ", p->whole.v[w]);
		}
		if (left)
			buf_addch(out, '\n');
		if (!p->nr_cells)
			buf_adds(out, "  nothing to do here: every cell is in another part\n");
	}
	for (size_t a = 0; a < p->arches.nr; a++) {
		buf_addf(out, "  tests on %s (%zu):", p->arches.v[a], p->tests[a].nr);
		for (size_t t = 0; t < p->tests[a].nr; t++)
			buf_addf(out, " %s", p->tests[a].v[t]);
		buf_addf(out, "; mm selftests: %s\n", *p->selftests ? p->selftests : "none");
	}
}

void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->nr_cells; i++)
		free(p->cells[i].revision);
	free(p->cells);
	for (size_t r = 0; r < p->nr_revs; r++) {
		free(p->revs[r].name);
		free(p->revs[r].patchset);
	}
	free(p->revs);
	free(p->id);
	for (size_t h = 0; h < p->nr_hosts; h++) {
		free(p->hosts[h].uri);
		free(p->hosts[h].name);
	}
	free(p->hosts);
	strvec_clear(&p->whole);
	for (size_t a = 0; p->tests && a < p->arches.nr; a++)
		strvec_clear(&p->tests[a]);
	free(p->tests);
	free(p->selftests);
	strvec_clear(&p->arches);
	*p = (struct plan)PLAN_INIT;
}
