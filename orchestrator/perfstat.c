#include "perfstat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double *sorted_copy(const double *v, size_t n)
{
	double *s = malloc((n ? n : 1) * sizeof(*s));
	if (!s)
		abort();
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return s;
}

/* The q-quantile of sorted s[0..n), linear between order statistics. */
static double quantile(const double *s, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)pos;
	if (lo + 1 >= n)
		return s[n - 1];
	return s[lo] + (pos - (double)lo) * (s[lo + 1] - s[lo]);
}

double perf_median(const double *v, size_t n)
{
	double *s = sorted_copy(v, n);
	double m = quantile(s, n, 0.5);
	free(s);
	return m;
}

/* Above this many samples in all the exact count gets costly: the normal approximation is close. */
#define EXACT_MAX 80

/*
 * Exact: every way to pick na of the N pooled samples is equally likely
 * if both sets come from one distribution.  With ranks doubled (mid-ranks
 * of ties become integers) count the picks by their rank sum and add up
 * those at least as far from the expected sum as the one observed.
 */
static double exact_p(const unsigned *rank2, size_t N, size_t na, unsigned observed)
{
	unsigned maxsum = 0;
	for (size_t i = 0; i < N; i++)
		maxsum += rank2[i];
	/* ways[k][s]: picks of k among the samples seen so far with doubled rank sum s */
	size_t stride = (size_t)maxsum + 1;
	double *ways = calloc((na + 1) * stride, sizeof(*ways));
	if (!ways)
		abort();
	ways[0] = 1;
	for (size_t i = 0; i < N; i++)
		for (size_t k = (i + 1 < na ? i + 1 : na); k >= 1; k--)
			for (size_t s = rank2[i]; s < stride; s++)
				ways[k * stride + s] += ways[(k - 1) * stride + s - rank2[i]];
	double total = 0, extreme = 0;
	double expected = (double)maxsum * (double)na / (double)N;
	double dist = fabs((double)observed - expected) - 1e-9;
	for (size_t s = 0; s < stride; s++) {
		double w = ways[na * stride + s];
		total += w;
		if (fabs((double)s - expected) >= dist)
			extreme += w;
	}
	free(ways);
	return total > 0 ? extreme / total : 1;
}

double perf_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb)
{
	size_t N = na + nb;
	if (!na || !nb)
		return 1;
	struct item {
		double v;
		int from_a;
	} *it = malloc(N * sizeof(*it));
	unsigned *rank2 = malloc(N * sizeof(*rank2));
	if (!it || !rank2)
		abort();
	for (size_t i = 0; i < na; i++)
		it[i] = (struct item){a[i], 1};
	for (size_t i = 0; i < nb; i++)
		it[na + i] = (struct item){b[i], 0};
	/* sort by value (insertion: N is small) */
	for (size_t i = 1; i < N; i++)
		for (size_t j = i; j > 0 && it[j - 1].v > it[j].v; j--) {
			struct item t = it[j];
			it[j] = it[j - 1];
			it[j - 1] = t;
		}
	unsigned observed = 0;
	double ties = 0; /* sum of t^3 - t over tie groups */
	for (size_t i = 0; i < N;) {
		size_t j = i;
		while (j + 1 < N && it[j + 1].v == it[i].v)
			j++;
		unsigned r2 = (unsigned)(i + 1 + j + 1); /* twice the mid-rank of ranks i+1..j+1 */
		for (size_t k = i; k <= j; k++) {
			rank2[k] = r2;
			if (it[k].from_a)
				observed += r2;
		}
		double t = (double)(j - i + 1);
		ties += t * t * t - t;
		i = j + 1;
	}
	double p;
	if (N <= EXACT_MAX) {
		p = exact_p(rank2, N, na, observed);
	} else {
		double u = (double)observed / 2 - (double)na * (double)(na + 1) / 2;
		double mu = (double)na * (double)nb / 2;
		double var = (double)na * (double)nb / 12 *
			     ((double)(N + 1) - ties / ((double)N * (double)(N - 1)));
		double z = var > 0 ? (fabs(u - mu) - 0.5) / sqrt(var) : 0;
		p = z > 0 ? erfc(z / sqrt(2)) : 1;
	}
	free(it);
	free(rank2);
	return p > 1 ? 1 : p;
}

int perf_compare(const double *base, size_t nb, const double *rev, size_t nr, struct perf_cmp *out)
{
	memset(out, 0, sizeof(*out));
	out->p = 1;
	out->n = (unsigned)nr;
	if (nb < PERF_MIN_SAMPLES || nr < PERF_MIN_SAMPLES)
		return -1;
	double *s = sorted_copy(base, nb);
	out->base_median = quantile(s, nb, 0.5);
	out->spread = out->base_median > 0
			  ? (quantile(s, nb, 0.75) - quantile(s, nb, 0.25)) / out->base_median
			  : 0;
	free(s);
	if (out->base_median <= 0)
		return -1;
	out->median = perf_median(rev, nr);
	out->change = (out->median - out->base_median) / out->base_median;
	for (size_t i = 0; i < nr; i++) {
		out->slower += rev[i] > out->base_median;
		out->faster += rev[i] < out->base_median;
	}
	out->p = perf_mann_whitney_p(rev, nr, base, nb);
	double need = out->spread > PERF_MIN_CHANGE ? out->spread : PERF_MIN_CHANGE;
	out->significant = out->p < PERF_MAX_P && fabs(out->change) > need;
	return 0;
}

static double own_noise(const double *m, size_t n)
{
	double lo = m[0], hi = m[0];
	for (size_t i = 1; i < n; i++) {
		lo = m[i] < lo ? m[i] : lo;
		hi = m[i] > hi ? m[i] : hi;
	}
	return lo > 0 ? hi / lo - 1 : 0;
}

void perf_boots_compare(const double *ref, const double *rev, size_t nboots, double floor,
			struct perf_boots *out)
{
	memset(out, 0, sizeof(*out));
	if (!nboots)
		return;
	double noise = PERF_MIN_CHANGE > floor ? PERF_MIN_CHANGE : floor;
	double own_ref = own_noise(ref, nboots), own_rev = own_noise(rev, nboots);
	noise = own_ref > noise ? own_ref : noise;
	noise = own_rev > noise ? own_rev : noise;
	out->noise = noise;
	double ref_lo = ref[0], ref_hi = ref[0], rev_lo = rev[0], rev_hi = rev[0];
	for (size_t i = 1; i < nboots; i++) {
		ref_lo = ref[i] < ref_lo ? ref[i] : ref_lo;
		ref_hi = ref[i] > ref_hi ? ref[i] : ref_hi;
		rev_lo = rev[i] < rev_lo ? rev[i] : rev_lo;
		rev_hi = rev[i] > rev_hi ? rev[i] : rev_hi;
	}
	if (ref_lo <= 0 || rev_lo <= 0)
		return;
	if (rev_lo > ref_hi) { /* slower: from the slowest reference boot to the fastest revision boot */
		out->least = rev_lo / ref_hi - 1;
		out->differ = out->least > noise;
	} else if (rev_hi < ref_lo) { /* faster by a factor, measured as the slower way round */
		out->least = rev_hi / ref_lo - 1;
		out->differ = ref_lo / rev_hi - 1 > noise ? -1 : 0;
	}
}
