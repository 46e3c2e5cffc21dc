"""test_parity.py - the C engine against ONNX Runtime on the float reference graph.

For each phoneme sequence of phonemes.txt (13 real English utterances, 2 to 495 ids), voice
af_heart (row len(ids) - 1), speed 1, source noise zeroed, the engine's intermediates
(`build/kokoro dump`) are compared with those of models/ref/kokoro-float.onnx (the int8 export's
weights, dequantised, run in float32 by ONNX Runtime; see make_float_graph.py, docs/parity.md).

Bars (issue 2): durations identical on >= 98% of tokens; intermediates within 1e-3 relative
error, rel(a, b) = ||a - b|| / ||b||; audio of equal length with magnitude-spectrogram
correlation >= 0.99.

Where the export departs from the PyTorch original, the engine follows the original and the
test says so with a measurement (figures from af_heart, sequence len055, float graph):

  * Inverse STFT. The export's window-sum normalisation was traced for 20 samples only, so the
    squared-window envelope (1.5 for Hann 20 / hop 5) is never divided out: its audio is
    1.5000x torch.istft of the same conv_post output (rel. error after that factor: 6e-7).
    The engine implements torch.istft; its audio is therefore ~0.67x the export's. Compared:
    engine audio vs an exact float64 torch.istft of the engine's own gen_pre (<= 1e-3), and
    the export's audio by spectral correlation (scale-free).
  * Source STFT phase. The export computes the phase as atan(im/re) with quadrant fixes that
    give -pi where torch.angle gives +pi (DC bin with negative real part), and arbitrary
    values on bins whose magnitude is zero up to rounding; magnitudes agree with an exact
    float64 torch.stft to 5e-7. Feeding the generator the exact STFT instead of the export's
    changes conv_post's output by 1.8e-2 (len055) to 2.2e-2 (len240) relative, audio
    spectral correlation 0.9986. The generator is this sensitive to the phase of near-zero
    bins: a float32 vs a float64 DFT of the same source alone moves gen_pre by 7e-3 to 1e-2.
    So gen_pre is compared conditionally: the float graph with its source spectrum cut out
    (kokoro-float-har.onnx, input har_in) is fed the engine's own spectrum ("har" from the
    dump) and its conv_post output must equal the engine's within 1e-3; the engine's spectrum
    itself is checked against an exact float64 STFT of its own source.
  * Source phase accumulation. The export's float32 cumulative phase drifts from a float64
    evaluation of the original SineGen by 1.5e-3 relative (len055) and grows with length;
    the engine keeps it in double. Reported, not barred (a 1e-7 change in F0 moves it too).

The engine runs on its best CPU back end for every sequence and, when KOKORO_PARITY_PATHS
names other back ends (`make test-parity`: every other one this machine offers), on each of
those for the sequences of KOKORO_PARITY_PATH_SEQS (len055 len160), against the same bars and
the same ONNX Runtime reference, computed once per sequence.
"""
import os
import subprocess
import tempfile

import numpy as np
import pytest

import ref

KOKORO = os.environ.get("KOKORO_BIN", os.path.join(ref.ROOT, "build", "kokoro"))
FLOAT_HAR = os.path.join(ref.ROOT, "models", "ref", "kokoro-float-har.onnx")
BAR_REL = 1e-3
BAR_DUR = 0.98
BAR_CORR = 0.99
REPORT = []          # rows for the summary table printed at the end
OTHER_PATHS = os.environ.get("KOKORO_PARITY_PATHS", "").split()
PATH_SEQS = os.environ.get("KOKORO_PARITY_PATH_SEQS", "len055 len160").split()
WANT = {}            # ONNX Runtime's outputs by sequence name, shared by the CPU paths


def build_graph(mode, out):
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(ref.MODEL_INT8):
        subprocess.run(["python3", os.path.join(ref.ROOT, "tests", "parity",
                                                "make_float_graph.py"),
                        "--in", ref.MODEL_INT8, "--out", out, "--mode", mode], check=True)
    return out


@pytest.fixture(scope="module")
def sessions():
    ref.require(ref.MODEL_INT8, "run `make model` first")
    ref.require(ref.VOICE, "run `make model` first")
    full = ref.session(ref.ensure_float_graph(), threads=2)
    cut = ref.session(build_graph("float-har", FLOAT_HAR), threads=2)
    return full, cut


@pytest.fixture(scope="module", autouse=True)
def summary():
    yield
    if not REPORT:
        return
    keys = ["name", "ids", "dur_eq", "f0", "n", "asr", "decoder", "har_mag", "gen_pre",
            "istft", "corr", "corr_orig", "source"]

    def cell(k, v):
        if isinstance(v, str):
            return f"{v:>10}"
        return f"{v:>10.4f}" if k in ("dur_eq", "corr", "corr_orig") else f"{v:>10.2e}"

    lines = ["".join(f"{k:>10}" for k in keys)]
    for r in REPORT:
        lines.append("".join(cell(k, r.get(k, "-")) for k in keys))
    text = "\n".join(lines)
    os.makedirs(os.path.join(ref.ROOT, "build"), exist_ok=True)
    with open(os.path.join(ref.ROOT, "build", "parity-report.txt"), "w") as f:
        f.write(text + "\n")
    print("\nparity (engine vs float ORT graph; rel = ||a-b||/||b||):\n" + text)


def engine_dump(ids, outdir, cpu=None):
    """The engine's intermediates; cpu names a back end (KOKORO_CPU), None its best."""
    ref.require(KOKORO, "run `make` first")
    cmd = [KOKORO, "dump", "--ids", ",".join(map(str, ids)), "--voice", ref.VOICE,
           "--speed", "1", "--out", outdir]
    env = dict(os.environ)
    if cpu:
        env["KOKORO_CPU"] = cpu
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, f"kokoro dump failed ({r.returncode}): {r.stderr.strip()}"
    names = {f[:-4] for f in os.listdir(outdir) if f.endswith(".f32")}
    return {n: ref.read_dump(outdir, n) for n in names}


def run_cut(cut, ids, style, har):
    f = ref.feeds(cut, ids, style)
    f["har_in"] = har[None].astype(np.float32)
    outs = [o.name for o in cut.get_outputs()]
    vals = dict(zip(outs, cut.run(outs, f)))
    from make_float_graph import INTERMEDIATES
    return (np.squeeze(vals[INTERMEDIATES["gen_pre"][0]]), np.squeeze(vals["audio"]))


SEQS = ref.load_sequences()
CASES = [(None, s[0], s[1]) for s in SEQS] + \
    [(p, s[0], s[1]) for p in OTHER_PATHS for s in SEQS if s[0] in PATH_SEQS]


@pytest.mark.parametrize("cpu,name,ids", CASES,
                         ids=[f"{c}-{n}" if c else n for c, n, _ in CASES])
def test_engine_matches_reference(sessions, cpu, name, ids):
    full, cut = sessions
    style = ref.voice_row(ref.VOICE, len(ids))
    if name not in WANT:
        WANT[name] = ref.run(full, ids, style)
    want = WANT[name]
    with tempfile.TemporaryDirectory() as d:
        got = engine_dump(ids, d, cpu)
    for k in ("durations", "f0", "n", "asr", "decoder", "gen_pre", "audio"):
        assert k in got, f"kokoro dump wrote no {k}"
    row = {"name": f"{name}@{cpu}" if cpu else name, "ids": str(len(ids))}
    REPORT.append(row)
    failures = []

    dur = np.rint(got["durations"]).astype(np.int64).ravel()
    assert dur.shape == want["durations"].shape, \
        f"durations: {dur.shape} values, reference {want['durations'].shape}"
    row["dur_eq"] = float(np.mean(dur == want["durations"]))
    if row["dur_eq"] < BAR_DUR:
        failures.append(f"durations equal on {row['dur_eq']:.1%} of tokens (< {BAR_DUR:.0%})")
    same_frames = dur.sum() == want["durations"].sum()
    if not same_frames:
        failures.append(f"frames: engine {dur.sum()}, reference {want['durations'].sum()}")
    else:
        for k in ("f0", "n", "asr", "decoder"):
            row[k] = ref.rel_err(got[k], want[k])
            if row[k] > BAR_REL:
                failures.append(f"{k}: rel error {row[k]:.2e} > {BAR_REL:g}")

    # The engine's source spectrum against an exact float64 torch.stft of its own source
    # (magnitude), then the generator fed that same spectrum on both sides.
    w, b = ref.source_weights(ref.MODEL_FLOAT)
    src = got["source"].ravel() if "source" in got else ref.source_original(got["f0"], w, b)
    if "source" in got:
        row["source"] = ref.rel_err(got["source"], ref.source_original(got["f0"], w, b))
    if "har" in got:
        har = got["har"]
        exact = ref.har_exact(src)
        row["har_mag"] = ref.rel_err(har[:11], exact[:11])
        if row["har_mag"] > BAR_REL:
            failures.append(f"har magnitude vs exact STFT: rel error {row['har_mag']:.2e}")
        big = exact[:11] > 1e-3 * exact[:11].max()
        dphi = np.abs(np.angle(np.exp(1j * (har[11:] - exact[11:]))))[big]
        if dphi.size and dphi.max() > 1e-2:
            failures.append(f"har phase vs torch.angle: max {dphi.max():.2e} rad on bins "
                            "with magnitude > 1e-3 of the peak")
    else:
        # Without the engine's spectrum the generator can only be fed the original's, computed
        # in float64 from the engine's F0; the phase of near-zero bins then differs by
        # rounding and gen_pre by ~8e-3 (len055). `kokoro dump` should write "har".
        har = ref.har_original(src)
        failures.append("kokoro dump wrote no 'har' [22, frames]: gen_pre compared against a "
                        "generator fed the original's spectrum instead of the engine's")
    if same_frames:
        gen_ref, audio_orig = run_cut(cut, ids, style, har)
        row["gen_pre"] = ref.rel_err(got["gen_pre"], gen_ref)
        if row["gen_pre"] > BAR_REL:
            failures.append(f"gen_pre: rel error {row['gen_pre']:.2e} > {BAR_REL:g}")

    # Audio: the engine's inverse STFT is torch.istft of its own gen_pre; the audio has the
    # reference length and the export's spectrogram.
    audio = got["audio"].ravel()
    row["istft"] = ref.rel_err(audio, ref.istft_exact(got["gen_pre"]))
    if row["istft"] > BAR_REL:
        failures.append(f"audio vs torch.istft(gen_pre): rel error {row['istft']:.2e}")
    if len(audio) != len(want["audio"]):
        failures.append(f"audio length {len(audio)}, reference {len(want['audio'])}")
    else:
        row["corr"] = ref.spec_corr(audio, want["audio"])
        if row["corr"] < BAR_CORR:
            failures.append(f"audio spectrogram correlation {row['corr']:.4f} < {BAR_CORR}")
        if same_frames:
            row["corr_orig"] = ref.spec_corr(audio, audio_orig)
    assert not failures, f"{row['name']} ({len(ids)} ids): " + "; ".join(failures)


def test_export_stft_departures(sessions):
    """Measures, on the float graph alone, the two places where the export departs from the
    original (figures in the module docstring); fails if the export in models/ is not the one
    these measurements describe."""
    full, _ = sessions
    name, ids, _ = next(s for s in SEQS if s[0] == "len055")
    r = ref.run(full, ids, ref.voice_row(ref.VOICE, len(ids)))
    exact = ref.har_exact(r["source"])
    mag = ref.rel_err(r["har"][:11], exact[:11])
    assert mag < 1e-5, f"export STFT magnitude vs exact: {mag:.2e}"
    big = exact[:11] > 1e-3 * exact[:11].max()
    dphi = np.abs(np.angle(np.exp(1j * (r["har"][11:] - exact[11:]))))
    assert dphi[big].max() < 1e-3, f"export phase vs torch.angle on strong bins: {dphi.max():.2e}"
    flips = float(np.mean(dphi[~big] > 1.0))
    print(f"\nexport STFT: magnitude rel error {mag:.1e}; phase within {dphi[big].max():.1e} rad "
          f"on bins above 1e-3 of the peak; {flips:.1%} of the weaker bins differ by > 1 rad")
    ist = ref.istft_exact(r["gen_pre"])
    inner = slice(20, len(ist) - 20)
    ratio = float(np.dot(r["audio"][inner], ist[inner]) / np.dot(ist[inner], ist[inner]))
    assert abs(ratio - 1.5) < 1e-4, f"export audio / torch.istft = {ratio:.5f}, expected 1.5"
    resid = ref.rel_err(r["audio"][inner], 1.5 * ist[inner])
    assert resid < 1e-5, f"export audio vs 1.5 x torch.istft: {resid:.2e}"
