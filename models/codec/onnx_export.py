"""Build the encoder/decoder ONNX graphs of a PQCodec directly with onnx.helper (opset 13) and
run them with a small numpy interpreter (no onnxruntime in Debian) to check them against the
numpy reference in pq.py.

Ops used: encoder MatMul, Add, Slice, ArgMin, Concat, Cast; decoder Cast, Gather, Concat,
MatMul, Add, Relu, Clip. Batch axis N is dynamic in both."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def _init(name, arr):
    return numpy_helper.from_array(np.array(arr, order="C"), name)


def build_encoder(codec, name):
    G = codec.n_bytes
    inits = [_init("P", codec.P), _init("Pb", codec.Pb)]
    nodes = [helper.make_node("MatMul", ["patches", "P"], ["zp"]),
             helper.make_node("Add", ["zp", "Pb"], ["z"])]
    inits.append(_init("axis1", np.array([1], dtype=np.int64)))
    outs = []
    for g in range(G):
        a, b = int(codec.offsets[g]), int(codec.offsets[g + 1])
        inits += [_init(f"s{g}", np.array([a], dtype=np.int64)), _init(f"e{g}", np.array([b], dtype=np.int64)),
                  _init(f"Cm2_{g}", codec.Cm2[g]), _init(f"Cn_{g}", codec.Cn[g])]
        nodes += [helper.make_node("Slice", ["z", f"s{g}", f"e{g}", "axis1"], [f"z{g}"]),
                  helper.make_node("MatMul", [f"z{g}", f"Cm2_{g}"], [f"dp{g}"]),
                  helper.make_node("Add", [f"dp{g}", f"Cn_{g}"], [f"d{g}"]),
                  helper.make_node("ArgMin", [f"d{g}"], [f"i{g}"], axis=1, keepdims=1)]
        outs.append(f"i{g}")
    nodes += [helper.make_node("Concat", outs, ["idx"], axis=1),
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
