# mk/bench.mk - make bench: RTF of the engine and of ONNX Runtime at 1 and 2 threads, same
# model file and phonemes, written to docs/bench.md (bench/run_bench.py). BENCH_RUNS runs each.
BENCH_RUNS ?= 3
bench: $(BUILD)/kokoro
	python3 bench/run_bench.py --runs $(BENCH_RUNS) --threads 1,2 --out docs/bench.md
