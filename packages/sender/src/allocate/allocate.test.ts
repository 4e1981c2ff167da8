import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocatePaper, allocateRd, bySlope, type LevelCost, ORDER_STRIDE, rank } from './allocate.js';

const LEVELS: LevelCost[] = [
  { id: 0, bytes: 0 },
  { id: 1, bytes: 12 },
  { id: 2, bytes: 24 },
  { id: 3, bytes: 48 },
  { id: 4, bytes: 192 },
];
const L = LEVELS.length;
const spend = (choice: Uint8Array) => choice.reduce((s, k) => s + (LEVELS[k] as LevelCost).bytes, 0);
const objective = (w: Float32Array, d: Float32Array, choice: Uint8Array) =>
  choice.reduce((s, k, i) => s + (w[i] as number) * (d[i * L + k] as number), 0);

/** Exhaustive optimum of Σ w·D subject to Σ bytes ≤ budget. */
function bruteForce(w: Float32Array, d: Float32Array, budget: number): number {
  let best = Number.POSITIVE_INFINITY;
  const n = w.length;
  const choice = new Uint8Array(n);
  const visit = (i: number, bytes: number, obj: number) => {
    if (bytes > budget) return;
    if (i === n) {
      best = Math.min(best, obj);
      return;
    }
    for (let k = 0; k < L; k++) {
      choice[i] = k;
      visit(i + 1, bytes + (LEVELS[k] as LevelCost).bytes, obj + (w[i] as number) * (d[i * L + k] as number));
    }
  };
  visit(0, 0, 0);
  return best;
}

/** Distortion that falls with bytes like a real codec: D(ℓ) = var · f(ℓ), raw = 0. */
function codecLike(variances: number[]): Float32Array {
  const f = [1, 0.35, 0.18, 0.08, 0];
  return Float32Array.from(variances.flatMap((v) => f.map((x) => v * x + (x > 0 ? 5 : 0))));
}

const instance = fc.record({
  w: fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 6 }),
  v: fc.array(fc.float({ min: 1, max: 2000, noNaN: true }), { minLength: 6, maxLength: 6 }),
  budget: fc.integer({ min: 0, max: 700 }),
  arbitrary: fc.boolean(),
  raw: fc.array(fc.float({ min: 0, max: 1000, noNaN: true }), { minLength: 30, maxLength: 30 }),
});

describe('rd allocator', () => {
  it('never exceeds the budget and stays close to the brute-force optimum', () => {
    const gaps: number[] = [];
    fc.assert(
      fc.property(instance, ({ w, v, budget, arbitrary, raw }) => {
        const weights = Float32Array.from(w);
        const d = arbitrary ? Float32Array.from(raw.slice(0, w.length * L)) : codecLike(v.slice(0, w.length));
        const a = allocateRd(weights, d, LEVELS, budget);
        expect(a.bytes).toBe(spend(a.choice));
        expect(a.bytes).toBeLessThanOrEqual(budget);
        const got = objective(weights, d, a.choice);
        const best = bruteForce(weights, d, budget);
        expect(got).toBeGreaterThanOrEqual(best - 1e-6 * (1 + best));
        if (!arbitrary) {
          const gap = best > 1e-9 ? (got - best) / best : 0;
          gaps.push(gap);
        }
      }),
      { numRuns: 400, seed: 42 },
    );
    // Greedy over convex hulls is exact when the budget lands on a hull step and close otherwise.
    gaps.sort((a, b) => a - b);
    expect(gaps.reduce((s, g) => s + g, 0) / gaps.length).toBeLessThan(0.03);
    expect(gaps[Math.floor(gaps.length * 0.5)]).toBeLessThan(1e-6); // most instances: optimal
  });

  it('serves heavily weighted patches first', () => {
    const w = Float32Array.from([0.01, 1, 0.01, 0.5]);
    const d = codecLike([500, 500, 500, 500]);
    const a = allocateRd(w, d, LEVELS, 60);
    expect(a.choice[1]).toBeGreaterThan(a.choice[0] as number);
    expect(a.choice[3]).toBeGreaterThanOrEqual(a.choice[2] as number);
  });

  it('uses every level up to raw when the budget allows', () => {
    const a = allocateRd(Float32Array.from([1, 1]), codecLike([100, 100]), LEVELS, 384);
    expect(Array.from(a.choice)).toEqual([4, 4]);
  });
});

describe('paper allocator', () => {
  it('never exceeds the budget, and levels never increase as relevance falls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 60000 }),
        (s, budget) => {
          const scores = Float32Array.from(s);
          const a = allocatePaper(scores, LEVELS, budget);
          expect(a.bytes).toBe(spend(a.choice));
          expect(a.bytes).toBeLessThanOrEqual(budget);
          const order = rank(scores);
          for (let r = 1; r < order.length; r++)
            expect(a.choice[order[r] as number]).toBeLessThanOrEqual(a.choice[order[r - 1] as number] as number);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('uses the budget: what is left is less than the cheapest step that could still be taken', () => {
    const scores = Float32Array.from({ length: 2400 }, (_, i) => Math.exp(-(((i % 60) - 30) ** 2 + ((i / 60) | 0) ** 2) / 200));
    for (const budget of [9216, 46080, 115200, 460800]) {
      const a = allocatePaper(scores, LEVELS, budget);
      expect(budget - a.bytes).toBeLessThan(144); // one 48→192 step at most
      if (budget >= 460800) expect(a.choice.every((k) => k === 4)).toBe(true);
    }
  });

  it('gives the most relevant patches the highest levels', () => {
    const a = allocatePaper(Float32Array.from([0.1, 0.9, 0.5, 0]), LEVELS, 250);
    expect(a.choice[1]).toBe(4);
    expect(a.choice[1]).toBeGreaterThanOrEqual(a.choice[2] as number);
    expect(a.choice[2]).toBeGreaterThanOrEqual(a.choice[0] as number);
  });

  it('rejects level tables without a free skip level or out of order', () => {
    expect(() => allocatePaper(new Float32Array(2), LEVELS.slice(1), 10)).toThrow(RangeError);
    expect(() => allocateRd(new Float32Array(1), new Float32Array(5), [...LEVELS].reverse(), 10)).toThrow(RangeError);
  });
});

describe("bySlope (the rd allocator's step order)", () => {
  it('orders steps steepest first, ties by index, as a comparator sort would', () => {
    // Slopes drawn from a few float32 values (so ties occur) and a few wide-range ones; a NaN counts as 0.
    const slope = fc.oneof(fc.constantFrom(0, 0.5, 1, 3.25), fc.float({ min: 0, max: 1e6, noNaN: true }), fc.constant(Number.NaN));
    fc.assert(
      fc.property(fc.array(slope, { maxLength: 300 }), (xs) => {
        const s = Float64Array.from(xs, (x) => Math.fround(x));
        const key = (i: number) => (Number.isNaN(s[i]) ? 0 : (s[i] as number));
        const expected = Array.from(s.keys()).sort((a, b) => key(b) - key(a) || a - b);
        const order = bySlope(s, s.length);
        const got = Array.from({ length: s.length }, (_, r) => order[r * ORDER_STRIDE] as number);
        expect(got).toEqual(expected);
      }),
    );
  });

  it('reads only the first `steps` slopes', () => {
    const order = bySlope(Float64Array.from([1, 5, 9, 100]), 3);
    expect([0, 1, 2].map((r) => order[r * ORDER_STRIDE])).toEqual([2, 1, 0]);
  });
});
