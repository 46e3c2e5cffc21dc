# mk/audio.mk - the audio encoders: the libraries the main list lacks (vorbis; libavcodec for
# AAC) and `make test-audio`.
#
#   make test-audio       encodes test signals in every format, checks them with ffprobe/ffmpeg,
#                         then runs the same test once more under ASan + UBSan (leaks included)

# AAC=0 builds without libavcodec: the aac format then fails with a clear error (the container
# image does, docs/deploy.md). The default build has AAC, and test-audio checks it.
AAC        ?= 1
ifeq ($(AAC),0)
AUDIO_PKGS := vorbis
CPPFLAGS   += -DKOKORO_NO_AAC
else
AUDIO_PKGS := vorbis libavcodec libavutil
endif
CFLAGS     += $(shell pkg-config --cflags $(AUDIO_PKGS) 2>/dev/null)
LDLIBS     += $(shell pkg-config --libs $(AUDIO_PKGS) 2>/dev/null)

TEST_TARGETS += test-audio
.PHONY: test-audio test-audio-plain test-audio-asan

$(BUILD)/tests/audio/test_audio: tests/audio/test_audio.c $(BUILD)/libkokoro.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

test-audio-plain: $(BUILD)/tests/audio/test_audio
	$(BUILD)/tests/audio/test_audio $(BUILD)/test-out/audio

# The sanitizer build compiles only the encoders and core (one command, its own folder), so it
# is quick and cannot race another area's sanitizer build over shared object files.
AUDIO_ASAN       := $(BUILD)/asan-audio/test_audio
AUDIO_ASAN_SRCS  := tests/audio/test_audio.c $(wildcard src/audio/*.c src/core/*.c)

$(AUDIO_ASAN): $(AUDIO_ASAN_SRCS) $(wildcard src/audio/*.h src/core/*.h) include/kokoro.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c11 $(WARN) $(if $(CI),-Werror) $(SAN_OPT) $(ASAN_FLAGS) \
	    $(shell pkg-config --cflags $(PKGS) $(AUDIO_PKGS)) -o $@ $(AUDIO_ASAN_SRCS) $(LDLIBS)

test-audio-asan: $(AUDIO_ASAN)
	$(AUDIO_ASAN) $(BUILD)/test-out/audio-asan

# The plain build's run is part of `make check` (mk/check.mk); this one adds the sanitizers.
test-audio: test-audio-asan
