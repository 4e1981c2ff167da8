import { describe, expect, it } from 'vitest';
import { MAX_NACK_ENTRIES, MIN_RESEND_GAP_MS, RESEND_HISTORY, ResendBudget } from './resend-budget.js';

/** A budget that has sent `n` packets of `bytes` each, sequence numbers from `first`. */
function sent(n: number, bytes = 1000, first = 0): ResendBudget {
  const r = new ResendBudget();
  for (let i = 0; i < n; i++) r.sent((first + i) & 0xffff, bytes);
  return r;
}

describe('ResendBudget', () => {
  it('resends what a NACK asks for from the history, each number once per NACK', () => {
    const r = sent(10);
    expect(r.resend([3, 5, 3, 9], 0)).toEqual([3, 5, 9]);
  });

  it('never resends a packet that left the history, or was never sent, or a number out of range', () => {
    const r = sent(RESEND_HISTORY + 10);
    expect(r.resend([0, 9, 10, RESEND_HISTORY + 9, RESEND_HISTORY + 10, -1, 0x10000, 1.5, Number.NaN], 0)).toEqual([
      10,
      RESEND_HISTORY + 9,
    ]);
  });

  it('resends one packet again only after MIN_RESEND_GAP_MS', () => {
    const r = sent(10);
    expect(r.resend([4], 0)).toEqual([4]);
    expect(r.resend([4], MIN_RESEND_GAP_MS - 1)).toEqual([]);
    expect(r.resend([4], MIN_RESEND_GAP_MS)).toEqual([4]);
  });

  it('a flood of NACKs gets back at most the bytes the track first sent', () => {
    const r = new ResendBudget();
    let seq = 0;
    let firstBytes = 0;
    let resentBytes = 0;
    // 10 s: a 1200-byte packet every 10 ms, and every 2 ms a NACK for the last 128 numbers.
    for (let t = 0; t < 10_000; t += 2) {
      if (t % 10 === 0) {
        r.sent(seq, 1200);
        seq = (seq + 1) & 0xffff;
        firstBytes += 1200;
      }
      const asked = Array.from({ length: 128 }, (_, k) => (seq - 1 - k) & 0xffff);
      resentBytes += r.resend(asked, t).length * 1200;
    }
    expect(resentBytes).toBeGreaterThan(0.9 * firstBytes); // the credit is used ...
    expect(resentBytes).toBeLessThanOrEqual(firstBytes); // ... and never exceeded
  });

  it('repairs a lossy link in full: 10 % of the packets asked for once, each resent', () => {
    const r = new ResendBudget();
    let asked = 0;
    let resent = 0;
    for (let i = 0; i < 5000; i++) {
      r.sent(i & 0xffff, 800 + (i % 400));
      if (i % 10 === 5) {
        asked++;
        resent += r.resend([(i - 3) & 0xffff], i).length;
      }
    }
    expect(resent).toBe(asked);
  });

  it('looks at the first MAX_NACK_ENTRIES entries of a NACK only', () => {
    const r = sent(RESEND_HISTORY, 10);
    const junk = Array.from({ length: MAX_NACK_ENTRIES }, () => 60_000);
    expect(r.resend([...junk, 5], 0)).toEqual([]);
    expect(r.resend([5, ...junk], 0)).toEqual([5]);
  });

  it('wraps with the 16-bit sequence numbers', () => {
    const r = sent(20, 100, 0xfff6);
    expect(r.resend([0xfffe, 0xffff, 0, 9], 0)).toEqual([0xfffe, 0xffff, 0, 9]);
  });
});
