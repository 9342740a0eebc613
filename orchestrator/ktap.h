/*
 * ktap: read the KTAP (and older TAP 13) output of a guest test, as the
 * kernel's selftests write it: "KTAP version 1", a plan "1..N", result
 * lines "ok N desc", "not ok N desc # SKIP reason", and "# " diagnostics.
 * Nested (indented) subtests are ignored; their parent's line counts.
 *
 * Measurements a test reports as "# perf: NAME VALUE UNIT" diagnostics
 * (kpipe's convention; they never decide pass or fail) are kept as
 * metrics, so they can be compared between revisions; a name printed
 * several times is sampled several times (see perfstat.h).
 */
#ifndef KPIPE_KTAP_H
#define KPIPE_KTAP_H

#include <stddef.h>

#include "buf.h"

enum ktap_status { KTAP_PASS, KTAP_FAIL, KTAP_SKIP, KTAP_XFAIL };

struct ktap_case {
	unsigned number;
	enum ktap_status status;
	char *name;
	char *directive; /* the text after "# SKIP" etc., or NULL */
};

struct ktap_metric {
	char *name;      /* "madv_pageout_64mib_64k_folios" */
	double value;    /* the median of the samples */
	char *unit;      /* "ms", or "" (the last sample's) */
	double *samples; /* every "# perf:" line of this name, in order */
	size_t nr_samples;
	double *confirm; /* the same figure from a second boot, when a change had to be confirmed */
	size_t nr_confirm;
};

struct ktap {
	int has_header;  /* saw "KTAP version" or "TAP version" */
	int planned;     /* N of "1..N", -1 if no plan */
	struct ktap_case *cases;
	size_t nr;
	size_t passed, failed, skipped;
	struct ktap_metric *metrics; /* "# perf:" names in order; a repeated name is another sample */
	size_t nr_metrics;
};

#define KTAP_INIT { 0, -1, NULL, 0, 0, 0, 0, NULL, 0 }

/* Add a result line as if parsed: case number nr+1, 'name' copied, no directive. */
void ktap_add_case(struct ktap *k, enum ktap_status status, const char *name);

/* What one test's output may add: more names or samples are dropped. */
#define KTAP_MAX_METRICS 256
#define KTAP_MAX_SAMPLES 1000

/* Add a sample to metric 'name' (made if new); the strings are copied. */
void ktap_add_metric(struct ktap *k, const char *name, double value, const char *unit);
/* Add a second boot's sample to metric 'name' (made if new). */
void ktap_add_confirm_sample(struct ktap *k, const char *name, double value, const char *unit);

/* Parse 'text' into *out (which must be KTAP_INIT).  Never fails. */
void ktap_parse(struct ktap *out, const char *text);
void ktap_release(struct ktap *k);
const char *ktap_status_name(enum ktap_status s);

#endif
