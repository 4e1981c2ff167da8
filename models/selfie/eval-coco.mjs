#!/usr/bin/env node
// How well the person mask finds COCO's people: on the COCO val images of ../shared/data/coco-val that hold
// at least one person, the ground truth is the union of the `person` instances (polygons and crowd RLE),
// the prediction models/person-mask.onnx's mask at image size (the frame stretched to the model input as
// person-mask.ts does). Prints, over those images: mean pixel AUROC, mean IoU of mask ≥ 0.5, and the
// mean mask value inside and outside the people; with --all, also the mean mask on person-free images.
//
// Usage (from models/): node selfie/eval-coco.mjs [--data ../../shared/data/coco-val] [--size 256x256] [--limit N]
//   --size  model input W×H (multiples of 16); 256x256 is the native size

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ONNX_FILE, repoRoot, requireFromRoot, resizeBilinear } from './common.mjs';

function parseArgs(argv) {
  const args = { data: resolve(repoRoot, '..', 'shared', 'data', 'coco-val'), size: [256, 256], limit: Infinity };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--data') args.data = resolve(argv[++i]);
    else if (a === '--size') args.size = argv[++i].split('x').map(Number);
    else if (a === '--limit') args.limit = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

/** COCO RLE (list counts, column-major) → row-major 0/1 mask ORed into `out`. */
function orRle(out, { counts, size: [h, w] }) {
  let p = 0;
  for (let i = 0; i < counts.length; i++) {
    if (i % 2) for (let k = p; k < p + counts[i]; k++) out[(k % h) * w + Math.floor(k / h)] = 1;
    p += counts[i];
  }
}

/** Mann–Whitney AUROC of scores for positives (labels 1) against negatives, with 1,024 bins. */
function auroc(scores, labels) {
  const bins = 1024;
  const pos = new Float64Array(bins);
  const neg = new Float64Array(bins);
  for (let i = 0; i < scores.length; i++) (labels[i] ? pos : neg)[Math.min(bins - 1, Math.floor(scores[i] * bins))]++;
  let np = 0;
  let nn = 0;
  let area = 0;
  for (let b = 0; b < bins; b++) {
    area += pos[b] * (nn + neg[b] / 2);
    np += pos[b];
    nn += neg[b];
  }
  return np && nn ? area / (np * nn) : Number.NaN;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = requireFromRoot('onnxruntime-node');
  const sharp = requireFromRoot('sharp');
  const coco = JSON.parse(readFileSync(join(args.data, 'instances_val2017.json'), 'utf8'));
  const person = coco.categories.find((c) => c.name === 'person').id;
  const byImage = new Map(coco.images.map((im) => [im.id, []]));
  for (const a of coco.annotations) if (a.category_id === person) byImage.get(a.image_id)?.push(a);
  const session = await ort.InferenceSession.create(ONNX_FILE, { intraOpNumThreads: 2 });
  const [W, H] = args.size;
  const stats = { n: 0, auroc: 0, iou: 0, inside: 0, outside: 0, empty: 0, emptyMean: 0 };
  for (const im of coco.images) {
    const anns = byImage.get(im.id) ?? [];
    if (stats.n >= args.limit) break;
    const { data, info } = await sharp(join(args.data, 'images', im.file_name))
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { width, height } = info;
    const input = resizeBilinear(Float32Array.from(data), width, height, 3, W, H).map((v) => v / 255);
    const out = await session.run({ images: new ort.Tensor('float32', input, [1, H, W, 3]) });
    const mask = resizeBilinear(out.mask.data, W, H, 1, width, height);
    if (!anns.length) {
      stats.empty++;
      stats.emptyMean += mask.reduce((a, b) => a + b, 0) / mask.length;
      continue;
    }
    // ground truth: polygons drawn with sharp (SVG), crowd RLE decoded
    const polys = anns
      .filter((a) => !a.iscrowd)
      .flatMap((a) => a.segmentation)
      .map((p) => `<polygon points="${p.join(' ')}" fill="white"/>`)
      .join('');
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="black"/>${polys}</svg>`;
    const raster = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer();
    const gt = new Uint8Array(width * height);
    for (let i = 0; i < gt.length; i++) gt[i] = raster[i] >= 128 ? 1 : 0;
    for (const a of anns) if (a.iscrowd) orRle(gt, a.segmentation);
    let inter = 0;
    let union = 0;
    let sIn = 0;
    let nIn = 0;
    let sOut = 0;
    for (let i = 0; i < gt.length; i++) {
      const p = mask[i] >= 0.5;
      if (p && gt[i]) inter++;
      if (p || gt[i]) union++;
      if (gt[i]) {
        sIn += mask[i];
        nIn++;
      } else sOut += mask[i];
    }
    stats.n++;
    stats.auroc += auroc(mask, gt);
    stats.iou += union ? inter / union : 1;
    stats.inside += sIn / nIn;
    stats.outside += sOut / (gt.length - nIn);
  }
  const m = (k) => (stats[k] / stats.n).toFixed(3);
  console.log(
    `input ${W}×${H}: ${stats.n} images with people: pixel AUROC ${m('auroc')}, IoU(mask ≥ 0.5) ${m('iou')}, mean mask on people ${m('inside')}, elsewhere ${m('outside')}; ` +
      `${stats.empty} images without people: mean mask ${(stats.emptyMean / stats.empty).toFixed(3)}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
