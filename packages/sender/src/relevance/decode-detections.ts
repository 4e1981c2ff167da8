import { type Fit, toFrame } from './geometry.js';

/** One CenterNet peak with its box, in frame pixels. */
export interface Detection {
  cls: number;
  score: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface DetectorOutput {
  /** [gridH, gridW, classes] sigmoid class-centre heatmaps (NHWC). */
  keypoints: Float32Array;
  /** [gridH, gridW, 4]: distances from the cell centre to the left, top, right, bottom box edges (model pixels). */
  wh: Float32Array;
  gridW: number;
  gridH: number;
  classes: number;
  stride: number;
}

export interface PeakOptions {
  /** Minimum peak score (the model's scores run low: notes measured 0.05 → AUROC 0.91, 0.3 → 0.79). */
  threshold: number;
  /** At most this many peaks per class, best first... */
  perClass: number;
  /**
   * ...and beyond them, up to `max` in all for the peaks at ≥ `ratio` × the class's best score: a
   * crowd's many people are each seen about as well as the best one, where the weak peaks past the
   * first `perClass` are mostly noise.
   */
  crowd?: { max: number; ratio: number } | undefined;
  /** Only these classes (weight > 0); all when undefined. */
  classes?: ArrayLike<number> | undefined;
}

export const DEFAULT_PEAKS: PeakOptions = {
  threshold: 0.03,
  perClass: 20,
  // A crowd's people past the first 20 (measured with `eval-video --clip coco-crowd --query person`
  // against the COCO truth: +0.4 to +0.6 dB in the people at 0.25–2 Mbit/s; ratio 0.3 gave less,
  // 0.5 nothing; 200 dev pairs' AUROC 0.9274 against 0.9282 with none: within its ±0.011).
  crowd: { max: 100, ratio: 0.2 },
};

/** 3×3 local maxima of each class heatmap above the threshold, decoded to frame-pixel boxes. */
export function decodeDetections(
  out: DetectorOutput,
  fit: Fit,
  frameW: number,
  frameH: number,
  opts: PeakOptions = DEFAULT_PEAKS,
): Detection[] {
  const { keypoints, wh, gridW: gw, gridH: gh, classes: nc, stride } = out;
  const wanted = opts.classes ? Array.from(opts.classes) : Array.from({ length: nc }, (_, c) => c);
  const perClass: Detection[][] = [];
  for (const c of wanted) perClass[c] = [];
  const peak = (x: number, y: number, c: number, v: number) => {
    if (!isPeak(keypoints, gw, gh, nc, x, y, c, v)) return;
    const k = (y * gw + x) * 4;
    const cx = x * stride;
    const cy = y * stride;
    const [fx0, fy0] = toFrame(fit, cx - (wh[k] as number), cy - (wh[k + 1] as number));
    const [fx1, fy1] = toFrame(fit, cx + (wh[k + 2] as number), cy + (wh[k + 3] as number));
    const box = {
      cls: c,
      score: v,
      x0: clamp(fx0, 0, frameW),
      y0: clamp(fy0, 0, frameH),
      x1: clamp(fx1, 0, frameW),
      y1: clamp(fy1, 0, frameH),
    };
    if (box.x1 > box.x0 && box.y1 > box.y0) (perClass[c] as Detection[]).push(box);
  };
  const classes = [...new Set(wanted)].filter((c) => c >= 0 && c < nc);
  if (classes.length <= 8) {
    // Class-outer: a query touches a few of the 80 channels, so only those are scanned.
    for (const c of classes)
      for (let y = 0; y < gh; y++)
        for (let x = 0; x < gw; x++) {
          const v = keypoints[(y * gw + x) * nc + c] as number;
          if (v >= opts.threshold) peak(x, y, c, v);
        }
  } else {
    // Cell-outer for many classes (the query-agnostic map: all 80): a cell's channels are adjacent
    // in memory. Per class the peaks come out in the same raster order either way.
    const want = new Uint8Array(nc);
    for (const c of classes) want[c] = 1;
    for (let y = 0; y < gh; y++)
      for (let x = 0; x < gw; x++) {
        const o = (y * gw + x) * nc;
        for (let c = 0; c < nc; c++) {
          const v = keypoints[o + c] as number;
          if (v >= opts.threshold && want[c]) peak(x, y, c, v);
        }
      }
  }
  return perClass.flatMap((list) => {
    if (!list) return [];
    list.sort((a, b) => b.score - a.score);
    const best = list[0]?.score ?? 0;
    const crowd = opts.crowd;
    let n = Math.min(list.length, opts.perClass);
    if (crowd) while (n < Math.min(list.length, crowd.max) && (list[n] as Detection).score >= crowd.ratio * best) n++;
    return list.slice(0, n);
  });
}

function isPeak(h: Float32Array, gw: number, gh: number, nc: number, x: number, y: number, c: number, v: number): boolean {
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy;
    if (yy < 0 || yy >= gh) continue;
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      if ((dx === 0 && dy === 0) || xx < 0 || xx >= gw) continue;
      const n = h[(yy * gw + xx) * nc + c] as number;
      // Ties go to the first cell in raster order, so a flat plateau yields one peak.
      if (n > v || (n === v && (dy < 0 || (dy === 0 && dx < 0)))) return false;
    }
  }
  return true;
}

function clamp(v: number, lo: number, hi: number) {
  return Math.min(hi, Math.max(lo, v));
}
