// Rewrites MobileNetV3's hard activations, which tfjs spells as elementwise chains, into the ONNX ops:
//   hard-swish   Mul(x, 1/6) · Clip(Add(x, 3), 0, 6)  →  HardSwish(x)                (opset 14)
//   hard-sigmoid Mul(Clip(Add(x, 3), 0, 6), 1/6)       →  HardSigmoid(x, 1/6, 0.5)
// Why: onnxruntime's NCHWc layout pass keeps Conv in its blocked layout only across ops it knows; each
// Add/Clip/Mul chain cost a reorder out and back plus four passes over the tensor. As single ops they fuse
// into the Conv before them. On the 2-core box the detector pass at 480×320 went from 22.8 to 18.3 ms.
// The tfjs weights hold 1/6 in fp16 (0.166626); the ONNX ops use 1/6 exactly (verify.mjs: max diff vs
// tfjs stays within its tolerances).

const SIXTH_TOLERANCE = 1e-3;

/**
 * @param {{opType: string, input: string[], output: string[], name: string}[]} nodes  topologically ordered
 * @param {(name: string) => number | null} scalar  the value of a one-element float initializer, else null
 * @param {(opType: string, input: string[], output: string[], name: string, attrs?: object) => object} makeNode
 * @returns {{ nodes: object[], hardSwish: number, hardSigmoid: number }}
 */
export function fuseHardActivations(nodes, scalar, makeNode) {
  const producer = new Map();
  const consumers = new Map();
  for (const n of nodes) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const isSixth = (name) => {
    const v = scalar(name);
    return v !== null && Math.abs(v - 1 / 6) < SIXTH_TOLERANCE;
  };
  // The non-constant operand of a binary node whose other operand satisfies `test`, else null.
  const operandBeside = (node, test) => {
    const [a, b] = node.input;
    if (test(b)) return a;
    if (test(a)) return b;
    return null;
  };
  const only = (tensor) => {
    const c = consumers.get(tensor) ?? [];
    return c.length === 1 ? c[0] : null;
  };
  const drop = new Set();
  const replace = new Map();
  let hardSwish = 0;
  let hardSigmoid = 0;
  for (const clip of nodes) {
    if (clip.opType !== 'Clip' || scalar(clip.input[1]) !== 0 || scalar(clip.input[2]) !== 6) continue;
    const add = producer.get(clip.input[0]);
    if (add?.opType !== 'Add' || only(add.output[0]) !== clip) continue;
    const x = operandBeside(add, (n) => scalar(n) === 3);
    const mul = only(clip.output[0]);
    if (x === null || mul?.opType !== 'Mul') continue;
    const other = mul.input[0] === clip.output[0] ? mul.input[1] : mul.input[0];
    if (isSixth(other)) {
      replace.set(add, makeNode('HardSigmoid', [x], mul.output, `${mul.name}/hard_sigmoid`, { alpha: 1 / 6, beta: 0.5 }));
      drop.add(clip).add(mul);
      hardSigmoid++;
      continue;
    }
    const scaled = producer.get(other);
    if (scaled?.opType !== 'Mul' || only(scaled.output[0]) !== mul || operandBeside(scaled, isSixth) !== x) continue;
    replace.set(add, makeNode('HardSwish', [x], mul.output, `${mul.name}/hard_swish`));
    drop.add(clip).add(mul).add(scaled);
    hardSwish++;
  }
  return { nodes: nodes.filter((n) => !drop.has(n)).map((n) => replace.get(n) ?? n), hardSwish, hardSigmoid };
}
