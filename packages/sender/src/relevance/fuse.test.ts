import { describe, expect, it } from 'vitest';
import { decodeDetections } from './decode-detections.js';
import { DEFAULT_FUSE, footprint, fuse } from './fuse.js';
import { fitFrame } from './geometry.js';

const W = 64;
const H = 32;
const fit = fitFrame(W, H, 64, 64, 'stretch'); // model space 64×64, stride 4 → 16×16 grid

/** A synthetic detector output with one peak per (class, cell) given, and boxes of ±half extents. */
function output(peaks: { c: number; x: number; y: number; s: number; half: number }[]) {
  const g = 16;
  const nc = 3;
  const keypoints = new Float32Array(g * g * nc);
  const wh = new Float32Array(g * g * 4);
  for (const p of peaks) {
    keypoints[(p.y * g + p.x) * nc + p.c] = p.s;
    wh.fill(p.half, (p.y * g + p.x) * 4, (p.y * g + p.x) * 4 + 4);
  }
  return { keypoints, wh, gridW: g, gridH: g, classes: nc, stride: 4 };
}

describe('detection decoding', () => {
  it('finds local maxima above threshold and maps boxes to frame pixels', () => {
    const out = output([
      { c: 0, x: 4, y: 4, s: 0.8, half: 8 },
      { c: 1, x: 12, y: 8, s: 0.04, half: 8 }, // below threshold
    ]);
    out.keypoints[(4 * 16 + 5) * 3] = 0.5; // a neighbour, not a peak
    const dets = decodeDetections(out, fit, W, H, { threshold: 0.05, perClass: 20 });
    expect(dets).toHaveLength(1);
    const d = dets[0]!;
    expect(d.cls).toBe(0);
    expect(d.score).toBeCloseTo(0.8, 6);
    // Centre (16,16) in model px ± 8 → x 8..24 (scale 1), y 4..12 (model y / 2).
    expect([d.x0, d.x1, d.y0, d.y1]).toEqual([8, 24, 4, 12]);
  });

  it('keeps at most perClass peaks per class, best first, and only requested classes', () => {
    const out = output([
      { c: 2, x: 2, y: 2, s: 0.3, half: 4 },
      { c: 2, x: 8, y: 8, s: 0.6, half: 4 },
      { c: 2, x: 13, y: 13, s: 0.2, half: 4 },
      { c: 0, x: 6, y: 12, s: 0.9, half: 4 },
    ]);
    const dets = decodeDetections(out, fit, W, H, { threshold: 0.05, perClass: 2, classes: [2] });
    expect(dets.map((d) => d.score.toFixed(1))).toEqual(['0.6', '0.3']);
  });

  it('past perClass keeps a crowd: peaks at ≥ ratio × the best, up to max in all', () => {
    // Six people seen about equally well (0.5–0.6) and two weak peaks (0.1).
    const seen = [0.6, 0.58, 0.56, 0.54, 0.52, 0.5];
    const people = seen.map((s, i) => ({ c: 1, x: 1 + 2 * i, y: 3, s, half: 2 }));
    const out = output([...people, { c: 1, x: 2, y: 12, s: 0.1, half: 2 }, { c: 1, x: 8, y: 12, s: 0.1, half: 2 }]);
    const scores = (o: Parameters<typeof decodeDetections>[4]) => decodeDetections(out, fit, W, H, o).map((d) => d.score.toFixed(2));
    const all = seen.map((s) => s.toFixed(2));
    expect(scores({ threshold: 0.05, perClass: 2 })).toEqual(['0.60', '0.58']);
    expect(scores({ threshold: 0.05, perClass: 2, crowd: { max: 100, ratio: 0.5 } })).toEqual(all);
    expect(scores({ threshold: 0.05, perClass: 2, crowd: { max: 4, ratio: 0.5 } })).toEqual(all.slice(0, 4));
    // The weak peaks come only within perClass, never through the crowd rule.
    expect(scores({ threshold: 0.05, perClass: 7, crowd: { max: 100, ratio: 0.5 } })).toEqual([...all, '0.10']);
  });
});

describe('fusion', () => {
  it('footprint is flat inside, 0.5 at the edge, 0 beyond a quarter half-width', () => {
    expect(footprint(0)).toBe(1);
    expect(footprint(0.5)).toBe(1);
    expect(footprint(1)).toBe(0.5);
    expect(footprint(1, 0.3)).toBeCloseTo(0.3, 12);
    expect(footprint(0.75, 0.3)).toBeCloseTo(0.65, 12);
    expect(footprint(1.25)).toBe(0);
    expect(footprint(2)).toBe(0);
  });

  it('lights the queried object and not the other, normalised to [0,1]', () => {
    const dets = [
      { cls: 0, score: 0.6, x0: 0, y0: 0, x1: 16, y1: 16 },
      { cls: 1, score: 0.9, x0: 40, y0: 8, x1: 64, y1: 32 },
    ];
    const m = fuse(dets, Float32Array.from([1, 0, 0]), null, fit, W, H, { ...DEFAULT_FUSE, heatmapWeight: 0 });
    expect(m.map.length).toBe(W * H);
    expect(m.patchScores.length).toBe((W / 8) * (H / 8));
    expect(Math.max(...m.map)).toBe(1);
    expect(m.map[8 * W + 8]).toBe(1); // inside the queried box
    expect(m.map[20 * W + 52]).toBe(0); // inside the other class's box
    expect(m.patchScores[0]).toBeGreaterThan(m.patchScores[6] as number);
    expect(m.peak).toBeCloseTo(0.6, 6);
  });

  it('overlapping detections combine as a soft union (1 − Π(1 − a))', () => {
    const box = { x0: 0, y0: 0, x1: 64, y1: 32 };
    const dets = [
      { cls: 0, score: 0.5, ...box },
      { cls: 1, score: 0.5, ...box },
    ];
    const m = fuse(dets, Float32Array.from([1, 0.5, 0]), null, fit, W, H, { ...DEFAULT_FUSE, heatmapWeight: 0 });
    expect(m.peak).toBeCloseTo(1 - (1 - 0.5) * (1 - 0.25), 6);
  });

  it('weak evidence (peak below minPeak) stays dim instead of being stretched to full contrast', () => {
    const weak = [{ cls: 0, score: 0.05, x0: 0, y0: 0, x1: 16, y1: 16 }];
    const opts = { ...DEFAULT_FUSE, heatmapWeight: 0, minPeak: 0.15 };
    const m = fuse(weak, Float32Array.from([1, 0, 0]), null, fit, W, H, opts);
    expect(m.peak).toBeCloseTo(0.05, 6);
    expect(m.map[8 * W + 8]).toBeCloseTo(0.05 / 0.15, 5);
    // Evidence above the floor is normalised to 1 as before.
    const strong = fuse([{ ...weak[0], score: 0.4 } as (typeof weak)[0]], Float32Array.from([1, 0, 0]), null, fit, W, H, opts);
    expect(strong.map[8 * W + 8]).toBeCloseTo(1, 6);
  });

  it('an empty query weight vector gives an all-zero map, not NaN', () => {
    const m = fuse([{ cls: 0, score: 1, x0: 0, y0: 0, x1: 8, y1: 8 }], new Float32Array(3), null, fit, W, H);
    expect(m.peak).toBe(0);
    expect(m.map.every((v) => v === 0)).toBe(true);
  });
});
