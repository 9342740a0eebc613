/* inbox: reading a public-inbox v2 epoch and a maildir from a position. */
#include "harness.h"
#include "inbox.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct seen {
	char subjects[16][64];
	size_t n;
};

static int remember(void *data, const char *raw, size_t len)
{
	struct seen *s = data;
	const char *subj = strstr(raw, "Subject: ");
	if (s->n < 16 && subj && (size_t)(subj - raw) < len)
		sscanf(subj + 9, "%63[^\n]", s->subjects[s->n++]);
	return 0;
}

static int sh(const char *fmt, const char *dir, const char *arg)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), fmt, dir, arg);
	return system(cmd);
}

/* Commit one message as public-inbox does: a tree holding only the blob "m". */
static void deliver(const char *repo, const char *subject)
{
	CHECK(sh("cd %s && printf 'From: a@x\\nSubject: %s\\n\\nbody\\n' > m.tmp && b=$(git hash-object -w m.tmp) && "
		 "t=$(printf '100644 blob %%s\\tm\\n' $b | git mktree) && "
		 "p=$(git rev-parse -q --verify HEAD) ; c=$(echo x | git commit-tree $t ${p:+-p $p}) && "
		 "git update-ref refs/heads/master $c && rm m.tmp", repo, subject) == 0);
}

TEST(public_inbox_from_a_position)
{
	char dir[] = "/tmp/kpipe-inbox-XXXXXX";
	struct buf repo = BUF_INIT, next = BUF_INIT, note = BUF_INIT, pos = BUF_INIT;
	struct kperror err = KPERROR_INIT;
	struct seen s = { .n = 0 };
	unsigned big = 0;
	enum inbox_kind kind;
	CHECK(mkdtemp(dir) != NULL);
	buf_addf(&repo, "%s/git/0.git", dir);
	CHECK(sh("git init -q --bare %s%s", repo.data, "") == 0);
	setenv("GIT_AUTHOR_NAME", "x", 1);
	setenv("GIT_AUTHOR_EMAIL", "x@x", 1);
	setenv("GIT_COMMITTER_NAME", "x", 1);
	setenv("GIT_COMMITTER_EMAIL", "x@x", 1);
	CHECK(inbox_kind(&kind, dir, &err) == 0 && kind == INBOX_PUBLIC_INBOX);
	/* an epoch without mail yet */
	CHECK(inbox_read(dir, "", remember, &s, &next, &big, &note, &err) == 0 && s.n == 0);
	CHECK_STR(next.data, "pi:");
	deliver(repo.data, "one");
	deliver(repo.data, "two");
	CHECK(inbox_read(dir, "", remember, &s, &next, &big, &note, &err) == 0);
	CHECK(s.n == 2 && !strcmp(s.subjects[0], "one") && !strcmp(s.subjects[1], "two"));
	CHECK(!strncmp(next.data, "pi:0=", 5) && next.len == 5 + 40);
	/* from there: only what came after */
	buf_adds(&pos, next.data);
	deliver(repo.data, "three");
	s.n = 0;
	CHECK(inbox_read(dir, pos.data, remember, &s, &next, &big, &note, &err) == 0);
	CHECK(s.n == 1 && !strcmp(s.subjects[0], "three"));
	CHECK(!note.len);
	/* nothing new: the same position */
	buf_reset(&pos);
	buf_adds(&pos, next.data);
	s.n = 0;
	CHECK(inbox_read(dir, pos.data, remember, &s, &next, &big, &note, &err) == 0 && s.n == 0);
	CHECK_STR(next.data, pos.data);
	/* a position the epoch no longer holds (a purge rewrote it): read again, and said */
	s.n = 0;
	CHECK(inbox_read(dir, "pi:0=0123456789012345678901234567890123456789", remember, &s, &next, &big, &note,
			 &err) == 0);
	CHECK(s.n == 3);
	CHECK_CONTAINS(note.data, "no longer holds commit 012345678901 (rewritten): read again from its start");
	util_rm_rf(dir);
	buf_release(&repo);
	buf_release(&next);
	buf_release(&note);
	buf_release(&pos);
	kperror_release(&err);
}

TEST(maildir_from_a_position)
{
	char dir[] = "/tmp/kpipe-maildir-XXXXXX";
	struct buf next = BUF_INIT, note = BUF_INIT, pos = BUF_INIT;
	struct kperror err = KPERROR_INIT;
	struct seen s = { .n = 0 };
	unsigned big = 0;
	enum inbox_kind kind;
	CHECK(mkdtemp(dir) != NULL);
	CHECK(inbox_kind(&kind, dir, &err) == -1 && err.kind == KPERROR_INPUT);
	CHECK_CONTAINS(err.msg.data, "is neither a public-inbox v2 inbox (no git/0.git) nor a maildir");
	CHECK(sh("cd %s && mkdir new cur tmp%s", dir, "") == 0);
	CHECK(inbox_kind(&kind, dir, &err) == 0 && kind == INBOX_MAILDIR);
	CHECK(sh("cd %s && printf 'Subject: one\\n\\nx\\n' > tmp/1 && mv tmp/1 new/1 && sleep 0.05 && "
		 "printf 'Subject: two\\n\\nx\\n' > tmp/2 && mv tmp/2 cur/2:2,S%s", dir, "") == 0);
	CHECK(inbox_read(dir, "", remember, &s, &next, &big, &note, &err) == 0);
	CHECK(s.n == 2 && !strcmp(s.subjects[0], "one") && !strcmp(s.subjects[1], "two")); /* oldest first */
	CHECK(!strncmp(next.data, "md:", 3));
	buf_adds(&pos, next.data);
	CHECK(sh("cd %s && sleep 0.05 && printf 'Subject: three\\n\\nx\\n' > tmp/3 && mv tmp/3 new/3%s", dir, "") == 0);
	s.n = 0;
	CHECK(inbox_read(dir, pos.data, remember, &s, &next, &big, &note, &err) == 0);
	/* "two" sits at the position itself: read again (its Message-ID drops it later); "one" is not */
	CHECK(s.n == 2 && !strcmp(s.subjects[0], "two") && !strcmp(s.subjects[1], "three"));
	util_rm_rf(dir);
	buf_release(&next);
	buf_release(&note);
	buf_release(&pos);
	kperror_release(&err);
}

const struct unit_test inbox_tests[] = {
	{ "inbox: a public-inbox epoch read from its position (and again after a purge)", public_inbox_from_a_position },
	{ "inbox: a maildir read from its position, new/ and cur/", maildir_from_a_position },
	{ NULL, NULL },
};
