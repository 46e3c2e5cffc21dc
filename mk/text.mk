# mk/text.mk - the text front end: lexicon fetch, its tests and its fuzzer.
#
#   make test-text    normalisation table, pronunciation, the other languages against the original
#                     pipeline's G2P, chunking, concurrency, text to audio,
#                     Whisper WER (tests/asr), 20,000-word say, fuzz (bounded)
#   make fuzz-text    builds build-fuzz/text_fuzz (clang, FUZZ_FLAGS)

MODEL_TARGETS += model-lexicon
TEST_TARGETS += test-text

.PHONY: model-lexicon test-text fuzz-text fuzz-ssml

model-lexicon:
	tools/fetch-lexicon.sh

TEXT_SRCS := $(wildcard src/text/*.c src/text/ja/*.c src/text/zh/*.c) src/core/buf.c src/core/utf8.c \
             src/core/clock.c
TEXT_OBJS := $(TEXT_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/src/core/status.o
TEXT_TESTS := $(patsubst tests/text/%.c,$(BUILD)/tests/text/%,$(filter-out tests/text/test_speak.c,$(wildcard tests/text/test_*.c)))
TEXT_TEST_LIBS := $(shell pkg-config --libs espeak-ng 2>/dev/null || echo -lespeak-ng) -lexpat $(JA_LIBS) -lpthread -lm

# Tests of the front end alone link only its objects, so that they build before the engine.
$(BUILD)/tests/text/%: tests/text/%.c tests/check.h $(TEXT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -o $@ $< $(TEXT_OBJS) $(TEXT_TEST_LIBS)

# The same front-end tests under AddressSanitizer + UBSan, and the concurrency test under
# ThreadSanitizer (our side of the espeak-ng lock and cache). The front end is compiled once
# for each sanitizer (the Makefile's obj-asan, obj-tsan) and once for the fuzzers, and linked
# by every test, Mandarin tool and fuzzer that needs it (mk/zh.mk, mk/ja.mk).
TEXT_SAN_TESTS := $(patsubst $(BUILD)/tests/text/%,$(BUILD)/tests/text-asan/%,$(TEXT_TESTS)) \
	$(BUILD)/tests/text-tsan/test_concurrent
TEXT_ASAN_OBJS := $(patsubst %.c,$(BUILD)/obj-asan/%.o,$(TEXT_SRCS) src/core/status.c)
TEXT_TSAN_OBJS := $(patsubst %.c,$(BUILD)/obj-tsan/%.o,$(TEXT_SRCS) src/core/status.c)
TEXT_FUZZ_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(TEXT_SRCS) src/core/status.c)
CAPTIONS_OBJ   := src/speak/captions.o
TEXT_SAN_OBJS  := $(TEXT_ASAN_OBJS) $(TEXT_TSAN_OBJS) $(TEXT_FUZZ_OBJS) \
	$(BUILD)/obj-asan/$(CAPTIONS_OBJ) $(FUZZ_BUILD)/obj/$(CAPTIONS_OBJ)
-include $(TEXT_SAN_OBJS:.o=.d)
.SECONDARY: $(TEXT_SAN_OBJS)

$(BUILD)/tests/text-asan/%: tests/text/%.c tests/check.h $(TEXT_ASAN_OBJS)
	@mkdir -p $(@D)
	clang $(SAN_CFLAGS) $(ASAN_FLAGS) -o $@ $< $(TEXT_ASAN_OBJS) $(TEXT_TEST_LIBS)

$(BUILD)/tests/text-tsan/%: tests/text/%.c tests/check.h $(TEXT_TSAN_OBJS)
	@mkdir -p $(@D)
	clang $(SAN_CFLAGS) $(TSAN_FLAGS) -o $@ $< $(TEXT_TSAN_OBJS) $(TEXT_TEST_LIBS)

# Text to audio needs the whole library (engine included) and the model.
$(BUILD)/tests/text/test_speak: tests/text/test_speak.c tests/check.h $(BUILD)/libkokoro.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -o $@ $< $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

# The front end's fuzzers (text, SSML, and mk/ja.mk's, mk/zh.mk's) link TEXT_FUZZ_OBJS.
$(FUZZ_BUILD)/text_fuzz $(FUZZ_BUILD)/ssml_fuzz $(FUZZ_BUILD)/ja_fuzz $(FUZZ_BUILD)/zh_fuzz: \
		$(FUZZ_BUILD)/%: fuzz/%.c $(TEXT_FUZZ_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(TEXT_FUZZ_OBJS) $(TEXT_TEST_LIBS)

fuzz-text: $(FUZZ_BUILD)/text_fuzz

# SSML and the plain-text controls (src/text/ssml.c, controls.c): $(FUZZ_BUILD)/ssml_fuzz

fuzz-ssml: $(FUZZ_BUILD)/ssml_fuzz
FUZZ_SSML_SECONDS ?= 20

# The bounded fuzzing runs of `make test` (each from its hostile seeds, which all run first
# whatever the budget): FUZZ_TEXT_SECONDS of all languages, then FUZZ_LANG_SECONDS for each
# espeak-ng language alone. Longer runs: `make test-text FUZZ_TEXT_SECONDS=600`.
FUZZ_TEXT_SECONDS ?= 30
FUZZ_LANG_SECONDS ?= 10

test-text: $(TEXT_TESTS) $(BUILD)/tests/text/test_speak $(BUILD)/kokoro $(FUZZ_BUILD)/text_fuzz \
           $(FUZZ_BUILD)/ssml_fuzz \
           $(BUILD)/tests/text/say_lines $(BUILD)/tests/text/normalize_lines \
           $(BUILD)/tests/text/lexicon_lookup $(TEXT_SAN_TESTS)
	tests/text/test_lexicon.py
	KOKORO=$(BUILD)/kokoro tests/text/test_ref_g2p.py
	@for t in $(TEXT_TESTS) $(TEXT_SAN_TESTS) $(BUILD)/tests/text/test_speak; do \
	    echo "== $$t"; $$t || exit 1; done
	tests/text/asr_wer.py
	KOKORO=$(BUILD)/kokoro tests/text/test_long_say.sh
	@echo "== the text and SSML fuzzers side by side (one core each)"
	tests/text/run_ssml_fuzz.sh $(FUZZ_BUILD)/ssml_fuzz $(FUZZ_SSML_SECONDS) & s=$$!; \
	FUZZ_LANG_SECONDS=$(FUZZ_LANG_SECONDS) \
	    tests/text/run_fuzz.sh $(FUZZ_BUILD)/text_fuzz $(FUZZ_TEXT_SECONDS); t=$$?; \
	wait $$s && [ $$t = 0 ]

# Helper of the ASR tests: speaks lines to WAV files with one model load.
$(BUILD)/tests/text/say_lines: tests/text/say_lines.c $(BUILD)/libkokoro.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/text/normalize_lines: tests/text/normalize_lines.c $(TEXT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(TEXT_OBJS) $(TEXT_TEST_LIBS)

$(BUILD)/tests/text/lexicon_lookup: tests/text/lexicon_lookup.c $(TEXT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(TEXT_OBJS) $(TEXT_TEST_LIBS)

# Captions (src/speak/captions.c) are tested with the front end that gives the written words.
$(BUILD)/tests/text/test_captions: tests/text/test_captions.c tests/check.h $(TEXT_OBJS) \
                                   $(BUILD)/obj/src/speak/captions.o
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -o $@ $< $(TEXT_OBJS) $(BUILD)/obj/src/speak/captions.o \
	    $(TEXT_TEST_LIBS)

$(BUILD)/tests/text-asan/test_captions: tests/text/test_captions.c tests/check.h $(TEXT_ASAN_OBJS) \
                                        $(BUILD)/obj-asan/$(CAPTIONS_OBJ)
	@mkdir -p $(@D)
	clang $(SAN_CFLAGS) $(ASAN_FLAGS) -o $@ $< $(TEXT_ASAN_OBJS) \
	    $(BUILD)/obj-asan/$(CAPTIONS_OBJ) $(TEXT_TEST_LIBS)

# The captions fuzzer (fuzz/captions_fuzz.c): normalization options, source map, cues.
TEST_TARGETS += test-captions-fuzz
.PHONY: fuzz-captions test-captions-fuzz
FUZZ_CAPTIONS_SECONDS ?= 20
$(FUZZ_BUILD)/captions_fuzz: fuzz/captions_fuzz.c $(TEXT_FUZZ_OBJS) $(FUZZ_BUILD)/obj/$(CAPTIONS_OBJ)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(TEXT_FUZZ_OBJS) $(FUZZ_BUILD)/obj/$(CAPTIONS_OBJ) \
	    $(TEXT_TEST_LIBS)

fuzz-captions: $(FUZZ_BUILD)/captions_fuzz

test-captions-fuzz: $(FUZZ_BUILD)/captions_fuzz
	tests/text/run_captions_fuzz.sh $(FUZZ_BUILD)/captions_fuzz $(FUZZ_CAPTIONS_SECONDS)
