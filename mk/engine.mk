# mk/engine.mk - tests and fuzzers of the inference engine (src/model).
#
#   make test-engine   the portability of the binary, the contract test (plain build), then the
#                      same test with 20 syntheses under AddressSanitizer + UBSan +
#                      LeakSanitizer, then bounded fuzzing (the kernels on every CPU back end
#                      this machine offers run in `make check`). test_many's inputs repeat
#                      every 10 syntheses (3 to 12 phonemes, the voice alternating): 20 runs
#                      each twice on a reused state; the 100 it ran gave LeakSanitizer, which
#                      reports a leak of any one, nothing that 20 do not.
#   make fuzz-engine   builds build-fuzz/model_fuzz and build-fuzz/voices_fuzz (libFuzzer)

TEST_TARGETS += test-engine
.PHONY: test-engine fuzz-engine

ENGINE_OUT := $(BUILD)/test-out/engine
ENGINE_FUZZ_SECONDS ?= 30

$(BUILD)/tests/engine/test_engine: tests/engine/test_engine.c tests/check.h $(BUILD)/libkokoro.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -o $@ $< $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

# The ASan build of the library lives in build-asan/ (`make asan`, shared with test-server-asan).
build-asan/tests/engine/test_engine_asan: tests/engine/test_engine.c tests/check.h asan
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests -std=c11 $(SAN_OPT) $(ASAN_FLAGS) -o $@ $< \
	    build-asan/libkokoro.a $(LDLIBS)

# The fuzzers link the engine's objects of build-fuzz/obj (the Makefile's FUZZ_CFLAGS).
ENGINE_FUZZ_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,\
	$(wildcard src/model/*.c src/model/cpu/*.c src/core/*.c))
VOICES_FUZZ_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,src/model/voices.c $(wildcard src/core/*.c))
-include $(ENGINE_FUZZ_OBJS:.o=.d)

build-fuzz/model_fuzz: fuzz/model_fuzz.c $(ENGINE_FUZZ_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(ENGINE_FUZZ_OBJS) -lopenblas -lpthread -lm

build-fuzz/voices_fuzz: fuzz/voices_fuzz.c $(VOICES_FUZZ_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(VOICES_FUZZ_OBJS) -lm

fuzz-engine: build-fuzz/model_fuzz build-fuzz/voices_fuzz

# Fixtures: a voices archive in the voices-v1.0.bin layout (np.savez of [510,1,256]) made from
# three of the downloaded voices, and seed inputs for the fuzzers.
$(ENGINE_OUT)/voices.npz: tests/engine/make_npz.py
	@mkdir -p $(@D)
	python3 tests/engine/make_npz.py models/voices $@ af_bella af_sky am_adam

test-engine: $(BUILD)/tests/engine/test_engine build-asan/tests/engine/test_engine_asan \
             $(ENGINE_OUT)/voices.npz fuzz-engine
	tests/engine/check_portable.sh $(BUILD)/kokoro $(BUILD)/libkokoro.a
	$(BUILD)/tests/engine/test_engine 10
	@echo "== the same test under ASan/UBSan/LSan, 20 syntheses in one process"
	build-asan/tests/engine/test_engine_asan 20
	python3 fuzz/make_seeds.py $(ENGINE_OUT)/seeds
	@mkdir -p $(ENGINE_OUT)/corpus-model $(ENGINE_OUT)/corpus-voices
	@echo "== model_fuzz and voices_fuzz side by side, $(ENGINE_FUZZ_SECONDS) s (one core each)"
	build-fuzz/model_fuzz -max_total_time=$(ENGINE_FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	    $(ENGINE_OUT)/corpus-model $(ENGINE_OUT)/seeds/model > $(ENGINE_OUT)/model_fuzz.log 2>&1 & \
	m=$$!; \
	build-fuzz/voices_fuzz -max_total_time=$(ENGINE_FUZZ_SECONDS) -max_len=1100000 -rss_limit_mb=2048 \
	    $(ENGINE_OUT)/corpus-voices $(ENGINE_OUT)/seeds/voices > $(ENGINE_OUT)/voices_fuzz.log 2>&1; \
	v=$$?; wait $$m; mrc=$$?; \
	[ $$mrc = 0 ] || tail -n 40 $(ENGINE_OUT)/model_fuzz.log; \
	[ $$v = 0 ] || tail -n 40 $(ENGINE_OUT)/voices_fuzz.log; \
	[ $$mrc = 0 ] && [ $$v = 0 ]
	@tail -n 1 $(ENGINE_OUT)/model_fuzz.log
	@tail -n 1 $(ENGINE_OUT)/voices_fuzz.log

$(BUILD)/tests/engine/test_ops: tests/engine/test_ops.c tests/check.h $(BUILD)/libkokoro.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -o $@ $< $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

test-engine: $(BUILD)/tests/engine/test_ops $(BUILD)/kokoro

# A float32 graph (the int8 file with its weights dequantised into Conv/MatMul/LSTM nodes, as
# in kokoro-v1.0.onnx) must load through the same path and give the same audio. The int8 file's
# linear layers and convolutions run as 8-bit-weight products (ops.c kk_qconv1d), the float
# graph's through BLAS, so the two agree to rounding, not bit for bit: the float graph's run
# is held to the int8 file's `kokoro dump` by test_synth_ref (durations identical; measured
# 1.2e-6 relative on the decoder and 3.8e-4 on the audio, under its 1e-4 / 2e-2 bars).
models/ref/kokoro-float.onnx: models/kokoro.onnx tests/parity/make_float_graph.py
	python3 tests/parity/make_float_graph.py --mode float --out $@

$(BUILD)/tests/engine/test_synth_ref: tests/engine/test_synth_ref.c tests/check.h $(BUILD)/libkokoro.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -o $@ $< $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

test-engine: test-engine-fp32
.PHONY: test-engine-fp32
test-engine-fp32: $(BUILD)/kokoro $(BUILD)/tests/engine/test_synth_ref models/ref/kokoro-float.onnx
	@rm -rf $(ENGINE_OUT)/int8 && mkdir -p $(ENGINE_OUT)/int8
	$(BUILD)/kokoro dump --ids 50,83,54,156,31,16,65,156,87,123,54,46,4 --voice af_heart \
	    --out $(ENGINE_OUT)/int8
	$(BUILD)/tests/engine/test_synth_ref models/ref/kokoro-float.onnx models/voices af_heart \
	    50,83,54,156,31,16,65,156,87,123,54,46,4 $(ENGINE_OUT)/int8
	@echo "test-engine-fp32: the float graph gives the same audio as the int8 file"
