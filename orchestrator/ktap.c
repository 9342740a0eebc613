#include "ktap.h"
#include "perfstat.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ktap_status_name(enum ktap_status s)
{
	switch (s) {
	case KTAP_PASS: return "pass";
	case KTAP_FAIL: return "fail";
	case KTAP_SKIP: return "skip";
	case KTAP_XFAIL: return "xfail";
	}
	return "?";
}

static void push_case(struct ktap *k, struct ktap_case c)
{
	k->cases = realloc(k->cases, (k->nr + 1) * sizeof(*k->cases));
	k->cases[k->nr++] = c;
	switch (c.status) {
	case KTAP_PASS: case KTAP_XFAIL: k->passed++; break;
	case KTAP_FAIL: k->failed++; break;
	case KTAP_SKIP: k->skipped++; break;
	}
}

void ktap_add_case(struct ktap *k, enum ktap_status status, const char *name)
{
	struct ktap_case c = { (unsigned)k->nr + 1, status, strdup(name), NULL };
	push_case(k, c);
}

static void parse_result(struct ktap *k, const char *line, int ok)
{
	const char *p = line + (ok ? 2 : 6);
	struct ktap_case c = { 0 };
	while (*p == ' ')
		p++;
	c.number = (unsigned)strtoul(p, (char **)&p, 10);
	while (*p == ' ' || *p == '-')
		p++;
	const char *hash = strstr(p, " # ");
	if (!hash && (hash = strchr(p, '#')) && hash != p && hash[-1] != ' ')
		hash = NULL;
	const char *name_end = hash ? hash : p + strlen(p);
	while (name_end > p && isspace((unsigned char)name_end[-1]))
		name_end--;
	c.name = strndup(p, (size_t)(name_end - p));
	c.status = ok ? KTAP_PASS : KTAP_FAIL;
	if (hash) {
		const char *d = hash + (hash[0] == ' ' ? 3 : 1);
		while (*d == ' ')
			d++;
		if (!strncasecmp(d, "SKIP", 4)) {
			c.status = KTAP_SKIP;
			d += 4;
		} else if (!strncasecmp(d, "XFAIL", 5)) {
			c.status = KTAP_XFAIL;
			d += 5;
		} else if (!strncasecmp(d, "TODO", 4)) {
			c.status = ok ? KTAP_PASS : KTAP_XFAIL;
			d += 4;
		}
		while (*d == ' ' || *d == ':')
			d++;
		c.directive = strdup(d);
	}
	push_case(k, c);
}

static void add_sample(struct ktap *k, const char *name, double value, const char *unit, int confirm)
{
	struct ktap_metric *m = NULL;
	for (size_t i = 0; i < k->nr_metrics && !m; i++)
		if (!strcmp(k->metrics[i].name, name))
			m = &k->metrics[i];
	if (!m) {
		if (k->nr_metrics >= KTAP_MAX_METRICS)
			return; /* a test printing endless names must not cost the square of them */
		k->metrics = realloc(k->metrics, (k->nr_metrics + 1) * sizeof(*k->metrics));
		m = &k->metrics[k->nr_metrics++];
		memset(m, 0, sizeof(*m));
		m->name = strdup(name);
		m->unit = strdup(unit);
	}
	double **v = confirm ? &m->confirm : &m->samples;
	size_t *nr = confirm ? &m->nr_confirm : &m->nr_samples;
	if (*nr >= KTAP_MAX_SAMPLES)
		return;
	if (!confirm) {
		free(m->unit);
		m->unit = strdup(unit);
	}
	*v = realloc(*v, (*nr + 1) * sizeof(**v));
	(*v)[(*nr)++] = value;
	if (!confirm)
		m->value = perf_median(m->samples, m->nr_samples);
}

void ktap_add_metric(struct ktap *k, const char *name, double value, const char *unit)
{
	add_sample(k, name, value, unit, 0);
}

void ktap_add_confirm_sample(struct ktap *k, const char *name, double value, const char *unit)
{
	add_sample(k, name, value, unit, 1);
}

/* "# perf: NAME VALUE [UNIT]": NAME has no blanks, VALUE is a number. */
static void parse_metric(struct ktap *k, const char *p)
{
	char name[128], unit[32] = "";
	double value;
	int used = 0;
	if (sscanf(p, "%127s %lf%n", name, &value, &used) != 2)
		return;
	sscanf(p + used, "%31s", unit);
	ktap_add_metric(k, name, value, unit);
}

void ktap_parse(struct ktap *k, const char *text)
{
	struct buf line = BUF_INIT;
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		buf_reset(&line);
		buf_add(&line, p, eol ? (size_t)(eol - p) : strlen(p));
		buf_rtrim(&line);
		const char *l = line.data;
		/* indented lines belong to subtests */
		if (*l != ' ' && *l != '\t') {
			if (!strncmp(l, "KTAP version", 12) || !strncmp(l, "TAP version", 11))
				k->has_header = 1;
			else if (!strncmp(l, "1..", 3))
				k->planned = atoi(l + 3);
			else if (!strncmp(l, "ok ", 3) || !strcmp(l, "ok"))
				parse_result(k, l, 1);
			else if (!strncmp(l, "not ok ", 7) || !strcmp(l, "not ok"))
				parse_result(k, l, 0);
			else if (!strncmp(l, "# perf:", 7))
				parse_metric(k, l + 7);
		}
		p = eol ? eol + 1 : NULL;
	}
	buf_release(&line);
}

void ktap_release(struct ktap *k)
{
	for (size_t i = 0; i < k->nr; i++) {
		free(k->cases[i].name);
		free(k->cases[i].directive);
	}
	free(k->cases);
	k->cases = NULL;
	for (size_t i = 0; i < k->nr_metrics; i++) {
		free(k->metrics[i].name);
		free(k->metrics[i].unit);
		free(k->metrics[i].samples);
		free(k->metrics[i].confirm);
	}
	free(k->metrics);
	k->metrics = NULL;
	k->nr_metrics = 0;
	k->nr = k->passed = k->failed = k->skipped = 0;
}
