import { describe, expect, it } from 'vitest';
import { DEFAULT_QP_TIERS, macroblockOffsets, qpRegions } from './qp-regions.js';

describe('macroblockOffsets', () => {
  it('gives the focus offset where the top patch is, background elsewhere', () => {
    // 64×32 picture, 8-px patches: 8×4 patches, 4×2 macroblocks.
    const scores = new Float32Array(32);
    scores[0] = 1; // macroblock 0
    scores[8 + 3] = 0.3; // row 1, col 3 → macroblock 1 (0.3 of top: near)
    const off = macroblockOffsets(scores, 8, 8, 64, 32);
    expect([...off]).toEqual([DEFAULT_QP_TIERS.focus, DEFAULT_QP_TIERS.near, ...new Array(6).fill(DEFAULT_QP_TIERS.background)]);
  });

  it('fades the offsets with the map’s confidence: none for a dim map, some, then all', () => {
    const at = (top: number) => {
      const scores = new Float32Array(32);
      scores[0] = top;
      return [...macroblockOffsets(scores, 8, 8, 64, 32, { ...DEFAULT_QP_TIERS, confidence: { none: 0.3, full: 0.9 } })];
    };
    expect(at(0.3)).toEqual(new Array(8).fill(0)); // evidence this dim is coded as without a query
    expect(at(0.6)).toEqual([-5, ...new Array(7).fill(2)]); // half of −10 and +4
    expect(at(0.9)).toEqual([-10, ...new Array(7).fill(4)]);
    expect(at(0.95)).toEqual(at(0.9));
    // Without a confidence ramp every top above minTop gets the whole offsets.
    const scores = new Float32Array(32);
    scores[0] = 0.3;
    expect(macroblockOffsets(scores, 8, 8, 64, 32, { ...DEFAULT_QP_TIERS, confidence: undefined })[0]).toBe(-10);
  });

  it('leaves rate control alone when nothing is relevant', () => {
    expect([...macroblockOffsets(new Float32Array(32).fill(0.01), 8, 8, 64, 32)]).toEqual(new Array(8).fill(0));
  });

  it('covers a picture whose size is not a multiple of 16', () => {
    const off = macroblockOffsets(new Float32Array(6 * 5).fill(1), 6, 8, 48, 40, { ...DEFAULT_QP_TIERS, coverage: undefined });
    expect(off.length).toBe(3 * 3);
    expect(new Set(off)).toEqual(new Set([DEFAULT_QP_TIERS.focus]));
  });

  it('scales the focus and near offsets down as the focus covers more of the frame; the background keeps its own', () => {
    // 8×4 patches (64×32 px) = 4×2 macroblocks; `k` macroblocks in focus, one near, the rest background.
    const withFocus = (k: number) => {
      const scores = new Float32Array(32);
      for (let m = 0; m < k; m++) scores[(m % 4) * 2 + Math.floor(m / 4) * 16] = 1;
      scores[7 + 8] = 0.3; // macroblock 3 (row 0), near unless in focus
      return [...macroblockOffsets(scores, 8, 8, 64, 32, { ...DEFAULT_QP_TIERS, coverage: { from: 0.25, to: 0.75 } })];
    };
    expect(withFocus(1)).toEqual([-10, 4, 4, -5, 4, 4, 4, 4]); // 1/8 in focus: all of the offsets
    expect(withFocus(4)).toEqual([-5, -5, -5, -5, 4, 4, 4, 4]); // half the frame: half the focus offset
    expect(withFocus(6)).toEqual([0, 0, 0, 0, 0, 0, 4, 4]); // 3/4: none, the background still coarser
  });
});

describe('qpRegions', () => {
  it('merges runs along rows, skips zero offsets and clips to the picture', () => {
    const offsets = Int8Array.from([-8, -8, 0, 3, 3, 3]);
    expect(qpRegions(offsets, 40, 32)).toEqual([
      { left: 0, top: 0, right: 32, bottom: 16, qpDelta: -8 },
      { left: 0, top: 16, right: 40, bottom: 32, qpDelta: 3 },
    ]);
  });

  it('every macroblock with an offset is covered by exactly one region of that offset', () => {
    const offsets = Int8Array.from({ length: 30 * 20 }, (_, i) => [0, -8, -4, 3][(i * 7 + (i >> 3)) % 4] as number);
    const cover = new Int8Array(offsets.length);
    for (const r of qpRegions(offsets, 480, 320)) {
      for (let y = r.top; y < r.bottom; y += 16)
        for (let x = r.left; x < r.right; x += 16) {
          const m = (y / 16) * 30 + x / 16;
          expect(cover[m]).toBe(0);
          cover[m] = r.qpDelta;
        }
    }
    expect(cover).toEqual(offsets);
  });
});
