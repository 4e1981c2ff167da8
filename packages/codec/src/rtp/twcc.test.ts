import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTwcc,
  encodeTwcc,
  type ParsedTwccChunk,
  TwccError,
  type TwccErrorCode,
  type TwccFeedback,
  twccArrivals,
  twccChunks,
} from './twcc.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const fb = (packets: (number | null)[], o: Partial<TwccFeedback> = {}): TwccFeedback => ({
  senderSsrc: 1,
  mediaSsrc: 0xabcd,
  baseSeq: 100,
  referenceTime: 5,
  fbCount: 7,
  packets,
  ...o,
});
/** Receive times from deltas in 250 µs units (null: not received). */
function fromSteps(steps: readonly (number | null)[]): (number | null)[] {
  let t = 0;
  return steps.map((s) => {
    if (s === null) return null;
    t += s * 250;
    return t;
  });
}
const code = (f: () => unknown): TwccErrorCode | string => {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof TwccError ? e.code : `not a TwccError: ${String(e)}`;
  }
};

// Packets worked out by hand from the draft's layout (section 3.1): header V=2 P FMT=15 | PT=205 |
// length in words − 1; sender SSRC; media SSRC; base seq | status count; reference time (24) | fb
// count; chunks; deltas; padding (the P bit, the count in the last byte).
describe('encodeTwcc: golden bytes', () => {
  it('a run of three received packets: one run-length chunk, small deltas, 3 bytes of padding', () => {
    // Statuses 1,1,1 → 0|01|0000000000011 = 0x2003. Times 0, 250, 750 µs → deltas 0, 1, 2 (250 µs
    // units). 20 + 2 + 3 = 25 bytes → 3 of padding: 28 bytes, length 6, first byte 10 1 01111 = 0xaf.
    const out = encodeTwcc(fb([0, 250, 750], { baseSeq: 0xfffe }));
    expect(hex(out)).toBe(
      ['af cd 0006', '00000001', '0000abcd', 'fffe 0003', '000005 07', '2003', '00 01 02', '00 00 03'].join('').replace(/ /g, ''),
    );
  });

  it('losses, a large and a negative delta: a two-bit status vector, then a run', () => {
    // Times (µs) null, 1000, null, 100000, 99750, null, 100000, 100250 → 250 µs units 4, 400, 399,
    // 400, 401 → deltas 4 (small), 396 (large: 0x018c), −1 (large: 0xffff), 1, 1. Statuses
    // 0 1 0 2 2 0 1 | 1: the first seven mixed with large deltas → two-bit vector
    // 1 1 00 01 00 | 10 10 00 01 = 0xc4a1; the last alone → run 0|01|…0001 = 0x2001.
    // 20 + 4 + 7 = 31 bytes → 1 of padding: 32, length 7.
    const out = encodeTwcc(fb([null, 1000, null, 100_000, 99_750, null, 100_000, 100_250], { baseSeq: 0xfffc, fbCount: 255 }));
    expect(hex(out)).toBe('afcd0007' + '00000001' + '0000abcd' + 'fffc0008' + '000005ff' + 'c4a1' + '2001' + '04018cffff0101' + '01');
  });

  it('alternating small statuses fill a one-bit status vector; no padding needed', () => {
    // Received 1 1 0 1 1 0 1 1 0 1 1 0 1 1 → 1 0 | 110110 | 11011011 = 0xb6db. Times 1000 µs × index
    // → units 0 4 12 16 24 28 36 40 48 52 → deltas 0 4 8 4 8 4 8 4 8 4. 20 + 2 + 10 = 32: P clear (0x8f).
    const packets = Array.from({ length: 14 }, (_, i) => (i % 3 === 2 ? null : 1000 * i));
    const out = encodeTwcc(fb(packets, { referenceTime: -16 }));
    expect(hex(out)).toBe('8fcd0007' + '00000001' + '0000abcd' + '0064000e' + 'fffff007' + 'b6db' + '00040804080408040804');
  });
});

describe('decodeTwcc', () => {
  it('reads a Chromium-style packet: the draft’s run and status-vector examples, a two-bit vector, the P bit', () => {
    // Chunks: 0x00dd (the draft's run example: 221 not received), 0x9f1c (its status-vector example:
    // 1× not received, 5× received, 3× not, 3× received, 2× not), 0xe420 (two-bit: 2 1 0 0 2, then
    // two unused symbols). Deltas: 0x40 then 1 ms steps for the 8 small ones; −500 (0xfe0c), 8, 1000 (0x03e8).
    // 20 + 6 + 13 = 39 bytes → 1 of padding (the count, 01, in the last byte).
    const packet = bytes('af cd 0009  11223344  55667788  0064 00f0  12d687 2a  00dd 9f1c e420  40 04 04 04 04 04 04 04  fe0c 08 03e8  01');
    const d = decodeTwcc(packet);
    expect(d).toMatchObject({ senderSsrc: 0x11223344, mediaSsrc: 0x55667788, baseSeq: 100, referenceTime: 0x12d687, fbCount: 42 });
    expect(d.packets).toHaveLength(240);
    expect(d.packets.slice(0, 221).every((p) => p === null)).toBe(true);
    const ms = (v: number | null) => (v === null ? null : v / 1000);
    expect(d.packets.slice(221).map(ms)).toEqual([
      null,
      16,
      17,
      18,
      19,
      20,
      null,
      null,
      null,
      21,
      22,
      23,
      null,
      null, // 0x9f1c
      -102,
      -100,
      null,
      null,
      150, // 0xe420: 23 − 125, then + 2, then + 250
    ]);
  });

  it('reads zero padding without the P bit (the draft’s figure), and a negative reference time', () => {
    const d = decodeTwcc(bytes('8f cd 0006  00000001 00000002  0010 0003  fffff0 00  2003  04 08 0c  000000'));
    expect(d.referenceTime).toBe(-16);
    expect(d.packets).toEqual([1000, 3000, 6000]);
  });

  it('reads a run longer than the packets left (as libwebrtc does)', () => {
    expect(decodeTwcc(bytes('8f cd 0005  00000001 00000002  0010 0002  000000 00  1fff  0000')).packets).toEqual([null, null]);
  });

  it('refuses malformed packets with a typed error', () => {
    const good = encodeTwcc(fb([0, null, 250, 70_000, null]));
    expect(decodeTwcc(good).packets).toEqual([0, null, 250, 70_000, null]);
    const edit = (f: (b: Uint8Array) => void, from = good) => {
      const b = from.slice();
      f(b);
      return b;
    };
    expect(code(() => decodeTwcc(good.subarray(0, 3)))).toBe('truncated');
    expect(code(() => decodeTwcc(good.subarray(0, good.length - 4)))).toBe('truncated');
    expect(code(() => decodeTwcc(Uint8Array.of(...good, 0, 0, 0, 0)))).toBe('length');
    expect(code(() => decodeTwcc(edit((b) => (b[0] = 0x4f | ((b[0] as number) & 0x20)))))).toBe('header'); // version 1
    expect(code(() => decodeTwcc(edit((b) => (b[1] = 206))))).toBe('header');
    expect(code(() => decodeTwcc(edit((b) => (b[0] = ((b[0] as number) & 0xe0) | 1))))).toBe('header'); // a NACK
    // The header says a packet of 2 words: it ends before the fixed fields.
    expect(code(() => decodeTwcc(bytes('8f cd 0001 00000001')))).toBe('truncated');
    // Padding: the count 0, or more than the packet.
    expect(code(() => decodeTwcc(bytes('af cd 0005  00000001 00000002  0010 0001  000000 00  2001  04 00')))).toBe('padding');
    expect(code(() => decodeTwcc(bytes('af cd 0005  00000001 00000002  0010 0001  000000 00  2001  04 ff')))).toBe('padding');
    // Status 3 in a run, in a two-bit vector; an empty run; a count of zero.
    expect(code(() => decodeTwcc(bytes('8f cd 0005  00000001 00000002  0010 0001  000000 00  6001  0000')))).toBe('status');
    expect(code(() => decodeTwcc(bytes('8f cd 0005  00000001 00000002  0010 0001  000000 00  f000  0000')))).toBe('status');
    expect(code(() => decodeTwcc(bytes('8f cd 0005  00000001 00000002  0010 0001  000000 00  2000  0000')))).toBe('status');
    expect(code(() => decodeTwcc(bytes('8f cd 0005  00000001 00000002  0010 0000  000000 00  2001  0400')))).toBe('count');
    // Chunks that stop short of the count; deltas that stop short of the received packets.
    expect(code(() => decodeTwcc(bytes('af cd 0005  00000001 00000002  0010 0009  000000 00  2003  00 02')))).toBe('truncated');
    expect(code(() => decodeTwcc(bytes('8f cd 0005  00000001 00000002  0010 0003  000000 00  4003  0102')))).toBe('truncated');
    // More than alignment after the deltas.
    expect(code(() => decodeTwcc(bytes('8f cd 0006  00000001 00000002  0010 0001  000000 00  2001  04 00 00 00 00 00')))).toBe('length');
  });

  it('bounded work on any input: returns or throws a TwccError', () => {
    const start = Date.now();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.boolean(), (raw, fix) => {
        const b = raw.slice();
        if (fix && b.length >= 4) {
          // Mostly valid headers, so the chunk and delta readers are reached.
          b[0] = 0x80 | ((b[0] as number) & 0x20) | 15;
          b[1] = 205;
          b[2] = 0;
          b[3] = Math.max(0, Math.floor(b.length / 4) - 1);
        }
        try {
          decodeTwcc(fix ? b.subarray(0, ((b[3] as number) + 1) * 4) : b);
        } catch (e) {
          if (!(e instanceof TwccError)) throw e;
        }
      }),
      { numRuns: 3000, seed: 21 },
    );
    // The largest count on a short packet: no more work than the count.
    expect(code(() => decodeTwcc(bytes('af cd 0005  00000001 00000002  0010 ffff  000000 00  1fff  00 02')))).toBe('truncated');
    expect(Date.now() - start).toBeLessThan(5000);
  });
});

describe('round trips', () => {
  /** Times in 250 µs steps, so they come back exactly; consecutive received ones within ±8 s. */
  const feedback = fc
    .record({
      baseSeq: fc.integer({ min: 0, max: 0xffff }),
      referenceTime: fc.integer({ min: -(2 ** 23), max: 2 ** 23 - 1 }),
      fbCount: fc.integer({ min: 0, max: 255 }),
      senderSsrc: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      mediaSsrc: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      steps: fc.array(fc.option(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: -32768, max: 32767 })), { freq: 4 }), {
        minLength: 1,
        maxLength: 600,
      }),
    })
    .map(({ steps, ...o }) => {
      return { ...o, packets: fromSteps(steps) };
    });

  it('decode(encode(x)) is x: random losses, large and negative deltas, any base sequence number', () => {
    fc.assert(
      fc.property(feedback, (f) => {
        const out = encodeTwcc(f);
        expect(out.length % 4).toBe(0);
        expect(decodeTwcc(out)).toEqual(f);
      }),
      { numRuns: 400, seed: 21 },
    );
  });

  it('long runs of one status in 13-bit run-length chunks; the count wraps past 65535 from the base', () => {
    const packets = [0, ...Array<null>(20_000).fill(null), 250, ...Array.from({ length: 9000 }, (_, i) => 500 + i * 250)];
    const out = encodeTwcc(fb(packets, { baseSeq: 60_000 }));
    // A one-bit vector (the first and 13 losses), runs of 8191, 8191 and 3605 losses, runs of 8191
    // and 810 received: 6 chunks, then 9002 one-byte deltas.
    expect(out.length).toBe(20 + 2 * 6 + 9002 + 2);
    const d = decodeTwcc(out);
    expect(d.baseSeq).toBe(60_000);
    expect(d.packets).toEqual(packets);
  });

  it('rounds times to 250 µs without the error adding up', () => {
    const times = Array.from({ length: 200 }, (_, i) => i * 333.3);
    const d = decodeTwcc(encodeTwcc(fb(times)));
    d.packets.forEach((t, i) => {
      expect(Math.abs((t as number) - (times[i] as number))).toBeLessThanOrEqual(125);
    });
  });

  it('refuses what the wire cannot carry', () => {
    expect(code(() => encodeTwcc(fb([])))).toBe('range');
    expect(code(() => encodeTwcc(fb(Array(0x10000).fill(null))))).toBe('range');
    expect(code(() => encodeTwcc(fb([0, 8_200_000])))).toBe('range'); // 8.2 s after the previous one
    expect(code(() => encodeTwcc(fb([-8_200_000])))).toBe('range');
    expect(code(() => encodeTwcc(fb([Number.NaN])))).toBe('range');
    expect(code(() => encodeTwcc(fb([0], { baseSeq: 0x10000 })))).toBe('range');
    expect(code(() => encodeTwcc(fb([0], { referenceTime: 2 ** 23 })))).toBe('range');
    expect(code(() => encodeTwcc(fb([0], { fbCount: 256 })))).toBe('range');
    expect(code(() => encodeTwcc(fb([0], { senderSsrc: -1 })))).toBe('range');
    expect(code(() => encodeTwcc(fb([0, 8_000_000])))).toBe('no error');
  });
});

describe('twccChunks', () => {
  const statuses = (...s: number[]) => Uint8Array.from(s);
  it('a run for repeats, a one-bit vector for alternating small deltas, two-bit with large ones', () => {
    expect(twccChunks(statuses(...Array(30).fill(1)))).toEqual([0x2000 | 30]);
    expect(twccChunks(statuses(...Array(8191).fill(0), 0))).toEqual([0x1fff, 0x0001]);
    expect(twccChunks(statuses(1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0))).toEqual([0b1010_1010_1010_1010]);
    expect(twccChunks(statuses(2, 0))).toEqual([0b11_10_00_00_0000_0000]);
    // Ten received then a loss: the ten and the loss share a one-bit vector (cheaper than a run and a run).
    expect(twccChunks(statuses(...Array(10).fill(1), 0))).toEqual([0x8000 | (0x3ff << 4)]);
    // Twenty received then a loss: a run, then the loss.
    expect(twccChunks(statuses(...Array(20).fill(1), 0))).toEqual([0x2000 | 20, 0x0001]);
  });
});

describe('twccArrivals', () => {
  it('gives the decoder’s times from parsed chunks and deltas (run lengths and both vector kinds)', () => {
    const parsed = {
      packetStatusCount: 12,
      packetChunks: [
        { packetStatus: 1, runLength: 2 },
        { symbolSize: 1, symbolList: [2, 0, 2, 1, 0, 0, 0] },
        { symbolSize: 0, symbolList: [0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, // 3 of its 14 used
      ],
      recvDeltas: [1000, 250, -2000, 70_000, 250, 500, 0].map((delta) => ({ delta })),
    };
    expect(twccArrivals(parsed)).toEqual([1000, 1250, -750, null, 69_250, 69_500, null, null, null, null, 70_000, 70_000]);
  });

  it('agrees with decodeTwcc on random packets whose chunks are listed as a parser lists them', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.integer({ min: -32768, max: 32767 }), { freq: 3 }), { minLength: 1, maxLength: 200 }), (steps) => {
        const packets = fromSteps(steps);
        const out = encodeTwcc(fb(packets));
        // A parser's view of the chunks, from the bytes (as werift's does).
        const view = new DataView(out.buffer);
        const packetChunks: ParsedTwccChunk[] = [];
        for (let pos = 20, n = 0; n < packets.length; pos += 2) {
          const c = view.getUint16(pos);
          if (!(c & 0x8000)) {
            packetChunks.push({ packetStatus: (c >> 13) & 3, runLength: c & 0x1fff });
            n += c & 0x1fff;
          } else {
            const two = (c & 0x4000) !== 0;
            const symbolList = Array.from({ length: two ? 7 : 14 }, (_, i) => (two ? (c >> (12 - 2 * i)) & 3 : (c >> (13 - i)) & 1));
            packetChunks.push({ symbolSize: two ? 1 : 0, symbolList });
            n += symbolList.length;
          }
        }
        const recvDeltas: { delta: number }[] = [];
        let prev = 0;
        for (const p of packets) {
          if (p === null) continue;
          recvDeltas.push({ delta: p - prev });
          prev = p;
        }
        expect(twccArrivals({ packetStatusCount: packets.length, packetChunks, recvDeltas })).toEqual(decodeTwcc(out).packets);
      }),
      { numRuns: 200, seed: 21 },
    );
  });

  it('refuses chunks or deltas that do not cover the count', () => {
    expect(code(() => twccArrivals({ packetStatusCount: 3, packetChunks: [{ packetStatus: 0, runLength: 2 }], recvDeltas: [] }))).toBe(
      'count',
    );
    expect(
      code(() => twccArrivals({ packetStatusCount: 2, packetChunks: [{ packetStatus: 1, runLength: 2 }], recvDeltas: [{ delta: 1 }] })),
    ).toBe('count');
    expect(code(() => twccArrivals({ packetStatusCount: 1, packetChunks: [{ packetStatus: 3, runLength: 1 }], recvDeltas: [] }))).toBe(
      'status',
    );
    expect(code(() => twccArrivals({ packetStatusCount: 0, packetChunks: [], recvDeltas: [] }))).toBe('count');
  });
});
