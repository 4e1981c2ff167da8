/**
 * Frame ⇄ detector-input geometry. The detector takes a square `size`×`size` image; a 320×480 frame
 * is either stretched onto it (what the detector's own pipeline does) or letterboxed (aspect kept,
 * padded). `toFrame` maps a point in model pixels back to frame pixels exactly.
 */
export type FitMode = 'stretch' | 'letterbox';

export interface Fit {
  mode: FitMode;
  size: number;
  /** Model pixels per frame pixel, per axis. */
  scaleX: number;
  scaleY: number;
  /** Top-left of the frame inside the model input, in model pixels. */
  offX: number;
  offY: number;
}

export function fitFrame(width: number, height: number, size: number, mode: FitMode): Fit {
  if (mode === 'stretch') return { mode, size, scaleX: size / width, scaleY: size / height, offX: 0, offY: 0 };
  const s = Math.min(size / width, size / height);
  return { mode, size, scaleX: s, scaleY: s, offX: (size - width * s) / 2, offY: (size - height * s) / 2 };
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
  const n = fit.size;
  const input = out ?? new Float32Array(n * n * 3);
  input.fill(pad);
  const x0 = Math.max(0, Math.floor(fit.offX));
  const x1 = Math.min(n, Math.ceil(fit.offX + width * fit.scaleX));
  const y0 = Math.max(0, Math.floor(fit.offY));
  const y1 = Math.min(n, Math.ceil(fit.offY + height * fit.scaleY));
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
