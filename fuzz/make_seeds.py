"""make_seeds.py - small, valid seed inputs for the engine fuzzers: an ONNX graph shaped like
the Kokoro export (named nodes, int8/uint8 initializers, scales, zero points) and a voices npz.
Usage: make_seeds.py OUT_DIR"""
import io, os, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

out = sys.argv[1]
os.makedirs(os.path.join(out, "model"), exist_ok=True)
os.makedirs(os.path.join(out, "voices"), exist_ok=True)
rng = np.random.default_rng(0)

inits = [
    numpy_helper.from_array(rng.integers(0, 255, (4, 3, 3), dtype=np.uint8), "/enc/cnn/Mul_output_0_quantized"),
    numpy_helper.from_array(np.array(0.01, dtype=np.float32), "/enc/cnn/Mul_output_0_scale"),
    numpy_helper.from_array(np.array(128, dtype=np.uint8), "/enc/cnn/Mul_output_0_zero_point"),
    numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "encoder.cnn.bias"),
    numpy_helper.from_array(rng.integers(-127, 127, (178, 128), dtype=np.int8),
                            "encoder.bert.embeddings.word_embeddings.weight_quantized"),
    numpy_helper.from_array(np.array(0.02, dtype=np.float32), "encoder.bert.embeddings.word_embeddings.weight_scale"),
    helper.make_tensor("varint_zp", TensorProto.INT8, [2], [3, -4]),
    helper.make_tensor("floats", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0]),
]
nodes = [
    helper.make_node("ConvInteger", ["x_q", "/enc/cnn/Mul_output_0_quantized", "x_zp", "/enc/cnn/Mul_output_0_zero_point"],
                     ["y"], name="/enc/cnn/Conv_quant"),
    helper.make_node("Gather", ["encoder.bert.embeddings.word_embeddings.weight_quantized", "ids"], ["e"],
                     name="/encoder/bert/embeddings/word_embeddings/Gather_quant"),
]
g = helper.make_graph(nodes, "seed", [], [], initializer=inits)
m = helper.make_model(g)
with open(os.path.join(out, "model", "seed.onnx"), "wb") as f:
    f.write(m.SerializeToString())

buf = io.BytesIO()
np.savez(buf, af_a=rng.standard_normal((510, 1, 256)).astype(np.float32),
         bm_b=rng.standard_normal((510, 256)).astype(np.float32))
with open(os.path.join(out, "voices", "seed.npz"), "wb") as f:
    f.write(buf.getvalue())
