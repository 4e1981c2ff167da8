import { describe, expect, it } from 'vitest';
import { fitFrame, frameToInput, toFrame, toModel } from './geometry.js';

describe('frame ⇄ detector geometry', () => {
  it('stretch maps frame corners to model corners', () => {
    const fit = fitFrame(480, 320, 512, 'stretch');
    expect(toModel(fit, 480, 320)).toEqual([512, 512]);
    expect(toFrame(fit, 256, 256)).toEqual([240, 160]);
  });

  it('letterbox keeps the aspect ratio and centres the frame', () => {
    const fit = fitFrame(480, 320, 512, 'letterbox');
    expect(fit.scaleX).toBeCloseTo(512 / 480, 12);
    expect(fit.scaleY).toBe(fit.scaleX);
    expect(fit.offX).toBe(0);
    expect(fit.offY).toBeCloseTo((512 - 320 * (512 / 480)) / 2, 12);
    for (const [x, y] of [
      [0, 0],
      [123.5, 77.25],
      [480, 320],
    ] as const) {
      const [xm, ym] = toModel(fit, x, y);
      const [xf, yf] = toFrame(fit, xm, ym);
      expect(xf).toBeCloseTo(x, 9);
      expect(yf).toBeCloseTo(y, 9);
    }
  });

  it('resamples a constant frame to a constant input, padding the letterbox bands', () => {
    const rgb = new Uint8Array(48 * 32 * 3).fill(200);
    const fit = fitFrame(48, 32, 64, 'letterbox');
    const input = frameToInput(rgb, 48, 32, fit, 7);
    expect(input.length).toBe(64 * 64 * 3);
    expect(input[(32 * 64 + 32) * 3]).toBeCloseTo(200, 4); // centre
    expect(input[0]).toBe(7); // top band
    expect(input[(63 * 64 + 63) * 3 + 2]).toBe(7); // bottom band
  });

  it('keeps a horizontal ramp monotone and in range when stretching', () => {
    const rgb = Uint8Array.from({ length: 48 * 32 * 3 }, (_, i) => (Math.floor(i / 3) % 48) * 5);
    const input = frameToInput(rgb, 48, 32, fitFrame(48, 32, 64, 'stretch'));
    const row = Array.from({ length: 64 }, (_, x) => input[(10 * 64 + x) * 3] as number);
    for (let x = 1; x < 64; x++) expect(row[x]).toBeGreaterThanOrEqual(row[x - 1] as number);
    expect(row[0]).toBeGreaterThanOrEqual(0);
    expect(row[63]).toBeLessThanOrEqual(235);
  });
});
