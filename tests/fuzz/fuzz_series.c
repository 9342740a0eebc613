/*
 * libFuzzer target for the mbox/series parser (series.c and mime.c) and
 * for kpipe watch's grouping (series_read_mail(), revmatch.c): any bytes
 * must give either a series or an error, never a crash, a leak (ASan) or
 * undefined behaviour (UBSan).
 *   make fuzz                  fuzz for FUZZ_SECONDS, growing the corpus
 *   build/fuzz-series CORPUS   replay (what 'make check' does)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "revmatch.h"
#include "series.h"

/* The input as a list would deliver it: one mail per "From " line, each read and grouped. */
static void group_mails(const char *data, size_t size)
{
	struct series_mail mails[64];
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= size && n < 64; i++) {
		if (i < size && !(i + 5 <= size && !memcmp(data + i, "From ", 5) && (i == 0 || data[i - 1] == '\n')))
			continue;
		if (i > start)
			series_read_mail(&mails[n++], data + start, i - start);
		start = i;
	}
	struct revmatch rm;
	revmatch_group(&rm, mails, n, 2000000000LL);
	for (size_t k = 0; k < rm.nr; k++)
		for (size_t r = 0; r < rm.series[k].nr; r++)
			for (unsigned p = 0; rm.series[k].revs[r].complete && p < rm.series[k].revs[r].total; p++)
				if (rm.series[k].revs[r].patches[p] >= n)
					__builtin_trap(); /* a complete revision names only mails it was given */
	revmatch_release(&rm);
	for (size_t i = 0; i < n; i++)
		series_mail_release(&mails[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct series s = SERIES_INIT;
	struct kperror err = KPERROR_INIT;
	if (series_parse_buffer(&s, "fuzz.mbox", (const char *)data, size, &err) == 0) {
		/* touch everything the rest of kpipe reads */
		for (size_t i = 0; i < s.nr; i++)
			for (size_t k = 0; k < s.revs[i].nr; k++)
				if (!s.revs[i].patches[k].diff || !s.revs[i].patches[k].subject)
					__builtin_trap();
		series_release(&s);
	} else if (!err.msg.len) {
		__builtin_trap(); /* an error must say what is wrong */
	}
	kperror_release(&err);
	group_mails((const char *)data, size);
	return 0;
}
