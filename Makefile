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

# The sanitizer build: same sources, separate folder, so both can coexist.
asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" build-asan/kokoro

include $(sort $(wildcard mk/*.mk))

model: $(MODEL_TARGETS)

# The test tools (ffprobe, clang, chromium, podman, qemu, pytest...) are installed first, as
# `make run` installs the build's; install-deps.sh leaves present packages alone (2 s).
test: $(TEST_TARGETS)
	@echo "all tests passed: $(TEST_TARGETS)"
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
