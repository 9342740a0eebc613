#include "revmatch.h"
#include "buf.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A string -> index map with open addressing: what keeps the grouping linear. */
struct strmap {
	char **keys;
	size_t *vals;
	size_t cap, nr;
};

static size_t strmap_hash(const char *key)
{
	uint64_t h = 0;
	util_hash(&h, key, strlen(key));
	return (size_t)h;
}

static void strmap_grow(struct strmap *m)
{
	struct strmap big = { NULL, NULL, m->cap ? 2 * m->cap : 64, 0 };
	big.keys = calloc(big.cap, sizeof(*big.keys));
	big.vals = calloc(big.cap, sizeof(*big.vals));
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t k = strmap_hash(m->keys[i]) & (big.cap - 1);
		while (big.keys[k])
			k = (k + 1) & (big.cap - 1);
		big.keys[k] = m->keys[i];
		big.vals[k] = m->vals[i];
		big.nr++;
	}
	free(m->keys);
	free(m->vals);
	*m = big;
}

/* The value slot of 'key', made (holding REVMATCH_NONE) if it was not there. */
static size_t *strmap_slot(struct strmap *m, const char *key)
{
	if (2 * (m->nr + 1) > m->cap)
		strmap_grow(m);
	size_t k = strmap_hash(key) & (m->cap - 1);
	while (m->keys[k] && strcmp(m->keys[k], key))
		k = (k + 1) & (m->cap - 1);
	if (!m->keys[k]) {
		m->keys[k] = strdup(key);
		m->vals[k] = REVMATCH_NONE;
		m->nr++;
	}
	return &m->vals[k];
}

static int strmap_has(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return 0;
	size_t k = strmap_hash(key) & (m->cap - 1);
	while (m->keys[k] && strcmp(m->keys[k], key))
		k = (k + 1) & (m->cap - 1);
	return m->keys[k] != NULL;
}

static void strmap_release(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
}

/* One thread's patches of one version, before they are put in a series. */
struct sending {
	unsigned version, total;
	size_t cover, first;  /* mails */
	size_t *by_index;     /* [total + 1] */
	long long when;
	int resend;
	char *change_id, *title, *address;
};

/* The address of a From: value, lower case: "Ada <ADA@x.org>" -> "ada@x.org". */
static void address_of(struct buf *out, const char *from)
{
	const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	const char *p = lt && gt ? lt + 1 : from, *e = lt && gt ? gt : from + strlen(from);
	for (; p < e; p++)
		if (!isspace((unsigned char)*p))
			buf_addch(out, (char)tolower((unsigned char)*p));
}

/* A title as compared: lower case, runs of white space as one space, trimmed. */
static void title_key(struct buf *out, const char *title)
{
	int space = 0;
	for (const char *p = title; *p; p++) {
		if (isspace((unsigned char)*p)) {
			space = out->len > 0;
			continue;
		}
		if (space)
			buf_addch(out, ' ');
		space = 0;
		buf_addch(out, (char)tolower((unsigned char)*p));
	}
}

/* Cap N/M: a subject may say 1/4000000000; a series is never larger than this. */
#define MAX_TOTAL 4096

static void sending_add(struct sending *s, const struct series_mail *m, size_t i)
{
	if (m->when > s->when)
		s->when = m->when;
	s->resend |= m->resend;
	if (*m->change_id) {
		free(s->change_id);
		s->change_id = strdup(m->change_id);
	}
	if (m->kind == SERIES_MAIL_COVER) {
		s->cover = i;
		return;
	}
	unsigned idx = m->index ? m->index : 1, total = m->total ? m->total : 1;
	if (total > MAX_TOTAL || idx > total)
		return;
	if (total > s->total) {
		s->by_index = realloc(s->by_index, (total + 1) * sizeof(*s->by_index));
		for (unsigned k = s->total + 1; k <= total; k++)
			s->by_index[k] = REVMATCH_NONE;
		if (!s->total)
			s->by_index[0] = REVMATCH_NONE;
		s->total = total;
	}
	s->by_index[idx] = i; /* a later copy replaces an earlier one */
	if (s->first == REVMATCH_NONE || m->index < 2)
		s->first = i;
}

static struct revmatch_rev *rev_get(struct revmatch_series *se, unsigned version)
{
	size_t k = 0;
	while (k < se->nr && se->revs[k].version < version)
		k++;
	if (k < se->nr && se->revs[k].version == version)
		return &se->revs[k];
	se->revs = realloc(se->revs, (se->nr + 1) * sizeof(*se->revs));
	memmove(&se->revs[k + 1], &se->revs[k], (se->nr - k) * sizeof(*se->revs));
	se->nr++;
	struct revmatch_rev *r = &se->revs[k];
	memset(r, 0, sizeof(*r));
	r->version = version;
	r->cover = REVMATCH_NONE;
	return r;
}

/* Put sending 's' into revision 'r' (the same version sent again merges). */
static void rev_merge(struct revmatch_rev *r, const struct sending *s)
{
	if (s->total > r->total) {
		r->patches = realloc(r->patches, s->total * sizeof(*r->patches));
		for (unsigned k = r->total; k < s->total; k++)
			r->patches[k] = REVMATCH_NONE;
		r->total = s->total;
	}
	for (unsigned k = 1; k <= s->total; k++)
		if (s->by_index[k] != REVMATCH_NONE)
			r->patches[k - 1] = s->by_index[k];
	if (s->cover != REVMATCH_NONE)
		r->cover = s->cover;
	r->resend |= s->resend;
	if (s->when > r->when)
		r->when = s->when;
}

static int compare_sendings(const void *a, const void *b)
{
	const struct sending *x = *(const struct sending *const *)a, *y = *(const struct sending *const *)b;
	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Completeness, in version order: borrow what a partial reroll did not resend. */
static void settle(struct revmatch_series *se, long long now)
{
	for (size_t k = 0; k < se->nr; k++) {
		struct revmatch_rev *r = &se->revs[k];
		unsigned missing = 0;
		r->sent = 0;
		for (unsigned i = 0; i < r->total; i++) {
			if (r->patches[i] == REVMATCH_NONE)
				missing++;
			else
				r->sent++;
		}
		r->complete = r->total && !missing;
		if (r->complete || !r->total || !r->sent || k == 0)
			continue;
		const struct revmatch_rev *prev = &se->revs[k - 1];
		if (!prev->complete || prev->total != r->total || now - r->when < REVMATCH_GRACE)
			continue;
		for (unsigned i = 0; i < r->total; i++)
			if (r->patches[i] == REVMATCH_NONE)
				r->patches[i] = prev->patches[i];
		r->borrowed = missing;
		r->borrowed_from = prev->version;
		r->complete = 1;
	}
}

void revmatch_group(struct revmatch *out, const struct series_mail *mails, size_t n, long long now)
{
	struct strmap by_thread = { 0 }, by_series = { 0 }, roots = { 0 };
	struct sending *sendings = NULL;
	size_t nr = 0, alloc = 0;
	struct buf key = BUF_INIT, idkey = BUF_INIT, addr = BUF_INIT;

	*out = (struct revmatch)REVMATCH_INIT;
	/* the ids other mails name as their thread: those mails start threads */
	for (size_t i = 0; i < n; i++)
		if (mails[i].kind != SERIES_MAIL_OTHER && *mails[i].thread)
			*strmap_slot(&roots, mails[i].thread) = i;
	for (size_t i = 0; i < n; i++) {
		const struct series_mail *m = &mails[i];
		if (m->kind == SERIES_MAIL_OTHER)
			continue;
		unsigned version = m->version ? m->version : 1;
		buf_reset(&key);
		buf_reset(&addr);
		address_of(&addr, m->from);
		if (*m->thread)
			buf_addf(&key, "t:%s", m->thread);
		else if (*m->msgid && (m->total <= 1 || strmap_has(&roots, m->msgid)))
			buf_addf(&key, "t:%s", m->msgid); /* the first mail of its thread, or a lone patch */
		else
			buf_addf(&key, "u:%s:%u", addr.data, m->total); /* a series sent without threading */
		buf_addf(&key, ":v%u", version);
		size_t *slot = strmap_slot(&by_thread, key.data);
		if (*slot == REVMATCH_NONE) {
			if (nr == alloc) {
				alloc = alloc ? 2 * alloc : 16;
				sendings = realloc(sendings, alloc * sizeof(*sendings));
			}
			struct sending *s = &sendings[nr];
			memset(s, 0, sizeof(*s));
			s->version = version;
			s->cover = s->first = REVMATCH_NONE;
			s->address = strdup(addr.data);
			*slot = nr++;
		}
		sending_add(&sendings[*slot], m, i);
	}
	/* titles: the cover letter's, else the first patch's */
	struct sending **order = calloc(nr ? nr : 1, sizeof(*order));
	for (size_t k = 0; k < nr; k++) {
		struct sending *s = &sendings[k];
		size_t t = s->cover != REVMATCH_NONE ? s->cover : s->first;
		if (t == REVMATCH_NONE && s->total)
			for (unsigned i = 1; i <= s->total && t == REVMATCH_NONE; i++)
				t = s->by_index[i];
		s->title = strdup(t == REVMATCH_NONE ? "" : mails[t].bare);
		if (s->first == REVMATCH_NONE)
			s->first = t;
		order[k] = s;
	}
	qsort(order, nr, sizeof(*order), compare_sendings);
	for (size_t k = 0; k < nr; k++) {
		struct sending *s = order[k];
		if (!s->total)
			continue; /* a cover letter whose patches never came */
		/* values, not slots: a later strmap_slot() may grow the map and move them */
		if (s->change_id) {
			buf_reset(&idkey);
			buf_addf(&idkey, "change-id:%s", s->change_id);
		}
		buf_reset(&key);
		buf_addf(&key, "subject:%s:", s->address);
		title_key(&key, s->title);
		size_t by_id = s->change_id ? *strmap_slot(&by_series, idkey.data) : REVMATCH_NONE;
		size_t by_subject = *strmap_slot(&by_series, key.data);
		size_t idx = by_id;
		if (idx == REVMATCH_NONE && by_subject != REVMATCH_NONE) {
			const struct revmatch_series *cand = &out->series[by_subject];
			/* a change-id tells series apart even with one title */
			if (s->when - cand->last <= REVMATCH_WINDOW &&
			    (!s->change_id || !*cand->change_id || !strcmp(cand->change_id, s->change_id)))
				idx = by_subject;
		}
		if (idx == REVMATCH_NONE) {
			out->series = realloc(out->series, (out->nr + 1) * sizeof(*out->series));
			struct revmatch_series *se = &out->series[out->nr];
			memset(se, 0, sizeof(*se));
			se->key = strdup(s->change_id ? idkey.data : key.data);
			se->author = strdup(mails[s->first].from);
			se->change_id = strdup(s->change_id ? s->change_id : "");
			idx = out->nr++;
		}
		struct revmatch_series *se = &out->series[idx];
		*strmap_slot(&by_series, key.data) = idx;
		if (s->change_id)
			*strmap_slot(&by_series, idkey.data) = idx;
		if (s->change_id && !*se->change_id) {
			free(se->change_id);
			se->change_id = strdup(s->change_id);
		}
		struct revmatch_rev *r = rev_get(se, s->version);
		rev_merge(r, s);
		if (r == &se->revs[se->nr - 1]) {
			free(se->title);
			se->title = strdup(s->title);
		}
		if (s->when > se->last)
			se->last = s->when;
	}
	for (size_t k = 0; k < out->nr; k++)
		settle(&out->series[k], now);
	for (size_t k = 0; k < nr; k++) {
		free(sendings[k].by_index);
		free(sendings[k].change_id);
		free(sendings[k].title);
		free(sendings[k].address);
	}
	free(sendings);
	free(order);
	strmap_release(&by_thread);
	strmap_release(&roots);
	strmap_release(&by_series);
	buf_release(&key);
	buf_release(&idkey);
	buf_release(&addr);
}

void revmatch_release(struct revmatch *rm)
{
	for (size_t k = 0; k < rm->nr; k++) {
		struct revmatch_series *se = &rm->series[k];
		for (size_t r = 0; r < se->nr; r++)
			free(se->revs[r].patches);
		free(se->revs);
		free(se->key);
		free(se->title);
		free(se->author);
		free(se->change_id);
	}
	free(rm->series);
	*rm = (struct revmatch)REVMATCH_INIT;
}
