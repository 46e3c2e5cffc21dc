"""ref.py - the reference side of the parity tests: ONNX Runtime runs, exact STFTs, metrics.

Shared by test_parity.py, check_float_graph.py and bench/ort_bench.py. Nothing here runs at
service time; ONNX Runtime and numpy are test-only dependencies.
"""
import os
import subprocess

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL_INT8 = os.path.join(ROOT, "models", "kokoro.onnx")
MODEL_FLOAT = os.path.join(ROOT, "models", "ref", "kokoro-float.onnx")
VOICE = os.path.join(ROOT, "models", "voices", "af_heart.bin")
PHONEMES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "phonemes.txt")

N_FFT, HOP = 20, 5          # the generator's STFT
SAMPLES_PER_FRAME = 600     # 24 kHz audio per duration frame


def require(path, hint):
    """Fails (never skips) when a file the test needs is missing."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is missing: {hint}")


def ensure_float_graph():
    """Builds models/ref/kokoro-float.onnx from models/kokoro.onnx when it is absent/older."""
    require(MODEL_INT8, "run `make model` first")
    if (not os.path.exists(MODEL_FLOAT)
            or os.path.getmtime(MODEL_FLOAT) < os.path.getmtime(MODEL_INT8)):
        subprocess.run(["python3", os.path.join(ROOT, "tests", "parity", "make_float_graph.py"),
                        "--in", MODEL_INT8, "--out", MODEL_FLOAT], check=True)
    return MODEL_FLOAT


def load_sequences(path=PHONEMES):
    """[(name, ids list, phoneme string)] from tests/parity/phonemes.txt."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, ids, ps = line.rstrip("\n").split("\t")
                out.append((name, [int(i) for i in ids.split(",")], ps))
    return out


def voice_row(path, n_ids):
    """The style row the official pipeline takes: pack[len(phonemes) - 1], clamped."""
    require(path, "run `make model` first")
    pack = np.fromfile(path, dtype="<f4")
    if pack.size != 510 * 256:
        raise ValueError(f"{path}: {pack.size} floats, expected 510*256")
    return pack.reshape(510, 256)[min(max(n_ids - 1, 0), 509)][None, :].copy()


def session(path, threads=1):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def feeds(sess, ids, style, speed=1.0):
    names = [i.name for i in sess.get_inputs()]
    tok = "tokens" if "tokens" in names else "input_ids"
    return {tok: np.array([[0] + list(ids) + [0]], dtype=np.int64),
            "style": style.astype(np.float32),
            "speed": np.array([speed], dtype=np.float32)}


def run(sess, ids, style, speed=1.0):
    """Runs a session; returns {parity name: squeezed array} (the float graph names its extra
    outputs by node; map them back with the table of make_float_graph)."""
    from make_float_graph import INTERMEDIATES
    by_tensor = {t: n for n, (t, _) in INTERMEDIATES.items()}
    outs = [o.name for o in sess.get_outputs()]
    vals = sess.run(outs, feeds(sess, ids, style, speed))
    res = {}
    for o, v in zip(outs, vals):
        res[by_tensor.get(o, o)] = np.squeeze(np.asarray(v))
    res["durations"] = np.atleast_1d(res.get("durations", np.zeros(0))).astype(np.int64)
    return res


# ------------------------------------------------------------------ exact STFT (torch semantics)

def hann_periodic(n=N_FFT):
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float64)


def stft_exact(x, n_fft=N_FFT, hop=HOP):
    """torch.stft(x, n_fft, hop, n_fft, hann_window(periodic), center=True, pad_mode='reflect',
    return_complex=True), in float64. Returns complex [n_fft//2+1, frames]."""
    x = np.asarray(x, dtype=np.float64)
    p = n_fft // 2
    xp = np.pad(x, (p, p), mode="reflect")
    frames = 1 + (len(xp) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    return np.fft.rfft(xp[idx] * hann_periodic(n_fft)[None, :], axis=1).T


def har_exact(source):
    """The 22 channels the original feeds noise_convs: |STFT| (11) and torch.angle (11)."""
    s = stft_exact(source)
    return np.concatenate([np.abs(s), np.angle(s)], axis=0)


def istft_exact(gen_pre, n_fft=N_FFT, hop=HOP):
    """The original's inverse: spec = exp(ch 0..10), phase = sin(ch 11..21),
    torch.istft(spec * exp(1j*phase), n_fft, hop, n_fft, hann(periodic), center=True): irfft per
    frame (imaginary parts of DC/Nyquist ignored), windowed overlap-add, divided by the summed
    squared window, n_fft//2 trimmed at both ends. Length hop * (frames - 1)."""
    g = np.asarray(gen_pre, dtype=np.float64)
    nb = n_fft // 2 + 1
    spec = np.exp(g[:nb]) * np.exp(1j * np.sin(g[nb:]))
    frames = spec.shape[1]
    w = hann_periodic(n_fft)
    seg = np.fft.irfft(spec, n=n_fft, axis=0) * w[:, None]        # [n_fft, frames]
    n = n_fft + hop * (frames - 1)
    y = np.zeros(n)
    env = np.zeros(n)
    for t in range(frames):
        y[t * hop: t * hop + n_fft] += seg[:, t]
        env[t * hop: t * hop + n_fft] += w * w
    p = n_fft // 2
    return (y[p: n - p] / env[p: n - p]).astype(np.float64)


def source_weights(model_path):
    """l_linear (9 -> 1) weight and bias of the harmonic source, read from the ONNX file."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(model_path)
    init = {t.name: t for t in m.graph.initializer}
    node = next(n for n in m.graph.node if n.name.endswith("m_source/l_linear/MatMul"))
    w = numpy_helper.to_array(init[node.input[1]]).astype(np.float64).ravel()
    b = numpy_helper.to_array(init["decoder.decoder.generator.m_source.l_linear.bias"])
    return w, float(np.asarray(b, dtype=np.float64).ravel()[0])


def source_original(f0, w, b, up=300, sr=24000.0):
    """The original SineGen + SourceModuleHnNSF in float64, noise and random initial phases
    zeroed: f0 [2F] (Hz, frame rate) -> source [300 * 2F]. rad = frac(k f0 / sr) per frame
    (F.interpolate(linear, 1/300) of the nearest-upsampled rad is exactly the frame value),
    cumulative sum, x300, F.interpolate(linear, x300, align_corners=False) to samples, sin,
    amplitude 0.1, voiced where the nearest-upsampled f0 > 10, Linear(9 -> 1), tanh."""
    f0 = np.asarray(f0, dtype=np.float64)
    F2 = len(f0)
    rad = np.mod(f0[:, None] * np.arange(1, 10)[None, :] / sr, 1.0)      # [F2, 9] cycles
    cum = np.mod(np.cumsum(rad, axis=0), 1.0)
    i = np.arange(F2 * up)
    pos = np.maximum((i + 0.5) / up - 0.5, 0.0)
    i0 = np.minimum(np.floor(pos).astype(np.int64), F2 - 1)
    i1 = np.minimum(i0 + 1, F2 - 1)
    wt = (pos - i0)[:, None]
    step = np.where((i1 != i0)[:, None], rad[i1], 0.0)
    ph = np.mod(up * cum[i0] + up * wt * step, 1.0)
    uv = (np.repeat(f0, up) > 10.0)[:, None]
    sines = 0.1 * np.sin(2 * np.pi * ph) * uv
    return np.tanh(sines @ w + b)


def har_original(source, tiny=1e-6):
    """har_exact, with the phase of bins whose magnitude is below `tiny` set to 0: in exact
    arithmetic those bins are exactly 0 (a constant, unvoiced stretch of the source has only
    bins 0 and 1 under a periodic Hann window) and torch.angle(0) = 0; in float their phase is
    rounding noise, to which the generator is sensitive (see docs/parity.md)."""
    h = har_exact(source)
    h[11:][h[:11] < tiny] = 0.0
    return h


# ------------------------------------------------------------------ metrics

def rel_err(a, b):
    """||a - b|| / ||b||, b the reference (0 when both are 0)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch {a.shape} vs {b.shape}")
    nb = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / nb) if nb > 0 else float(np.linalg.norm(a))


def magspec(x, n_fft=512, hop=128):
    x = np.asarray(x, dtype=np.float64)
    if len(x) < n_fft:
        x = np.pad(x, (0, n_fft - len(x)))
    frames = 1 + (len(x) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    return np.abs(np.fft.rfft(x[idx] * np.hanning(n_fft)[None, :], axis=1))


def spec_corr(a, b):
    """Pearson correlation of the linear magnitude spectrograms (Hann 512, hop 128) of two
    signals of equal length: the audio bar of the parity test."""
    if len(a) != len(b):
        raise ValueError(f"audio lengths differ: {len(a)} vs {len(b)}")
    return float(np.corrcoef(magspec(a).ravel(), magspec(b).ravel())[0, 1])


def read_dump(d, name):
    """Reads DIR/<name>.f32 + DIR/<name>.shape written by `kokoro dump`."""
    with open(os.path.join(d, name + ".shape")) as f:
        dims = [int(x) for x in f.read().split()]
    a = np.fromfile(os.path.join(d, name + ".f32"), dtype="<f4")
    if a.size != int(np.prod(dims)):
        raise ValueError(f"{name}: {a.size} floats but shape {dims}")
    return a.reshape(dims)
