#!/usr/bin/env python3
"""run_bench.py - the C engine next to ONNX Runtime, written to docs/bench.md.

Both sides synthesise the same phoneme ids with the same model file (models/kokoro.onnx), voice
row and speed, at 1 and 2 threads, in one run of this script: short input (~2 s of audio),
medium (the engine's bench paragraph, ~18 s, one forward pass) and long (~40 s, cut into
chunks as `kokoro say` cuts it, one forward pass per chunk, times summed). Best of --runs after
one warm-up; each measurement runs in its own process, so that its peak RSS (ru_maxrss) is its
own.

Also measured: the time per stage of the engine and, for its dominant stage (the generator),
its rate next to this core's float32 FMA peak (bench/fma_peak.c, a loop of independent fused
multiply-adds) and the OpenBLAS sgemm rate (numpy, one thread, 2048^3).

Usage: run_bench.py [--runs 3] [--threads 1,2] [--out docs/bench.md]
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
KOKORO = os.path.join(ROOT, "build", "kokoro")
MODEL = os.path.join(ROOT, "models", "kokoro.onnx")
VOICE = os.path.join(ROOT, "models", "voices", "af_heart.bin")

# Generator multiply-adds x 2 per second of audio, from the layer shapes (kokoro-model.md):
# 40 duration frames/s; stage 0 at 800 frames/s x 256 ch, stage 1 at 4800 frames/s x 128 ch.
def generator_gflop_per_audio_s():
    f0, f1 = 800, 4800
    fl = 2 * 512 * 256 * 20 * 80                                   # ups.0 (ConvTranspose)
    fl += 2 * 22 * 256 * 12 * f0                                   # noise_convs.0
    fl += 6 * 2 * 256 * 256 * 7 * f0                               # noise_res.0 (k7)
    fl += sum(6 * 2 * 256 * 256 * k * f0 for k in (3, 7, 11))      # resblocks 0..2
    fl += 2 * 256 * 128 * 12 * f0                                  # ups.1
    fl += 2 * 22 * 128 * f1                                        # noise_convs.1
    fl += 6 * 2 * 128 * 128 * 11 * f1                              # noise_res.1 (k11)
    fl += sum(6 * 2 * 128 * 128 * k * f1 for k in (3, 7, 11))      # resblocks 3..5
    fl += 2 * 128 * 22 * 7 * f1                                    # conv_post
    return fl / 1e9


def ort_child(ids, threads, runs):
    """Runs inside a fresh process: prints one JSON line."""
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    t = time.perf_counter()
    sess = ort.InferenceSession(MODEL, so, providers=["CPUExecutionProvider"])
    load = time.perf_counter() - t
    pack = np.fromfile(VOICE, dtype="<f4").reshape(510, 256)
    names = [i.name for i in sess.get_inputs()]
    feeds = {("tokens" if "tokens" in names else "input_ids"):
             np.array([[0] + ids + [0]], dtype=np.int64),
             "style": pack[min(len(ids) - 1, 509)][None, :].copy(),
             "speed": np.array([1.0], dtype=np.float32)}
    best, samples = 1e30, 0
    for r in range(runs + 1):
        t = time.perf_counter()
        audio = sess.run(None, feeds)[0]
        dt = time.perf_counter() - t
        samples = audio.size
        if r > 0:
            best = min(best, dt)
    audio_s = samples / 24000.0
    print(json.dumps({"threads": threads, "audio_s": audio_s, "compute_s": best,
                      "rtf": best / audio_s, "load_s": load,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def sgemm_child():
    import numpy as np
    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    best = 1e30
    for _ in range(3):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    print(json.dumps({"gflops": 2 * n ** 3 / best / 1e9}))


def child(args, env=None):
    r = subprocess.run([sys.executable, os.path.abspath(__file__)] + args, capture_output=True,
                       text=True, env=env, timeout=3600)
    if r.returncode:
        sys.exit(f"run_bench: {' '.join(args)} failed: {r.stderr.strip()[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def engine(ids, threads, runs):
    r = subprocess.run(["nice", "-n", "0", KOKORO, "bench", "--threads", str(threads),
                        "--runs", str(runs), "--ids", ",".join(map(str, ids)),
                        "--voice", "af_heart"],
                       capture_output=True, text=True, timeout=3600, cwd=ROOT)
    if r.returncode:
        sys.exit(f"run_bench: kokoro bench failed: {r.stderr.strip()}")
    out = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition(" ")
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    for k in ("rtf", "audio_s", "compute_s", "peak_rss_mb"):
        if k not in out:
            sys.exit(f"run_bench: kokoro bench printed no '{k}' line:\n{r.stdout}")
    return out


SHORT_TEXT = "Hello from Kokoro."


def ids_lines(args):
    r = subprocess.run([KOKORO, "bench"] + args, capture_output=True, text=True, cwd=ROOT,
                       check=True)
    return [[int(x) for x in line.split(",")] for line in r.stdout.split()]


def fma_peak():
    """One core's float32 FMA rate from bench/fma_peak.c (built by make bench)."""
    exe = os.path.join(ROOT, "build", "fma_peak")
    r = subprocess.run([exe], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def run_row(chunks, t, runs):
    """Engine and ORT on the same chunks (one forward pass each), compute summed."""
    e_sum = {"compute_s": 0.0, "audio_s": 0.0, "peak_rss_mb": 0.0}
    o_sum = {"compute_s": 0.0, "audio_s": 0.0, "peak_rss_mb": 0.0}
    stages = {}
    load = os.getloadavg()[0]
    for ids in chunks:
        e = engine(ids, t, runs)
        o = child(["--ort-child", ",".join(map(str, ids)), str(t), str(runs)])
        for d, x in ((e_sum, e), (o_sum, o)):
            d["compute_s"] += x["compute_s"]
            d["audio_s"] += x["audio_s"]
            d["peak_rss_mb"] = max(d["peak_rss_mb"], x["peak_rss_mb"])
        for k, v in e.items():
            if k.startswith("stage_"):
                stages[k] = stages.get(k, 0.0) + v
    e_sum.update(stages)
    e_sum["kernels"] = e.get("kernels", "?")
    e_sum["load"] = max(load, os.getloadavg()[0])
    return e_sum, o_sum


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--ort-child":
        return ort_child([int(x) for x in sys.argv[2].split(",")], int(sys.argv[3]),
                         int(sys.argv[4]))
    if len(sys.argv) > 1 and sys.argv[1] == "--sgemm-child":
        return sgemm_child()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "bench.md"))
    a = ap.parse_args()
    for path, hint in ((KOKORO, "run `make`"), (MODEL, "run `make model`"),
                       (VOICE, "run `make model`")):
        if not os.path.exists(path):
            sys.exit(f"run_bench: {path} missing: {hint}")

    medium = ids_lines(["--print-ids"])
    long_text = ("Speech synthesis turns written text into spoken audio. This benchmark reads a "
                 "longer passage, so that the engine works through several chunks in turn, as "
                 "it does for an article or a chapter. ") * 2 + (
                 "The committee met on a Monday to discuss the budget, and the debate went on "
                 "until late in the evening. Nobody expected the results to be so clear; the "
                 "data spoke for itself. After a short break, the members returned, and the "
                 "debate continued well into the night.")
    inputs = [("short", ids_lines(["--print-ids", "--text", SHORT_TEXT])),
              ("medium", medium),
              ("long", ids_lines(["--print-chunks", "--text", long_text]))]
    threads = [int(t) for t in a.threads.split(",")]
    rows = []
    for name, chunks in inputs:
        for t in threads:
            e, o = run_row(chunks, t, a.runs)
            rows.append((name, len(chunks), sum(map(len, chunks)), t, e, o))
            print(f"{name} x{len(chunks)} chunks, {t} threads: engine {e['compute_s']:.3f} s, "
                  f"ORT {o['compute_s']:.3f} s, engine/ORT {e['compute_s'] / o['compute_s']:.2f}",
                  flush=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    sg = child(["--sgemm-child"], env=env)["gflops"]
    peak = fma_peak()
    gen_gf = generator_gflop_per_audio_s()

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    kernels = rows[0][4]["kernels"]
    import onnxruntime
    L = []
    L.append("# Benchmark: the C engine next to ONNX Runtime\n")
    L.append(f"Written by `make bench` (bench/run_bench.py) on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
             f"CPU: {cpu}, {os.cpu_count()} cores, engine kernels `{kernels}`, ONNX Runtime "
             f"{onnxruntime.__version__}; best of {a.runs} runs after a warm-up, each side in "
             f"its own process.\n")
    L.append("Both sides run models/kokoro.onnx (the int8 export: ONNX Runtime runs its "
             "`ConvInteger`/`MatMulInteger` nodes in 8-bit integers, the engine in float32) on "
             "the same phoneme ids, voice af_heart, speed 1. short: \"Hello from Kokoro.\"; "
             "medium: the engine's bench paragraph as one forward pass; long: a longer passage "
             "cut into chunks as `kokoro say` cuts it, one forward pass per chunk, times summed. "
             "time = compute seconds; ratio = engine / ORT (< 1: the engine is faster; the goal "
             "is 0.5). Peak RSS: the whole process (model loaded, synthesis).\n")
    L.append("| input | chunks | ids | threads | audio s | engine s | ORT s | engine / ORT | "
             "engine RTF | ORT RTF | engine peak RSS MB | ORT peak RSS MB | load avg |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, nch, nids, t, e, o in rows:
        L.append(f"| {name} | {nch} | {nids} | {t} | {e['audio_s']:.2f} | {e['compute_s']:.3f} | "
                 f"{o['compute_s']:.3f} | {e['compute_s'] / o['compute_s']:.2f} | "
                 f"{e['compute_s'] / e['audio_s']:.3f} | {o['compute_s'] / o['audio_s']:.3f} | "
                 f"{e['peak_rss_mb']:.0f} | {o['peak_rss_mb']:.0f} | {e['load']:.1f} |")
    L.append(f"\n`load avg`: the 1-minute load average before/after that row (the higher); "
             f"above about {os.cpu_count() - 1} the row did not have {os.cpu_count()} free "
             f"cores and its 2-thread figures understate both sides.")
    L.append("\n## Engine time per stage (seconds, best run, summed over chunks)\n")
    stages = [k for k in rows[0][4] if k.startswith("stage_")]
    L.append("| input | threads | " + " | ".join(s[6:-2] for s in stages) + " |")
    L.append("| --- | ---: | " + " | ".join("---:" for _ in stages) + " |")
    for name, _, _, t, e, _ in rows:
        L.append(f"| {name} | {t} | " + " | ".join(f"{e.get(s, 0):.3f}" for s in stages) + " |")
    L.append("\n## The dominant stage against the machine's float32 peak\n")
    L.append(f"This core's float32 peak, from a loop of independent fused multiply-adds "
             f"(bench/fma_peak.c, {peak['isa']}): {peak['gflops']:.1f} GFLOP/s. OpenBLAS sgemm "
             f"(2048^3, one thread): {sg:.1f} GFLOP/s, {100 * sg / peak['gflops']:.0f}% of it.\n")
    L.append(f"The generator costs {gen_gf:.1f} GFLOP per second of audio counted as direct "
             f"convolution (multiply-adds x 2, from the layer shapes). It does less than that: "
             f"FFT for 7 and 11 taps from 1,024 samples (a short utterance's rows too), direct "
             f"8-bit-weight products for 3 taps and for a stream's first short ranges "
             f"(docs/engine.md). So its direct-equivalent rate "
             f"can pass the peak.\n")
    L.append("| input | threads | generator s | direct-equivalent GFLOP/s | share of peak x threads |")
    L.append("| --- | ---: | ---: | ---: | ---: |")
    for name, _, _, t, e, _ in rows:
        gs = e.get("stage_generator_s")
        if gs:
            rate = gen_gf * e["audio_s"] / gs
            L.append(f"| {name} | {t} | {gs:.3f} | {rate:.1f} | "
                     f"{100 * rate / (peak['gflops'] * t):.0f}% |")
    text = "\n".join(L) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
