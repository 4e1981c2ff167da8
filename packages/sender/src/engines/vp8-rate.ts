import { chromaSize, type YuvPicture } from '@mmsc/codec';

/**
 * The vp8 engine's rate control, pure: libvpx runs at one fixed quantizer (VP8_BASE_Q) and each
 * picture's size is set by an offset added to every block's quantizer (its segments). A bytes
 * model gives the first offset; the picture is then coded as a trial (no reference updated) and
 * the offset corrected from what it took (`nextTrial`), a few times at most, before it is coded
 * for real at the offset `pick` takes. Why not libvpx's own CBR: FFmpeg's wrapper reads the rate only when it opens, so
 * following the link's budget meant reopening (a keyframe each time), and its CBR overshot the
 * bucket on cuts. Offsets are in libvpx's quantizer steps (its 0–63 scale).
 */

/** The quantizer libvpx is opened at (min = max); offsets move each picture from there. */
export const VP8_BASE_Q = 16;
export const MIN_OFFSET = -VP8_BASE_Q;
export const MAX_OFFSET = 63 - VP8_BASE_Q;
/**
 * A picture's offset may go past MAX_OFFSET: its blocks are clamped there, so only the finer
 * tiers' blocks still coarsen; at this one every block of tiers down to −16 is at quantizer 63
 * (a cut or a zoom at a low rate fits no other way).
 */
export const MAX_PICTURE_OFFSET = MAX_OFFSET + 16;
/** Likewise below MIN_OFFSET: the coarser tiers' blocks (up to +8) still refine, to quantizer 0. */
export const MIN_PICTURE_OFFSET = MIN_OFFSET - 8;

/**
 * A predicted picture's bytes at an offset relative to offset 0, measured with the engine's
 * settings on the pan clip (480×320; the tour clip's ratios agree within ~10 %). Log-linear between.
 */
const RELATIVE_BYTES: readonly (readonly [number, number])[] = [
  // Past MIN_OFFSET (only the coarser tiers' blocks move): a guess, the trials correct it.
  [-24, 9],
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
  // Past MAX_OFFSET (only the finer tiers' blocks move): a guess, the trials correct it.
  [55, 0.13],
  [63, 0.1],
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

/** Trial codings per picture at most, before the one that is sent (libvpx takes ~1–2 ms a 480×360 picture). */
export const MAX_TRIALS = 4;

/** A keyframe's share of the credit it may aim at, and of a P picture's target. */
const KEY_CREDIT = 0.8;
const KEY_TARGETS = 2;
/** A picture within this share of its aim either way is taken without another trial. */
const LOW = 0.85;
const HIGH = 1.1;
/** A keyframe may land further under (it is rare, and its bytes come back to the next pictures). */
const KEY_LOW = 0.7;
/** The share of the credit a coded picture may take: the final coding lands within a few % of its trial's size. */
const CAP = 0.9;
/** A first keyframe's bytes at offset 0 per pixel, before any is measured (the clips take 0.13–0.15; textures more). */
const FIRST_KEY_BYTES_PER_PIXEL = 0.4;
/** A keyframe against the first predicted picture after it at the same offset, taken low to be safe (pan: 3.25). */
const KEY_TO_P = 2;

/** Where one picture's size should land, bytes. */
export interface SizeAim {
  target: number;
  /** Taken without another trial between `low` and `high`. */
  low: number;
  high: number;
  /** Never more (a share of the credit). */
  cap: number;
}

/** The aim of a picture from the frame's target and the credit it must stay within (bytes). */
export function sizeAim(key: boolean, target: number, credit: number): SizeAim {
  const cap = CAP * credit;
  const t = Math.min(cap, key ? Math.min(KEY_CREDIT * credit, KEY_TARGETS * target) : target);
  return { target: t, low: (key ? KEY_LOW : LOW) * t, high: Math.min(cap, HIGH * t), cap };
}

/** One trial coding of a picture: the offset it was coded at and its bytes. */
export interface Trial {
  offset: number;
  bytes: number;
}

/**
 * The offset of the next trial, or null when the trials so far settle it (`pick`): one landed in
 * the aim, the finest offset is under it, the coarsest over it, or two adjacent offsets bracket it.
 * Between a trial under and one over: log-linear in bytes; from one side: the table's slope.
 */
export function nextTrial(trials: readonly Trial[], aim: SizeAim): number | null {
  if (trials.some((t) => t.bytes >= aim.low && t.bytes <= aim.high)) return null;
  const under = trials.filter((t) => t.bytes < aim.low).sort((a, b) => a.offset - b.offset)[0];
  const over = trials.filter((t) => t.bytes > aim.high).sort((a, b) => b.offset - a.offset)[0];
  if (under?.offset === MIN_PICTURE_OFFSET && !over) return null;
  if (over?.offset === MAX_PICTURE_OFFSET && !under) return null;
  let o: number;
  if (under && over) {
    if (under.offset - over.offset <= 1) return null;
    const f = Math.log(aim.target / over.bytes) / Math.log(under.bytes / over.bytes);
    o = Math.round(over.offset + f * (under.offset - over.offset));
    o = Math.min(under.offset - 1, Math.max(over.offset + 1, o));
  } else {
    const t = (under ?? over) as Trial;
    // Two trials on the same side: their slope (when bytes fall with the offset); else the table's.
    const other = trials
      .filter((x) => x !== t && (under ? x.bytes < aim.low : x.bytes > aim.high))
      .sort((a, b) => Math.abs(a.offset - t.offset) - Math.abs(b.offset - t.offset))[0];
    const slope = other ? Math.log(other.bytes / t.bytes) / (other.offset - t.offset) : 0;
    o =
      slope < -0.01
        ? Math.round(t.offset + Math.log(aim.target / t.bytes) / slope)
        : fittingOffset(t.bytes / relativeBytes(t.offset), aim.target);
    // One step past the trial at least, toward the aim.
    o = under ? Math.min(o, t.offset - 1) : Math.max(o, t.offset + 1);
  }
  o = Math.min(MAX_PICTURE_OFFSET, Math.max(MIN_PICTURE_OFFSET, o));
  return trials.some((t) => t.offset === o) ? null : o;
}

/**
 * The trial to code the picture at: the finest within `high`, else the smallest within the cap;
 * null when none fits the cap (the picture is not coded).
 */
export function pick(trials: readonly Trial[], aim: SizeAim): Trial | null {
  const within = trials.filter((t) => t.bytes <= aim.high).sort((a, b) => a.offset - b.offset)[0];
  if (within) return within;
  return trials.filter((t) => t.bytes <= aim.cap).sort((a, b) => a.bytes - b.bytes)[0] ?? null;
}

/** The finest offset at which a picture of `at0` bytes at offset 0 takes at most `bytes`. */
function fittingOffset(at0: number, bytes: number): number {
  for (let x = MIN_PICTURE_OFFSET; x <= MAX_PICTURE_OFFSET; x++) if (at0 * relativeBytes(x) <= bytes) return x;
  return MAX_PICTURE_OFFSET;
}

/** The first trial's offset for each picture, from what the previous pictures cost. One per stream. */
export class Vp8RateModel {
  /** Bytes of a predicted picture of the current content at offset 0; null before the first. */
  private p: number | null = null;
  private k: number | null = null;
  private lastMotion = 0;

  constructor(private readonly pixels: number) {}

  /**
   * The finest offset whose predicted size fits `bytes`. `motion`: how much the picture changed
   * since the last one (mean |Δluma|, `lumaChange`; 0 when unknown).
   */
  choose(key: boolean, bytes: number, motion: number): number {
    let at0: number;
    if (key || this.p === null) at0 = this.k ?? FIRST_KEY_BYTES_PER_PIXEL * this.pixels;
    else {
      // More change than last time costs more (a cut, faster motion); less costs less, more slowly.
      const r = this.lastMotion > 0 ? Math.min(16, Math.max(0.25, (motion + 1) / (this.lastMotion + 1))) : 1;
      at0 = this.p * (r > 1 ? r : r ** 0.7);
    }
    this.lastMotion = key ? 0 : motion;
    return fittingOffset(at0, bytes);
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

/**
 * `pic` with each `f`×`f` block (on a grid from the corner) replaced by its mean, plane by plane,
 * in new planes. A picture that fits the credit at no offset (a cut or a zoom at a low rate) is
 * coded so: VP8's 4×4 transforms of a flat block keep only their DC, so it costs a fraction, and
 * the pictures after it refine it.
 */
export function coarsen(pic: YuvPicture, f: number): YuvPicture {
  const { cw, ch } = chromaSize(pic.width, pic.height, pic.chroma);
  const plane = (src: Uint8Array, w: number, h: number, stride: number) => {
    const out = new Uint8Array(w * h);
    for (let by = 0; by < h; by += f)
      for (let bx = 0; bx < w; bx += f) {
        const ye = Math.min(h, by + f);
        const xe = Math.min(w, bx + f);
        let s = 0;
        for (let r = by; r < ye; r++) for (let x = bx; x < xe; x++) s += src[r * stride + x] as number;
        const m = Math.round(s / ((ye - by) * (xe - bx)));
        for (let r = by; r < ye; r++) out.fill(m, r * w + bx, r * w + xe);
      }
    return out;
  };
  return {
    ...pic,
    y: plane(pic.y, pic.width, pic.height, pic.yStride),
    u: plane(pic.u, cw, ch, pic.uvStride),
    v: plane(pic.v, cw, ch, pic.uvStride),
    yStride: pic.width,
    uvStride: cw,
  };
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
