# mk/zh.mk - the Mandarin front end (src/text/zh): its dictionaries, parity test and fuzzer.
#
#   make model-zh   jieba's dictionary and HMM, pypinyin's readings (PyPI, MIT) converted into
#                   models/lexicon/zh/ (tools/fetch-zh.sh)
#   make test-zh    parity with misaki 0.9.4's ZHG2P (every pinyin syllable, and the sentences
#                   of tests/text/zh_sentences.txt: CER <= 2%, >= 85% identical), a clear
#                   error without the dictionaries, `kokoro say --voice zf_xiaobei`, the same
#                   sentences under ASan + UBSan and in 4 threads under TSan, fuzz (bounded)
#   make fuzz-zh    builds build-fuzz/zh_fuzz

MODEL_TARGETS += model-zh
TEST_TARGETS += test-zh
.PHONY: model-zh test-zh fuzz-zh

model-zh:
	tools/fetch-zh.sh

$(BUILD)/tests/text/zh_lines: tests/text/zh_lines.c tests/text/rss.h $(BUILD)/libkokoro.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

# The same tool with the front end's sources under AddressSanitizer + UBSan (leaks included).
# (the pattern rule of mk/text.mk, with the front end's ASan objects)
$(BUILD)/tests/text-asan/zh_lines: tests/text/rss.h

# ... and under ThreadSanitizer: threads racing to the first load, then reading the tables.
$(BUILD)/tests/text-tsan/zh_lines: tests/text/rss.h

# $(FUZZ_BUILD)/zh_fuzz: built by mk/text.mk's rule of the front end's fuzzers

fuzz-zh: $(FUZZ_BUILD)/zh_fuzz

FUZZ_ZH_SECONDS ?= 30

test-zh: $(BUILD)/tests/text/zh_lines $(BUILD)/tests/text-asan/zh_lines \
         $(BUILD)/tests/text-tsan/zh_lines $(FUZZ_BUILD)/zh_fuzz $(BUILD)/kokoro
	KOKORO=$(BUILD)/kokoro tests/text/test_zh_parity.py $(BUILD)/tests/text/zh_lines models/lexicon
	grep -v '^#' tests/text/zh_sentences.txt | \
	    $(BUILD)/tests/text-asan/zh_lines models/lexicon > /dev/null
	grep -v '^#' tests/text/zh_sentences.txt | \
	    $(BUILD)/tests/text-tsan/zh_lines models/lexicon --threads 4
	tests/text/run_zh_fuzz.sh $(FUZZ_BUILD)/zh_fuzz $(FUZZ_ZH_SECONDS)
