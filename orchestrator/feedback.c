#include "feedback.h"
#include "verdict.h"

#include <stdio.h>
#include <string.h>

const char *feedback_state_name(enum feedback_state s)
{
	switch (s) {
	case FEEDBACK_SUCCESS: return "success";
	case FEEDBACK_WARNING: return "warning";
	case FEEDBACK_FAIL: return "fail";
	}
	return "warning";
}

/* N of "N/M 'subject'" (bisect's first bad patch) or of "patch N/M ..." (apply), else 0. */
static unsigned patch_number(const char *s, const char *prefix)
{
	unsigned k, m;
	size_t pl = strlen(prefix);
	if (!s || strncmp(s, prefix, pl))
		return 0;
	return sscanf(s + pl, "%u/%u", &k, &m) == 2 && k >= 1 && k <= m ? k : 0;
}

static const struct patch_build *patch_build_of(const struct cell *c, unsigned index)
{
	for (size_t i = 0; i < c->nr_patch_builds; i++)
		if (c->patch_builds[i].index == index)
			return &c->patch_builds[i];
	return NULL;
}

static size_t tests_run(const struct cell *c)
{
	size_t k = 0;
	for (size_t t = 0; t < c->nr_tests; t++)
		k += c->tests[t].verdict != TEST_NOT_RUN;
	return k;
}

enum feedback_state feedback_patch_state(struct buf *desc, const struct cell *cells, size_t n, size_t i,
					 unsigned index)
{
	const struct cell *c = &cells[i];
	const char *why = c->detail ? c->detail : "see the report";
	enum feedback_state st;
	buf_reset(desc);
	switch (verdict_classify(cells, n, i)) {
	case VERDICT_PASS:
	case VERDICT_BASELINE:
		st = FEEDBACK_SUCCESS;
		buf_addf(desc, "builds, boots and passes %zu test%s on %s", tests_run(c),
			 tests_run(c) == 1 ? "" : "s", c->arch);
		break;
	case VERDICT_PREEXISTING:
		st = FEEDBACK_WARNING;
		buf_addf(desc, "fails only as the unpatched base does: %s", why);
		break;
	case VERDICT_BAD_INPUT: {
		unsigned bad = patch_number(c->detail, "patch ");
		if (bad == index) {
			st = FEEDBACK_FAIL;
			buf_addf(desc, "%s", why);
		} else {
			st = FEEDBACK_WARNING;
			if (bad)
				buf_addf(desc, "not tested: patch %u of the series does not apply", bad);
			else
				buf_addf(desc, "not tested: the series does not apply: %s", why);
		}
		break;
	}
	case VERDICT_INFRA:
		st = FEEDBACK_WARNING;
		buf_addf(desc, "no verdict: kpipe or the test machine failed: %s", why);
		break;
	case VERDICT_REGRESSION:
	default: {
		unsigned bad = c->first_bad && !strcmp(c->first_bad, "the revision has one patch")
				       ? 1 : patch_number(c->first_bad, "");
		if (bad && index < bad) {
			st = FEEDBACK_SUCCESS;
			buf_addf(desc, "good on %s: the first bad patch is %u", c->arch, bad);
		} else if (bad == index) {
			st = FEEDBACK_FAIL;
			buf_addf(desc, "first bad patch on %s: %s", c->arch, why);
		} else {
			st = FEEDBACK_FAIL;
			if (bad)
				buf_addf(desc, "fails on %s from patch %u on: %s", c->arch, bad, why);
			else
				buf_addf(desc, "the series fails on %s: %s", c->arch, why);
		}
		break;
	}
	}
	/* --each-patch: what this very patch did to the build */
	const struct patch_build *pb = patch_build_of(c, index);
	if (pb && !pb->ok) {
		st = FEEDBACK_FAIL;
		buf_reset(desc);
		buf_addf(desc, "does not build on %s: %s", c->arch, pb->error ? pb->error : "see the build log");
	} else if (pb && pb->new_warnings.nr && st == FEEDBACK_SUCCESS) {
		st = FEEDBACK_WARNING;
		buf_reset(desc);
		buf_addf(desc, "adds %zu build warning%s on %s: %s", pb->new_warnings.nr,
			 pb->new_warnings.nr == 1 ? "" : "s", c->arch, pb->new_warnings.v[0]);
	}
	return st;
}

static const struct revision *revision_of(const struct series *s, const char *name)
{
	unsigned v;
	char end;
	if (!name || sscanf(name, "v%u%c", &v, &end) != 1)
		return NULL;
	for (size_t k = 0; k < s->nr; k++)
		if (s->revs[k].version == v)
			return &s->revs[k];
	return NULL;
}

static void json_field(struct buf *b, const char *key, const char *value, int comma)
{
	buf_addf(b, "\"%s\": \"", key);
	buf_add_json_escaped(b, value ? value : "");
	buf_adds(b, comma ? "\", " : "\"");
}

size_t feedback_checks_json(struct buf *out, const struct series *s, const struct cell *cells, size_t n,
			    const char *url)
{
	struct buf desc = BUF_INIT, field = BUF_INIT;
	size_t records = 0;
	buf_adds(out, "{\"checks\": [");
	for (size_t i = 0; i < n; i++) {
		const struct revision *r = revision_of(s, cells[i].revision);
		if (!r)
			continue; /* the base, or a revision from commits */
		for (size_t k = 0; k < r->nr; k++) {
			const struct patch *p = &r->patches[k];
			enum feedback_state st = feedback_patch_state(&desc, cells, n, i, p->index);
			buf_adds(out, records++ ? ",\n  {" : "\n  {");
			buf_reset(&field);
			if (p->msgid && *p->msgid)
				buf_addf(&field, "<%s>", p->msgid);
			json_field(out, "msgid", field.data, 1);
			json_field(out, "revision", cells[i].revision, 1);
			buf_addf(out, "\"patch\": \"%u/%u\", ", p->index, p->total);
			json_field(out, "subject", p->subject, 1);
			json_field(out, "state", feedback_state_name(st), 1);
			buf_reset(&field);
			buf_addf(&field, "kpipe-%s", cells[i].arch);
			json_field(out, "context", field.data, 1);
			json_field(out, "description", desc.data, 1);
			buf_reset(&field);
			buf_addf(&field, "%s/report.html#%s-%s", url, cells[i].revision, cells[i].arch);
			json_field(out, "target_url", field.data, 0);
			buf_addch(out, '}');
		}
	}
	buf_adds(out, records ? "\n]}\n" : "]}\n");
	buf_release(&desc);
	buf_release(&field);
	return records;
}

/* A header value from a mail, on one line whatever it holds. */
static void add_header(struct buf *out, const char *name, const char *value)
{
	buf_addf(out, "%s: ", name);
	for (const char *p = value; *p; p++)
		buf_addch(out, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
	buf_addch(out, '\n');
}

int feedback_reply(struct buf *out, const struct series *s, const char *from, const char *date,
		   const char *msgid, const char *summary, const char *url)
{
	if (!s->nr)
		return -1;
	const struct revision *r = &s->revs[s->nr - 1];
	if (!r->thread_msgid || !*r->thread_msgid)
		return -1;
	struct buf v = BUF_INIT;
	add_header(out, "From", from);
	add_header(out, "To", r->author && *r->author ? r->author : r->to);
	buf_reset(&v);
	if (r->author && *r->author && r->to && *r->to)
		buf_adds(&v, r->to);
	if (r->cc && *r->cc) {
		if (v.len)
			buf_adds(&v, ", ");
		buf_adds(&v, r->cc);
	}
	if (v.len)
		add_header(out, "Cc", v.data);
	buf_reset(&v);
	const char *subj = r->thread_subject ? r->thread_subject : r->title;
	buf_addf(&v, "Re: %s", subj);
	add_header(out, "Subject", v.data);
	add_header(out, "Date", date);
	buf_reset(&v);
	buf_addf(&v, "<%s>", msgid);
	add_header(out, "Message-ID", v.data);
	buf_reset(&v);
	buf_addf(&v, "<%s>", r->thread_msgid);
	add_header(out, "In-Reply-To", v.data);
	add_header(out, "References", v.data);
	buf_adds(out, "MIME-Version: 1.0\n"
		      "Content-Type: text/plain; charset=utf-8\n"
		      "Content-Transfer-Encoding: 8bit\n"
		      "\n");
	buf_addf(out, "kpipe tested v%u of this series", r->version);
	if (s->nr > 1)
		buf_addf(out, " (with v%u before it)", s->revs[s->nr - 2].version);
	buf_adds(out, ":\n\n");
	/* a body line "From " would be mangled by an mbox: summary lines start otherwise */
	for (const char *p = summary; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len >= 5 && !memcmp(p, "From ", 5))
			buf_addch(out, ' ');
		buf_add(out, p, len);
		buf_addch(out, '\n');
		p += len + (eol ? 1 : 0);
	}
	buf_addf(out, "\nFull results: %s/report.html\n-- \nkpipe\n", url);
	buf_release(&v);
	return 0;
}
