import { describe, expect, it } from 'vitest';
import { TrackArrivals, unwrapSeq } from './track-arrivals.js';

const packets = (from: number, n: number, bytes = 1000) => Array.from({ length: n }, (_, i) => ({ tseq: (from + i) & 0xffff, bytes }));

describe('TrackArrivals', () => {
  it('completes a picture once all its packets are reported: bytes that arrived, losses, first and last arrival', () => {
    const t = new TrackArrivals();
    t.sent(7, packets(100, 4), 1.0);
    expect(t.feedback(100, [10, 11])).toEqual([]);
    const [a] = t.feedback(102, [null, 14]);
    expect(a).toEqual({ frameId: 7, sentAt: 1.0, bytes: 3000, packets: 4, lost: 1, firstAtMs: 10, lastAtMs: 14, trailingBytes: 2000 });
  });

  it('gives pictures in order, across the 16-bit wrap', () => {
    const t = new TrackArrivals();
    t.sent(1, packets(65534, 2), 0);
    t.sent(2, packets(0, 2), 0.1);
    expect(t.feedback(65534, [1, 2, 5]).map((a) => a.frameId)).toEqual([1]); // picture 2 is not all reported yet
    expect(t.feedback(1, [6]).map((a) => [a.frameId, a.firstAtMs, a.lastAtMs])).toEqual([[2, 5, 6]]);
  });

  it('keeps the first report of a packet, ignores unknown sequence numbers', () => {
    const t = new TrackArrivals();
    t.sent(1, packets(10, 2), 0);
    t.feedback(10, [3]);
    const [a] = t.feedback(9, [99, 88, 4, 77, 66]); // 9 and 12, 13 were never sent
    expect(a?.firstAtMs).toBe(3);
    expect(a?.lastAtMs).toBe(4);
  });

  it('gives up a picture once a later one is accounted for (the feedback that covered it was lost)', () => {
    const t = new TrackArrivals();
    t.sent(0, packets(0, 2), 0);
    t.sent(1, packets(2, 2), 0.1);
    t.sent(2, packets(4, 2), 0.2);
    expect(t.feedback(0, [1])).toEqual([]); // half of picture 0: it waits
    const out = t.feedback(3, [4, 5]); // seq 1 and 2 were in a lost feedback packet
    expect(out.map((a) => a.frameId)).toEqual([]);
    expect(t.feedback(5, [6]).map((a) => a.frameId)).toEqual([2]);
    expect(t.unreported).toBe(2);
    expect(t.historyLength()).toEqual({ pictures: 0, packets: 0 });
  });

  it('a picture with every packet lost has no arrival times', () => {
    const t = new TrackArrivals();
    t.sent(3, packets(50, 2), 0);
    expect(t.feedback(50, [null, null])).toEqual([
      { frameId: 3, sentAt: 0, bytes: 0, packets: 2, lost: 2, firstAtMs: null, lastAtMs: null, trailingBytes: 0 },
    ]);
  });

  it('stays bounded when no feedback ever comes', () => {
    const t = new TrackArrivals();
    for (let k = 0; k < 10_000; k++) t.sent(k, packets(k * 3, 3), k / 10);
    expect(t.historyLength().pictures).toBeLessThanOrEqual(256);
    expect(t.historyLength().packets).toBeLessThanOrEqual(3 * 256);
  });

  it('unwraps a 16-bit sequence number to the one nearest', () => {
    expect(unwrapSeq(2, 65534)).toBe(65538);
    expect(unwrapSeq(65534, 65538)).toBe(65534);
    expect(unwrapSeq(100, 100)).toBe(100);
  });
});
