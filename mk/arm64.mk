# mk/arm64.mk - the engine cross-compiled for arm64 (aarch64-linux-gnu-gcc) and run under
# qemu-user (make test-arm64): the kernels on every arm64 back end (neon, generic), then one
# synthesis of a short input held to the x86 engine's intermediates (`kokoro dump`).
# Only the engine is built (src/core, src/model): the text front end and the encoders would need
# arm64 builds of espeak-ng and the codecs. BLAS is tests/engine/arm64/mini_blas.c, so no arm64
# libraries are needed beyond the cross toolchain's libc. Emulated floating point is slow
# (about 0.25 GFLOP/s): the synthesis takes about 2.5 minutes, so it runs on the default back
# end (neon) only; test_ops covers generic.
TEST_TARGETS += test-arm64
.PHONY: test-arm64

ARM64_CC   ?= aarch64-linux-gnu-gcc
ARM64_QEMU ?= qemu-aarch64 -L /usr/aarch64-linux-gnu
ARM64_OUT  := $(BUILD)/arm64
ARM64_IDS  ?= 156,31
ARM64_CFLAGS := -std=c11 -O3 -march=armv8-a -ffp-contract=fast -fno-math-errno -fno-trapping-math \
	-g $(WARN) $(if $(CI),-Werror) -Iinclude -Isrc -Itests -Itests/engine/arm64 -D_GNU_SOURCE
ARM64_LIB_SRCS := $(wildcard src/core/*.c src/model/*.c src/model/cpu/*.c) tests/engine/arm64/mini_blas.c
ARM64_LIB_OBJS := $(ARM64_LIB_SRCS:%.c=$(ARM64_OUT)/obj/%.o)

$(ARM64_OUT)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(ARM64_CC) $(ARM64_CFLAGS) -MMD -MP -c -o $@ $<

-include $(ARM64_LIB_OBJS:.o=.d)

# gcc 12.2 for aarch64 stops with an internal compiler error when it vectorises a reduction
# in test_ops.c's main; the tests themselves need no vectorising.
$(ARM64_OUT)/test_ops $(ARM64_OUT)/test_synth_ref: $(ARM64_OUT)/%: tests/engine/%.c tests/check.h \
		$(ARM64_LIB_OBJS)
	$(ARM64_CC) $(ARM64_CFLAGS) -fno-tree-loop-vectorize -o $@ $< $(ARM64_LIB_OBJS) -lpthread -lm

test-arm64: $(ARM64_OUT)/test_ops $(ARM64_OUT)/test_synth_ref $(BUILD)/kokoro
	for p in $$($(ARM64_QEMU) $(ARM64_OUT)/test_ops --paths); do \
	    KOKORO_CPU=$$p $(ARM64_QEMU) $(ARM64_OUT)/test_ops || exit 1; done
	@rm -rf $(ARM64_OUT)/ref && mkdir -p $(ARM64_OUT)/ref
	$(BUILD)/kokoro dump --ids $(ARM64_IDS) --voice af_heart --out $(ARM64_OUT)/ref > /dev/null
	$(ARM64_QEMU) $(ARM64_OUT)/test_synth_ref models/kokoro.onnx models/voices af_heart \
	    $(ARM64_IDS) $(ARM64_OUT)/ref
