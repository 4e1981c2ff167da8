/**
 * Where a video evaluation scores, apart from the whole frame: pure logic, no I/O.
 * - ground truth moved with the picture (`windowMask`: a canvas-level mask seen through the clip's
 *   camera window, exactly as the frame's pixels are);
 * - for a clip without annotations, the pixels that move against the clip's median background
 *   (`movingMask`): independent of the detector, meaningful for a fixed camera;
 * - the detector's own boxes (`boxesMask`), the figure that rewards the detector's mistakes.
 */

/** A rectangle of a canvas, in its pixels (integers), that one frame shows scaled to the frame. */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A pixel rectangle, right/bottom exclusive. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * A cw×ch canvas mask seen through `win`, scaled to outW×outH by nearest neighbour at pixel centres
 * (frame pixel x shows canvas column left + (x + ½)·width/outW, as an extract-then-resize does).
 */
export function windowMask(mask: Uint8Array, cw: number, ch: number, win: Window, outW: number, outH: number): Uint8Array {
  if (mask.length !== cw * ch) throw new RangeError(`mask has ${mask.length} pixels, not ${cw}×${ch}`);
  if (win.left < 0 || win.top < 0 || win.width <= 0 || win.height <= 0 || win.left + win.width > cw || win.top + win.height > ch)
    throw new RangeError(`window ${JSON.stringify(win)} is not inside the ${cw}×${ch} canvas`);
  const out = new Uint8Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(ch - 1, win.top + Math.floor(((y + 0.5) * win.height) / outH));
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(cw - 1, win.left + Math.floor(((x + 0.5) * win.width) / outW));
      out[y * outW + x] = mask[sy * cw + sx] ? 1 : 0;
    }
  }
  return out;
}

/**
 * The rest of the picture: every frame's complement of a region (a frame where it was empty is all
 * set). The truth of a query that negates its objects ("everything except the dog").
 */
export function complementMasks(masks: readonly (Uint8Array | null)[], pixels: number): Uint8Array[] {
  return masks.map((m) => (m ? m.map((v) => (v ? 0 : 1)) : new Uint8Array(pixels).fill(1)));
}

/** A w×h mask, 1 inside any of the boxes. */
export function boxesMask(boxes: readonly Box[], w: number, h: number): Uint8Array {
  const inside = new Uint8Array(w * h);
  for (const r of boxes)
    for (let y = Math.max(0, Math.floor(r.y0)); y < Math.min(h, Math.ceil(r.y1)); y++)
      inside.fill(1, y * w + Math.max(0, Math.floor(r.x0)), y * w + Math.min(w, Math.ceil(r.x1)));
  return inside;
}

/** PSNR (RGB, 8 bits) of `b` against `a` over the pixels the mask sets; null when it sets none. */
export function maskPsnr(a: Uint8Array, b: Uint8Array, mask: Uint8Array): number | null {
  if (a.length !== b.length || a.length !== mask.length * 3) throw new RangeError('pictures and mask differ in size');
  let se = 0;
  let n = 0;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    for (let c = 0; c < 3; c++) se += ((a[p * 3 + c] as number) - (b[p * 3 + c] as number)) ** 2;
    n += 3;
  }
  if (n === 0) return null;
  return se === 0 ? 99 : 10 * Math.log10((255 * 255 * n) / se);
}

/** Fraction of the pixels a mask sets. */
export function coverage(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i] ? 1 : 0;
  return mask.length ? n / mask.length : 0;
}

export interface MovingOptions {
  /** A pixel moves when a channel differs from the background by more than this (0–255). */
  threshold: number;
  /** The moving pixels are grown by this many pixels (a square neighbourhood). */
  grow: number;
  /** At most this many frames, evenly spaced, make the median background. */
  samples: number;
}

export const DEFAULT_MOVING: MovingOptions = { threshold: 30, grow: 2, samples: 25 };

/**
 * Per frame, the pixels that differ from the clip's median background (per pixel and channel, over
 * up to `samples` evenly spaced frames), grown by `grow` pixels; null for a frame where none does.
 * Whatever moves counts, the query's objects or not: it is a region the detector did not choose.
 */
export function movingMasks(
  frames: readonly Uint8Array[],
  w: number,
  h: number,
  options: MovingOptions = DEFAULT_MOVING,
): (Uint8Array | null)[] {
  if (frames.length === 0) return [];
  const step = Math.max(1, Math.floor(frames.length / options.samples));
  const picked = frames.filter((_, k) => k % step === 0).slice(0, options.samples);
  const bg = new Uint8Array(w * h * 3);
  const col = new Uint8Array(picked.length);
  for (let i = 0; i < bg.length; i++) {
    for (let k = 0; k < picked.length; k++) col[k] = (picked[k] as Uint8Array)[i] as number;
    col.sort();
    bg[i] = col[col.length >> 1] as number;
  }
  return frames.map((f) => {
    const moving = new Uint8Array(w * h);
    let any = false;
    for (let p = 0; p < moving.length; p++) {
      const d = Math.max(
        Math.abs((f[p * 3] as number) - (bg[p * 3] as number)),
        Math.abs((f[p * 3 + 1] as number) - (bg[p * 3 + 1] as number)),
        Math.abs((f[p * 3 + 2] as number) - (bg[p * 3 + 2] as number)),
      );
      if (d > options.threshold) {
        moving[p] = 1;
        any = true;
      }
    }
    return any ? grow(moving, w, h, options.grow) : null;
  });
}

/** A mask dilated by r pixels (square neighbourhood), rows then columns. */
export function grow(mask: Uint8Array, w: number, h: number, r: number): Uint8Array {
  if (r <= 0) return mask;
  const rows = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      rows.fill(1, y * w + Math.max(0, x - r), y * w + Math.min(w, x + r + 1));
    }
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!rows[y * w + x]) continue;
      for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) out[yy * w + x] = 1;
    }
  return out;
}

/**
 * The camera of the tour clips at frame k: each 2-second segment shows one canvas (twice the
 * frame's size) with a pan and a zoom-in over the segment (85 % → 55 % of the canvas's width, or
 * `zoom` given). The window keeps the frame's aspect.
 */
export function tourWindow(
  k: number,
  fps: number,
  canvas: { width: number; height: number },
  frame: { width: number; height: number },
  zoom: { from: number; to: number } = { from: 0.85, to: 0.55 },
  segmentS = 2,
): { segment: number; window: Window } {
  const per = Math.round(segmentS * fps);
  const segment = Math.floor(k / per);
  const u = (k % per) / per; // 0..1 through the segment
  const s = k / fps;
  const z = zoom.from + (zoom.to - zoom.from) * u;
  const width = Math.min(canvas.width, Math.round(canvas.width * z));
  const height = Math.min(canvas.height, Math.round((width * frame.height) / frame.width));
  const left = Math.round(((canvas.width - width) / 2) * (1 + Math.sin(s * 1.4 + segment)));
  const top = Math.round(((canvas.height - height) / 2) * (1 + Math.cos(s * 1.0 + segment)));
  return { segment, window: { left, top, width, height } };
}
