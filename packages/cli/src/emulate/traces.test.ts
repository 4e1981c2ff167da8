import { describe, expect, it } from 'vitest';
import {
  lteLikeTrace,
  OPPORTUNITY_BYTES,
  parseTrace,
  stepTrace,
  TraceError,
  traceCapacityBytes,
  traceFromRate,
  traceMeanBps,
} from './traces.js';

const perSecondBps = (ops: number[], s: number) => ops.filter((t) => t > s * 1000 && t <= (s + 1) * 1000).length * OPPORTUNITY_BYTES * 8;

describe('traces (mahimahi format)', () => {
  it('parses opportunities and the period (the last line), and explains bad files', () => {
    expect(parseTrace('1\n1\n5\n\n10\n')).toEqual({ opportunitiesMs: [1, 1, 5, 10], periodMs: 10 });
    expect(() => parseTrace('')).toThrow(TraceError);
    expect(() => parseTrace('1\nx\n')).toThrow(/line 2 is not a whole number/);
    expect(() => parseTrace('5\n3\n')).toThrow(/line 2 \(3 ms\) goes back in time/);
    expect(() => parseTrace('0\n0\n')).toThrow(/after 0 ms/);
  });

  it('a constant rate becomes evenly spaced opportunities carrying that rate', () => {
    const ops = traceFromRate(2000, () => 12_000_000);
    // 12 Mbit/s = 1000 opportunities of 1500 B per second: one each millisecond.
    expect(ops.length).toBe(2000);
    expect(traceMeanBps(parseTrace(ops.join('\n')))).toBe(12_000_000);
  });

  it('steps change the rate at their boundaries', () => {
    const ops = stepTrace([
      { bps: 5e6, seconds: 2 },
      { bps: 1e6, seconds: 2 },
    ]);
    expect(perSecondBps(ops, 0)).toBeCloseTo(5e6, -5);
    expect(perSecondBps(ops, 1)).toBeCloseTo(5e6, -5);
    expect(perSecondBps(ops, 2)).toBeCloseTo(1e6, -5);
    expect(perSecondBps(ops, 3)).toBeCloseTo(1e6, -5);
  });

  it('the LTE-like trace is deterministic per seed, near its mean, with fades', () => {
    const a = lteLikeTrace({ seconds: 120, meanBps: 5e6, seed: 11 });
    expect(lteLikeTrace({ seconds: 120, meanBps: 5e6, seed: 11 })).toEqual(a);
    expect(lteLikeTrace({ seconds: 120, meanBps: 5e6, seed: 12 })).not.toEqual(a);
    const mean = traceMeanBps(parseTrace(a.join('\n')));
    expect(mean).toBeGreaterThan(3e6);
    expect(mean).toBeLessThan(7.5e6);
    const seconds = Array.from({ length: 120 }, (_, s) => perSecondBps(a, s));
    expect(Math.min(...seconds)).toBeLessThan(1e6); // a deep fade
    expect(Math.max(...seconds)).toBeGreaterThan(7e6);
  });

  it('capacity repeats with the period and loses what outages cover', () => {
    const t = parseTrace('250\n500\n750\n1000\n'); // 4 opportunities a second
    // Intervals are half-open: the opportunity at 1000 ms is in [1000, 2000), not in [0, 1000).
    expect(traceCapacityBytes(t, 0, 1000)).toBe(3 * OPPORTUNITY_BYTES);
    expect(traceCapacityBytes(t, 0, 1001)).toBe(4 * OPPORTUNITY_BYTES);
    expect(traceCapacityBytes(t, 0, 3001)).toBe(12 * OPPORTUNITY_BYTES);
    expect(traceCapacityBytes(t, 1100, 1600)).toBe(2 * OPPORTUNITY_BYTES);
    expect(traceCapacityBytes(t, 0, 3001, [{ atS: 1, forS: 1 }])).toBe(8 * OPPORTUNITY_BYTES);
  });
});
