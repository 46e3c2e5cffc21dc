# mk/parity.mk - the C engine against ONNX Runtime on a float reference graph (make test-parity).
# The reference graphs are derived from models/kokoro.onnx into models/ref/ (git-ignored) by
# tests/parity/make_float_graph.py; the test builds them when they are missing or older.
TEST_TARGETS += test-parity
.PHONY: test-parity parity-ref

parity-ref:
	python3 tests/parity/make_float_graph.py --mode float --out models/ref/kokoro-float.onnx
	python3 tests/parity/make_float_graph.py --mode float-har --out models/ref/kokoro-float-har.onnx

test-parity: $(BUILD)/kokoro
	nice python3 -m pytest -q -s -p no:cacheprovider tests/parity
