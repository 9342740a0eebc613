/*
 * kpipe watch INBOX...: test every revision of every series that arrives
 * on a list.  Reads what came since the last watch (public-inbox v2 or
 * maildir), keeps the patch mails, groups them into series and revisions
 * (revmatch.c), and runs each revision not yet tested as 'kpipe run'
 * would, compared with the revision before it, which is loaded from its
 * own run (--tested), not run again.
 */
#include "cmd.h"
#include "../history.h"
#include "../inbox.h"
#include "../proc.h"
#include "../revmatch.h"
#include "../run_plan.h"
#include "../util.h"
#include "../verdict.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: kpipe watch [--once] [--dry-run] [--since YYYY-MM-DD] [--interval SECONDS] INBOX...\n"
	"       kpipe watch --list\n"
	"  INBOX: a public-inbox v2 inbox (git/N.git epochs, as lore serves it) or a maildir\n"
	"  --once:     read, run what is new, exit (for cron or a timer); the exit code is\n"
	"              the worst of the runs', as for kpipe run\n"
	"  --dry-run:  say what would run; read nothing for good, run nothing\n"
	"  --since:    the first watch of a big inbox: mails dated before DATE are skipped\n"
	"  --interval: without --once, seconds between watches (default 600)\n"
	"  --list:     the series known, their revisions and each one's verdict\n";

struct watch_opts {
	int once, dry_run, list;
	long long since;
	unsigned interval;
	char **inboxes;
	size_t nr;
};

/* The mails kept, parsed, with their text (to write a revision's mbox). */
struct store {
	struct series_mail *mails;
	struct buf *raw;
	size_t nr, alloc;
};

static int parse_date(long long *out, const char *s)
{
	struct tm tm = { 0 };
	char *end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return -1;
	*out = (long long)timegm(&tm);
	return 0;
}

static int parse_options(struct watch_opts *o, int argc, char **argv, struct kperror *err)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, '1' },     { "dry-run", no_argument, NULL, 'n' },
		{ "list", no_argument, NULL, 'l' },     { "since", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	optind = 1;
	o->interval = 600;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case '1': o->once = 1; break;
		case 'n': o->dry_run = 1; break;
		case 'l': o->list = 1; break;
		case 's':
			if (parse_date(&o->since, optarg) < 0)
				return kperror_set(err, KPERROR_INPUT, "--since '%s' is not a date (YYYY-MM-DD)", optarg);
			break;
		case 'i':
			o->interval = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !o->interval || o->interval > 7 * 24 * 3600)
				return kperror_set(err, KPERROR_INPUT, "--interval '%s' is not 1..604800 seconds", optarg);
			break;
		case 'h': fputs(usage, stdout); return 1;
		default: return kperror_set(err, KPERROR_INPUT, "%s", usage);
		}
	}
	o->inboxes = argv + optind;
	o->nr = (size_t)(argc - optind);
	if (!o->nr && !o->list) {
		fputs(usage, stderr);
		return kperror_set(err, KPERROR_INPUT, "no inbox given");
	}
	for (size_t i = 0; i < o->nr; i++) {
		enum inbox_kind kind;
		if (inbox_kind(&kind, o->inboxes[i], err) < 0)
			return -1;
	}
	return 0;
}

static int store_mail(void *data, const char *raw, size_t len)
{
	struct store *s = data;
	if (s->nr == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 64;
		s->mails = realloc(s->mails, s->alloc * sizeof(*s->mails));
		s->raw = realloc(s->raw, s->alloc * sizeof(*s->raw));
	}
	series_read_mail(&s->mails[s->nr], raw, len);
	buf_init(&s->raw[s->nr]);
	buf_add(&s->raw[s->nr], raw, len);
	s->nr++;
	return 0;
}

static void store_release(struct store *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		series_mail_release(&s->mails[i]);
		buf_release(&s->raw[i]);
	}
	free(s->mails);
	free(s->raw);
	memset(s, 0, sizeof(*s));
}

/* What reading one inbox found. */
struct reading {
	struct history_watch *w;
	const char *inbox;
	long long since;
	unsigned mails, kept, old;
	struct kperror *err;
};

static int read_mail(void *data, const char *raw, size_t len)
{
	struct reading *r = data;
	struct series_mail m;
	int ret = 0;
	r->mails++;
	series_read_mail(&m, raw, len);
	if (m.kind != SERIES_MAIL_OTHER && r->since && m.when && m.when < r->since)
		r->old++;
	else if (m.kind != SERIES_MAIL_OTHER) {
		struct buf id = BUF_INIT;
		if (*m.msgid)
			buf_adds(&id, m.msgid);
		else {
			/* no Message-ID: the text stands for it */
			uint64_t h = 0;
			util_hash(&h, raw, len);
			buf_addf(&id, "kpipe-no-message-id-%016llx", (unsigned long long)h);
		}
		int added = history_watch_add_mail(r->w, r->inbox, id.data, raw, len, r->err);
		buf_release(&id);
		if (added < 0)
			ret = -1;
		r->kept += added > 0;
	}
	series_mail_release(&m);
	return ret;
}

/* Read every inbox from its position; keep the patch mails. */
static int read_inboxes(struct history_watch *w, const struct watch_opts *o, struct kperror *err)
{
	struct buf pos = BUF_INIT, next = BUF_INIT, note = BUF_INIT;
	int ret = -1;
	for (size_t i = 0; i < o->nr; i++) {
		char *real = realpath(o->inboxes[i], NULL);
		const char *inbox = real ? real : o->inboxes[i];
		struct reading r = { w, inbox, o->since, 0, 0, 0, err };
		unsigned too_big = 0;
		buf_reset(&note);
		double t0 = util_now();
		int e = history_watch_position(w, inbox, &pos, err) < 0 ||
			inbox_read(inbox, pos.data, read_mail, &r, &next, &too_big, &note, err) < 0 ||
			history_watch_set_position(w, inbox, next.data, err) < 0;
		if (!e) {
			printf("inbox %s: %u new mail%s, %u patch%s or cover letter%s kept", inbox, r.mails,
			       r.mails == 1 ? "" : "s", r.kept, r.kept == 1 ? "" : "es", r.kept == 1 ? "" : "s");
			if (r.old)
				printf(", %u dated before --since skipped", r.old);
			if (too_big)
				printf(", %u over %d MiB skipped", too_big, INBOX_MAX_MAIL_MIB);
			printf(" (%s)\n", util_duration(util_now() - t0));
			if (note.len)
				printf("  note: %s\n", note.data);
		}
		free(real);
		if (e)
			goto out;
	}
	ret = 0;
out:
	buf_release(&pos);
	buf_release(&next);
	buf_release(&note);
	return ret;
}

/* Write raw mail 'raw' into the mbox 'out' with the Subject 'subject', mboxrd-quoted. */
static void add_mbox_mail(struct buf *out, const struct buf *raw, const char *subject)
{
	const char *p = raw->data, *end = raw->data + raw->len;
	int in_headers = 1, skipping = 0;
	buf_adds(out, "From kpipe-watch Mon Sep 17 00:00:00 2001\n");
	if (raw->len >= 5 && !memcmp(p, "From ", 5)) {
		/* a maildir file kept with its mbox separator: ours stands for it */
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		p = eol ? eol + 1 : end;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		size_t l = len && p[len - 1] == '\r' ? len - 1 : len;
		if (in_headers) {
			if (!l) {
				buf_addf(out, "Subject: %s\n\n", subject);
				in_headers = 0;
			} else if (skipping && (*p == ' ' || *p == '\t')) {
				/* the old subject's continuation */
			} else {
				skipping = l >= 8 && !strncasecmp(p, "Subject:", 8);
				if (!skipping) {
					buf_add(out, p, l);
					buf_addch(out, '\n');
				}
			}
		} else {
			const char *q = p;
			while (q < p + l && *q == '>')
				q++;
			if (p + l - q >= 5 && !memcmp(q, "From ", 5))
				buf_addch(out, '>');
			buf_add(out, p, l);
			buf_addch(out, '\n');
		}
		p += len + (eol ? 1 : 0);
	}
	if (in_headers)
		buf_addf(out, "Subject: %s\n\n", subject);
	buf_addch(out, '\n');
}

/* What one revision of a series is, made into an mbox file of its own. */
struct rev_file {
	char *path;
	char *patchset;
	char *title;
};

static int write_revision(struct rev_file *f, const struct cmd_ctx *ctx, const struct store *st,
			  const struct revmatch_series *se, const struct revmatch_rev *r, struct kperror *err)
{
	struct buf mbox = BUF_INIT, subject = BUF_INIT, dir = BUF_INIT;
	struct series s = SERIES_INIT;
	uint64_t h = 0;
	int ret = -1;
	if (r->cover != REVMATCH_NONE) {
		buf_addf(&subject, "[PATCH v%u 0/%u] %s", r->version, r->total, st->mails[r->cover].bare);
		add_mbox_mail(&mbox, &st->raw[r->cover], subject.data);
	}
	for (unsigned i = 0; i < r->total; i++) {
		size_t m = r->patches[i];
		buf_reset(&subject);
		buf_addf(&subject, "[PATCH v%u %u/%u] %s", r->version, i + 1, r->total, st->mails[m].bare);
		add_mbox_mail(&mbox, &st->raw[m], subject.data);
	}
	util_hash(&h, se->key, strlen(se->key));
	char *slug = util_slug(se->title, 40);
	buf_addf(&dir, "%s/watch/%s-%08llx", ctx->cfg.cache_dir, slug, (unsigned long long)(h & 0xffffffffu));
	free(slug);
	int e = util_mkdir_p(dir.data, 0755);
	f->path = util_strfmt("%s/v%u.mbox", dir.data, r->version);
	if (e < 0 || (e = buf_write_file(&mbox, f->path)) < 0) {
		kperror_errno(err, KPERROR_INFRA, e, "cannot write '%s'", f->path);
		goto out;
	}
	/* what stands for the patches if they cannot be read: the mails themselves */
	uint64_t text = 0;
	util_hash(&text, mbox.data, mbox.len);
	f->patchset = util_strfmt("unreadable-%016llx", (unsigned long long)text);
	char *paths[] = { f->path };
	if (series_parse(&s, paths, 1, err) < 0)
		goto out; /* bad input: said with the file's name */
	free(f->patchset);
	const struct revision *rv = &s.revs[s.nr - 1];
	buf_reset(&subject);
	run_revision_patchset(&subject, rv);
	f->patchset = buf_detach(&subject, NULL);
	f->title = strdup(rv->title);
	ret = 0;
out:
	series_release(&s);
	buf_release(&mbox);
	buf_release(&subject);
	buf_release(&dir);
	return ret;
}

static void rev_file_release(struct rev_file *f)
{
	free(f->path);
	free(f->patchset);
	free(f->title);
	memset(f, 0, sizeof(*f));
}

/* The exit class of a finished 'kpipe run' (0..3), and its word for the history. */
static int run_class(int rc, const struct kperror *err, const char **word)
{
	if (rc == 0)
		return *word = "pass", 0;
	if (rc == 1)
		return *word = "fail", 1;
	if (err->kind == KPERROR_INPUT)
		return *word = "bad-input", 2;
	*word = "infra";
	return 3;
}

/*
 * The exit class of revision v'version' alone in the run 'run_dir' (the
 * revision before it, loaded, is not judged again): the worst of its
 * cells' (verdict_cell_exit_code()).  -1 if the run cannot be read.
 */
static int revision_class(const char *run_dir, unsigned version, const char **word)
{
	static const char *const words[] = { "pass", "fail", "bad-input", "infra" };
	struct cell *cells = NULL;
	size_t n = 0;
	struct kperror err = KPERROR_INIT;
	char name[16];
	int cls = -1;
	snprintf(name, sizeof(name), "v%u", version);
	if (results_load_summary(&cells, &n, NULL, run_dir, &err) == 0) {
		results_compare(cells, n);
		for (size_t i = 0; i < n; i++) {
			if (strcmp(cells[i].revision, name))
				continue;
			int k = verdict_cell_exit_code(cells, n, i);
			if (k > cls)
				cls = k;
		}
	}
	for (size_t i = 0; i < n; i++)
		results_cell_release(&cells[i]);
	free(cells);
	kperror_release(&err);
	if (cls >= 0)
		*word = words[cls];
	return cls;
}

/* The results directory the last run made: <results>/latest. */
static char *latest_run(const struct config *cfg)
{
	char *link = util_strfmt("%s/latest", cfg->results_dir);
	char *real = realpath(link, NULL);
	free(link);
	return real;
}

/*
 * Every revision of series 'se', in order: say what it is, and run those
 * not yet tested (not in --list or --dry-run).  *worst gets the worst exit
 * class.  -1 only for kpipe's own failures or an interruption.
 */
static int watch_series(struct cmd_ctx *ctx, struct history_watch *w, const struct store *st,
			const struct revmatch_series *se, const struct watch_opts *o, int *worst, struct kperror *err)
{
	struct buf run_dir = BUF_INIT, verdict = BUF_INIT, prev_run = BUF_INIT;
	struct rev_file prev = { 0 };
	int ret = -1;
	printf("series '%s' from %s (%s)\n", se->title, se->author, se->key);
	for (size_t k = 0; k < se->nr; k++) {
		const struct revmatch_rev *r = &se->revs[k];
		struct rev_file f = { 0 };
		unsigned tested_version;
		if (!r->complete) {
			printf("  v%u: waiting: %u of %u patch%s arrived\n", r->version, r->sent, r->total,
			       r->total == 1 ? "" : "es");
			continue;
		}
		if (write_revision(&f, ctx, st, se, r, err) < 0) {
			if (err->kind != KPERROR_INPUT || !f.patchset) {
				rev_file_release(&f);
				goto out;
			}
			/* said once, recorded: the next watch does not fail on the same mails again */
			struct buf why = BUF_INIT;
			buf_adds(&why, err->msg.data);
			kperror_clear(err);
			int known = history_watch_tested(w, se->key, f.patchset, &run_dir, &verdict, &tested_version, err);
			if (known >= 0)
				printf("  v%u: cannot be read%s: %s\n", r->version, known ? " (as before)" : "", why.data);
			buf_release(&why);
			int looking = o->list || o->dry_run;
			if (known < 0 || (!known && !looking &&
					  history_watch_record(w, se->key, f.patchset, r->version, "", "bad-input", err) < 0)) {
				rev_file_release(&f);
				goto out;
			}
			if (!known && !looking && *worst < 2)
				*worst = 2;
			rev_file_release(&f);
			continue;
		}
		if (r->borrowed)
			printf("  v%u: a partial reroll: %u of %u patches sent, the rest taken from v%u\n", r->version,
			       r->sent, r->total, r->borrowed_from);
		int tested = history_watch_tested(w, se->key, f.patchset, &run_dir, &verdict, &tested_version, err);
		if (tested < 0) {
			rev_file_release(&f);
			goto out;
		}
		if (tested) {
			if (tested_version != r->version)
				printf("  v%u: the same patches as v%u%s: %s (%s)\n", r->version, tested_version,
				       r->resend ? " (a RESEND)" : "", verdict.data, run_dir.data);
			else
				printf("  v%u: tested%s: %s (%s)\n", r->version, r->resend ? " (sent again)" : "",
				       verdict.data, run_dir.data);
			rev_file_release(&prev);
			prev = f;
			buf_reset(&prev_run);
			buf_adds(&prev_run, run_dir.data);
			continue;
		}
		struct strvec args = STRVEC_INIT;
		strvec_push(&args, "run");
		if (prev.path && prev_run.len)
			strvec_pushl(&args, "--tested", prev_run.data, prev.path, NULL);
		strvec_push(&args, f.path);
		if (o->list || o->dry_run) {
			printf("  v%u: not tested yet", r->version);
			if (o->dry_run) {
				printf(": would run: kpipe");
				for (size_t a = 0; a < args.nr; a++)
					printf(" %s", args.v[a]);
			}
			printf("\n");
			strvec_clear(&args);
			rev_file_release(&prev);
			prev = f;
			buf_reset(&prev_run); /* not tested: what comes after is compared with nothing loaded */
			continue;
		}
		printf("  v%u: new: testing it%s\n", r->version, prev_run.len ? ", compared with the one before" : "");
		fflush(stdout);
		struct kperror run_err = KPERROR_INIT;
		char *before = latest_run(&ctx->cfg);
		int rc = cmd_run((int)args.nr, args.v, ctx, &run_err);
		strvec_clear(&args);
		if (rc < 0)
			printf("  v%u: %s\n", r->version, run_err.msg.data);
		/* the run's own directory, if it got as far as making one */
		char *made = latest_run(&ctx->cfg);
		if (made && before && !strcmp(made, before)) {
			free(made);
			made = NULL;
		}
		free(before);
		const char *word;
		int cls = made && run_err.kind != KPERROR_INTERRUPTED ? revision_class(made, r->version, &word) : -1;
		if (cls < 0)
			cls = run_class(rc, &run_err, &word);
		if (run_err.kind == KPERROR_INTERRUPTED) {
			kperror_set(err, KPERROR_INTERRUPTED, "%s", run_err.msg.data);
			kperror_release(&run_err);
			free(made);
			rev_file_release(&f);
			goto out;
		}
		kperror_release(&run_err);
		if (cls > *worst)
			*worst = cls;
		buf_reset(&prev_run);
		/* infrastructure: nothing is known about the kernel; the next watch tries again */
		if (cls < 3) {
			if (history_watch_record(w, se->key, f.patchset, r->version, made ? made : "", word, err) < 0) {
				free(made);
				rev_file_release(&f);
				goto out;
			}
			printf("  v%u: %s, recorded (%s)\n", r->version, word, made ? made : "no run: the input is bad");
			if (made)
				buf_adds(&prev_run, made);
		}
		free(made);
		rev_file_release(&prev);
		prev = f;
	}
	ret = 0;
out:
	rev_file_release(&prev);
	buf_release(&run_dir);
	buf_release(&verdict);
	buf_release(&prev_run);
	return ret;
}

/* One watch: read, group, run. */
static int watch_once(struct cmd_ctx *ctx, struct history_watch *w, const struct watch_opts *o, int *worst,
		      struct kperror *err)
{
	struct store st = { 0 };
	struct revmatch rm = REVMATCH_INIT;
	int ret = -1;
	if (history_watch_begin(w, err) < 0)
		goto out;
	if (!o->list && read_inboxes(w, o, err) < 0)
		goto out;
	if (history_watch_each_mail(w, store_mail, &st, err) < 0)
		goto out;
	/* what was read is kept before anything runs; --dry-run and --list keep nothing */
	if (history_watch_end(w, !o->dry_run && !o->list, err) < 0)
		goto out;
	revmatch_group(&rm, st.mails, st.nr, (long long)time(NULL));
	if (!rm.nr)
		printf("no series known yet\n");
	for (size_t k = 0; k < rm.nr && !proc_interrupted; k++)
		if (watch_series(ctx, w, &st, &rm.series[k], o, worst, err) < 0)
			goto out;
	ret = 0;
out:
	struct kperror ignored = KPERROR_INIT; /* a transaction still open (a failure) is undone */
	history_watch_end(w, 0, &ignored);
	kperror_release(&ignored);
	revmatch_release(&rm);
	store_release(&st);
	return ret;
}

int cmd_watch(int argc, char **argv, struct cmd_ctx *ctx, struct kperror *err)
{
	struct watch_opts o = { 0 };
	struct history_watch *w = NULL;
	int worst = 0, ret = -1;
	int p = parse_options(&o, argc, argv, err);
	if (p != 0)
		return p > 0 ? 0 : -1;
	if (cmd_lock_cache(ctx, err) < 0)
		return -1;
	if (history_watch_open(&w, ctx->cfg.history_path, err) < 0)
		goto out;
	for (;;) {
		if (watch_once(ctx, w, &o, &worst, err) < 0)
			goto out;
		if (o.once || o.dry_run || o.list || proc_interrupted)
			break;
		printf("next watch in %s\n", util_duration(o.interval));
		fflush(stdout);
		for (unsigned s = 0; s < o.interval && !proc_interrupted; s++)
			sleep(1);
		if (proc_interrupted)
			break;
	}
	if (proc_interrupted)
		ret = kperror_set(err, KPERROR_INTERRUPTED, "interrupted");
	else if (worst >= 2)
		ret = kperror_set(err, worst == 2 ? KPERROR_INPUT : KPERROR_INFRA, "%s",
				  worst == 2 ? "a revision could not be read or applied (see above)"
					     : "a run could not finish (see above): it is tried again next watch");
	else
		ret = worst;
out:
	history_watch_close(w);
	return ret;
}
