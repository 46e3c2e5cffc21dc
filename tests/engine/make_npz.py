"""make_npz.py - writes a voices archive in the layout of voices-v1.0.bin (an uncompressed
np.savez of <name> -> float32 [510, 1, 256]) from .bin voices, for the loader test.
Usage: make_npz.py VOICES_DIR OUT.npz NAME..."""
import sys
import numpy as np

src, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
packs = {n: np.fromfile(f"{src}/{n}.bin", dtype="<f4").reshape(510, 1, 256) for n in names}
with open(out, "wb") as f:
    np.savez(f, **packs)
