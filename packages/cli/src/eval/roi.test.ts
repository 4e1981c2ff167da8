import { describe, expect, it } from 'vitest';
import { DEFAULT_ROI, roiRects } from './roi.js';

/** A cols×rows map with the listed patches set to `v`. */
const map = (cols: number, rows: number, cells: [number, number, number][]) => {
  const s = new Float32Array(cols * rows);
  for (const [c, r, v] of cells) s[r * cols + c] = v;
  return s;
};

describe('roiRects', () => {
  it('boxes one component, padded and clipped to the frame', () => {
    const s = map(10, 6, [
      [0, 0, 1],
      [1, 0, 0.9],
      [1, 1, 0.8],
    ]);
    // Patches (0..1, 0..1) → pixels 0..16, padded by 8 on the right and bottom, clipped at 0.
    expect(roiRects(s, 10, 6, 8)).toEqual([{ x: 0, y: 0, w: 24, h: 24 }]);
  });

  it('keeps only patches at ≥ max(floor, share × top)', () => {
    const s = map(10, 6, [
      [5, 3, 1],
      [6, 3, 0.49], // below half the top
    ]);
    expect(roiRects(s, 10, 6, 8)).toEqual([{ x: 32, y: 16, w: 24, h: 24 }]);
    // Nothing reaches the floor: no region.
    expect(roiRects(map(10, 6, [[2, 2, 0.04]]), 10, 6, 8)).toEqual([]);
  });

  it('separate components get separate boxes; beyond the limit the closest merge, covering every selected patch', () => {
    const cells: [number, number, number][] = [
      [0, 0, 1],
      [9, 0, 1],
      [0, 5, 1],
      [2, 5, 1],
    ];
    const s = map(10, 6, cells);
    expect(roiRects(s, 10, 6, 8, { ...DEFAULT_ROI, maxRects: 4, pad: 0 })).toHaveLength(4);
    const three = roiRects(s, 10, 6, 8, { ...DEFAULT_ROI, pad: 0 });
    expect(three).toHaveLength(3);
    // (0,5) and (2,5) are the cheapest pair to merge: one 3×1-patch box.
    expect(three).toContainEqual({ x: 0, y: 40, w: 24, h: 8 });
    for (const [c, r] of cells) {
      expect(three.some((b) => b.x <= c * 8 && b.y <= r * 8 && b.x + b.w >= (c + 1) * 8 && b.y + b.h >= (r + 1) * 8)).toBe(true);
    }
  });

  it('rejects a map of the wrong size', () => {
    expect(() => roiRects(new Float32Array(5), 10, 6, 8)).toThrow(RangeError);
  });
});
