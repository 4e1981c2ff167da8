import { describe, expect, it } from 'vitest';
import { Pacer } from './pacer.js';

/** Runs the pacer to empty, asking at each `nextAt`: when each item went (ms). */
function drain(p: Pacer<number>, from = 0): Map<number, number> {
  const sentAt = new Map<number, number>();
  let now = from;
  for (let guard = 0; guard < 10_000; guard++) {
    for (const item of p.due(now)) sentAt.set(item, now);
    const next = p.nextAt(now);
    if (next === null) break;
    expect(next).toBeGreaterThanOrEqual(now);
    now = next;
  }
  return sentAt;
}

describe('Pacer', () => {
  it('lets everything go at once without a rate', () => {
    const p = new Pacer<number>();
    for (let i = 0; i < 5; i++) p.push(i, 1200);
    expect(p.bytes).toBe(6000);
    expect(p.due(0)).toEqual([0, 1, 2, 3, 4]);
    expect(p.nextAt(0)).toBeNull();
  });

  it('after a burst of two packets, spaces them at the rate, in order', () => {
    const p = new Pacer<number>();
    p.setRate(1_000_000, 0); // 125 bytes per ms
    for (let i = 0; i < 10; i++) p.push(i, 1250);
    const at = drain(p);
    expect([...at.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The burst (two 1,280-byte packets' worth) lets the first three go at once (the third overdraws).
    expect([0, 1, 2].map((i) => at.get(i))).toEqual([0, 0, 0]);
    // Then one packet per 10 ms: 12,500 bytes in 1 Mbit/s less the burst.
    for (let i = 3; i < 10; i++) expect((at.get(i) as number) - (at.get(i - 1) as number)).toBeCloseTo(10, 0);
    expect(at.get(9) as number).toBeGreaterThan(65);
    expect(at.get(9) as number).toBeLessThan(75);
  });

  it('an idle pacer has a burst again, never more', () => {
    const p = new Pacer<number>();
    p.setRate(1_000_000, 0);
    p.push(0, 1250);
    expect(p.due(0)).toEqual([0]);
    // A second later: the bucket refilled, but only to its burst.
    for (let i = 1; i <= 5; i++) p.push(i, 1250);
    expect(p.due(1000)).toEqual([1, 2, 3]);
  });

  it('follows a new rate at once, and stops pacing at a rate that is not finite', () => {
    const p = new Pacer<number>();
    p.setRate(1_000_000, 0);
    for (let i = 0; i < 6; i++) p.push(i, 1250);
    p.due(0);
    p.setRate(4_000_000, 0); // 500 bytes per ms
    const at = drain(p);
    expect((at.get(4) as number) - (at.get(3) as number)).toBeCloseTo(2.5, 1);
    for (let i = 0; i < 3; i++) p.push(i, 1250);
    p.setRate(Number.NaN, 100);
    expect(p.rate).toBe(Number.POSITIVE_INFINITY);
    expect(p.due(100)).toEqual([0, 1, 2]);
  });

  it('drops what waits on clear', () => {
    const p = new Pacer<number>();
    p.setRate(1_000_000, 0);
    for (let i = 0; i < 6; i++) p.push(i, 1250);
    p.due(0);
    p.clear();
    expect(p.length).toBe(0);
    expect(p.nextAt(5)).toBeNull();
  });
});
