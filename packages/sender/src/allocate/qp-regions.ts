import type { QpRegion } from '@mmsc/codec/h264-node';

/**
 * The h264 engine's "levels": relevance per 8×8 patch becomes a quantizer offset per 16×16
 * macroblock, sent to x264 as rectangles (one per run of equal offsets along a macroblock row).
 * Pure function.
 */
export interface QpTiers {
  /** Offset for macroblocks at ≥ half the top score (the query's objects). */
  focus: number;
  /** Offset for macroblocks at ≥ `nearFraction` of the top score. */
  near: number;
  /** Offset everywhere else (positive: coarser). */
  background: number;
  nearFraction: number;
  /** Below this top score nothing is relevant: no offsets at all (plain rate control). */
  minTop: number;
  /**
   * How sure the map is, from its top score: the relevance divides its map by max(peak, minPeak)
   * (fuse.ts), so a top under 1 means the evidence never reached minPeak. Offsets are scaled by
   * (top − none) / (full − none), clamped to [0, 1]: none below `none` (a query that grounds
   * nothing in view is coded as with no query), all of them from `full` on.
   */
  confidence?: { none: number; full: number } | undefined;
  /**
   * A focus over much of the frame is little focus: with `cover` the share of macroblocks in the
   * focus tier, the focus and near offsets are scaled by (to − cover) / (to − from), clamped to
   * [0, 1] (the background keeps its offset). A crowd, or "everything except the dog", then codes
   * its wide focus near the plain quantizer and the rest coarser, instead of every macroblock finer.
   */
  coverage?: { from: number; to: number } | undefined;
}

// Chosen with `mmsc eval-video` on the pan and tour clips at 0.5 and 2 Mbit/s (one run each):
// focus/near/background −8/−4/+3 gave tour query-box PSNR 34.2 / 38.3 dB, −10/−5/+4 34.5 / 38.4,
// −12/−6/+5 34.6 / 38.5 but cost pan 2.3 dB of full-frame PSNR at 0.5 Mbit/s against VP8's.
/**
 * Offsets fade in between a top of 0.34 (a fused peak of 0.05: the median absent query's peak is
 * 0.004, its 75th percentile 0.066; 1 of 200 dev pairs' present queries peaks below 0.05) and 1
 * (the peak reaches minPeak, 0.15). Measured with `eval-video` (one run each): "stop sign" on the
 * pan (no stop sign; the detector's best peak 0.055) went from −1.04 to −0.10 dB of frame PSNR
 * against VP8 at 0.25 Mbit/s, where no query at all gives 0.00; in the COCO clips' truth the gain
 * over VP8 moved by −0.9 to +0.6 dB (cups and bottles, which the detector is least sure of, lost
 * most) and stayed above +1.5 dB everywhere but the crowd of people at 0.25 Mbit/s (+0.5).
 */
export const DEFAULT_CONFIDENCE = { none: 0.34, full: 1 } as const;

/**
 * Chosen with `eval-video` on the COCO clips (one run each, 0.25–2 Mbit/s, mmsc − VP8 at equal
 * bytes): with 15 % → 60 % "everything except the dog" kept the rest of the picture at +0.08 / +0.72
 * / +1.57 / +2.61 dB (no offsets at all: +0.07 / +0.72 / +1.51 / +2.60; without this scaling −0.38 /
 * +0.27 / +1.17 / +2.29); the crowd of people gained 0.1–0.2 dB in its truth and 0.2–0.3 dB over the
 * frame; a single person or dog gave 0.1–0.35 dB of its truth for 0.2–0.8 dB over the frame. 30 % →
 * 90 % did less (the rest −0.15 dB at 0.25 Mbit/s); scaling the background too cost more truth.
 */
export const DEFAULT_COVERAGE = { from: 0.15, to: 0.6 } as const;

export const DEFAULT_QP_TIERS: QpTiers = {
  focus: -10,
  near: -5,
  background: 4,
  nearFraction: 0.2,
  minTop: 0.05,
  confidence: DEFAULT_CONFIDENCE,
  coverage: DEFAULT_COVERAGE,
};

const MB = 16;

/** Macroblock offsets (row-major, cols × rows of 16 px) from patch scores (`patchCols` wide, `patchSize` px). */
export function macroblockOffsets(
  scores: Float32Array,
  patchCols: number,
  patchSize: number,
  width: number,
  height: number,
  tiers: QpTiers = DEFAULT_QP_TIERS,
): Int8Array {
  const cols = Math.ceil(width / MB);
  const rows = Math.ceil(height / MB);
  const out = new Int8Array(cols * rows);
  let top = 0;
  for (const s of scores) if (s > top) top = s;
  if (!(top >= tiers.minTop)) return out;
  const c = tiers.confidence;
  const sure = c ? Math.min(1, Math.max(0, (top - c.none) / (c.full - c.none))) : 1;
  if (sure === 0) return out;
  const focus = Math.round(sure * tiers.focus);
  const near = Math.round(sure * tiers.near);
  const background = Math.round(sure * tiers.background);
  const patchRows = scores.length / patchCols;
  const mbScore = new Float32Array(cols * rows);
  for (let pr = 0; pr < patchRows; pr++) {
    for (let pc = 0; pc < patchCols; pc++) {
      const m = Math.floor((pr * patchSize) / MB) * cols + Math.floor((pc * patchSize) / MB);
      const s = scores[pr * patchCols + pc] as number;
      if (s > (mbScore[m] as number)) mbScore[m] = s;
    }
  }
  let wide = 1;
  if (tiers.coverage) {
    let inFocus = 0;
    for (let m = 0; m < out.length; m++) if ((mbScore[m] as number) >= 0.5 * top) inFocus++;
    const { from, to } = tiers.coverage;
    wide = Math.min(1, Math.max(0, (to - inFocus / out.length) / (to - from)));
  }
  const f = Math.round(wide * focus);
  const n = Math.round(wide * near);
  for (let m = 0; m < out.length; m++) {
    const s = mbScore[m] as number;
    out[m] = s >= 0.5 * top ? f : s >= tiers.nearFraction * top ? n : background;
  }
  return out;
}

/** Rectangles for x264: runs of equal non-zero offsets along each macroblock row, clipped to the picture. */
export function qpRegions(offsets: Int8Array, width: number, height: number): QpRegion[] {
  const cols = Math.ceil(width / MB);
  const rows = offsets.length / cols;
  const out: QpRegion[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; ) {
      const d = offsets[r * cols + c] as number;
      let e = c + 1;
      while (e < cols && offsets[r * cols + e] === d) e++;
      if (d !== 0)
        out.push({ left: c * MB, top: r * MB, right: Math.min(width, e * MB), bottom: Math.min(height, (r + 1) * MB), qpDelta: d });
      c = e;
    }
  }
  return out;
}
