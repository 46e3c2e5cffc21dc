# Makefile - builds libkokoro, the kokoro program, its tests and benchmarks.
#
#   make            build/kokoro and build/libkokoro.a (optimised)
#   make model      fetch model, voices and lexicons into models/ (idempotent, SHA-256 checked)
#   make test       every test (needs `make model`; installs the test tools; see README)
#   make check      the quick tier: no model needed, under a minute or two (mk/check.mk)
#   make asan       the same program built with AddressSanitizer + UBSan in build-asan/
#   make bench      real-time factor of this engine next to ONNX Runtime
#   make run        fetch, build and start the server on :8000
#
# Each area (model, text, audio, server, deploy...) adds its own rules in mk/<area>.mk and
# appends its test target to TEST_TARGETS, so that the areas do not edit one shared list.

CC       ?= cc
BUILD    ?= build
PKGS     := espeak-ng libmicrohttpd jansson vorbisenc ogg opus libopusenc flac expat
WARN     := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes
# A baseline instruction set, so that the binary runs on any CPU of its architecture; the hot
# kernels have wider back ends chosen at run time (src/model/cpu/, docs/engine.md "CPU paths").
MACHINE  := $(shell $(CC) -dumpmachine 2>/dev/null)
MARCH    ?= $(if $(filter x86_64%,$(MACHINE)),-march=x86-64-v2,$(if $(filter aarch64%,$(MACHINE)),-march=armv8-a))
OPT      ?= -O3 $(MARCH) -ffp-contract=fast -fno-math-errno -fno-trapping-math
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE
CFLAGS   += -std=c11 $(OPT) -g $(WARN) $(EXTRA_CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmp3lame -lopenblas -lpthread -lm
ifdef CI
CFLAGS   += -Werror
endif

LIB_DIRS := src/core src/model src/model/cpu src/text src/text/ja src/text/zh src/audio src/speak
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
BIN_SRCS := $(wildcard src/cli/*.c) $(wildcard src/server/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
BIN_OBJS := $(BIN_SRCS:%.c=$(BUILD)/obj/%.o)

TEST_TARGETS :=
MODEL_TARGETS :=

.PHONY: all model test asan bench run clean fuzz
all: $(BUILD)/kokoro $(BUILD)/libkokoro.a

$(BUILD)/libkokoro.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/kokoro: $(BIN_OBJS) $(BUILD)/libkokoro.a
	$(CC) $(CFLAGS) -o $@ $(BIN_OBJS) $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJS:.o=.d) $(BIN_OBJS:.o=.d)

# Sanitizers and fuzzing, written once for every area (mk/*.mk): compile and link flags, and
# the run-time options, exported to every recipe (tests/server/conftest.py's servers inherit
# them). A test that needs other options adds to these (test_faults.py) or sets its own for one
# process (test_races.py).
SAN_OPT    := -O1 -g -fno-omit-frame-pointer
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
TSAN_FLAGS := -fsanitize=thread
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
export ASAN_OPTIONS  := detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS := print_stacktrace=1
export TSAN_OPTIONS  := halt_on_error=1
export LSAN_OPTIONS  := suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0

# The tests and fuzzers that link sources of their own under a sanitizer (the front end's,
# the engine's fuzzers) link objects compiled once per kind with clang (libFuzzer's compiler),
# whichever tests use them: $(BUILD)/obj-asan, $(BUILD)/obj-tsan, build-fuzz/obj.
FUZZ_BUILD  := build-fuzz
SAN_CFLAGS  := -std=c11 $(SAN_OPT) -Iinclude -Isrc -Itests -D_GNU_SOURCE \
               $(shell pkg-config --cflags espeak-ng 2>/dev/null)
FUZZ_CFLAGS := $(SAN_CFLAGS) $(FUZZ_FLAGS)

$(BUILD)/obj-asan/%.o: %.c
	@mkdir -p $(@D)
	clang $(SAN_CFLAGS) $(ASAN_FLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/obj-tsan/%.o: %.c
	@mkdir -p $(@D)
	clang $(SAN_CFLAGS) $(TSAN_FLAGS) -MMD -MP -c -o $@ $<
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

# The sanitizer build: same sources, separate folder, so both can coexist. It is one target,
# which the areas that need it (engine, server) share, so that a parallel `make test` builds
# it once and no two makes write build-asan/ at the same time.
.PHONY: asan
asan:
	$(MAKE) BUILD=build-asan OPT="$(SAN_OPT)" EXTRA_CFLAGS="$(ASAN_FLAGS)" \
	    LDFLAGS="$(ASAN_FLAGS)" build-asan/kokoro build-asan/libkokoro.a

include $(sort $(wildcard mk/*.mk))

model: $(MODEL_TARGETS)

# The test tools (ffprobe, clang, chromium, podman, qemu, pytest...) are installed first, as
# `make run` installs the build's; install-deps.sh leaves present packages alone (2 s).
#
# The areas are independent (no area writes what another reads while it runs, and what two
# share, such as build/kokoro, the ASan build or the float reference graph, is one target of
# this make), so `make test` runs them side by side: TEST_JOBS at a time (2, the cores of the
# machines it is planned for), each area's output printed whole when it ends (-Otarget). The
# longest areas start first (TEST_FIRST) and the short ones fill the other slot around them.
# At the end it prints each area's wall time (from its first recipe, its builds included, to its
# last; tests/area-shell.sh, the areas' shell here, notes both) with the load average then,
# slowest first: build/test-times/table.
TEST_JOBS  ?= 2
TEST_FIRST := test-server-asan test-arm64 test-parity test-text test-image test-engine
TEST_ORDER := $(foreach t,$(TEST_FIRST),$(filter $(t),$(TEST_TARGETS))) \
              $(filter-out $(TEST_FIRST),$(TEST_TARGETS))
TEST_TIMES := $(BUILD)/test-times
.PHONY: test-areas
test:
	@rm -rf $(TEST_TIMES) && mkdir -p $(TEST_TIMES) && date +%s > $(TEST_TIMES)/.start
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) -Otarget test-areas
	@for t in $(TEST_TARGETS); do [ -e $(TEST_TIMES)/$$t.end ] || continue; \
	    read end load < $(TEST_TIMES)/$$t.end; \
	    echo "$$t $$(( end - $$(cat $(TEST_TIMES)/$$t.start) )) s, load $$load"; \
	done | sort -k2 -n -r > $(TEST_TIMES)/table
	@echo "== areas, wall time from first to last recipe (side by side), load average at the end:"
	@cat $(TEST_TIMES)/table
	@echo "== make test: $$(( $$(date +%s) - $$(cat $(TEST_TIMES)/.start) )) s, load $$(cut -d' ' -f1-3 /proc/loadavg)"
	@echo "all tests passed: $(TEST_TARGETS)"
test-areas: $(TEST_ORDER)
ifeq ($(MAKECMDGOALS),test-areas)
$(foreach t,$(TEST_TARGETS),$(eval $(t): SHELL := $(CURDIR)/tests/area-shell.sh) \
    $(eval $(t): .SHELLFLAGS := $(t) $(TEST_TIMES) -c))
endif
$(TEST_TARGETS): | deps

clean:
	rm -rf build build-asan

# Installs the Debian and Python packages the build and the tests need (as .ci/run does).
# deps-build installs only when a library the build links is missing (make run).
.PHONY: deps deps-build
deps:
	tools/install-deps.sh deps/apt.txt deps/pip.txt
deps-build:
	@pkg-config --exists $(PKGS) 2>/dev/null && test -e /usr/include/lame/lame.h \
	    && test -e /usr/include/x86_64-linux-gnu/cblas.h -o -e /usr/include/cblas.h \
	    && command -v npm >/dev/null || tools/install-deps.sh deps/apt.txt
