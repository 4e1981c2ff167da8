import { describe, expect, it } from 'vitest';
import { boxesMask, complementMasks, coverage, grow, maskPsnr, movingMasks, tourWindow, windowMask } from './regions.js';

describe('video scoring regions', () => {
  it('windowMask shows the canvas through the window, scaled by nearest neighbour', () => {
    // 4×2 canvas, the right half set.
    const canvas = Uint8Array.from([0, 0, 1, 1, 0, 0, 1, 1]);
    // The window's right column (x = 2..3) scaled ×2: the frame's right half is set.
    expect([...windowMask(canvas, 4, 2, { left: 1, top: 0, width: 2, height: 2 }, 4, 4)]).toEqual([
      0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1,
    ]);
    expect([...windowMask(canvas, 4, 2, { left: 0, top: 0, width: 2, height: 1 }, 2, 1)]).toEqual([0, 0]);
    expect(() => windowMask(canvas, 4, 2, { left: 3, top: 0, width: 2, height: 2 }, 2, 2)).toThrow(RangeError);
    expect(() => windowMask(canvas, 3, 2, { left: 0, top: 0, width: 1, height: 1 }, 2, 2)).toThrow(RangeError);
  });

  it('maskPsnr counts only the pixels the mask sets; null for an empty mask', () => {
    const a = new Uint8Array(2 * 3).fill(100);
    const b = Uint8Array.from(a);
    b.fill(110, 0, 3); // pixel 0 off by 10
    expect(maskPsnr(a, b, Uint8Array.from([1, 0]))).toBeCloseTo(10 * Math.log10((255 * 255) / 100), 6);
    expect(maskPsnr(a, b, Uint8Array.from([0, 1]))).toBe(99);
    expect(maskPsnr(a, b, Uint8Array.from([0, 0]))).toBeNull();
    expect(maskPsnr(a, b, Uint8Array.from([1, 1]))).toBeCloseTo(10 * Math.log10((255 * 255 * 6) / 300), 6);
    expect(() => maskPsnr(a, b, new Uint8Array(3))).toThrow(RangeError);
  });

  it('complementMasks gives the rest of each frame, all of it where the region was empty', () => {
    expect(complementMasks([Uint8Array.from([1, 0, 0]), null], 3).map((m) => [...m])).toEqual([
      [0, 1, 1],
      [1, 1, 1],
    ]);
  });

  it('boxesMask fills boxes clipped to the frame, right and bottom exclusive', () => {
    const m = boxesMask(
      [
        { x0: 1, y0: 0, x1: 3, y1: 1 },
        { x0: -5, y0: 1, x1: 1, y1: 9 },
      ],
      3,
      2,
    );
    expect([...m]).toEqual([0, 1, 1, 1, 0, 0]);
    expect(coverage(m)).toBeCloseTo(0.5, 9);
  });

  it('grow dilates by r pixels in a square', () => {
    const m = new Uint8Array(25);
    m[12] = 1; // centre of 5×5
    expect(coverage(grow(m, 5, 5, 1))).toBeCloseTo(9 / 25, 9);
    expect(coverage(grow(m, 5, 5, 2))).toBe(1);
    expect(grow(m, 5, 5, 0)).toBe(m);
  });

  it('movingMasks marks what differs from the median background, and nothing on a still frame', () => {
    const w = 8;
    const h = 4;
    const frames = Array.from({ length: 9 }, (_, k) => {
      const f = new Uint8Array(w * h * 3).fill(50);
      const x = k % w; // one bright pixel walks along row 1
      f.fill(250, (1 * w + x) * 3, (1 * w + x) * 3 + 3);
      return f;
    });
    const still = new Uint8Array(w * h * 3).fill(50);
    const masks = movingMasks([...frames, still], w, h, { threshold: 30, grow: 0, samples: 25 });
    expect(masks).toHaveLength(10);
    for (let k = 0; k < 9; k++) {
      const m = masks[k] as Uint8Array;
      expect(m[1 * w + (k % w)]).toBe(1);
      expect(coverage(m)).toBeCloseTo(1 / (w * h), 9);
    }
    expect(masks[9]).toBeNull();
    expect(movingMasks([], w, h)).toEqual([]);
  });

  it('tourWindow cuts every 2 s, zooms in over a segment and stays inside the canvas', () => {
    const canvas = { width: 960, height: 640 };
    const frame = { width: 480, height: 320 };
    const first = tourWindow(0, 10, canvas, frame);
    const last = tourWindow(19, 10, canvas, frame);
    expect([first.segment, last.segment, tourWindow(20, 10, canvas, frame).segment]).toEqual([0, 0, 1]);
    expect(first.window.width).toBe(Math.round(960 * 0.85));
    expect(last.window.width).toBeLessThan(first.window.width);
    for (let k = 0; k < 100; k++) {
      const { window: win } = tourWindow(k, 10, canvas, frame, { from: 1, to: 0.8 });
      expect(win.left).toBeGreaterThanOrEqual(0);
      expect(win.top).toBeGreaterThanOrEqual(0);
      expect(win.left + win.width).toBeLessThanOrEqual(canvas.width);
      expect(win.top + win.height).toBeLessThanOrEqual(canvas.height);
      expect(win.width / win.height).toBeCloseTo(1.5, 1);
    }
  });
});
