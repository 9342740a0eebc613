/*
 * perfstat: is a "# perf:" figure's change real?  Under TCG the same
 * kernel's figures move by 20-90% between runs, so one sample proves
 * nothing and a fixed threshold reports noise.  Two sample sets (the
 * baseline's and the revision's, at least PERF_MIN_SAMPLES each) differ
 * when both hold:
 *
 *  - a two-sided Mann-Whitney U test (rank-sum, exact with ties handled
 *    by mid-ranks) gives p < PERF_MAX_P: the revision's samples sit
 *    above (or below) the baseline's more than chance would put them;
 *  - the medians differ by more than the larger of PERF_MIN_CHANGE and
 *    the baseline's own spread (its interquartile range over its median):
 *    a shift too small to matter, or inside the noise the baseline shows
 *    by itself, is not reported however consistent.
 *
 * Pure functions, no allocation the caller sees.
 */
#ifndef KPIPE_PERFSTAT_H
#define KPIPE_PERFSTAT_H

#include <stddef.h>

#define PERF_MIN_SAMPLES 5
#define PERF_MAX_P 0.01
#define PERF_MIN_CHANGE 0.10

struct perf_cmp {
	double base_median, median;
	double change;	 /* (median - base_median) / base_median */
	double spread;	 /* the baseline's interquartile range / its median */
	double p;	 /* two-sided Mann-Whitney U p-value, 1 if not computed */
	unsigned slower; /* the revision's samples above the baseline's median */
	unsigned faster; /* ... below it */
	unsigned n;	 /* the revision's samples */
	int significant; /* both conditions above hold */
};

/* The median of v[0..n) (n > 0); v is not changed. */
double perf_median(const double *v, size_t n);

/*
 * Compare the samples; 0 with *out filled, -1 if either set has fewer
 * than PERF_MIN_SAMPLES or the baseline's median is not positive (then
 * nothing can be said and *out says not significant).
 */
int perf_compare(const double *base, size_t nb, const double *rev, size_t nr, struct perf_cmp *out);

/* The two-sided Mann-Whitney U p-value of a against b (exported for the unit tests). */
double perf_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb);

#endif
