/**
 * Planar YCbCr (JFIF full-range BT.601), the pixel formats the video engine codes: 4:2:0 (chroma
 * at half resolution both ways) or 4:4:4 (chroma at full resolution; H.264 High 4:4:4 Predictive).
 * Sender and receivers convert with this code alone, so a browser and Node show the same pixels
 * for the same decoded planes (the decoders themselves are bit-exact).
 */
export type Chroma = '420' | '444';

export interface YuvPicture {
  width: number;
  height: number;
  chroma: Chroma;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
  /** Bytes per row of each plane (≥ width; chroma ≥ its plane's width). */
  yStride: number;
  uvStride: number;
}

/** Chroma planes' size for a picture: halved both ways for 4:2:0. */
export function chromaSize(width: number, height: number, chroma: Chroma): { cw: number; ch: number } {
  return chroma === '420' ? { cw: width / 2, ch: height / 2 } : { cw: width, ch: height };
}

/** Allocates tight planes (4:2:0 needs even dimensions). */
export function allocYuv(width: number, height: number, chroma: Chroma = '420'): YuvPicture {
  if (chroma === '420' && (width % 2 || height % 2)) throw new RangeError(`4:2:0 needs even dimensions, got ${width}×${height}`);
  const { cw, ch } = chromaSize(width, height, chroma);
  return {
    width,
    height,
    chroma,
    y: new Uint8Array(width * height),
    u: new Uint8Array(cw * ch),
    v: new Uint8Array(cw * ch),
    yStride: width,
    uvStride: cw,
  };
}

// 16-bit fixed point throughout: a frame is converted once per tick on the sender's hot path, and
// once per picture on every receiver.
const U_R = -11059;
const U_G = -21709;
const V_G = -27439;
const V_B = -5329;

/** RGB (row-major, 3 bytes per pixel) into `out`; 4:2:0 chroma is the mean of each 2×2 block. */
export function rgbToYuv(rgb: Uint8Array, out: YuvPicture): YuvPicture {
  const { width: w, height: h, y, u, v, yStride, uvStride } = out;
  if (rgb.length !== w * h * 3) throw new RangeError(`expected ${w * h * 3} RGB bytes, got ${rgb.length}`);
  for (let r = 0; r < h; r++) {
    let i = r * w * 3;
    const o = r * yStride;
    for (let c = 0; c < w; c++, i += 3) {
      y[o + c] = (19595 * (rgb[i] as number) + 38470 * (rgb[i + 1] as number) + 7471 * (rgb[i + 2] as number) + 32768) >> 16;
    }
  }
  if (out.chroma === '444') {
    for (let r = 0; r < h; r++) {
      let i = r * w * 3;
      const o = r * uvStride;
      for (let c = 0; c < w; c++, i += 3) {
        const R = rgb[i] as number;
        const G = rgb[i + 1] as number;
        const B = rgb[i + 2] as number;
        u[o + c] = Math.min(255, (U_R * R + U_G * G + 32768 * B + (128 << 16) + (1 << 15)) >> 16);
        v[o + c] = Math.min(255, (32768 * R + V_G * G + V_B * B + (128 << 16) + (1 << 15)) >> 16);
      }
    }
    return out;
  }
  const row = w * 3;
  for (let r = 0; r < h / 2; r++) {
    let a = 2 * r * row;
    const o = r * uvStride;
    for (let c = 0; c < w / 2; c++, a += 6) {
      const b = a + row;
      const R = (rgb[a] as number) + (rgb[a + 3] as number) + (rgb[b] as number) + (rgb[b + 3] as number);
      const G = (rgb[a + 1] as number) + (rgb[a + 4] as number) + (rgb[b + 1] as number) + (rgb[b + 4] as number);
      const B = (rgb[a + 2] as number) + (rgb[a + 5] as number) + (rgb[b + 2] as number) + (rgb[b + 5] as number);
      // Sums of four: scale by 2^18; +128 offset and rounding folded into the constant.
      u[o + c] = Math.min(255, (U_R * R + U_G * G + 32768 * B + (128 << 18) + (1 << 17)) >> 18);
      v[o + c] = Math.min(255, (32768 * R + V_G * G + V_B * B + (128 << 18) + (1 << 17)) >> 18);
    }
  }
  return out;
}

/** Planes back to RGB (4:2:0: nearest chroma), into `rgb` (width × height × 3). */
export function yuvToRgb(f: YuvPicture, rgb: Uint8Array): Uint8Array {
  const { width: w, height: h, y, u, v, yStride, uvStride } = f;
  if (rgb.length !== w * h * 3) throw new RangeError(`expected room for ${w * h * 3} RGB bytes, got ${rgb.length}`);
  // A Uint8ClampedArray view does the clamping (and rounds half to even).
  const out = new Uint8ClampedArray(rgb.buffer, rgb.byteOffset, rgb.length);
  const s = f.chroma === '420' ? 1 : 0;
  let o = 0;
  for (let r = 0; r < h; r++) {
    const yo = r * yStride;
    const co = (r >> s) * uvStride;
    for (let c = 0; c < w; c++) {
      const Y = (y[yo + c] as number) << 16;
      const U = (u[co + (c >> s)] as number) - 128;
      const V = (v[co + (c >> s)] as number) - 128;
      out[o++] = (Y + 91881 * V + 32768) >> 16;
      out[o++] = (Y - 22554 * U - 46802 * V + 32768) >> 16;
      out[o++] = (Y + 116130 * U + 32768) >> 16;
    }
  }
  return rgb;
}
