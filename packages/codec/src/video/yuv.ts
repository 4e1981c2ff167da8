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

const clamp = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

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
  for (let r = 0; r < h; r++) {
    let i = r * w * 3;
    const o = r * yStride;
    for (let c = 0; c < w; c++, i += 3) {
      y[o + c] = clamp(0.299 * (rgb[i] as number) + 0.587 * (rgb[i + 1] as number) + 0.114 * (rgb[i + 2] as number));
    }
  }
  for (let r = 0; r < h / 2; r++) {
    for (let c = 0; c < w / 2; c++) {
      const a = (2 * r * w + 2 * c) * 3;
      const b = a + w * 3;
      const R = ((rgb[a] as number) + (rgb[a + 3] as number) + (rgb[b] as number) + (rgb[b + 3] as number)) / 4;
      const G = ((rgb[a + 1] as number) + (rgb[a + 4] as number) + (rgb[b + 1] as number) + (rgb[b + 4] as number)) / 4;
      const B = ((rgb[a + 2] as number) + (rgb[a + 5] as number) + (rgb[b + 2] as number) + (rgb[b + 5] as number)) / 4;
      u[r * uvStride + c] = clamp(128 - 0.168736 * R - 0.331264 * G + 0.5 * B);
      v[r * uvStride + c] = clamp(128 + 0.5 * R - 0.418688 * G - 0.081312 * B);
    }
  }
  return out;
}

/** Planes back to RGB (nearest chroma), into `rgb` (width × height × 3). */
export function i420ToRgb(f: I420, rgb: Uint8Array): Uint8Array {
  const { width: w, height: h, y, u, v, yStride, uvStride } = f;
  if (rgb.length !== w * h * 3) throw new RangeError(`expected room for ${w * h * 3} RGB bytes, got ${rgb.length}`);
  let o = 0;
  for (let r = 0; r < h; r++) {
    const yo = r * yStride;
    const co = (r >> 1) * uvStride;
    for (let c = 0; c < w; c++) {
      const Y = y[yo + c] as number;
      const U = (u[co + (c >> 1)] as number) - 128;
      const V = (v[co + (c >> 1)] as number) - 128;
      rgb[o++] = clamp(Y + 1.402 * V);
      rgb[o++] = clamp(Y - 0.344136 * U - 0.714136 * V);
      rgb[o++] = clamp(Y + 1.772 * U);
    }
  }
  return rgb;
}
