#!/usr/bin/env python3
"""run_bench.py - real-time factor of the C engine next to ONNX Runtime, written to docs/bench.md.

Both sides synthesise the same phoneme ids (the engine's default bench paragraph, phonemised by
`kokoro bench --print-ids`) with the same model file (models/kokoro.onnx), voice row and speed,
at 1 and 2 threads, in one run of this script. RTF = compute seconds per second of audio, best
of --runs after one warm-up, so lower is faster. Each measurement runs in its own process, so
that its peak RSS (ru_maxrss) is its own.

Also measured: the time per stage of the engine and, for its dominant stage (the generator),
the float32 FLOP rate it reaches next to this machine's sgemm rate (numpy's OpenBLAS, one
thread, 2048^3).

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

    r = subprocess.run([KOKORO, "bench", "--print-ids"], capture_output=True, text=True,
                       cwd=ROOT, check=True)
    ids = [int(x) for x in r.stdout.strip().split(",")]
    threads = [int(t) for t in a.threads.split(",")]
    rows = []
    for t in threads:
        load = os.getloadavg()[0]
        e = engine(ids, t, a.runs)
        o = child(["--ort-child", ",".join(map(str, ids)), str(t), str(a.runs)])
        e["load"] = max(load, os.getloadavg()[0])
        if abs(e["audio_s"] - o["audio_s"]) > 0.2:
            print(f"note: audio lengths differ (engine {e['audio_s']:.2f} s, ORT int8 "
                  f"{o['audio_s']:.2f} s): ORT's int8 activations change some durations")
        rows.append((t, e, o))
        print(f"threads {t}: engine RTF {e['rtf']:.3f}, ORT RTF {o['rtf']:.3f}, "
              f"ORT/engine {o['rtf'] / e['rtf']:.2f}x", flush=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    sg = child(["--sgemm-child"], env=env)["gflops"]
    gen_gf = generator_gflop_per_audio_s()

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    L = []
    L.append("# Benchmark: the C engine next to ONNX Runtime\n")
    L.append(f"Written by `make bench` (bench/run_bench.py) on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
             f"CPU: {cpu}, {os.cpu_count()} cores (shared with other work: figures are "
             f"indicative, best of {a.runs} runs after a warm-up).\n")
    L.append(f"Input: the engine's bench paragraph, {len(ids)} phoneme ids, voice af_heart, "
             f"speed 1; both sides run models/kokoro.onnx (int8). RTF = compute seconds per "
             f"second of audio (lower is faster); ratio = ORT RTF / engine RTF (> 1: the engine "
             f"is faster). Peak RSS: the whole process (model loaded, one synthesis).\n")
    L.append("| threads | engine RTF | ORT RTF | ratio | engine audio s | ORT audio s | engine peak RSS MB | ORT peak RSS MB | load avg |")
    L.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for t, e, o in rows:
        L.append(f"| {t} | {e['rtf']:.3f} | {o['rtf']:.3f} | {o['rtf'] / e['rtf']:.2f} | "
                 f"{e['audio_s']:.2f} | {o['audio_s']:.2f} | {e['peak_rss_mb']:.0f} | "
                 f"{o['peak_rss_mb']:.0f} | {e['load']:.1f} |")
    L.append(f"\n`load avg`: the 1-minute load average before/after that row (the higher); "
             f"above about {os.cpu_count() - 1} the row did not have {os.cpu_count()} free "
             f"cores and its 2-thread figures understate both sides.")
    L.append("\n## Engine time per stage (seconds, best run)\n")
    stages = [k for k in rows[0][1] if k.startswith("stage_")]
    L.append("| stage | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t, _, _ in rows) + " |")
    L.append("| --- | " + " | ".join("---:" for _ in rows) + " |")
    for s in stages:
        L.append(f"| {s[6:-2]} | " + " | ".join(f"{e[s]:.3f}" for _, e, _ in rows) + " |")
    L.append("\n## The dominant stage against the machine's float32 rate\n")
    L.append(f"The generator costs {gen_gf:.1f} GFLOP per second of audio (multiply-adds x 2 of "
             f"its convolutions, from the layer shapes). This machine's float32 sgemm rate "
             f"(numpy's OpenBLAS, 2048^3, one thread): {sg:.1f} GFLOP/s.\n")
    L.append("| threads | generator s | generator GFLOP/s | share of 1-thread sgemm x threads |")
    L.append("| ---: | ---: | ---: | ---: |")
    for t, e, _ in rows:
        gs = e.get("stage_generator_s")
        if gs:
            rate = gen_gf * e["audio_s"] / gs
            L.append(f"| {t} | {gs:.3f} | {rate:.1f} | {100 * rate / (sg * t):.0f}% |")
    text = "\n".join(L) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
