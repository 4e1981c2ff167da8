import { decodeTwcc, encodeTwcc, type TwccFeedback } from '@mmsc/codec';
import { describe, expect, it } from 'vitest';
import { TwccRecorder } from './twcc-recorder.js';

/** Each sequence number a feedback list covers, with its absolute arrival (µs) or null, after a trip over the wire. */
function covered(fbs: TwccFeedback[]): [number, number | null][] {
  return fbs.flatMap((f) => {
    const d = decodeTwcc(encodeTwcc(f));
    return d.packets.map((t, i): [number, number | null] => [(d.baseSeq + i) & 0xffff, t === null ? null : t + d.referenceTime * 64_000]);
  });
}

describe('TwccRecorder', () => {
  it('covers every number from the first packet to the highest, the missing ones as not received', () => {
    const r = new TwccRecorder();
    expect(r.feedback(1, 2)).toEqual([]);
    r.packet(10, 1_000_000);
    r.packet(11, 1_001_000);
    r.packet(13, 1_003_000); // 12 lost
    r.packet(15, 1_002_500); // 14 lost; arrivals need not grow with the numbers
    expect(r.pending).toBe(4);
    const [f, ...rest] = r.feedback(1, 2);
    expect(rest).toEqual([]);
    // The reference time is the first arrival rounded down to 64 ms: 1 000 000 µs → 15 × 64 ms = 960 000.
    expect(f).toEqual({
      senderSsrc: 1,
      mediaSsrc: 2,
      baseSeq: 10,
      referenceTime: 15,
      fbCount: 0,
      packets: [40_000, 41_000, null, 43_000, null, 42_500],
    });
    expect(r.pending).toBe(0);
    expect(r.feedback(1, 2)).toEqual([]);
  });

  it('the next feedback starts where the last one ended; a number already covered is not reported again', () => {
    const r = new TwccRecorder();
    r.packet(100, 0);
    r.packet(102, 2000);
    expect(covered(r.feedback(1, 2)).map(([s]) => s)).toEqual([100, 101, 102]);
    r.packet(101, 3000); // reported lost already: stays so
    r.packet(105, 5000);
    const [f] = r.feedback(1, 2);
    expect(f?.fbCount).toBe(1);
    expect(covered(f ? [f] : [])).toEqual([
      [103, null],
      [104, null],
      [105, 5000],
    ]);
    expect(r.stats).toMatchObject({ recorded: 3, late: 1, duplicates: 0, feedbacks: 2 });
  });

  it('follows the numbers across 65535 → 0', () => {
    const r = new TwccRecorder();
    const seqs = [65_533, 65_534, 65_535, 0, 2, 3];
    for (const [i, s] of seqs.entries()) r.packet(s, 64_000 + i * 1000);
    expect(covered(r.feedback(7, 8))).toEqual([
      [65_533, 64_000],
      [65_534, 65_000],
      [65_535, 66_000],
      [0, 67_000],
      [1, null],
      [2, 68_000],
      [3, 69_000],
    ]);
  });

  it('keeps the first arrival of a duplicate, and starts over after a jump back past the gap', () => {
    const r = new TwccRecorder({ restartGap: 100 });
    r.packet(500, 0);
    r.packet(500, 9000);
    expect(covered(r.feedback(1, 2))).toEqual([[500, 0]]);
    r.packet(450, 1000); // 51 behind: late
    r.packet(300, 2000); // 201 behind: a restart
    r.packet(301, 3000);
    expect(covered(r.feedback(1, 2))).toEqual([
      [300, 2000],
      [301, 3000],
    ]);
    expect(r.stats).toMatchObject({ duplicates: 1, late: 1, restarts: 1 });
  });

  it('cuts long stretches into feedback packets the wire can carry, counting each', () => {
    const r = new TwccRecorder({ maxStatuses: 50, maxReceived: 20 });
    // 120 numbers, every third lost: 80 received; 20 ms apart, then one 9 s later.
    for (let s = 0; s < 120; s++) if (s % 3 !== 2) r.packet(s, s * 20_000);
    r.packet(120, 120 * 20_000 + 9_000_000);
    const fbs = r.feedback(1, 2);
    expect(fbs.length).toBeGreaterThanOrEqual(5);
    expect(fbs.map((f) => f.fbCount)).toEqual(fbs.map((_, i) => i));
    for (const f of fbs) {
      expect(f.packets.length).toBeLessThanOrEqual(50);
      expect(f.packets.filter((t) => t !== null).length).toBeLessThanOrEqual(20);
    }
    const all = covered(fbs);
    expect(all.map(([s]) => s)).toEqual(Array.from({ length: 121 }, (_, s) => s));
    for (const [s, t] of all) {
      if (s % 3 === 2 && s < 120) expect(t).toBeNull();
      else expect(Math.abs((t as number) - (s * 20_000 + (s === 120 ? 9_000_000 : 0)))).toBeLessThanOrEqual(125);
    }
  });
});
