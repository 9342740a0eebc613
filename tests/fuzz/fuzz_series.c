/*
 * libFuzzer target for the mbox/series parser (series.c and mime.c):
 * any bytes must give either a series or an error, never a crash, a leak
 * (ASan) or undefined behaviour (UBSan).
 *   make fuzz                  fuzz for FUZZ_SECONDS, growing the corpus
 *   build/fuzz-series CORPUS   replay (what 'make check' does)
 */
#include <stddef.h>
#include <stdint.h>

#include "series.h"

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
	return 0;
}
