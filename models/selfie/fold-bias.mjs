// Folds `Add(Conv(x, W), b)` with a per-channel constant b of shape [C,1,1] into `Conv(x, W, b)`.
// The selfie graph (unlike CenterNet's fused convs) spells every bias as a separate Add after the conv;
// onnxruntime would fuse most of them at load, but a file with biased convs is smaller to read and
// leaves nothing to chance. Run as a `passes` entry of ../detector/convert.mjs `convert`.

/**
 * @param {{opType: string, input: string[], output: string[], name: string, attribute: object[]}[]} nodes
 * @param {{initializer: (name: string) => any, addFloat: (name: string, dims: number[], data: ArrayLike<number>) => string}} ctx
 * @returns the nodes with each foldable Add removed and its Conv writing the Add's output
 */
export function foldConvBias(nodes, ctx) {
  const consumers = new Map();
  for (const n of nodes) for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const drop = new Set();
  for (const conv of nodes) {
    if ((conv.opType !== 'Conv' && conv.opType !== 'ConvTranspose') || conv.input.length !== 2) continue;
    const users = consumers.get(conv.output[0]) ?? [];
    if (users.length !== 1 || users[0].opType !== 'Add') continue;
    const add = users[0];
    const biasName = add.input[0] === conv.output[0] ? add.input[1] : add.input[0];
    const bias = ctx.initializer(biasName);
    if (bias?.dims.length !== 3 || Number(bias.dims[1]) !== 1 || Number(bias.dims[2]) !== 1) continue;
    const data = new Float32Array(Uint8Array.from(bias.rawData).buffer);
    conv.input.push(ctx.addFloat(`${biasName}/bias`, [data.length], data));
    conv.output = add.output;
    conv.name = add.name;
    drop.add(add);
  }
  return nodes.filter((n) => !drop.has(n));
}
