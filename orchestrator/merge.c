#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The plan's cells by name, sorted: where each cell of a part goes, in log time. */
struct plan_name {
	const char *name; /* "REV/ARCH" */
	long index;       /* in the plan's order */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct plan_name *)a)->name, ((const struct plan_name *)b)->name);
}

/* The index of "REV/ARCH" of cell 'c' among the plan's cells (sorted in 'names'), or -1. */
static long plan_index(const struct plan_name *names, size_t n, const struct cell *c)
{
	char *key = malloc(strlen(c->revision) + strlen(c->arch) + 2);
	sprintf(key, "%s/%s", c->revision, c->arch);
	struct plan_name want = { key, -1 };
	const struct plan_name *found = bsearch(&want, names, n, sizeof(*names), by_name);
	free(key);
	return found ? found->index : -1;
}

static int has_verdict(const struct cell *c)
{
	return c->verdict != CELL_INFRA && c->verdict != CELL_NOT_RUN;
}

/* Move *from into *to, leaving *from an empty cell that releases cleanly. */
static void take(struct cell *to, struct cell *from)
{
	*to = *from;
	memset(from, 0, sizeof(*from));
	strvec_init(&from->missing_options);
	strvec_init(&from->notes);
}

int merge_cells(struct cell **out, long **from, size_t *n, struct merge_part *parts, size_t nr,
		struct buf *why)
{
	*out = NULL;
	*from = NULL;
	*n = 0;
	if (!nr)
		return buf_adds(why, "no part to merge"), -1;
	const struct results_run *first = &parts[0].run;
	for (size_t p = 0; p < nr; p++) {
		const struct results_run *r = &parts[p].run;
		if (!r->plan || !r->plan_cells.nr) {
			buf_addf(why, "'%s' has no plan in its summary (made by an older kpipe?)", parts[p].dir);
			return -1;
		}
		if (strcmp(r->plan, first->plan) || r->plan_cells.nr != first->plan_cells.nr) {
			buf_addf(why, "'%s' is part of run %s, '%s' of run %s: not one run", parts[p].dir, r->plan,
				 parts[0].dir, first->plan);
			return -1;
		}
	}
	size_t total = first->plan_cells.nr;
	struct plan_name *names = calloc(total, sizeof(*names));
	for (size_t i = 0; i < total; i++)
		names[i] = (struct plan_name){ first->plan_cells.v[i], (long)i };
	qsort(names, total, sizeof(*names), by_name);
	struct cell *cells = calloc(total, sizeof(*cells));
	long *src = malloc(total * sizeof(*src));
	struct cell **pick = calloc(total, sizeof(*pick)); /* the part's cell each plan cell is taken from */
	for (size_t i = 0; i < total; i++)
		src[i] = -1;
	/* first decide, so that a mistake leaves the parts as they were */
	for (size_t p = 0; p < nr; p++) {
		for (size_t k = 0; k < parts[p].nr; k++) {
			struct cell *c = &parts[p].cells[k];
			long i = plan_index(names, total, c);
			if (i < 0) {
				buf_addf(why, "'%s' holds %s/%s, which run %s does not have", parts[p].dir, c->revision,
					 c->arch, first->plan);
				goto fail;
			}
			if (src[i] >= 0 && strcmp(c->revision, "base")) {
				buf_addf(why, "%s/%s is in both '%s' and '%s'", c->revision, c->arch, parts[src[i]].dir,
					 parts[p].dir);
				goto fail;
			}
			/* one base is enough (the same commit, config and tests): the first with a verdict */
			if (src[i] >= 0 && (has_verdict(pick[i]) || !has_verdict(c)))
				continue;
			pick[i] = c;
			src[i] = (long)p;
		}
	}
	for (size_t i = 0; i < total; i++)
		if (pick[i])
			take(&cells[i], pick[i]);
	for (size_t i = 0; i < total; i++) {
		if (src[i] >= 0)
			continue;
		struct cell *c = &cells[i];
		const char *name = first->plan_cells.v[i], *slash = strchr(name, '/');
		strvec_init(&c->missing_options);
		strvec_init(&c->notes);
		c->revision = slash ? strndup(name, (size_t)(slash - name)) : strdup(name);
		c->arch = strdup(slash ? slash + 1 : "");
		c->verdict = CELL_NOT_RUN;
		results_set_detail(c, "not run: none of the %zu merged part%s held it", nr, nr == 1 ? "" : "s");
	}
	free(pick);
	free(names);
	*out = cells;
	*from = src;
	*n = total;
	return 0;
fail:
	free(pick);
	free(names);
	free(cells);
	free(src);
	return -1;
}
