import { describe, expect, it } from 'vitest';
import { RefusalCounter, TokenBucket } from './limits.js';

describe('TokenBucket', () => {
  it('gives the burst at once, then `rate` per second', () => {
    const b = new TokenBucket(10, 3);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(0.05)).toBe(false); // half a token
    expect(b.take(0.1)).toBe(true);
    expect([b.take(10), b.take(10), b.take(10), b.take(10)]).toEqual([true, true, true, false]); // saves up to the burst only
  });

  it('takes n tokens at once, or none when fewer are there', () => {
    const b = new TokenBucket(100, 500);
    expect(b.take(0, 400)).toBe(true);
    expect(b.take(0, 200)).toBe(false); // 100 left: nothing taken ...
    expect(b.take(0, 100)).toBe(true); // ... so these 100 still are
    expect(b.take(1, 101)).toBe(false);
    expect(b.take(1, 100)).toBe(true);
  });

  it('a clock that goes back adds nothing', () => {
    const b = new TokenBucket(10, 1);
    expect(b.take(5)).toBe(true);
    expect(b.take(4)).toBe(false);
  });
});

describe('RefusalCounter', () => {
  it('counts by code, sorted, and in total', () => {
    const c = new RefusalCounter();
    for (const code of ['rate-limited', 'bad-query', 'rate-limited']) c.count(code);
    expect(c.snapshot()).toEqual({ 'bad-query': 1, 'rate-limited': 2 });
    expect(c.total).toBe(3);
  });
});
