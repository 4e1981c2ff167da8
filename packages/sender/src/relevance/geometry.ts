/**
 * Frame ⇄ detector-input geometry. The detector takes a `width`×`height` image; a frame is either
 * stretched onto it (what the detector's own pipeline does) or letterboxed (aspect kept, padded).
 * `toFrame` maps a point in model pixels back to frame pixels exactly.
 */
export type FitMode = 'stretch' | 'letterbox';

export interface Fit {
  mode: FitMode;
  /** Model input size in pixels. */
  width: number;
  height: number;
  /** Model pixels per frame pixel, per axis. */
  scaleX: number;
  scaleY: number;
  /** Top-left of the frame inside the model input, in model pixels. */
  offX: number;
  offY: number;
}

export function fitFrame(width: number, height: number, modelW: number, modelH: number, mode: FitMode): Fit {
  const base = { mode, width: modelW, height: modelH };
  if (mode === 'stretch') return { ...base, scaleX: modelW / width, scaleY: modelH / height, offX: 0, offY: 0 };
  const s = Math.min(modelW / width, modelH / height);
  return { ...base, scaleX: s, scaleY: s, offX: (modelW - width * s) / 2, offY: (modelH - height * s) / 2 };
}

/**
 * The model input for a frame: the frame scaled by `scale`, each side rounded up to a multiple of
 * `multiple` (what the network's strides need); the letterbox pads the rest.
 */
export function modelInputSize(width: number, height: number, multiple: number, scale = 1): [number, number] {
  if (!(scale > 0) || !(multiple > 0)) throw new RangeError('scale and multiple must be positive');
  return [Math.ceil((width * scale) / multiple) * multiple, Math.ceil((height * scale) / multiple) * multiple];
}

export function toFrame(fit: Fit, xm: number, ym: number): [number, number] {
  return [(xm - fit.offX) / fit.scaleX, (ym - fit.offY) / fit.scaleY];
}

export function toModel(fit: Fit, xf: number, yf: number): [number, number] {
  return [xf * fit.scaleX + fit.offX, yf * fit.scaleY + fit.offY];
}

/**
 * Bilinear resample of an RGB frame into the detector's NHWC float input (0–255), padding with
 * `pad` outside the frame (letterbox). Pixel centres map to pixel centres.
 */
export function frameToInput(rgb: Uint8Array, width: number, height: number, fit: Fit, pad = 0, out?: Float32Array): Float32Array {
  const n = fit.width;
  const len = fit.width * fit.height * 3;
  const input = out && out.length === len ? out : new Float32Array(len);
  if (fit.scaleX === 1 && fit.scaleY === 1 && fit.offX === 0 && fit.offY === 0 && fit.width === width && fit.height === height) {
    // The frame is the input (native-size detector pass): a plain widening copy.
    for (let i = 0; i < len; i++) input[i] = rgb[i] as number;
    return input;
  }
  input.fill(pad);
  const x0 = Math.max(0, Math.floor(fit.offX));
  const x1 = Math.min(n, Math.ceil(fit.offX + width * fit.scaleX));
  const y0 = Math.max(0, Math.floor(fit.offY));
  const y1 = Math.min(fit.height, Math.ceil(fit.offY + height * fit.scaleY));
  // Precompute horizontal taps once per column.
  const cols = x1 - x0;
  const xa = new Int32Array(cols);
  const xw = new Float32Array(cols);
  for (let i = 0; i < cols; i++) {
    const sx = Math.min(width - 1, Math.max(0, (x0 + i + 0.5 - fit.offX) / fit.scaleX - 0.5));
    xa[i] = Math.min(width - 2, Math.floor(sx));
    xw[i] = sx - (xa[i] as number);
  }
  for (let y = y0; y < y1; y++) {
    const sy = Math.min(height - 1, Math.max(0, (y + 0.5 - fit.offY) / fit.scaleY - 0.5));
    const ya = Math.min(height - 2, Math.floor(sy));
    const wy = sy - ya;
    const r0 = ya * width * 3;
    const r1 = r0 + width * 3;
    let o = (y * n + x0) * 3;
    for (let i = 0; i < cols; i++) {
      const a = (xa[i] as number) * 3;
      const wx = xw[i] as number;
      for (let c = 0; c < 3; c++) {
        const top = (rgb[r0 + a + c] as number) * (1 - wx) + (rgb[r0 + a + 3 + c] as number) * wx;
        const bot = (rgb[r1 + a + c] as number) * (1 - wx) + (rgb[r1 + a + 3 + c] as number) * wx;
        input[o++] = top * (1 - wy) + bot * wy;
      }
    }
  }
  return input;
}
