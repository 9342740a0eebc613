/* revmatch: mails from a list grouped into series and revisions, as b4 does. */
#include "harness.h"
#include "revmatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DAY (24LL * 3600)
#define T0 1764000000LL /* late November 2025 */

struct box {
	struct series_mail m[64];
	size_t n;
};

/*
 * Add a mail: 'subject' with its prefix; 'thread' the id it replies to (or
 * NULL); a diff unless the subject is N=0 or a reply; 'extra' body lines.
 */
static void add(struct box *b, const char *from, const char *id, const char *thread, const char *subject,
		long long when, const char *extra)
{
	struct buf raw = BUF_INIT;
	time_t t = (time_t)when;
	char date[64];
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime(&t));
	buf_addf(&raw, "From: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s>\n", from, subject, date, id);
	if (thread)
		buf_addf(&raw, "In-Reply-To: <%s>\nReferences: <%s>\n", thread, thread);
	buf_addf(&raw, "\nText.\n%s\n", extra ? extra : "");
	if (!strstr(subject, " 0/") && strncmp(subject, "Re:", 3))
		buf_addf(&raw, "---\ndiff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n@@ -1 +1 @@\n-a\n+b\n", id, id, id, id);
	series_read_mail(&b->m[b->n++], raw.data, raw.len);
	buf_release(&raw);
}

static void release(struct box *b)
{
	for (size_t i = 0; i < b->n; i++)
		series_mail_release(&b->m[i]);
}

/* Ada's patches 1/4..4/4 "mm: part N", ids ID1@x..ID4@x, replies to 'thread', a second apart after 'when'. */
static void add_parts(struct box *b, const char *prefix, const char *id, const char *thread, long long when)
{
	for (int i = 1; i <= 4; i++) {
		char mid[32], subj[64];
		snprintf(mid, sizeof(mid), "%s%d@x", id, i);
		snprintf(subj, sizeof(subj), "%s %d/4] mm: part %d", prefix, i, i);
		add(b, "Ada <ada@example.org>", mid, thread, subj, when + i, NULL);
	}
}

static const struct revmatch_series *find(const struct revmatch *rm, const char *title)
{
	for (size_t k = 0; k < rm->nr; k++)
		if (!strcmp(rm->series[k].title, title))
			return &rm->series[k];
	return NULL;
}

#define ADA "Ada <ada@example.org>"
#define BOB "Bob <bob@example.org>"

TEST(read_one_mail)
{
	struct box b = { .n = 0 };
	add(&b, ADA, "c1@x", NULL, "[PATCH v2 0/3] mm: things", T0, "change-id: 20251120-things-0123abcd");
	add(&b, ADA, "p2@x", "c1@x", "[RESEND PATCH v2 2/3] mm: two", T0, NULL);
	add(&b, BOB, "r@x", "p2@x", "Re: [PATCH v2 2/3] mm: two", T0, NULL);
	CHECK(b.m[0].kind == SERIES_MAIL_COVER && b.m[0].version == 2 && b.m[0].index == 0 && b.m[0].total == 3);
	CHECK_STR(b.m[0].change_id, "20251120-things-0123abcd");
	CHECK_STR(b.m[0].thread, "");
	CHECK(b.m[0].when == T0);
	CHECK(b.m[1].kind == SERIES_MAIL_PATCH && b.m[1].index == 2 && b.m[1].resend);
	CHECK_STR(b.m[1].thread, "c1@x");
	CHECK_STR(b.m[1].bare, "mm: two");
	CHECK_STR(b.m[1].msgid, "p2@x");
	CHECK(b.m[2].kind == SERIES_MAIL_OTHER);
	release(&b);
}

TEST(revisions_by_subject_and_author)
{
	struct box b = { .n = 0 };
	struct revmatch rm;
	/* v1 with a cover letter, a review reply, v2 ten days later; Bob's series of the same title apart */
	add(&b, ADA, "c1@x", NULL, "[PATCH 0/2] mm: batch it", T0, NULL);
	add(&b, ADA, "a1@x", "c1@x", "[PATCH 1/2] mm: one", T0 + 1, NULL);
	add(&b, ADA, "a2@x", "c1@x", "[PATCH 2/2] mm: two", T0 + 2, NULL);
	add(&b, BOB, "rv@x", "a1@x", "Re: [PATCH 1/2] mm: one", T0 + 50, NULL);
	add(&b, BOB, "bc@x", NULL, "[PATCH 0/1] mm: batch it", T0 + 60, NULL);
	add(&b, BOB, "b1@x", "bc@x", "[PATCH 1/1] mm: bob's", T0 + 61, NULL);
	add(&b, ADA, "c2@x", NULL, "[PATCH v2 0/2] mm: Batch  it", T0 + 10 * DAY, NULL);
	add(&b, ADA, "d2@x", "c2@x", "[PATCH v2 2/2] mm: two", T0 + 10 * DAY + 2, NULL);
	add(&b, ADA, "d1@x", "c2@x", "[PATCH v2 1/2] mm: one", T0 + 10 * DAY + 1, NULL);
	/* the same title two years on is a new series */
	add(&b, ADA, "c9@x", NULL, "[PATCH 0/1] mm: batch it", T0 + 800 * DAY, NULL);
	add(&b, ADA, "e1@x", "c9@x", "[PATCH 1/1] mm: again", T0 + 800 * DAY + 1, NULL);
	revmatch_group(&rm, b.m, b.n, T0 + 900 * DAY);
	CHECK(rm.nr == 3);
	const struct revmatch_series *ada = &rm.series[0];
	CHECK(ada->nr == 2);
	if (ada->nr == 2) {
		CHECK(ada->revs[0].version == 1 && ada->revs[0].complete && ada->revs[0].cover == 0);
		CHECK(ada->revs[0].patches[0] == 1 && ada->revs[0].patches[1] == 2);
		CHECK(ada->revs[1].version == 2 && ada->revs[1].complete && !ada->revs[1].borrowed);
		CHECK(ada->revs[1].patches[0] == 8 && ada->revs[1].patches[1] == 7);
	}
	CHECK_STR(ada->key, "subject:ada@example.org:mm: batch it");
	CHECK(rm.nr == 3 && rm.series[1].nr == 1 && !strcmp(rm.series[1].author, BOB));
	CHECK(rm.nr == 3 && rm.series[2].nr == 1 && rm.series[2].revs[0].patches[0] == 10);
	revmatch_release(&rm);
	release(&b);
}

TEST(revisions_by_change_id)
{
	struct box b = { .n = 0 };
	struct revmatch rm;
	/* b4: the title changed from v1 to v2, the change-id did not; another series shares v1's title */
	add(&b, ADA, "c1@x", NULL, "[PATCH 0/1] mm: first title", T0, "change-id: 20251101-aaa");
	add(&b, ADA, "a1@x", "c1@x", "[PATCH 1/1] mm: one", T0 + 1, NULL);
	add(&b, ADA, "c2@x", NULL, "[PATCH v2 0/1] mm: better title", T0 + DAY, "change-id: 20251101-aaa");
	add(&b, ADA, "b1@x", "c2@x", "[PATCH v2 1/1] mm: one", T0 + DAY + 1, NULL);
	add(&b, ADA, "x0@x", NULL, "[PATCH 0/1] mm: first title", T0 + 2 * DAY, "change-id: 20251102-bbb");
	add(&b, ADA, "x1@x", "x0@x", "[PATCH 1/1] mm: other", T0 + 2 * DAY + 1, NULL);
	revmatch_group(&rm, b.m, b.n, T0 + 3 * DAY);
	CHECK(rm.nr == 2);
	const struct revmatch_series *s = find(&rm, "mm: better title");
	CHECK(s && s->nr == 2 && !strcmp(s->key, "change-id:20251101-aaa"));
	if (s && s->nr == 2)
		CHECK(s->revs[0].patches[0] == 1 && s->revs[1].patches[0] == 3);
	s = find(&rm, "mm: first title");
	CHECK(s && s->nr == 1 && !strcmp(s->change_id, "20251102-bbb"));
	revmatch_release(&rm);
	release(&b);
}

TEST(partial_reroll_resend_and_waiting)
{
	struct box b = { .n = 0 };
	struct revmatch rm;
	/* v2 of four patches; v3 resends only 2 and 4; a RESEND of v3's patch 4 */
	add(&b, ADA, "c2@x", NULL, "[PATCH v2 0/4] mm: four", T0, NULL);
	add_parts(&b, "[PATCH v2", "v2p", "c2@x", T0);
	add(&b, ADA, "c3@x", NULL, "[PATCH v3 0/4] mm: four", T0 + DAY, NULL);
	add(&b, ADA, "v3p2@x", "c3@x", "[PATCH v3 2/4] mm: part 2", T0 + DAY + 2, NULL);
	add(&b, ADA, "v3p4@x", "c3@x", "[PATCH v3 4/4] mm: part 4", T0 + DAY + 4, NULL);
	add(&b, ADA, "v3p4b@x", "c3@x", "[RESEND PATCH v3 4/4] mm: part 4", T0 + DAY + 9, NULL);
	/* Bob's series: 3 of 5 arrived */
	add(&b, BOB, "bc@x", NULL, "[PATCH 0/5] mm: five", T0 + DAY, NULL);
	add(&b, BOB, "b1@x", "bc@x", "[PATCH 1/5] mm: b1", T0 + DAY + 1, NULL);
	add(&b, BOB, "b2@x", "bc@x", "[PATCH 2/5] mm: b2", T0 + DAY + 2, NULL);
	add(&b, BOB, "b4@x", "bc@x", "[PATCH 4/5] mm: b4", T0 + DAY + 4, NULL);

	/* a minute after: v3 may still be arriving */
	revmatch_group(&rm, b.m, b.n, T0 + DAY + 60);
	const struct revmatch_series *s = find(&rm, "mm: four");
	CHECK(s && s->nr == 2 && !s->revs[1].complete && s->revs[1].sent == 2);
	revmatch_release(&rm);

	revmatch_group(&rm, b.m, b.n, T0 + 2 * DAY);
	s = find(&rm, "mm: four");
	CHECK(s && s->nr == 2);
	if (s && s->nr == 2) {
		const struct revmatch_rev *v3 = &s->revs[1];
		CHECK(v3->complete && v3->sent == 2 && v3->borrowed == 2 && v3->borrowed_from == 2);
		CHECK(v3->patches[0] == 1 && v3->patches[1] == 6 && v3->patches[2] == 3 && v3->patches[3] == 8);
		CHECK(v3->resend);
	}
	s = find(&rm, "mm: five");
	CHECK(s && s->nr == 1 && !s->revs[0].complete && s->revs[0].sent == 3 && s->revs[0].total == 5);
	revmatch_release(&rm);

	/* the whole of v2 sent again as a RESEND, a thread of its own: the same revision, not a v3 */
	add(&b, ADA, "r2@x", NULL, "[RESEND PATCH v2 0/4] mm: four", T0 + 3 * DAY, NULL);
	add_parts(&b, "[RESEND PATCH v2", "r2p", "r2@x", T0 + 3 * DAY);
	revmatch_group(&rm, b.m, b.n, T0 + 4 * DAY);
	s = find(&rm, "mm: four");
	CHECK(s && s->nr == 2 && s->revs[0].version == 2 && s->revs[0].resend && s->revs[0].patches[3] == 17);
	revmatch_release(&rm);
	release(&b);
}

TEST(threads_without_a_cover_letter)
{
	struct box b = { .n = 0 };
	struct revmatch rm;
	/* git send-email --thread without a cover: 2/2 replies to 1/2; two lone patches of one author */
	add(&b, ADA, "p1@x", NULL, "[PATCH 1/2] mm: head", T0, NULL);
	add(&b, ADA, "p2@x", "p1@x", "[PATCH 2/2] mm: tail", T0 + 1, NULL);
	add(&b, ADA, "l1@x", NULL, "[PATCH] mm: lone one", T0 + 2, NULL);
	add(&b, ADA, "l2@x", NULL, "[PATCH] mm: lone two", T0 + 3, NULL);
	/* v2 of the first sent as a reply into v1's thread: its own revision still */
	add(&b, ADA, "q1@x", "p1@x", "[PATCH v2 1/2] mm: head", T0 + DAY, NULL);
	add(&b, ADA, "q2@x", "p1@x", "[PATCH v2 2/2] mm: tail", T0 + DAY + 1, NULL);
	revmatch_group(&rm, b.m, b.n, T0 + 2 * DAY);
	CHECK(rm.nr == 3);
	const struct revmatch_series *s = find(&rm, "mm: head");
	CHECK(s && s->nr == 2 && s->revs[0].complete && s->revs[1].complete);
	if (s && s->nr == 2)
		CHECK(s->revs[1].patches[0] == 4 && s->revs[1].patches[1] == 5);
	CHECK(find(&rm, "mm: lone one") && find(&rm, "mm: lone two"));
	revmatch_release(&rm);
	/* a subject claiming four billion patches is no series to wait for, nor memory to allocate */
	add(&b, BOB, "huge@x", NULL, "[PATCH 1/4000000000] mm: huge", T0, NULL);
	add(&b, BOB, "zero@x", NULL, "[PATCH 7/3] mm: past its end", T0, NULL);
	revmatch_group(&rm, b.m, b.n, T0 + 2 * DAY);
	CHECK(rm.nr == 3 && !find(&rm, "mm: huge") && !find(&rm, "mm: past its end"));
	revmatch_release(&rm);
	release(&b);
}

TEST(many_series_with_change_ids)
{
	/* enough series that the maps grow while a sending is being placed */
	enum { SERIES = 300 };
	struct series_mail *m = calloc(2 * SERIES, sizeof(*m));
	struct box one = { .n = 0 };
	struct revmatch rm;
	for (int i = 0; i < SERIES; i++) {
		char id[32], cid[48], subj[64];
		snprintf(cid, sizeof(cid), "change-id: 20251101-s%d", i);
		for (int v = 1; v <= 2; v++) {
			snprintf(id, sizeof(id), "s%d-v%d@x", i, v);
			snprintf(subj, sizeof(subj), "[PATCH v%d] mm: series %d, take %d", v, i, v);
			one.n = 0;
			add(&one, ADA, id, NULL, subj, T0 + i * 10 + v, cid);
			m[2 * i + v - 1] = one.m[0];
		}
	}
	revmatch_group(&rm, m, 2 * SERIES, T0 + DAY);
	CHECK(rm.nr == SERIES);
	size_t two = 0;
	for (size_t k = 0; k < rm.nr; k++)
		two += rm.series[k].nr == 2 && rm.series[k].revs[1].complete;
	CHECK(two == SERIES);
	revmatch_release(&rm);
	for (int i = 0; i < 2 * SERIES; i++)
		series_mail_release(&m[i]);
	free(m);
}

const struct unit_test revmatch_tests[] = {
	{ "revmatch: 300 series found by change-id across title changes", many_series_with_change_ids },
	{ "revmatch: one mail read: kind, thread, N/M, RESEND, change-id", read_one_mail },
	{ "revmatch: revisions by title and author, within a year", revisions_by_subject_and_author },
	{ "revmatch: revisions by change-id, whatever the title", revisions_by_change_id },
	{ "revmatch: a partial reroll completed after its grace, a RESEND, a series still arriving",
	  partial_reroll_resend_and_waiting },
	{ "revmatch: threads without a cover letter, lone patches, v2 sent into v1's thread",
	  threads_without_a_cover_letter },
	{ NULL, NULL },
};
