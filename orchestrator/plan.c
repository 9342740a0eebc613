#include "plan.h"

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
	return c;
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
	p->guest_slots = in->guest_slots ? in->guest_slots : 1;

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
	buf_addf(out, "plan: %zu cell%s: %zu kernel build%s (one at a time), %zu guest%s (%zu at a time), %zu cached\n",
		 p->nr_cells, p->nr_cells == 1 ? "" : "s", builds, builds == 1 ? "" : "s", guests,
		 guests == 1 ? "" : "s", p->guest_slots, cached);
	for (size_t i = 0; i < p->nr_cells; i++) {
		const struct plan_cell *c = &p->cells[i];
		buf_addf(out, "  %zu. %s/%s: ", i + 1, c->revision, p->arches.v[c->arch]);
		describe_steps(out, p, c);
		buf_addch(out, '\n');
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
	for (size_t r = 0; r < p->nr_revs; r++)
		free(p->revs[r].name);
	free(p->revs);
	for (size_t a = 0; p->tests && a < p->arches.nr; a++)
		strvec_clear(&p->tests[a]);
	free(p->tests);
	free(p->selftests);
	strvec_clear(&p->arches);
	*p = (struct plan)PLAN_INIT;
}
