import { describe, expect, it } from 'vitest';
import { summarise } from '../commands/eval.js';
import { maskedMse, meanAbsDiff } from '../metrics.js';
import type { PairResult } from './evaluate.js';
import { maskPatchScores, peakScore } from './evaluate.js';

describe('evaluation metrics on synthetic images', () => {
  it('masked MSE counts only pixels inside the mask, all three channels', () => {
    const a = new Uint8Array(4 * 3).fill(100);
    const b = Uint8Array.from([100, 100, 100, 110, 100, 100, 0, 0, 0, 100, 100, 100]);
    // Pixel 1 differs by 10 in one channel; pixel 2 differs by 100 everywhere but is outside the mask.
    expect(maskedMse(a, b, Uint8Array.from([1, 1, 0, 1]))).toBeCloseTo(100 / 9, 10);
    expect(maskedMse(a, b, Uint8Array.from([0, 0, 1, 0]))).toBe(10000);
    expect(maskedMse(a, b, new Uint8Array(4))).toBeNaN();
  });

  it('L1 between relevance maps is the mean absolute difference', () => {
    expect(meanAbsDiff(Float32Array.from([0, 0.5, 1, 1]), Float32Array.from([0, 1, 0, 1]))).toBeCloseTo(0.375, 7);
  });

  it('the oracle relevance is the share of each patch inside the GT mask', () => {
    const w = 16;
    const h = 8;
    const mask = new Uint8Array(w * h);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) mask[y * w + x] = 1; // patch 0 full
    for (let y = 0; y < 4; y++) for (let x = 8; x < 16; x++) mask[y * w + x] = 1; // patch 1 half
    const s = maskPatchScores(mask, w, h);
    expect(Array.from(s)).toEqual([1, 0.5]);
  });

  it('semantic score is the strongest heatmap peak among the queried classes', () => {
    const out = {
      keypoints: Float32Array.from([0.1, 0.9, 0.3, 0.2, 0.4, 0.05, 0.6, 0.1]),
      wh: new Float32Array(16),
      gridW: 2,
      gridH: 2,
      classes: 2,
      stride: 4,
    };
    expect(peakScore(out, [0])).toBeCloseTo(0.6, 6);
    expect(peakScore(out, [1])).toBeCloseTo(0.9, 6);
    expect(peakScore(out, [])).toBe(0);
  });

  it('summary holds means and CIs per method and rate, in rate order', () => {
    const r = (method: 'mmsc' | 'baseline', rate: number, v: number): PairResult => ({
      imageId: v,
      query: 'q',
      method,
      rate,
      budget: 1,
      bytes: 1,
      maskedMse: v,
      l1Relevance: 0,
      semantic: 1,
      psnr: 30,
    });
    const s = summarise([r('mmsc', 0.1, 2), r('mmsc', 0.1, 4), r('baseline', 0.1, 8), r('mmsc', 0.5, 1)], [0.1, 0.5], ['mmsc', 'baseline']);
    expect(s.pairs).toBe(4);
    expect(s.methods.mmsc?.maskedMse).toEqual([3, 1]);
    expect(s.methods.baseline?.maskedMse).toEqual([8, null]);
    expect(s.ci95.mmsc?.maskedMse?.[0]).toBeGreaterThan(0);
  });
});
