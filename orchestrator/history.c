#include "history.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, started TEXT DEFAULT (datetime('now')),"
	"  dir TEXT, series TEXT, base TEXT);"
	"CREATE TABLE IF NOT EXISTS cells(run INTEGER, revision TEXT, arch TEXT, verdict TEXT,"
	"  commit_id TEXT, seconds_apply REAL, seconds_each_patch REAL, seconds_build REAL,"
	"  seconds_boot REAL, seconds_test REAL);"
	"CREATE TABLE IF NOT EXISTS tests(run INTEGER, revision TEXT, arch TEXT, test TEXT,"
	"  verdict TEXT, seconds REAL);"
	"CREATE TABLE IF NOT EXISTS splats(run INTEGER, revision TEXT, arch TEXT, title TEXT,"
	"  count INTEGER);";

static int db_error(struct kperror *err, sqlite3 *db, const char *what)
{
	return kperror_set(err, KPERROR_INFRA, "history database: %s: %s", what,
			   db ? sqlite3_errmsg(db) : "cannot open");
}

static int open_db(sqlite3 **db, const char *path, struct kperror *err)
{
	if (sqlite3_open(path, db) != SQLITE_OK) {
		db_error(err, *db, path);
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(*db, 10000);
	if (sqlite3_exec(*db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		db_error(err, *db, "creating the tables");
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	return 0;
}

/* Run 'sql' with text/real parameters given as a format: 't' text, 'r' real, 'i' int. */
static int exec_bound(sqlite3 *db, const char *sql, const char *types, const void *const *args)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (int i = 0; types[i]; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
		else if (types[i] == 'r')
			sqlite3_bind_double(st, i + 1, *(const double *)args[i]);
		else
			sqlite3_bind_int64(st, i + 1, *(const long long *)args[i]);
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int history_record(const char *db_path, const char *run_dir, const char *series,
		   const char *base, const struct cell *cells, size_t n, struct kperror *err)
{
	sqlite3 *db = NULL;
	int ret = -1;
	if (open_db(&db, db_path, err) < 0)
		return -1;
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	const void *run_args[] = { run_dir, series, base ? base : "" };
	if (exec_bound(db, "INSERT INTO runs(dir, series, base) VALUES(?,?,?)", "ttt", run_args) < 0) {
		db_error(err, db, "recording the run");
		goto out;
	}
	long long run = sqlite3_last_insert_rowid(db);
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		const char *verdict = results_cell_verdict_name(c->verdict);
		const void *cell_args[] = { &run, c->revision, c->arch, verdict, c->commit ? c->commit : "",
					    &c->seconds[STAGE_APPLY], &c->seconds[STAGE_PATCHES],
					    &c->seconds[STAGE_BUILD], &c->seconds[STAGE_BOOT],
					    &c->seconds[STAGE_TEST] };
		if (exec_bound(db, "INSERT INTO cells VALUES(?,?,?,?,?,?,?,?,?,?)", "ittttrrrrr",
			       cell_args) < 0)
			goto fail;
		for (size_t t = 0; t < c->nr_tests; t++) {
			const void *a[] = { &run, c->revision, c->arch, c->tests[t].name,
					    results_test_verdict_name(c->tests[t].verdict), &c->tests[t].seconds };
			if (exec_bound(db, "INSERT INTO tests VALUES(?,?,?,?,?,?)", "ittttr", a) < 0)
				goto fail;
		}
		for (size_t s = 0; s < c->splats.nr; s++) {
			long long count = c->splats.v[s].count;
			const void *a[] = { &run, c->revision, c->arch, c->splats.v[s].title, &count };
			if (exec_bound(db, "INSERT INTO splats VALUES(?,?,?,?,?)", "ittti", a) < 0)
				goto fail;
		}
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_error(err, db, "commit");
		goto out;
	}
	ret = 0;
	goto out;
fail:
	db_error(err, db, "recording the results");
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_close(db);
	return ret;
}

int history_changes(struct strvec *out, struct buf *about, const char *db_path,
		    const char *series, struct kperror *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long runs[2] = { 0, 0 };
	char *name = NULL;
	int found = 0, ret = -1;

	if (open_db(&db, db_path, err) < 0)
		return -1;
	const char *pick = series ? "SELECT id, series, started, dir FROM runs WHERE series = ?1 ORDER BY id DESC LIMIT 2"
				  : "SELECT id, series, started, dir FROM runs WHERE series = "
				    "(SELECT series FROM runs ORDER BY id DESC LIMIT 1) ORDER BY id DESC LIMIT 2";
	if (sqlite3_prepare_v2(db, pick, -1, &st, NULL) != SQLITE_OK) {
		db_error(err, db, "reading the runs");
		goto out;
	}
	if (series)
		sqlite3_bind_text(st, 1, series, -1, SQLITE_TRANSIENT);
	struct buf names = BUF_INIT;
	while (found < 2 && sqlite3_step(st) == SQLITE_ROW) {
		runs[found] = sqlite3_column_int64(st, 0);
		if (!found)
			name = strdup((const char *)sqlite3_column_text(st, 1));
		buf_addf(&names, "%s run %lld of %s (%s)", found ? " and" : "", runs[found],
			 (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3));
		found++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!found) {
		buf_addf(about, series ? "no run of '%s' is recorded" : "no run is recorded yet%s",
			 series ? series : "");
		buf_release(&names);
		ret = 0;
		goto out;
	}
	if (found < 2) {
		buf_addf(about, "no earlier run of '%s' to compare with:%s", name, names.data);
		buf_release(&names);
		ret = 0;
		goto out;
	}
	buf_addf(about, "'%s': changes from the older to the newer of%s", name, names.data);
	buf_release(&names);

	/* tests whose verdict differs, tests new or gone, splats new or gone */
	static const char *const queries[] = {
		"SELECT n.revision, n.arch, n.test, o.verdict, n.verdict FROM tests n JOIN tests o"
		" ON o.run = ?2 AND o.revision = n.revision AND o.arch = n.arch AND o.test = n.test"
		" WHERE n.run = ?1 AND o.verdict != n.verdict ORDER BY 1, 2, 3",
		"SELECT n.revision, n.arch, n.test, 'new', n.verdict FROM tests n WHERE n.run = ?1 AND NOT EXISTS"
		" (SELECT 1 FROM tests o WHERE o.run = ?2 AND o.revision = n.revision AND o.arch = n.arch AND o.test = n.test)",
		"SELECT n.revision, n.arch, n.title, 'new splat', '' FROM splats n WHERE n.run = ?1 AND NOT EXISTS"
		" (SELECT 1 FROM splats o WHERE o.run = ?2 AND o.revision = n.revision AND o.arch = n.arch AND o.title = n.title)",
		"SELECT o.revision, o.arch, o.title, 'splat gone', '' FROM splats o WHERE o.run = ?2 AND NOT EXISTS"
		" (SELECT 1 FROM splats n WHERE n.run = ?1 AND o.revision = n.revision AND o.arch = n.arch AND o.title = n.title)",
	};
	for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		if (sqlite3_prepare_v2(db, queries[q], -1, &st, NULL) != SQLITE_OK) {
			db_error(err, db, "comparing runs");
			goto out;
		}
		sqlite3_bind_int64(st, 1, runs[0]);
		sqlite3_bind_int64(st, 2, runs[1]);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *rev = (const char *)sqlite3_column_text(st, 0);
			const char *arch = (const char *)sqlite3_column_text(st, 1);
			const char *what = (const char *)sqlite3_column_text(st, 2);
			const char *from = (const char *)sqlite3_column_text(st, 3);
			const char *to = (const char *)sqlite3_column_text(st, 4);
			if (q == 0)
				strvec_pushf(out, "%s %s %s: %s -> %s", rev, arch, what, from, to);
			else if (q == 1)
				strvec_pushf(out, "%s %s %s: new test (%s)", rev, arch, what, to);
			else
				strvec_pushf(out, "%s %s %s: %s", rev, arch, from, what);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	ret = 0;
out:
	free(name);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

/* kpipe watch's state: where each inbox was read up to, the mails kept, what was tested */
static const char watch_schema[] =
	"CREATE TABLE IF NOT EXISTS watch_position(inbox TEXT PRIMARY KEY, position TEXT);"
	"CREATE TABLE IF NOT EXISTS watch_mail(msgid TEXT PRIMARY KEY, inbox TEXT, raw BLOB);"
	"CREATE TABLE IF NOT EXISTS watch_tested(series TEXT, patchset TEXT, version INTEGER,"
	"  run_dir TEXT, verdict TEXT, at TEXT DEFAULT (datetime('now')), PRIMARY KEY(series, patchset));";

struct history_watch {
	sqlite3 *db;
	int in_tx;
};

int history_watch_open(struct history_watch **out, const char *db_path, struct kperror *err)
{
	struct history_watch *w = calloc(1, sizeof(*w));
	if (open_db(&w->db, db_path, err) < 0) {
		free(w);
		return -1;
	}
	if (sqlite3_exec(w->db, watch_schema, NULL, NULL, NULL) != SQLITE_OK) {
		db_error(err, w->db, "creating the watch tables");
		sqlite3_close(w->db);
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

int history_watch_begin(struct history_watch *w, struct kperror *err)
{
	if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(err, w->db, "starting a transaction");
	w->in_tx = 1;
	return 0;
}

int history_watch_end(struct history_watch *w, int keep, struct kperror *err)
{
	if (!w->in_tx)
		return 0;
	w->in_tx = 0;
	if (sqlite3_exec(w->db, keep ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(err, w->db, keep ? "commit" : "rollback");
	return 0;
}

void history_watch_close(struct history_watch *w)
{
	if (!w)
		return;
	if (w->in_tx)
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(w->db);
	free(w);
}

int history_watch_position(struct history_watch *w, const char *inbox, struct buf *out, struct kperror *err)
{
	sqlite3_stmt *st = NULL;
	buf_reset(out);
	if (sqlite3_prepare_v2(w->db, "SELECT position FROM watch_position WHERE inbox = ?", -1, &st, NULL) != SQLITE_OK)
		return db_error(err, w->db, "reading a position");
	sqlite3_bind_text(st, 1, inbox, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		buf_adds(out, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

int history_watch_set_position(struct history_watch *w, const char *inbox, const char *position,
			       struct kperror *err)
{
	const void *args[] = { inbox, position };
	if (exec_bound(w->db, "INSERT OR REPLACE INTO watch_position VALUES(?,?)", "tt", args) < 0)
		return db_error(err, w->db, "keeping a position");
	return 0;
}

int history_watch_add_mail(struct history_watch *w, const char *inbox, const char *msgid, const char *raw,
			   size_t len, struct kperror *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(w->db, "INSERT OR IGNORE INTO watch_mail VALUES(?,?,?)", -1, &st, NULL) != SQLITE_OK)
		return db_error(err, w->db, "keeping a mail");
	sqlite3_bind_text(st, 1, msgid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, inbox, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, raw, (int)len, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(err, w->db, "keeping a mail");
	return sqlite3_changes(w->db) > 0;
}

int history_watch_each_mail(struct history_watch *w, int (*fn)(void *data, const char *raw, size_t len),
			    void *data, struct kperror *err)
{
	sqlite3_stmt *st = NULL;
	int ret = 0;
	if (sqlite3_prepare_v2(w->db, "SELECT raw FROM watch_mail ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
		return db_error(err, w->db, "reading the mails");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const void *raw = sqlite3_column_blob(st, 0);
		int len = sqlite3_column_bytes(st, 0);
		if (fn(data, raw ? raw : "", (size_t)len) < 0) {
			ret = -1;
			break;
		}
	}
	sqlite3_finalize(st);
	return ret;
}

int history_watch_tested(struct history_watch *w, const char *series, const char *patchset, struct buf *run_dir,
			 struct buf *verdict, unsigned *version, struct kperror *err)
{
	sqlite3_stmt *st = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(w->db, "SELECT run_dir, verdict, version FROM watch_tested WHERE series = ? AND patchset = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(err, w->db, "reading what was tested");
	sqlite3_bind_text(st, 1, series, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, patchset, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		buf_reset(run_dir);
		buf_adds(run_dir, (const char *)sqlite3_column_text(st, 0));
		buf_reset(verdict);
		buf_adds(verdict, (const char *)sqlite3_column_text(st, 1));
		*version = (unsigned)sqlite3_column_int(st, 2);
		found = 1;
	}
	sqlite3_finalize(st);
	return found;
}

int history_watch_record(struct history_watch *w, const char *series, const char *patchset, unsigned version,
			 const char *run_dir, const char *verdict, struct kperror *err)
{
	long long v = version;
	const void *args[] = { series, patchset, &v, run_dir, verdict };
	if (exec_bound(w->db, "INSERT OR REPLACE INTO watch_tested(series, patchset, version, run_dir, verdict)"
			      " VALUES(?,?,?,?,?)", "ttitt", args) < 0)
		return db_error(err, w->db, "recording a tested revision");
	return 0;
}
