import type { Detection } from './decode-detections.js';
import type { GroundedQuery } from './grounder.js';

/**
 * Whether each grounded word's objects are in view. A word is in view when a detection of one of
 * its main classes (weight ≥ 0.5, or its best class when none is) that the map used scores at least
 * IN_VIEW_SCORE. On the 200 COCO dev pairs a present query's fused peak is ≥ 0.28 in 95 % of them, an
 * absent one's ≤ 0.066 in 75 %; "stop sign" on dog.jpg (none there) peaks at 0.055. Negated words
 * are never reported (what the operator does not want needs no object). Pure.
 */
export const IN_VIEW_SCORE = 0.1;

/** A change is reported once it has held this many frames in a row (no flicker on one missed detection). */
export const VIEW_FRAMES = 3;

/**
 * The text channel's evidence as "in view" reads it: the text map's peak where it reaches
 * TEXT_IN_VIEW (a text line is drawn at ~1; a picture without text peaks lower), else 0.
 */
export const TEXT_IN_VIEW = 0.6;

export function textEvidence(map: Float32Array): number {
  const m = mapPeak(map);
  return m >= TEXT_IN_VIEW ? m : 0;
}

/** The largest value of a map (0 for an empty or all-negative one). */
export function mapPeak(map: Float32Array): number {
  let m = 0;
  for (const v of map) if (v > m) m = v;
  return m;
}

/**
 * Per class (of `classes`), the best score of the detections the map used, 0 where none; then, at
 * index `classes`, the text channel's evidence ({@link textEvidence} of `text`, 0 without one).
 */
export function bestPerClass(detections: readonly Detection[], classes: number, text?: Float32Array): Float32Array {
  const best = new Float32Array(classes + 1);
  for (const d of detections) if (d.cls < classes && d.score > (best[d.cls] as number)) best[d.cls] = d.score;
  best[classes] = text ? textEvidence(text) : 0;
  return best;
}

/** Indices (in `q.words`) of the words none of whose objects is in view, given per-class best scores. */
export function wordsNotInView(q: GroundedQuery, best: Float32Array, score = IN_VIEW_SCORE): number[] {
  const out: number[] = [];
  q.words.forEach((w, i) => {
    if (w.negated) return;
    const classes = q.wordClasses[i] ?? [];
    const main = classes.filter((c) => c.weight >= 0.5);
    const look = main.length > 0 ? main : classes.slice(0, 1);
    if (!look.some((c) => (best[c.index] ?? 0) >= score)) out.push(i);
  });
  return out;
}

/**
 * What the receiver was last told about which words are not in view, changed only when a new answer
 * has held VIEW_FRAMES frames. Starts from "all in view" (what a grounding without flags says).
 */
export class ViewTracker {
  private shown: readonly number[] = [];
  private candidate: string | null = null;
  private held = 0;

  constructor(private readonly frames = VIEW_FRAMES) {}

  /** The words not in view as last reported. */
  get notInView(): readonly number[] {
    return this.shown;
  }

  /** One frame's answer; true when the report changes (send the grounding again). */
  update(notInView: readonly number[]): boolean {
    const key = notInView.join(',');
    if (key === this.shown.join(',')) {
      this.candidate = null;
      this.held = 0;
      return false;
    }
    if (key === this.candidate) this.held++;
    else {
      this.candidate = key;
      this.held = 1;
    }
    if (this.held < this.frames) return false;
    this.shown = [...notInView];
    this.candidate = null;
    this.held = 0;
    return true;
  }
}
