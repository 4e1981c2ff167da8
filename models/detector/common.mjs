// Shared helpers of the detector tools (verify.mjs, detect.mjs): image loading and CenterNet decoding.
// Plain ESM JavaScript run with node; sharp and onnxruntime-node come from the repository root's node_modules.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const requireFromRoot = createRequire(resolve(repoRoot, 'package.json'));

export const INPUT_SIZE = 512;
export const STRIDE = 4;
export const GRID = INPUT_SIZE / STRIDE;

/** The 80 class names in heatmap channel order (from models/detector/entry.json). */
export const CLASSES = JSON.parse(readFileSync(resolve(here, 'entry.json'), 'utf8')).classes;

/**
 * Loads an image as a [1,512,512,3] NHWC float32 RGB 0-255 tensor body.
 * fit 'stretch' resizes to 512×512 ignoring the aspect ratio (what the human library does);
 * fit 'letterbox' keeps the aspect ratio and pads right/bottom with black (scale = 512 / max side).
 */
export async function loadImage(path, fit = 'stretch') {
  const sharp = requireFromRoot('sharp');
  const meta = await sharp(path).metadata();
  let pipeline = sharp(path).removeAlpha().toColourspace('srgb');
  let scale = [INPUT_SIZE / meta.width, INPUT_SIZE / meta.height];
  if (fit === 'letterbox') {
    const s = INPUT_SIZE / Math.max(meta.width, meta.height);
    const w = Math.round(meta.width * s);
    const h = Math.round(meta.height * s);
    pipeline = pipeline
      .resize(w, h, { fit: 'fill' })
      .extend({ right: INPUT_SIZE - w, bottom: INPUT_SIZE - h, background: { r: 0, g: 0, b: 0 } });
    scale = [s, s];
  } else {
    pipeline = pipeline.resize(INPUT_SIZE, INPUT_SIZE, { fit: 'fill' });
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== INPUT_SIZE || info.height !== INPUT_SIZE || info.channels !== 3) {
    throw new Error(`unexpected decoded shape ${info.width}x${info.height}x${info.channels}`);
  }
  return { pixels: Float32Array.from(data), width: meta.width, height: meta.height, scale };
}

/**
 * Decodes CenterNet outputs (NHWC [1,128,128,80] heatmap, [1,128,128,4] wh) into boxes in 512-input pixels:
 * a peak is a heatmap cell that is the maximum of its 3×3 neighbourhood in its class and ≥ threshold.
 */
export function decode(keypoints, wh, { threshold = 0.05, topK = 100 } = {}) {
  const C = CLASSES.length;
  const peaks = [];
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) {
      const base = (y * GRID + x) * C;
      for (let c = 0; c < C; c++) {
        const v = keypoints[base + c];
        if (v < threshold) continue;
        let isMax = true;
        for (let dy = -1; dy <= 1 && isMax; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if ((dy || dx) && yy >= 0 && yy < GRID && xx >= 0 && xx < GRID && keypoints[(yy * GRID + xx) * C + c] > v) {
              isMax = false;
              break;
            }
          }
        }
        if (!isMax) continue;
        const w = (y * GRID + x) * 4;
        const cx = x * STRIDE;
        const cy = y * STRIDE;
        peaks.push({
          class: c,
          label: CLASSES[c],
          score: v,
          box: [cx - wh[w], cy - wh[w + 1], cx + wh[w + 2], cy + wh[w + 3]],
        });
      }
    }
  }
  peaks.sort((a, b) => b.score - a.score);
  return peaks.slice(0, topK);
}

/** Best heatmap value per class, sorted descending. */
export function classMaxima(keypoints) {
  const C = CLASSES.length;
  const best = new Float32Array(C);
  for (let i = 0; i < keypoints.length; i++) {
    const c = i % C;
    if (keypoints[i] > best[c]) best[c] = keypoints[i];
  }
  return Array.from(best, (score, c) => ({ class: c, label: CLASSES[c], score })).sort((a, b) => b.score - a.score);
}

/**
 * The pure-JS `@tensorflow/tfjs` (CPU backend) installed under `tfjsDir`, which the verify scripts
 * compare the ONNX models with; an error saying how to install it when it is not there.
 */
export async function loadTfjs(tfjsDir) {
  let tf;
  try {
    tf = createRequire(join(tfjsDir, 'package.json'))('@tensorflow/tfjs');
  } catch {
    throw new Error(
      `@tensorflow/tfjs not found under ${tfjsDir}: mkdir -p ${tfjsDir} && cd ${tfjsDir} && npm init -y && npm i @tensorflow/tfjs@4`,
    );
  }
  await tf.setBackend('cpu');
  return tf;
}

/** A tfjs graph model (its JSON read, its weight files in `dir`) loaded from memory into `tf`. */
export async function graphModelFrom(tf, json, dir) {
  const bin = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
  return tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      signature: json.signature,
    }),
  );
}
