import { describe, expect, it } from 'vitest';
import { auroc, meanCi, median, psnr, sumSquaredError, topPatchCoverage } from './metrics.js';

describe('metrics', () => {
  it('PSNR and squared error on the 0–255 scale', () => {
    expect(sumSquaredError(Uint8Array.from([0, 10, 255]), Uint8Array.from([3, 10, 251]))).toBe(25);
    expect(psnr(255 * 255)).toBeCloseTo(0, 10);
    expect(psnr(65.025)).toBeCloseTo(30, 6);
    expect(psnr(0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('median of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('AUROC: perfect, reversed, uninformative and hand-computed cases', () => {
    const mask = Uint8Array.from([1, 1, 0, 0]);
    expect(auroc(Float32Array.from([0.9, 0.8, 0.1, 0.2]), mask)).toBe(1);
    expect(auroc(Float32Array.from([0.1, 0.2, 0.9, 0.8]), mask)).toBe(0);
    expect(auroc(Float32Array.from([0.5, 0.5, 0.5, 0.5]), mask)).toBe(0.5);
    // Positives {0.8, 0.3}, negatives {0.5, 0.1}: pairs won 0.8>0.5, 0.8>0.1, 0.3>0.1 → 3/4.
    expect(auroc(Float32Array.from([0.8, 0.3, 0.5, 0.1]), mask)).toBe(0.75);
    expect(auroc(Float32Array.from([0.8, 0.3]), Uint8Array.from([1, 1]))).toBeNaN();
  });

  it('top-patch coverage counts mask pixels inside the best-ranked patches', () => {
    // A 16×8 frame = 2 patches; the mask fills patch 1 fully and 16 pixels of patch 0.
    const mask = new Uint8Array(16 * 8);
    for (let y = 0; y < 8; y++) for (let x = 8; x < 16; x++) mask[y * 16 + x] = 1;
    for (let x = 0; x < 16; x++) mask[(x % 8) + (x < 8 ? 0 : 16)] = 1;
    expect(topPatchCoverage(Float32Array.from([0.1, 0.9]), mask, 16, 0.5)).toBeCloseTo(64 / 80, 10);
    expect(topPatchCoverage(Float32Array.from([0.9, 0.1]), mask, 16, 0.5)).toBeCloseTo(16 / 80, 10);
  });

  it('mean and 95 % CI ignore non-finite values', () => {
    const r = meanCi([1, 2, 3, Number.NaN]);
    expect(r.n).toBe(3);
    expect(r.mean).toBe(2);
    expect(r.ci95).toBeCloseTo((1.96 * 1) / Math.sqrt(3), 10);
  });
});
