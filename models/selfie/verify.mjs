#!/usr/bin/env node
// Verifies models/person-mask.onnx against the original tfjs graph model on real images.
//
// For each image: decodes it (sharp), prepares the model input exactly as @vladmandic/human
// src/segmentation/selfie.ts does (tf.image.resizeBilinear to 256×256, align_corners false, half_pixel_centers
// false, then /255), runs the tfjs model (pure-JS @tensorflow/tfjs CPU backend) and the ONNX model
// (onnxruntime-node) on that same input and prints the max abs difference of the 256×256 masks. It then
// compares the whole pipeline at the image's own size: human's (tfjs resize → model → tfjs resize back)
// against the one packages/sender/src/relevance/person-mask.ts implements (resize in JS → ONNX → bilinear
// back in JS, common.mjs `resizeBilinear`, the same sampling). Last: onnxruntime-node's time per 256² pass
// (median of N runs after a warm-up; 2 intra-op threads as the sender runs it, and 1), the mask at a
// 384×256 input (the declared dynamic size) and the file's size and sha256.
//
// @tensorflow/tfjs is a verification-only dependency: install it in a scratch folder (not tfjs-node):
//   mkdir -p /tmp/selfiework && cd /tmp/selfiework && npm init -y && npm i @tensorflow/tfjs@4
// Then, from models/:
//   node selfie/verify.mjs [--tfjs /tmp/selfiework] [--image FILE]… [--runs 20] [--write]
// --write stores the measured diff and timing in selfie/entry.json and models/manifest.json.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { graphModelFrom, loadTfjs as tfjsAt } from '../detector/common.mjs';
import { NATIVE, ONNX_FILE, readEntry, readGraph, repoRoot, requireFromRoot, resizeBilinear, SOURCE_DIR, saveEntry } from './common.mjs';

function parseArgs(argv) {
  const args = { tfjs: process.env.TFJS_DIR ?? '/tmp/selfiework', images: [], onnx: ONNX_FILE, runs: 20, write: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tfjs') args.tfjs = resolve(argv[++i]);
    else if (a === '--image') args.images.push(resolve(argv[++i]));
    else if (a === '--onnx') args.onnx = resolve(argv[++i]);
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--write') args.write = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.images.length) {
    args.images = ['person.jpg', 'kite.jpg', 'dog.jpg'].map((f) => resolve(repoRoot, 'assets', 'images', f));
  }
  return args;
}

async function loadTfjs(tfjsDir) {
  const tf = await tfjsAt(tfjsDir);
  const json = readGraph();
  const model = await graphModelFrom(tf, json, SOURCE_DIR);
  return { tf, model };
}

const maxAbsDiff = (a, b) => {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

async function median(session, feeds, runs) {
  await session.run(feeds);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1) };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = requireFromRoot('onnxruntime-node');
  const sharp = requireFromRoot('sharp');
  const { tf, model } = await loadTfjs(args.tfjs);
  const session = await ort.InferenceSession.create(args.onnx, { intraOpNumThreads: 2 });
  const [H, W] = NATIVE;
  const results = [];
  let lastInput;
  for (const path of args.images) {
    const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const { width, height } = info;
    // human: resizeBilinear(input, [256, 256], false) / 255 → model → squeeze → resizeBilinear back
    const img = tf.tensor(Uint8Array.from(data), [1, height, width, 3], 'int32').toFloat();
    const norm = tf.div(tf.image.resizeBilinear(img, [H, W], false), 255);
    const t0 = performance.now();
    const res = model.execute(norm);
    const tfjsMs = performance.now() - t0;
    const tfMask = await res.data();
    const back = tf.image.resizeBilinear(tf.squeeze(res, [0]), [height, width]);
    const tfFrameMask = await back.data();
    const input = await norm.data();
    tf.dispose([img, norm, res, back]);

    const out = await session.run({ images: new ort.Tensor('float32', Float32Array.from(input), [1, H, W, 3]) });
    if (out.mask.dims.join('×') !== `1×${H}×${W}×1`) throw new Error(`mask dims ${out.mask.dims}`);
    const modelDiff = maxAbsDiff(out.mask.data, tfMask);

    // the sender's pipeline: JS resize of the uint8 frame, ONNX, JS resize back
    const rgb = Float32Array.from(data);
    const jsInput = resizeBilinear(rgb, width, height, 3, W, H).map((v) => v / 255);
    const inputDiff = maxAbsDiff(jsInput, input);
    const jsOut = await session.run({ images: new ort.Tensor('float32', jsInput, [1, H, W, 3]) });
    const jsFrameMask = resizeBilinear(jsOut.mask.data, W, H, 1, width, height);
    const pipelineDiff = maxAbsDiff(jsFrameMask, tfFrameMask);
    let person = 0;
    for (const v of jsFrameMask) if (v >= 0.5) person++;
    console.log(
      `${basename(path)} ${width}×${height}: mask max abs diff vs tfjs ${modelDiff.toExponential(2)} (256²); JS input vs tf resize ${inputDiff.toExponential(2)}; ` +
        `frame-size pipeline vs human's ${pipelineDiff.toExponential(2)}; mask ≥ 0.5 on ${((100 * person) / jsFrameMask.length).toFixed(1)} % of pixels; tfjs ${tfjsMs.toFixed(0)} ms`,
    );
    results.push({ image: basename(path), modelDiff, pipelineDiff });
    lastInput = jsInput;
  }

  const feeds = { images: new ort.Tensor('float32', lastInput, [1, H, W, 3]) };
  const t2 = await median(session, feeds, args.runs);
  const one = await ort.InferenceSession.create(args.onnx, { intraOpNumThreads: 1 });
  const t1 = await median(one, feeds, args.runs);
  const f = (t) => `p50 ${t.p50.toFixed(2)} ms (min ${t.min.toFixed(2)}, max ${t.max.toFixed(2)})`;
  console.log(`onnxruntime-node, 256×256, ${args.runs} runs after a warm-up: 2 threads ${f(t2)}; 1 thread ${f(t1)}`);
  const wide = await session.run({ images: new ort.Tensor('float32', new Float32Array(256 * 384 * 3).fill(0.5), [1, 256, 384, 3]) });
  if (wide.mask.dims.join('×') !== '1×256×384×1') throw new Error(`384×256 input gave mask ${wide.mask.dims}`);
  console.log(`384×256 input → mask ${wide.mask.dims.join('×')}`);
  const bytes = readFileSync(args.onnx);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  console.log(`onnx ${args.onnx}: ${bytes.length} bytes, sha256 ${sha256}`);

  if (args.write) {
    const entry = readEntry();
    if (entry.sha256 !== sha256) throw new Error('entry.json sha256 does not match the ONNX file: run convert.mjs first');
    const worst = results.reduce((a, r) => (r.modelDiff > a.modelDiff ? r : a));
    entry.verification = {
      maxAbsDiff: Number(worst.modelDiff.toPrecision(3)),
      image: worst.image,
      perImage: Object.fromEntries(
        results.map((r) => [r.image, { model: Number(r.modelDiff.toPrecision(3)), pipeline: Number(r.pipelineDiff.toPrecision(3)) }]),
      ),
      reference:
        "@tensorflow/tfjs 4 pure-JS CPU backend on human's own 256x256 input; `pipeline` compares the mask at image size, human's tfjs resizes vs person-mask.ts's JS ones. Op for op (hard-swish kept as tfjs's Mul/Add/Clip/Mul): the diff is fp32 rounding of logits up to ~700 through the sigmoid",
    };
    entry.ortMsPerImage = Math.round(t2.p50 * 100) / 100;
    saveEntry(entry);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
