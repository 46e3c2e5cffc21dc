# mk/check.mk - `make check`: the quick tier. Needs nothing from `make model` (no model, voices
# or dictionaries) and runs in well under 3 minutes on 2 cores (51 s here); `make test` runs it too.
#
#   make check   the ONNX reader on hand-made protobuf (UBSan: shapes that overflow), the
#                server's request checks (JSON bodies, typed and unknown fields, languages,
#                flags and environment, UTF-8 cleaning), the English normaliser, the audio
#                encoders in every format checked with ffprobe/ffmpeg, the CPU kernels on every
#                back end this machine has

TEST_TARGETS += check
.PHONY: check

CHECK_BIN := $(BUILD)/tests/check

# The reader alone, under the sanitizers: a signed overflow in a shape's product fails the run.
$(CHECK_BIN)/test_onnx: tests/engine/test_onnx.c tests/check.h src/model/onnx.c src/model/onnx.h \
                        src/core/status.c src/core/buf.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests -std=c11 $(SAN_OPT) $(ASAN_FLAGS) $(WARN) -o $@ $< src/model/onnx.c \
	    src/core/status.c src/core/buf.c -lm

# The server's checks with the server's own objects (everything but the CLI's main).
$(CHECK_BIN)/test_request: tests/server/test_request.c tests/check.h \
                           $(filter-out %/cli/main.o,$(BIN_OBJS)) $(BUILD)/libkokoro.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -o $@ $< $(filter-out %/cli/main.o,$(BIN_OBJS)) \
	    $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

check: $(CHECK_BIN)/test_onnx $(CHECK_BIN)/test_request $(BUILD)/tests/text/test_normalize \
       $(BUILD)/tests/audio/test_audio $(BUILD)/tests/engine/test_ops
	$(CHECK_BIN)/test_onnx
	$(CHECK_BIN)/test_request
	$(BUILD)/tests/text/test_normalize
	$(BUILD)/tests/audio/test_audio $(BUILD)/test-out/check/audio
	for p in $$($(BUILD)/tests/engine/test_ops --paths); do \
	    KOKORO_CPU=$$p $(BUILD)/tests/engine/test_ops || exit 1; done
	@echo "make check: passed"
