import { encodeTwcc } from '@mmsc/codec';
import { describe, expect, it } from 'vitest';
import { defaultLimits } from './limits.js';
import { MIN_FEEDBACK_CHARGE, RtcpBudget, type RtcpLimits } from './rtcp-budget.js';

/** One RTCP packet: count/FMT, PT and a body of `words` 32-bit words (random-ish content). */
function packet(fmt: number, pt: number, words: number): Uint8Array {
  const out = new Uint8Array(4 + 4 * words).map((_, i) => (i * 37) & 0xff);
  out[0] = 0x80 | fmt;
  out[1] = pt;
  out[2] = words >> 8;
  out[3] = words & 0xff;
  return out;
}
const rr = () => packet(1, 201, 7);
const nack = () => packet(1, 205, 3);
const pli = () => packet(1, 206, 2);
const twcc = (count: number) =>
  encodeTwcc({
    senderSsrc: 1,
    mediaSsrc: 2,
    baseSeq: 100,
    referenceTime: 5,
    fbCount: 0,
    packets: Array.from({ length: count }, () => null),
  });
const join = (...ps: Uint8Array[]) => Uint8Array.from(ps.flatMap((p) => [...p]));

const limits = (o: Partial<RtcpLimits> = {}): RtcpLimits => ({ ...defaultLimits(), ...o });

describe('RtcpBudget', () => {
  it('passes a compound without feedback on as it is, and takes transport-wide feedback out of one', () => {
    const b = new RtcpBudget(limits());
    const plain = join(rr(), nack(), pli());
    expect(b.sort(plain, 0)).toEqual({ rest: plain, feedback: [] });
    const fb = twcc(30);
    const mixed = b.sort(join(rr(), fb, pli()), 0);
    expect([...mixed.rest]).toEqual([...join(rr(), pli())]);
    expect(mixed.feedback.map((f) => [...f])).toEqual([[...fb]]);
    expect(b.sort(fb, 0)).toEqual({ rest: new Uint8Array(0), feedback: [fb] });
    expect(b.counters).toEqual({ overBudget: 0, malformed: 0, feedbackDropped: 0 });
  });

  it('cuts off a tail that does not walk: a length past the end, or not version 2', () => {
    const b = new RtcpBudget(limits());
    const long = rr();
    long[3] = 200; // 200 words, 7 there
    expect([...b.sort(join(pli(), long), 0).rest]).toEqual([...pli()]);
    const v1 = nack();
    v1[0] = 0x41;
    expect([...b.sort(join(pli(), v1, rr()), 0).rest]).toEqual([...pli()]);
    expect(b.sort(Uint8Array.of(0x80, 201), 0).rest).toHaveLength(0); // shorter than a header
    expect(b.counters.malformed).toBe(3);
  });

  it('drops whole compounds over the byte budget, and takes them again as the budget refills', () => {
    const b = new RtcpBudget(limits({ rtcpBytesPerSecond: 1000, rtcpBurstBytes: 1000 }));
    const p = join(rr(), nack()); // 48 bytes
    const taken = Array.from({ length: 40 }, () => b.sort(p, 0).rest.length > 0).filter(Boolean).length;
    expect(taken).toBe(Math.floor(1000 / p.length));
    expect(b.counters.overBudget).toBe(40 - taken);
    // 1000 − 20 × 48 = 40 bytes left; 5 ms refills 5: not enough, 100 ms is.
    expect(b.sort(p, 0.005).rest).toHaveLength(0);
    expect(b.sort(p, 0.1).rest).toEqual(p);
  });

  it('charges feedback by the packets it reports on, at least MIN_FEEDBACK_CHARGE each, before reading it', () => {
    const b = new RtcpBudget(limits({ feedbackReportsPerSecond: 1000, feedbackReportsBurst: 0x10000 }));
    // One maximal report (65,535 packets in 40 bytes) takes nearly the whole burst ...
    expect(b.sort(twcc(0xffff), 0).feedback).toHaveLength(1);
    expect(b.sort(twcc(0xffff), 0).feedback).toHaveLength(0);
    expect(b.counters.feedbackDropped).toBe(1);
    // ... and after a second, small reports are charged MIN_FEEDBACK_CHARGE each: 1001 tokens, 15 of them.
    const small = Array.from({ length: 40 }, () => b.sort(twcc(3), 1).feedback.length).reduce((s, n) => s + n, 0);
    expect(small).toBe(Math.floor((1000 + 1) / MIN_FEEDBACK_CHARGE));
    // Other packets in the compound go on even when its feedback is dropped.
    expect([...b.sort(join(twcc(3), pli()), 1).rest]).toEqual([...pli()]);
  });

  it('bounded work on any bytes: returns, never throws, keeps only whole packets', () => {
    const b = new RtcpBudget(limits());
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 500; i++) {
      const bytes = Uint8Array.from({ length: rnd() % 200 }, () => rnd() & 0xff);
      if (i % 2 === 0 && bytes.length > 0) bytes[0] = 0x80 | ((bytes[0] as number) & 0x3f);
      const { rest, feedback } = b.sort(bytes, i);
      expect(rest.length + feedback.reduce((s, f) => s + f.length, 0)).toBeLessThanOrEqual(bytes.length);
      expect(rest.length % 4).toBe(0);
    }
  });
});
