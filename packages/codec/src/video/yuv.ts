/**
 * Planar 4:2:0 YCbCr (JFIF full-range BT.601), the pixel format the video engine codes. Sender and
 * receivers convert with this code alone, so a browser and Node show the same pixels for the same
 * decoded planes (the decoders themselves are bit-exact).
 */
export interface I420 {
  width: number;
  height: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
  /** Bytes per row of each plane (≥ width, ≥ width / 2). */
  yStride: number;
  uvStride: number;
}

/** Allocates tight planes for an even-sized frame. */
export function allocI420(width: number, height: number): I420 {
  if (width % 2 || height % 2) throw new RangeError(`4:2:0 needs even dimensions, got ${width}×${height}`);
  const cw = width / 2;
  return {
    width,
    height,
    y: new Uint8Array(width * height),
    u: new Uint8Array((cw * height) / 2),
    v: new Uint8Array((cw * height) / 2),
    yStride: width,
    uvStride: cw,
  };
}

/** RGB (row-major, 3 bytes per pixel) into `out`; chroma is the mean of each 2×2 block. */
export function rgbToI420(rgb: Uint8Array, out: I420): I420 {
  const { width: w, height: h, y, u, v, yStride, uvStride } = out;
  if (rgb.length !== w * h * 3) throw new RangeError(`expected ${w * h * 3} RGB bytes, got ${rgb.length}`);
  // 16-bit fixed point (a frame is converted per receiver per tick: this is on the sender's hot path).
  for (let r = 0; r < h; r++) {
    let i = r * w * 3;
    const o = r * yStride;
    for (let c = 0; c < w; c++, i += 3) {
      y[o + c] = (19595 * (rgb[i] as number) + 38470 * (rgb[i + 1] as number) + 7471 * (rgb[i + 2] as number) + 32768) >> 16;
    }
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
      const U = (-11059 * R - 21709 * G + 32768 * B + (128 << 18) + (1 << 17)) >> 18;
      const V = (32768 * R - 27439 * G - 5329 * B + (128 << 18) + (1 << 17)) >> 18;
      u[o + c] = Math.min(255, U);
      v[o + c] = Math.min(255, V);
    }
  }
  return out;
}

/** Planes back to RGB (nearest chroma), into `rgb` (width × height × 3). */
export function i420ToRgb(f: I420, rgb: Uint8Array): Uint8Array {
  const { width: w, height: h, y, u, v, yStride, uvStride } = f;
  if (rgb.length !== w * h * 3) throw new RangeError(`expected room for ${w * h * 3} RGB bytes, got ${rgb.length}`);
  // 16-bit fixed point; a Uint8ClampedArray view does the clamping (and rounds half to even).
  const out = new Uint8ClampedArray(rgb.buffer, rgb.byteOffset, rgb.length);
  let o = 0;
  for (let r = 0; r < h; r++) {
    const yo = r * yStride;
    const co = (r >> 1) * uvStride;
    for (let c = 0; c < w; c++) {
      const Y = (y[yo + c] as number) << 16;
      const U = (u[co + (c >> 1)] as number) - 128;
      const V = (v[co + (c >> 1)] as number) - 128;
      out[o++] = (Y + 91881 * V + 32768) >> 16;
      out[o++] = (Y - 22554 * U - 46802 * V + 32768) >> 16;
      out[o++] = (Y + 116130 * U + 32768) >> 16;
    }
  }
  return rgb;
}
