import { describe, expect, it } from 'vitest';
import { fitFrame, frameToInput, modelInputSize, toFrame, toModel } from './geometry.js';

describe('frame ⇄ detector geometry', () => {
  it('stretch maps frame corners to model corners', () => {
    const fit = fitFrame(480, 320, 512, 512, 'stretch');
    expect(toModel(fit, 480, 320)).toEqual([512, 512]);
    expect(toFrame(fit, 256, 256)).toEqual([240, 160]);
  });

  it('letterbox keeps the aspect ratio and centres the frame', () => {
    const fit = fitFrame(480, 320, 512, 512, 'letterbox');
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

  it('sizes the model input to the frame at the network multiple', () => {
    expect(modelInputSize(480, 320, 32)).toEqual([480, 320]);
    expect(modelInputSize(480, 320, 32, 512 / 480)).toEqual([512, 352]);
    expect(modelInputSize(100, 50, 32)).toEqual([128, 64]);
    expect(() => modelInputSize(480, 320, 32, 0)).toThrow(RangeError);
  });

  it('letterboxes into a non-square input, padding only the short side', () => {
    const fit = fitFrame(480, 320, 512, 352, 'letterbox');
    expect(fit.scaleX).toBeCloseTo(512 / 480, 12);
    expect(fit.offX).toBe(0);
    expect(fit.offY).toBeCloseTo((352 - 320 * (512 / 480)) / 2, 12);
    const rgb = new Uint8Array(480 * 320 * 3).fill(90);
    const input = frameToInput(rgb, 480, 320, fit, 7);
    expect(input.length).toBe(512 * 352 * 3);
    expect(input[0]).toBe(7); // top band
    expect(input[(176 * 512 + 256) * 3]).toBeCloseTo(90, 4); // centre
    expect(input[(351 * 512 + 511) * 3 + 2]).toBe(7); // bottom band
    const exact = fitFrame(480, 320, 480, 320, 'letterbox');
    expect([exact.scaleX, exact.offX, exact.offY]).toEqual([1, 0, 0]);
  });

  it('passes a frame at the native input size through unchanged, like the general resampler', () => {
    const rgb = Uint8Array.from({ length: 64 * 32 * 3 }, (_, i) => (i * 37) % 256);
    const fit = fitFrame(64, 32, 64, 32, 'letterbox');
    const fast = frameToInput(rgb, 64, 32, fit);
    expect(Array.from(fast)).toEqual(Array.from(rgb));
    // The general path (a fit that is identity but flagged as stretch of a wider model) agrees.
    const general = frameToInput(rgb, 64, 32, { ...fit, offX: 1e-12 });
    for (let i = 0; i < rgb.length; i++) expect(general[i]).toBeCloseTo(rgb[i] as number, 3);
  });

  it('resamples a constant frame to a constant input, padding the letterbox bands', () => {
    const rgb = new Uint8Array(48 * 32 * 3).fill(200);
    const fit = fitFrame(48, 32, 64, 64, 'letterbox');
    const input = frameToInput(rgb, 48, 32, fit, 7);
    expect(input.length).toBe(64 * 64 * 3);
    expect(input[(32 * 64 + 32) * 3]).toBeCloseTo(200, 4); // centre
    expect(input[0]).toBe(7); // top band
    expect(input[(63 * 64 + 63) * 3 + 2]).toBe(7); // bottom band
  });

  it('keeps a horizontal ramp monotone and in range when stretching', () => {
    const rgb = Uint8Array.from({ length: 48 * 32 * 3 }, (_, i) => (Math.floor(i / 3) % 48) * 5);
    const input = frameToInput(rgb, 48, 32, fitFrame(48, 32, 64, 64, 'stretch'));
    const row = Array.from({ length: 64 }, (_, x) => input[(10 * 64 + x) * 3] as number);
    for (let x = 1; x < 64; x++) expect(row[x]).toBeGreaterThanOrEqual(row[x - 1] as number);
    expect(row[0]).toBeGreaterThanOrEqual(0);
    expect(row[63]).toBeLessThanOrEqual(235);
  });
});
