#!/usr/bin/env python3
"""check_float_graph.py - how far the float reference graph is from the int8 graph ORT runs.

Builds models/ref/kokoro-int8-taps.onnx (the int8 export with the same extra outputs) and
compares it with models/ref/kokoro-float.onnx on some sequences of phonemes.txt: share of
equal durations, relative error of the intermediates (when the frame counts agree) and the
audio's spectrogram correlation (when the lengths agree). The figures are in docs/parity.md.

Usage: check_float_graph.py [name ...]     (default: len027 len096 len240)
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref  # noqa: E402

TAPS = os.path.join(ref.ROOT, "models", "ref", "kokoro-int8-taps.onnx")


def main(names):
    ref.ensure_float_graph()
    if not os.path.exists(TAPS):
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__),
                                                     "make_float_graph.py"),
                        "--in", ref.MODEL_INT8, "--out", TAPS, "--mode", "int8-taps"],
                       check=True)
    sf, sq = ref.session(ref.MODEL_FLOAT, 2), ref.session(TAPS, 2)
    seqs = {n: ids for n, ids, _ in ref.load_sequences()}
    for name in names or ["len027", "len096", "len240"]:
        ids = seqs[name]
        st = ref.voice_row(ref.VOICE, len(ids))
        f, q = ref.run(sf, ids, st), ref.run(sq, ids, st)
        line = (f"{name} ({len(ids)} ids): durations equal {np.mean(f['durations'] == q['durations']):.1%}"
                f", frames {f['durations'].sum()} float / {q['durations'].sum()} int8"
                f"; bert {ref.rel_err(q['bert'], f['bert']):.2e}")
        if f["durations"].sum() == q["durations"].sum():
            for k in ("f0", "decoder", "gen_pre"):
                line += f", {k} {ref.rel_err(q[k], f[k]):.2e}"
            line += f", audio spectrogram correlation {ref.spec_corr(q['audio'], f['audio']):.4f}"
        print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
