/**
 * The vp8 engine's rate control, pure: libvpx runs at one fixed quantizer (VP8_BASE_Q) and each
 * picture's size is set by an offset added to every block's quantizer (its segments), chosen from
 * a bytes model. Why not libvpx's own CBR: FFmpeg's wrapper reads the rate only when it opens, so
 * following the link's budget meant reopening (a keyframe each time), and its CBR overshot the
 * bucket on cuts. Offsets are in libvpx's quantizer steps (its 0–63 scale).
 */

/** The quantizer libvpx is opened at (min = max); offsets move each picture from there. */
export const VP8_BASE_Q = 16;
export const MIN_OFFSET = -VP8_BASE_Q;
export const MAX_OFFSET = 63 - VP8_BASE_Q;

/**
 * A predicted picture's bytes at an offset relative to offset 0, measured with the engine's
 * settings on the pan clip (480×320; the tour clip's ratios agree within ~10 %). Log-linear between.
 */
const RELATIVE_BYTES: readonly (readonly [number, number])[] = [
  [-16, 6.56],
  [-12, 2.6],
  [-8, 1.675],
  [-4, 1.108],
  [0, 1],
  [4, 0.879],
  [8, 0.763],
  [12, 0.573],
  [16, 0.5],
  [20, 0.464],
  [24, 0.421],
  [28, 0.365],
  [32, 0.29],
  [36, 0.255],
  [40, 0.222],
  [44, 0.187],
  [47, 0.17],
];

/** Bytes at offset `o` relative to offset 0. */
export function relativeBytes(o: number): number {
  const t = RELATIVE_BYTES;
  if (o <= (t[0] as readonly [number, number])[0]) return (t[0] as readonly [number, number])[1];
  for (let i = 1; i < t.length; i++) {
    const [a, va] = t[i - 1] as readonly [number, number];
    const [b, vb] = t[i] as readonly [number, number];
    if (o <= b) return Math.exp(Math.log(va) + ((Math.log(vb) - Math.log(va)) * (o - a)) / (b - a));
  }
  return (t[t.length - 1] as readonly [number, number])[1];
}

/** A keyframe's share of the credit it may aim at, and of a P picture's target. */
const KEY_CREDIT = 0.8;
const KEY_TARGETS = 2;
/** A predicted picture aims under its target and well inside the credit (the model's errors land in the bucket). */
const P_TARGET = 0.85;
const P_CREDIT = 0.6;
/**
 * A finer picture after a coarse one costs more than the table says (it refines what the coarse
 * one left): the offset falls by at most this much a frame; it rises at once.
 */
const MAX_FALL = 3;
/** A first keyframe's bytes at offset 0 per pixel, before any is measured (the clips take 0.13–0.15; textures more). */
const FIRST_KEY_BYTES_PER_PIXEL = 0.4;
/** A keyframe against the first predicted picture after it at the same offset, taken low to be safe (pan: 3.25). */
const KEY_TO_P = 2;

export interface RatePlan {
  key: boolean;
  /** The frame's target, bytes. */
  target: number;
  /** The most it may take, bytes (the bucket's credit less framing). */
  credit: number;
  /** How much the picture changed since the last one (mean |Δluma|, `lumaChange`); 0 when unknown. */
  motion: number;
}

/** Chooses each picture's offset from what the previous pictures cost. One per stream. */
export class Vp8RateModel {
  /** Bytes of a predicted picture of the current content at offset 0; null before the first. */
  private p: number | null = null;
  private k: number | null = null;
  private last: number | null = null;
  private lastMotion = 0;

  constructor(private readonly pixels: number) {}

  /** The offset for the next picture: the finest whose predicted size fits its aim. */
  choose(f: RatePlan): number {
    let bytes: number;
    let aim: number;
    if (f.key || this.p === null) {
      bytes = this.k ?? FIRST_KEY_BYTES_PER_PIXEL * this.pixels;
      aim = Math.min(KEY_CREDIT * f.credit, KEY_TARGETS * f.target);
    } else {
      // More change than last time costs more (a cut, faster motion); less costs less, more slowly.
      const r = this.lastMotion > 0 ? Math.min(16, Math.max(0.25, (f.motion + 1) / (this.lastMotion + 1))) : 1;
      bytes = this.p * (r > 1 ? r : r ** 0.7);
      aim = Math.min(P_TARGET * f.target, P_CREDIT * f.credit);
    }
    this.lastMotion = f.key ? 0 : f.motion;
    let o = MAX_OFFSET;
    for (let x = MIN_OFFSET; x <= MAX_OFFSET; x++)
      if (bytes * relativeBytes(x) <= aim) {
        o = x;
        break;
      }
    if (!f.key && this.last !== null && o < this.last - MAX_FALL) o = this.last - MAX_FALL;
    this.last = o;
    return o;
  }

  /** What the picture coded at offset `o` took. */
  coded(o: number, key: boolean, bytes: number): void {
    if (bytes <= 0) return;
    const at0 = bytes / relativeBytes(o);
    if (key) {
      this.k = at0;
      this.p = at0 / KEY_TO_P;
    } else this.p = at0;
  }
}

/** Mean |Δ| of two luma planes on a 4-pixel grid (the picture's change since the last one). */
export function lumaChange(y: Uint8Array, prev: Uint8Array, width: number, height: number, stride = width): number {
  let s = 0;
  let n = 0;
  for (let r = 0; r < height; r += 4)
    for (let x = 0; x < width; x += 4) {
      const i = r * stride + x;
      s += Math.abs((y[i] as number) - (prev[i] as number));
      n++;
    }
  return n ? s / n : 0;
}
