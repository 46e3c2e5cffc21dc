#!/usr/bin/env python3
"""make_float_graph.py - rewrite the int8 Kokoro ONNX export into a float reference graph.

ONNX Runtime runs the int8 export with *dynamic* activation quantisation: every MatMulInteger /
ConvInteger quantises its input to uint8 at run time, and conv biases are re-quantised to int32
with the activation's scale. Our engine keeps activations in float32, so comparing against that
graph would measure ORT's activation rounding, not our arithmetic. This script builds the graph
the engine is meant to equal: the SAME int8 weights, dequantised once ((q - zero_point) * scale),
used by float MatMul / Conv / LSTM / Gather nodes, with every activation kept in float32.

It also exposes the intermediates the parity test compares (durations, F0, N, asr, decoder output,
harmonic source and its STFT, conv_post output) as extra graph outputs; see docs/parity.md.

The export has no random nodes: the additive source noise and the random initial phases of the
harmonics (torch.randn_like / torch.rand in the PyTorch original) were left out when it was
exported, so the graph is already the "noise zeroed" model. The script checks that this is still
true (and fails if a Random* node appears) rather than assuming it.

Usage: make_float_graph.py [--in models/kokoro.onnx] [--out models/ref/kokoro-float.onnx]
                           [--mode float|float-har|int8-taps]
"""
import argparse
import collections
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Intermediate tensors exposed as extra outputs: parity name -> (node output, ONNX elem type).
# The node output names are those of the kokoro-v1.0(.int8).onnx export; see docs/parity.md.
G = "/decoder/decoder/generator/"
INTERMEDIATES = {
    "durations": ("/encoder/Cast_output_0", TensorProto.INT64),          # [T+2] after round/clip
    "dur_raw": ("/encoder/Div_output_0", TensorProto.FLOAT),             # [1,T+2] before rounding
    "bert": ("/encoder/bert_encoder/Add_output_0", TensorProto.FLOAT),   # [1,T+2,512]
    "d": ("/encoder/predictor/text_encoder/Concat_4_output_0", TensorProto.FLOAT),  # [1,T+2,640]
    "t_en": ("/encoder/text_encoder/Transpose_2_output_0", TensorProto.FLOAT),      # [1,512,T+2]
    "asr": ("/encoder/MatMul_1_output_0", TensorProto.FLOAT),            # [1,512,F]
    "f0": ("/encoder/Squeeze_output_0", TensorProto.FLOAT),              # [2F] (Hz)
    "n": ("/encoder/Squeeze_1_output_0", TensorProto.FLOAT),             # [2F]
    "decoder": ("/decoder/decoder/decode.3/Div_4_output_0", TensorProto.FLOAT),  # [1,512,2F]
    "source": (G + "m_source/l_tanh/Tanh_output_0", TensorProto.FLOAT),  # [1,600F,1]
    "har": (G + "Concat_3_output_0", TensorProto.FLOAT),                 # [1,22,120F+1]
    "gen_pre": (G + "conv_post/Conv_output_0", TensorProto.FLOAT),       # [1,22,120F+1]
}


class Graph:
    """Producer/consumer index over a GraphProto, rebuilt on demand."""

    def __init__(self, graph):
        self.g = graph
        self.inits = {t.name: t for t in graph.initializer}
        self.reindex()

    def reindex(self):
        self.producer = {}
        self.consumers = collections.defaultdict(list)
        for n in self.g.node:
            for o in n.output:
                self.producer[o] = n
            for i in n.input:
                if i:
                    self.consumers[i].append(n)

    def array(self, name):
        if name not in self.inits:
            raise ValueError(f"expected a constant initializer, got computed tensor {name!r}")
        return numpy_helper.to_array(self.inits[name])

    def only_consumer(self, name, op_type):
        cs = self.consumers[name]
        if len(cs) != 1 or cs[0].op_type != op_type:
            got = [c.op_type for c in cs]
            raise ValueError(f"{name}: expected one {op_type} consumer, found {got}")
        return cs[0]

    def add_init(self, name, arr):
        if name not in self.inits:
            t = numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name)
            self.g.initializer.append(t)
            self.inits[name] = t
        return name


def dequant(q, zp, scale, axis_shape=None):
    w = q.astype(np.float32) - zp.astype(np.float32)
    return w * scale.astype(np.float32)


def rewrite_integer_op(gr, n, new_nodes, drop):
    """MatMulInteger / ConvInteger with its DynamicQuantizeLinear input and its int32 -> float
    epilogue (optional int32 bias add, Cast, Mul by x_scale * w_scale) -> one float op."""
    xq, wq, _xzp, wzp = n.input[:4]
    dql = gr.producer[xq]
    if dql.op_type != "DynamicQuantizeLinear":
        raise ValueError(f"{n.name}: input not from DynamicQuantizeLinear")
    x = dql.input[0]
    x_scale = dql.output[1]

    bias = None
    cur = n.output[0]
    nxt = gr.consumers[cur]
    if len(nxt) == 1 and nxt[0].op_type == "Add":  # int32 bias, quantised with x_scale*w_scale
        add = nxt[0]
        qb = add.input[1] if add.input[0] == cur else add.input[0]
        reshape = gr.producer[qb]
        cast = gr.producer[reshape.input[0]]
        floor = gr.producer[cast.input[0]]
        div = gr.producer[floor.input[0]]
        if [reshape.op_type, cast.op_type, floor.op_type, div.op_type] != \
                ["Reshape", "Cast", "Floor", "Div"]:
            raise ValueError(f"{n.name}: unexpected bias quantisation pattern")
        bias = div.input[0]
        gr.array(bias)  # must be a constant
        cur = add.output[0]
    cast = gr.only_consumer(cur, "Cast")
    mul = gr.only_consumer(cast.output[0], "Mul")
    scale_name = mul.input[1] if mul.input[0] == cast.output[0] else mul.input[0]
    smul = gr.producer[scale_name]
    if smul.op_type != "Mul" or x_scale not in smul.input:
        raise ValueError(f"{n.name}: unexpected scale pattern")
    w_scale = smul.input[1] if smul.input[0] == x_scale else smul.input[0]

    q = gr.array(wq)
    zp = gr.array(wzp)
    sc = gr.array(w_scale)
    if n.op_type == "ConvInteger":
        if sc.ndim == 1 and sc.size > 1:  # per output channel
            sc = sc.reshape((-1,) + (1,) * (q.ndim - 1))
            zp = zp.reshape((-1,) + (1,) * (q.ndim - 1)) if zp.size > 1 else zp
        wname = gr.add_init(wq + "_float", dequant(q, zp, sc))
        inputs = [x, wname] + ([bias] if bias else [])
        node = helper.make_node("Conv", inputs, [mul.output[0]], name=n.name + "_float")
        node.attribute.extend(n.attribute)
    else:
        wname = gr.add_init(wq + "_float", dequant(q, zp, sc))
        node = helper.make_node("MatMul", [x, wname], [mul.output[0]], name=n.name + "_float")
    new_nodes.append((mul, node))
    drop.add(id(mul))


def rewrite_lstm(gr, n, new_nodes, drop):
    """com.microsoft DynamicQuantizeLSTM -> ai.onnx LSTM with dequantised W, R.
    The quantised op stores W as [dirs, input, 4H] and R as [dirs, H, 4H] (transposed relative
    to LSTM's [dirs, 4H, input]); gate order (i, o, f, c) is the same."""
    ins = list(n.input) + [""] * (12 - len(n.input))
    X, W, R, B, seq, h0, c0, P, ws, wz, rs, rz = ins
    mats = []
    for q, s, z in ((W, ws, wz), (R, rs, rz)):
        qa, sa, za = gr.array(q), gr.array(s), gr.array(z)
        sa = sa.reshape(sa.shape + (1,) * (qa.ndim - sa.ndim)) if sa.ndim == 1 else sa[:, None, :]
        za = za.reshape(za.shape + (1,) * (qa.ndim - za.ndim)) if za.ndim == 1 else za[:, None, :]
        deq = dequant(qa, za, sa).transpose(0, 2, 1)
        mats.append(gr.add_init(q + "_float", deq))
    node = helper.make_node("LSTM", [X, mats[0], mats[1], B, seq, h0, c0, P][:8], list(n.output),
                            name=n.name + "_float")
    for a in n.attribute:
        if a.name in ("direction", "hidden_size", "input_forget", "activations", "clip",
                      "activation_alpha", "activation_beta", "layout"):
            node.attribute.append(a)
    # trailing empty optional inputs are fine for LSTM; strip the trailing ones for tidiness
    while node.input and node.input[-1] == "":
        node.input.pop()
    new_nodes.append((n, node))
    drop.add(id(n))


def rewrite_dequantize_gather(gr, n, new_nodes, drop):
    """Gather(int8 table) -> DequantizeLinear  ==>  Gather(float table)."""
    src = gr.producer[n.input[0]]
    if src.op_type != "Gather":
        raise ValueError(f"{n.name}: DequantizeLinear not fed by Gather")
    q, sc = gr.array(src.input[0]), gr.array(n.input[1])
    zp = gr.array(n.input[2]) if len(n.input) > 2 and n.input[2] else np.zeros((), q.dtype)
    if sc.size != 1:
        raise ValueError(f"{n.name}: per-axis DequantizeLinear of a gather table not handled")
    tname = gr.add_init(src.input[0] + "_float", dequant(q, zp, sc))
    node = helper.make_node("Gather", [tname, src.input[1]], list(n.output), name=n.name + "_float")
    node.attribute.extend(src.attribute)
    new_nodes.append((n, node))
    drop.add(id(n))


def eliminate_dead(graph):
    """Removes nodes whose outputs nobody uses, then unused initializers."""
    outputs = {o.name for o in graph.output}
    while True:
        used = {i for n in graph.node for i in n.input} | outputs
        keep = [n for n in graph.node if any(o in used for o in n.output if o)]
        if len(keep) == len(graph.node):
            break
        del graph.node[:]
        graph.node.extend(keep)
    used = {i for n in graph.node for i in n.input} | outputs
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)


def add_taps(g):
    produced = {o for n in g.node for o in n.output}
    for name, (tensor, etype) in INTERMEDIATES.items():
        if tensor not in produced:
            sys.exit(f"make_float_graph: intermediate {name} ({tensor}) is not in this export")
        g.output.append(helper.make_tensor_value_info(tensor, etype, None))


def cut_at_har(g):
    """Makes the generator's 22-channel source spectrum a graph input ("har_in") instead of
    the export's STFT of its own source, so that a test can feed the generator the spectrum
    another implementation computed (see docs/parity.md, "the STFT of the source")."""
    har = INTERMEDIATES["har"][0]
    for n in g.node:
        for i, x in enumerate(n.input):
            if x == har:
                n.input[i] = "har_in"
    g.input.append(helper.make_tensor_value_info("har_in", TensorProto.FLOAT, [1, 22, None]))
    keep = [o for o in g.output if o.name != har]
    del g.output[:]
    g.output.extend(keep)


def build(src_path, mode="float"):
    model = onnx.load(src_path)
    g = model.graph
    randoms = [n.name for n in g.node if n.op_type.startswith("Random")]
    if randoms:
        sys.exit(f"make_float_graph: the export has random nodes {randoms}; "
                 "this script expects a noise-free export (kokoro-v1.0 int8)")
    if mode == "int8-taps":  # the int8 graph as ORT runs it, with the same extra outputs
        add_taps(g)
        return model
    gr = Graph(g)
    new_nodes, drop = [], set()
    for n in list(g.node):
        if n.op_type in ("MatMulInteger", "ConvInteger"):
            rewrite_integer_op(gr, n, new_nodes, drop)
        elif n.op_type == "DynamicQuantizeLSTM":
            rewrite_lstm(gr, n, new_nodes, drop)
        elif n.op_type == "DequantizeLinear":
            rewrite_dequantize_gather(gr, n, new_nodes, drop)
    # Put each new node where the node it replaces was, so the list stays topologically sorted.
    at = {id(old): new for old, new in new_nodes}
    nodes = []
    for n in g.node:
        if id(n) in at:
            nodes.append(at[id(n)])
        elif id(n) not in drop:
            nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)

    add_taps(g)
    if mode == "float-har":
        cut_at_har(g)
    eliminate_dead(g)

    left = collections.Counter(n.op_type for n in g.node
                               if n.op_type in ("DynamicQuantizeLinear", "MatMulInteger",
                                                "ConvInteger", "DynamicQuantizeLSTM",
                                                "DequantizeLinear", "QuantizeLinear"))
    if left:
        sys.exit(f"make_float_graph: quantised nodes left after the rewrite: {dict(left)}")
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--in", dest="src", default="models/kokoro.onnx")
    ap.add_argument("--out", default="models/ref/kokoro-float.onnx")
    ap.add_argument("--mode", choices=["float", "float-har", "int8-taps"], default="float",
                    help="float: the float reference graph (default); float-har: the same with "
                         "the source spectrum as input har_in; int8-taps: the int8 graph "
                         "untouched but for the extra outputs")
    a = ap.parse_args()
    if not os.path.exists(a.src):
        sys.exit(f"make_float_graph: {a.src} not found: run `make model` first")
    model = build(a.src, a.mode)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    tmp = a.out + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, a.out)
    n_ops = collections.Counter(n.op_type for n in model.graph.node)
    print(f"make_float_graph: wrote {a.out} ({os.path.getsize(a.out) / 1e6:.0f} MB, "
          f"{len(model.graph.node)} nodes; Conv {n_ops['Conv']}, MatMul {n_ops['MatMul']}, "
          f"LSTM {n_ops['LSTM']})")


if __name__ == "__main__":
    main()
