# mk/server.mk - the HTTP service: `make run`, `make test-server`, `make test-server-asan`.
#
#   make run                fetch the model if needed, build, serve on :8000 (voice af_heart)
#   make test-server        the load and audio tests against the optimised build
#   make test-server-asan   the API suite against build-asan/kokoro-server on 127.0.0.1 (curl,
#                           requests, ffprobe, the openai SDK, hostile input; ASan + UBSan,
#                           leaks on)
#   make test-server-all    the whole suite against the optimised build (not in `make test`)

TEST_TARGETS += test-server test-server-asan
.PHONY: run test-server test-server-asan test-server-all

# The OpenAPI document is pulled into openapi.o by the assembler; rebuild when it changes.
$(BUILD)/obj/src/server/openapi.o: src/server/openapi.json

PORT ?= 8000
run:
	@$(MAKE) --no-print-directory deps-build
	@test -s models/kokoro.onnx && test -d models/voices && test -d models/lexicon || $(MAKE) model
	@$(MAKE) --no-print-directory $(BUILD)/kokoro
	$(BUILD)/kokoro serve --port $(PORT) --default-voice af_heart

SERVER_PYTEST := python3 -m pytest -q -p no:cacheprovider tests/server

# Each test runs once in `make test`: the suite under the sanitizers, which find more than the
# optimised build does (memory errors, undefined behaviour, leaks at shutdown), and against the
# optimised build the load tests, which hold wall time and so mean something only there, and
# the audio tests (Whisper listening, minutes of speech: what is said, over code paths that
# shorter tests take under the sanitizers; 113 s of the sanitized run, a quarter of that here). Running
# the whole suite on both builds took 12.4 min more (2 cores, 4.5 min of it CPU) for the same
# assertions; the optimised binary is also what test-deploy, test-web and test-image run.
test-server: $(BUILD)/kokoro
	KOKORO_BIN=$(BUILD)/kokoro $(SERVER_PYTEST) -m "load or audio"

test-server-all: $(BUILD)/kokoro
	KOKORO_BIN=$(BUILD)/kokoro $(SERVER_PYTEST)

# The sanitizer run leaves the load and audio tests to test-server (ASan is several times
# slower) but keeps every route, error and hostile-input test; leaks fail it at shutdown.
#
# Its server is build-asan's program (server, CLI, front end, encoders, model and voice file
# parsers, all under ASan + UBSan) with the engine's compute (the forward pass, its kernels and
# the weight store) linked as the optimised build compiled it: under ASan those took three
# times as long (a 5.6 s sentence spoke in 18.8 s instead of 6.3) and were most of the suite's
# time, while what the suite is for is the server's handling of requests. The compute keeps its
# own sanitized runs: test-engine's test_engine_asan (every entry point, the longest chunk, the
# frame caps, ranges, cancellation, 20 syntheses in one process) and the engine's fuzzers.
# Every allocation, the engine's included, still goes through ASan's allocator, so leaks and
# double frees anywhere fail the suite at shutdown.
ASAN_PLAIN_SRCS  := src/model/engine.c src/model/ops.c src/model/fftconv.c src/model/weights.c \
                    $(wildcard src/model/cpu/*.c)
ASAN_SERVER      := build-asan/kokoro-server

$(ASAN_SERVER): asan $(BUILD)/libkokoro.a
	$(CC) $(ASAN_FLAGS) -o $@ $(BIN_SRCS:%.c=build-asan/obj/%.o) \
	    $(ASAN_PLAIN_SRCS:%.c=$(BUILD)/obj/%.o) build-asan/libkokoro.a $(LDFLAGS) $(LDLIBS)

test-server-asan: $(ASAN_SERVER)
	KOKORO_BIN=$(ASAN_SERVER) KOKORO_TEST_ASAN=1 $(SERVER_PYTEST) -m "not load and not audio" \
	    --ignore=tests/server/test_races.py

# The race test (tests/server/test_races.py): requests while the model loads and the pool
# starts, then streamed and buffered audio, against a server whose HTTP layer is built with
# ThreadSanitizer. The library is linked as built (uninstrumented): the races in question are
# the server's threads (connections, loader, workers, sweeper), and the engine under TSan
# took minutes to speak a sentence.
TEST_TARGETS += test-server-tsan
.PHONY: test-server-tsan
TSAN_CFLAGS := -std=c11 $(SAN_OPT) $(TSAN_FLAGS) $(WARN)
TSAN_OBJS   := $(BIN_SRCS:%.c=$(BUILD)/tsan/obj/%.o)

$(BUILD)/tsan/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TSAN_CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
	    -MMD -MP -c -o $@ $<

$(BUILD)/tsan/obj/src/server/openapi.o: src/server/openapi.json
-include $(TSAN_OBJS:.o=.d)

$(BUILD)/tsan/kokoro: $(TSAN_OBJS) $(BUILD)/libkokoro.a
	$(CC) $(TSAN_FLAGS) -o $@ $(TSAN_OBJS) $(BUILD)/libkokoro.a $(LDFLAGS) $(LDLIBS)

test-server-tsan: $(BUILD)/tsan/kokoro
	KOKORO_BIN=$(BUILD)/tsan/kokoro KOKORO_TEST_TSAN=1 $(SERVER_PYTEST)/test_races.py
