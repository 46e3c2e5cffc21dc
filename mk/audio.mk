# mk/audio.mk - the audio encoders: the libraries the main list lacks (vorbis; libavcodec for AAC) and `make test-audio`.
#
#   make test-audio        encodes test signals in every format, checks them with ffprobe/ffmpeg,
#                          then runs the same test once more under ASan + UBSan (leaks included)

AUDIO_PKGS := vorbis libavcodec libavutil
CFLAGS     += $(shell pkg-config --cflags $(AUDIO_PKGS) 2>/dev/null)
LDLIBS     += $(shell pkg-config --libs $(AUDIO_PKGS) 2>/dev/null)

TEST_TARGETS += test-audio
.PHONY: test-audio test-audio-plain test-audio-asan

$(BUILD)/tests/audio/test_audio: tests/audio/test_audio.c $(BUILD)/libkokoro.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

test-audio-plain: $(BUILD)/tests/audio/test_audio
	$(BUILD)/tests/audio/test_audio $(BUILD)/test-out/audio

test-audio-asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" build-asan/tests/audio/test_audio
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    build-asan/tests/audio/test_audio build-asan/test-out/audio

test-audio: test-audio-plain test-audio-asan
