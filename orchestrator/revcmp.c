#include "revcmp.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

uint64_t revcmp_patch_id(const char *diff)
{
	uint64_t h = UTIL_HASH_INIT;
	int any = 0;
	for (const char *l = diff; l && *l;) {
		size_t n = strcspn(l, "\n");
		/* index lines and hunk positions say where, not what */
		int skip = (n >= 6 && !memcmp(l, "index ", 6));
		if (!skip && n >= 2 && !memcmp(l, "@@", 2)) {
			const char *close = n > 2 ? strstr(l + 2, "@@") : NULL;
			util_hash(&h, "@@", 2);
			if (close && close < l + n)
				l = close + 2, n = strcspn(l, "\n"); /* the function context after it still counts */
			else
				skip = 1;
		}
		for (size_t i = 0; !skip && i < n; i++)
			if (!isspace((unsigned char)l[i]))
				util_hash(&h, l + i, 1);
		any |= !skip && n > 0;
		util_hash(&h, "\n", 1);
		l += n + (l[n] == '\n');
	}
	return any ? (h ? h : 1) : 0;
}

/* The message without whitespace differences: two messages are the same when this is. */
static uint64_t message_id(const char *m)
{
	uint64_t h = UTIL_HASH_INIT;
	for (; m && *m; m++)
		if (!isspace((unsigned char)*m))
			util_hash(&h, m, 1);
	return h;
}

unsigned revcmp_describe(struct buf *out, struct strvec *changed, const struct revision *before,
			 const struct revision *now)
{
	size_t nb = before->nr, nn = now->nr;
	uint64_t *idb = calloc(nb + 1, sizeof(*idb)), *idn = calloc(nn + 1, sizeof(*idn));
	long *pair = calloc(nn + 1, sizeof(*pair)); /* now[i] pairs with before[pair[i]], or -1 */
	char *taken = calloc(nb + 1, 1);
	for (size_t i = 0; i < nb; i++)
		idb[i] = revcmp_patch_id(before->patches[i].diff);
	for (size_t i = 0; i < nn; i++) {
		idn[i] = revcmp_patch_id(now->patches[i].diff);
		pair[i] = -1;
	}
	/* the same code first, then the same subject */
	for (size_t i = 0; i < nn; i++)
		for (size_t k = 0; k < nb && pair[i] < 0; k++)
			if (!taken[k] && idn[i] && idn[i] == idb[k])
				pair[i] = (long)k, taken[k] = 1;
	for (size_t i = 0; i < nn; i++)
		for (size_t k = 0; k < nb && pair[i] < 0; k++)
			if (!taken[k] && !strcmp(now->patches[i].subject, before->patches[k].subject))
				pair[i] = (long)k, taken[k] = 1;
	unsigned code = 0, messages = 0;
	struct buf msg = BUF_INIT;
	buf_reset(out);
	for (size_t i = 0; i < nn; i++) {
		const struct patch *p = &now->patches[i];
		enum revcmp_kind kind = REVCMP_NEW;
		if (pair[i] >= 0) {
			const struct patch *q = &before->patches[pair[i]];
			kind = idn[i] != idb[pair[i]] ? REVCMP_CHANGED
			       : message_id(p->message) != message_id(q->message) || strcmp(p->subject, q->subject)
				       ? REVCMP_MESSAGE
				       : REVCMP_SAME;
		}
		if (kind == REVCMP_MESSAGE) {
			buf_addf(&msg, "%s%u/%u", messages++ ? ", " : "", p->index, p->total);
			continue;
		}
		if (kind == REVCMP_SAME)
			continue;
		buf_addf(out, "%spatch %u/%u %s (%s)", code++ ? "; " : "", p->index, p->total,
			 kind == REVCMP_NEW ? "new" : "changed", p->subject);
		if (kind == REVCMP_CHANGED && changed)
			strvec_pushf(changed, "%u", p->index);
	}
	for (size_t k = 0; k < nb; k++)
		if (!taken[k])
			buf_addf(out, "%spatch %u/%u of v%u dropped (%s)", code++ ? "; " : "",
				 before->patches[k].index, before->patches[k].total, before->version,
				 before->patches[k].subject);
	if (messages && code)
		buf_addf(out, "; commit messages changed (patch %s)", msg.data);
	else if (messages)
		buf_addf(out, "only the commit messages changed (patch %s)", msg.data);
	else if (!code)
		buf_addf(out, "the same patches as v%u", before->version);
	buf_release(&msg);
	free(idb);
	free(idn);
	free(pair);
	free(taken);
	return code;
}
