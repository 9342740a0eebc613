# kpipe: see README.md.  'make run' and 'make check' install what they need.
CC ?= cc
PKGS := libgit2 libssh libvirt inih libcrypto sqlite3
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-missing-field-initializers
ifdef CI
CFLAGS += -Werror
endif
DEPS_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPS_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRCS := $(filter-out orchestrator/main.c,$(wildcard orchestrator/*.c))
CMD_SRCS := $(wildcard orchestrator/cmd/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=build/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=build/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)

.PHONY: all deps run check unit-tests guest-tests bench clean fuzz
all: kpipe

deps:
	$(Q)scripts/install-deps

build/%.o: %.c $(wildcard orchestrator/*.h orchestrator/cmd/*.h)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(DEPS_CFLAGS) -c -o $@ $<

kpipe: $(LIB_OBJS) $(CMD_OBJS) build/orchestrator/main.o
	@[ "$(V)" = 1 ] || echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DEPS_LIBS)

build/unit-tests: $(UNIT_SRCS) $(LIB_OBJS) $(wildcard tests/unit/*.h)
	@[ "$(V)" = 1 ] || echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(DEPS_CFLAGS) -Iorchestrator -o $@ $(UNIT_SRCS) $(LIB_OBJS) $(DEPS_LIBS)

# The mbox parser under libFuzzer with ASan and UBSan (clang).
FUZZ_SRCS := orchestrator/series.c orchestrator/mime.c orchestrator/buf.c \
	orchestrator/strvec.c orchestrator/kperror.c orchestrator/util.c orchestrator/revmatch.c
FUZZ_SECONDS ?= 300
build/fuzz-series: tests/fuzz/fuzz_series.c $(FUZZ_SRCS) $(wildcard orchestrator/*.h)
	@mkdir -p build
	@[ "$(V)" = 1 ] || echo "  FUZZ    $@"
	$(Q)clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -Iorchestrator -o $@ tests/fuzz/fuzz_series.c $(FUZZ_SRCS)

fuzz: build/fuzz-series
	@mkdir -p build/fuzz-new
	build/fuzz-series -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz-new \
		tests/fuzz/corpus tests/fixtures/series
	build/fuzz-series -merge=1 tests/fuzz/corpus build/fuzz-new

guest-tests:
	$(Q)$(MAKE) -s -C guest-tests ARCH=x86_64
	$(Q)$(MAKE) -s -C guest-tests ARCH=arm64

# The main job on the bundled example: v1 of the series breaks uffd-wp
# markers on zap (a guest test catches it), v2 fixes it.
run: deps
	$(Q)$(MAKE) -s kpipe guest-tests
	./kpipe run examples/uffd-wp-range/v1.mbox examples/uffd-wp-range/v2.mbox; \
	rc=$$?; [ $$rc -le 1 ] || exit $$rc; echo "kpipe exit code: $$rc (1 = a revision failed, as v1 should)"

check: deps
	$(Q)$(MAKE) -s kpipe build/unit-tests build/fuzz-series guest-tests
	$(Q)tests/run

bench: deps
	$(Q)$(MAKE) -s kpipe guest-tests
	$(Q)tests/bench

clean:
	rm -rf build kpipe
	$(MAKE) -s -C guest-tests clean
