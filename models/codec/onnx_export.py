"""Build the encoder/decoder ONNX graphs of a PQCodec directly with onnx.helper (opset 13) and
run them with a small numpy interpreter (no onnxruntime in Debian) to check them against the
numpy reference in pq.py.

Ops used: encoder MatMul, Add, Gather, Transpose, TopK, Concat, Squeeze, Cast; decoder Cast, Gather, Concat,
MatMul, Add, Relu, Clip. Batch axis N is dynamic in both."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def _init(name, arr):
    return numpy_helper.from_array(np.array(arr, order="C"), name)


def bucket_groups(sizes, waste=1.25):
    """Groups (indices) sorted by size, cut into buckets padded to their largest member: a bucket
    closes when padding would exceed `waste` × its real dimensions."""
    order = sorted(range(len(sizes)), key=lambda g: (sizes[g], g))
    buckets, cur = [], []
    for g in order:
        if cur and max(sizes[x] for x in cur + [g]) * (len(cur) + 1) > waste * sum(sizes[x] for x in cur + [g]):
            buckets.append(cur)
            cur = []
        cur.append(g)
    buckets.append(cur)
    return buckets


def build_encoder(codec, name):
    return build_encoder_from(codec.P, codec.Pb, codec.offsets, codec.Cm2, codec.Cn, name)


def build_encoder_from(P, Pb, offsets, Cm2, Cn, name):
    """Nearest codeword per group, batched: groups of similar size share one batched MatMul and one
    TopK(k=1, smallest). ‖c‖² rides in the MatMul through a constant-1 latent column, and padding
    dimensions read a constant-0 column, so the distances are those of the per-group form. TopK
    replaces ArgMin because onnxruntime's ArgMin was ~3× slower; on an exact distance tie the two
    may pick different (equally near) codewords."""
    G = len(Cm2)
    D = P.shape[1]
    sizes = [int(offsets[g + 1] - offsets[g]) for g in range(G)]
    one, zero = D, D + 1
    inits = [_init("P", np.concatenate([P, np.zeros((P.shape[0], 2), np.float32)], 1)),
             _init("Pb", np.concatenate([np.asarray(Pb, np.float32).reshape(-1), np.array([1, 0], np.float32)])),
             _init("k1", np.array([1], dtype=np.int64)), _init("axis2", np.array([2], dtype=np.int64))]
    nodes = [helper.make_node("MatMul", ["patches", "P"], ["zp"]),
             helper.make_node("Add", ["zp", "Pb"], ["z"])]  # [N, D+2]: latents, 1, 0
    outs, perm = [], []
    for b, bucket in enumerate(bucket_groups(sizes)):
        dm = max(sizes[g] for g in bucket)
        idx = np.full((len(bucket), dm + 1), zero, np.int64)
        C = np.zeros((len(bucket), dm + 1, 256), np.float32)
        for j, g in enumerate(bucket):
            a = int(offsets[g])
            idx[j, :sizes[g]] = np.arange(a, a + sizes[g])
            idx[j, dm] = one
            C[j, :sizes[g]] = Cm2[g]
            C[j, dm] = np.asarray(Cn[g]).reshape(-1)
        inits += [_init(f"idx{b}", idx), _init(f"C{b}", C)]
        nodes += [helper.make_node("Gather", ["z", f"idx{b}"], [f"zg{b}"], axis=1),  # [N, Gb, dm+1]
                  helper.make_node("Transpose", [f"zg{b}"], [f"zt{b}"], perm=[1, 0, 2]),  # [Gb, N, dm+1]
                  helper.make_node("MatMul", [f"zt{b}", f"C{b}"], [f"d{b}"]),  # [Gb, N, 256]
                  helper.make_node("TopK", [f"d{b}", "k1"], [f"v{b}", f"i{b}"], axis=2, largest=0, sorted=0)]
        outs.append(f"i{b}")
        perm += bucket
    inits.append(_init("unsort", np.argsort(np.array(perm)).astype(np.int64)))
    nodes += [helper.make_node("Concat", outs, ["cat"], axis=0),  # [G, N, 1], groups in bucket order
              helper.make_node("Squeeze", ["cat", "axis2"], ["sq"]),
              helper.make_node("Gather", ["sq", "unsort"], ["ord"], axis=0),
              helper.make_node("Transpose", ["ord"], ["idx"], perm=[1, 0]),
              helper.make_node("Cast", ["idx"], ["code"], to=TensorProto.UINT8)]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("patches", TensorProto.FLOAT, ["N", 192])],
        [helper.make_tensor_value_info("code", TensorProto.UINT8, ["N", G])], inits)
    return _finish(graph)


def build_decoder(codec, name):
    G = codec.n_bytes
    inits, nodes, parts = [], [helper.make_node("Cast", ["code"], ["ci"], to=TensorProto.INT64)], []
    for g in range(G):
        inits += [_init(f"g{g}", np.array(g, dtype=np.int64)), _init(f"T{g}", codec.T[g])]
        nodes += [helper.make_node("Gather", ["ci", f"g{g}"], [f"c{g}"], axis=1),
                  helper.make_node("Gather", [f"T{g}", f"c{g}"], [f"t{g}"], axis=0)]
        parts.append(f"t{g}")
    inits += [_init("W", codec.W), _init("bw", codec.bw),
              _init("lo", np.array(0, dtype=np.float32)), _init("hi", np.array(1, dtype=np.float32))]
    nodes += [helper.make_node("Concat", parts, ["t"], axis=1),
              helper.make_node("MatMul", ["t", "W"], ["yl"]),
              helper.make_node("Add", ["yl", "bw"], ["ylin"])]
    last = "ylin"
    if codec.W1 is not None:
        inits += [_init("W1", codec.W1), _init("b1", codec.b1), _init("W2", codec.W2), _init("b2", codec.b2)]
        nodes += [helper.make_node("MatMul", ["t", "W1"], ["h0"]),
                  helper.make_node("Add", ["h0", "b1"], ["h1"]),
                  helper.make_node("Relu", ["h1"], ["h"]),
                  helper.make_node("MatMul", ["h", "W2"], ["r0"]),
                  helper.make_node("Add", ["r0", "b2"], ["r"]),
                  helper.make_node("Add", ["ylin", "r"], ["ysum"])]
        last = "ysum"
    nodes.append(helper.make_node("Clip", [last, "lo", "hi"], ["patches"]))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("code", TensorProto.UINT8, ["N", G])],
        [helper.make_tensor_value_info("patches", TensorProto.FLOAT, ["N", 192])], inits)
    return _finish(graph)


def _finish(graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="mmsc-codec")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    return model, inferred


# ---------------------------------------------------------------- numpy interpreter
def run(model, feeds):
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update(feeds)
    for n in model.graph.node:
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        i = [env[x] for x in n.input]
        op = n.op_type
        if op == "MatMul":
            o = np.matmul(i[0], i[1])
        elif op == "Add":
            o = i[0] + i[1]
        elif op == "Relu":
            o = np.maximum(i[0], 0)
        elif op == "Slice":
            sl = [slice(None)] * i[0].ndim
            for s, e, ax in zip(i[1], i[2], i[3]):
                sl[int(ax)] = slice(int(s), int(e))
            o = i[0][tuple(sl)]
        elif op == "ArgMin":
            o = np.argmin(i[0], axis=a["axis"])
            if a.get("keepdims", 1):
                o = np.expand_dims(o, a["axis"])
            o = o.astype(np.int64)
        elif op == "TopK":
            ax, k = a["axis"], int(i[1][0])
            if a.get("largest", 1) or k != 1:
                raise NotImplementedError("TopK: only k=1, largest=0")
            o = np.expand_dims(np.argmin(i[0], axis=ax), ax).astype(np.int64)
            env[n.output[0]] = np.take_along_axis(i[0], o, axis=ax)
            env[n.output[1]] = o
            continue
        elif op == "Transpose":
            o = np.transpose(i[0], a["perm"])
        elif op == "Squeeze":
            o = np.squeeze(i[0], axis=tuple(int(x) for x in i[1]))
        elif op == "Concat":
            o = np.concatenate(i, axis=a["axis"])
        elif op == "Cast":
            o = i[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])
        elif op == "Gather":
            o = np.take(i[0], i[1], axis=a.get("axis", 0))
        elif op == "Clip":
            o = np.clip(i[0], i[1], i[2])
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = o
    return [env[o.name] for o in model.graph.output]
