#!/usr/bin/env node
// Runs models/centernet.onnx (onnxruntime-node) on images and prints what the detector sees: the best
// heatmap score per class, and the peaks (3×3 local maxima ≥ threshold) decoded into boxes in image pixels.
//
// Usage (from models/):
//   node detector/detect.mjs [--fit stretch|letterbox] [--threshold 0.1] [--top 5] IMAGE...
// Default images: ../assets/images/*.

import { readdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { classMaxima, decode, here, loadImage, repoRoot, requireFromRoot } from './common.mjs';

function parseArgs(argv) {
  const args = { fit: 'stretch', threshold: 0.1, top: 5, images: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--fit') args.fit = argv[++i];
    else if (a === '--threshold') args.threshold = Number(argv[++i]);
    else if (a === '--top') args.top = Number(argv[++i]);
    else args.images.push(resolve(a));
  }
  if (!['stretch', 'letterbox'].includes(args.fit)) throw new Error(`--fit ${args.fit}`);
  if (!args.images.length) {
    const dir = resolve(repoRoot, 'assets', 'images');
    args.images = readdirSync(dir)
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort()
      .map((f) => resolve(dir, f));
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = requireFromRoot('onnxruntime-node');
  const session = await ort.InferenceSession.create(resolve(here, '..', 'centernet.onnx'));
  console.log(`fit ${args.fit}, peak threshold ${args.threshold}`);
  for (const path of args.images) {
    const img = await loadImage(path, args.fit);
    const t0 = performance.now();
    const res = await session.run({ images: new ort.Tensor('float32', img.pixels, [1, 512, 512, 3]) });
    const ms = performance.now() - t0;
    const best = classMaxima(res.keypoints.data).slice(0, args.top);
    const peaks = decode(res.keypoints.data, res.wh.data, { threshold: args.threshold, topK: 20 });
    console.log(`\n${basename(path)} ${img.width}×${img.height} (${ms.toFixed(0)} ms)`);
    console.log(`  best per class: ${best.map((c) => `${c.label} ${c.score.toFixed(2)}`).join(', ')}`);
    for (const p of peaks) {
      // 512-input pixels -> image pixels
      const box = p.box.map((v, i) => Math.round(v / img.scale[i % 2]));
      console.log(`  peak ${p.label} ${p.score.toFixed(2)} box [${box.join(', ')}]`);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
