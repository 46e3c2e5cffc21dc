# mk/ja.mk - the Japanese front end (src/text/ja): its dictionary, parity test and fuzzer.
#
#   make model-ja   UniDic (PyPI unidic-lite 1.0.8) and misaki's ja_words into models/lexicon/
#   make test-ja    parity with misaki 0.9.4's JAG2P (cutlet) on tests/text/ja_sentences.txt,
#                   Japanese through the server (lazy dictionary, audio), fuzz (bounded);
#                   tests/text/test_ja.c runs in test-text with the other front-end tests
#   make fuzz-ja    builds build-fuzz/ja_fuzz

# MeCab analyses, utf8proc does misaki's NFKC (both Debian packages, see deps/apt.txt)
JA_LIBS := -lmecab -lutf8proc
LDLIBS += $(JA_LIBS)

MODEL_TARGETS += model-ja
.PHONY: model-ja
model-ja:
	tools/fetch-ja-dict.sh

TEST_TARGETS += test-ja
.PHONY: test-ja fuzz-ja

# (mk/text.mk, where the front end's own objects are listed, is read after this file)
$(BUILD)/tests/text/ja_lines: tests/text/ja_lines.c tests/text/rss.h $(BUILD)/libkokoro.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

# FUZZ_JA_SECONDS bounds the fuzzing run inside the tests (after the hostile seeds).
FUZZ_JA_SECONDS ?= 30

test-ja: $(BUILD)/tests/text/ja_lines build-fuzz/ja_fuzz $(BUILD)/kokoro
	tests/text/test_ja_parity.py $(BUILD)/tests/text/ja_lines tests/text/ja_sentences.txt
	KOKORO_BIN=$(BUILD)/kokoro python3 -m pytest -q -p no:cacheprovider tests/text/test_ja_server.py
	tests/text/run_ja_fuzz.sh build-fuzz/ja_fuzz $(FUZZ_JA_SECONDS)

# build-fuzz/ja_fuzz: built by mk/text.mk's rule of the front end's fuzzers
fuzz-ja: build-fuzz/ja_fuzz
