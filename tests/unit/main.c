#include "harness.h"
#include "tests.h"

#include <stdlib.h>

int harness_failures;
const char *harness_fixtures = "tests/fixtures";

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	const char *only = argc > 1 ? argv[1] : NULL;
	for (const struct unit_test *const *set = all_tests; *set; set++) {
		for (const struct unit_test *t = *set; t->name; t++) {
			if (only && !strstr(t->name, only))
				continue;
			int before = harness_failures;
			t->fn();
			if (harness_failures == before) {
				printf("PASS: unit: %s\n", t->name);
				passed++;
			} else {
				printf("FAIL: unit: %s\n", t->name);
				failed++;
			}
			fflush(stdout);
		}
	}
	printf("# unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
