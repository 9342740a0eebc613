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
 * Those are the samples of one boot each.  One boot's samples share that
 * boot's conditions, and under TCG boots differ far more than samples do:
 * make bench's A/A runs (one kernel, booted 18 times) put the same
 * figure's boot medians up to 1.8x apart in quiet boots and 3x apart in
 * boots beside a build, while each boot's own samples stayed within 10%.
 * So a change is also held against boots (perf_boots_compare()): every
 * boot of one kernel must differ from every boot of the other by more
 * than the noise of boots, the largest of PERF_MIN_CHANGE, the
 * accelerator's floor (PERF_TCG_BOOT_NOISE; none under KVM) and how far
 * each kernel's own two boots lie apart.
 *
 * Pure functions, no allocation the caller sees.
 */
#ifndef KPIPE_PERFSTAT_H
#define KPIPE_PERFSTAT_H

#include <stddef.h>

#define PERF_MIN_SAMPLES 5
#define PERF_MAX_P 0.01
#define PERF_MIN_CHANGE 0.10
/* under TCG a change must exceed +100% (2x; -50% faster) between boots */
#define PERF_TCG_BOOT_NOISE 1.00

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

/*
 * Boots against boots.  ref[0..nboots) and rev[0..nboots) are the medians
 * of each boot of the reference kernel and of the revision (nboots 1 or 2;
 * with one, the kernels' own boot-to-boot noise is not known and only the
 * floor counts).  'floor' is the accelerator's (PERF_TCG_BOOT_NOISE or 0).
 */
struct perf_boots {
	double noise; /* the change a boot pair must exceed (0.5 = 50%) */
	double least; /* the smallest change from a reference boot to a revision boot, signed */
	int differ;   /* +1 every revision boot slower beyond 'noise', -1 faster, 0 neither */
};
void perf_boots_compare(const double *ref, const double *rev, size_t nboots, double floor,
			struct perf_boots *out);

/* The two-sided Mann-Whitney U p-value of a against b (exported for the unit tests). */
double perf_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb);

#endif
