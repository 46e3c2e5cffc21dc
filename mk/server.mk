# mk/server.mk - the HTTP service: `make run`, `make test-server`, `make test-server-asan`.
#
#   make run                fetch the model if needed, build, serve on :8000 (voice af_heart)
#   make test-server        the load and audio tests against the optimised build
#   make test-server-asan   the API suite against build-asan/kokoro on 127.0.0.1 (curl,
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
test-server-asan: asan
	KOKORO_BIN=build-asan/kokoro KOKORO_TEST_ASAN=1 $(SERVER_PYTEST) -m "not load and not audio" \
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
