# mk/bench.mk - make bench: the engine and ONNX Runtime on short, medium and long input at 1
# and 2 threads, same model file and phonemes, and this core's FMA peak, written to
# docs/bench.md (bench/run_bench.py). BENCH_RUNS runs each.
BENCH_RUNS ?= 3
$(BUILD)/fma_peak: bench/fma_peak.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -o $@ $<

bench: $(BUILD)/kokoro $(BUILD)/fma_peak
	python3 bench/run_bench.py --runs $(BENCH_RUNS) --threads 1,2 --out docs/bench.md
