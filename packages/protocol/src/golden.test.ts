import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GOLDEN_CTX, GOLDEN_FRAME, GOLDEN_MESSAGES, GOLDEN_SPLIT, type GoldenHex, toHex } from './fixtures/golden-inputs.js';
import { decodeMessage, encodeMessage, type FrameMessage, MESSAGE_TYPES, splitFrame } from './index.js';

// Golden wire vectors: fixed inputs (fixtures/golden-inputs.ts) and their exact bytes
// (fixtures/golden.json). Encoding must give those bytes and decoding them must give the inputs, so
// a bug made symmetrically in the encoder and the decoder cannot pass. To change the wire on
// purpose, see fixtures/update-golden.ts; nothing here rewrites the fixture.

const golden = JSON.parse(readFileSync(new URL('./fixtures/golden.json', import.meta.url), 'utf8')) as GoldenHex;
const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const hex = (name: string) => golden[name] as string;
const parts = () => golden['frame.parts'] as string[];

// Worked out by hand from the msgpack spec and PROTOCOL.md, not from the encoder, so a regenerated
// golden.json that drifted from the spec still fails here. Byte groups are annotated.
/** Hex of the bytes from..to-1, for payloads that count up. */
const bytes = (from: number, to: number) => toHex(Uint8Array.from({ length: to - from }, (_, i) => from + i));
const f64 = { '1000.5': 'cb408f440000000000', '1040.25': 'cb4090410000000000' };
// 1000.5 = 1.1111010001b × 2⁹: sign 0, exponent 1023+9 = 0x408, fraction 1111 0100 01… = f44…
// 1040.25 = (1 + 2⁻⁶ + 2⁻¹²) × 2¹⁰: exponent 0x409, fraction bits 6 and 12 set = 041…
const HAND: Record<string, string> = {
  // [1, 16, "q1", "café"]: fixarray(4), version 1, tag 16 = 0x10, fixstr(2) "q1", fixstr(5) — é is c3 a9 in UTF-8
  query: '94 01 10 a2 7131 a5 636166c3a9',
  // [1, 17, 7, 300, 2, 1040.25]: fixarray(6), tag 17 = 0x11, 300 needs uint16 (cd 012c), receiveTs float64
  feedback: `96 01 11 07 cd012c 02 ${f64['1040.25']}`,
  // [1, 127, "busy", "try later", "q1"]: tag 127 is the largest positive fixint (7f)
  error: '95 01 7f a4 62757379 a9 747279206c61746572 a2 7131',
  // [1, 5, 9, 1000.5, 300, 0, 2, true, bin(00 00 00 01 67)]: fixarray(9), tag 5, key is true = c3,
  // the data an SPS NAL header after its start code
  video: `99 01 05 09 ${f64['1000.5']} cd012c 00 02 c3 c405 0000000167`,
  // [1, 7, 9, 1000.5, 300, true, 90000, 280]: fixarray(8), tag 7, key c3, 90000 = 0x15f90 needs
  // uint32 (ce 00015f90), 280 uint16 (cd 0118)
  picture: `98 01 07 09 ${f64['1000.5']} cd012c c3 ce00015f90 cd0118`,
  // [1, 6, 7, bin(03 01 02 aa)]: fixarray(4), tag 6, three Rice parameters then one byte of residuals
  base: '94 01 06 07 c404 030102aa',
  // [1, 4, "q2", "cat, no dog", false, [["cat", [["cat", 1]], 2], ["dog", [["dog", 1]], 1]], []]:
  // fixarray(7), tag 4, fixstr(11), false = c2, words fixarray(2), each word fixarray(3): fixstr(3),
  // classes fixarray(1) of fixarray(2) [name, 1], then its flags (2: not in view; 1: negated) as
  // positive fixints; ungrounded empty fixarray (90)
  'grounding.flags':
    '97 01 04 a2 7132 ab 6361742c206e6f20646f67 c2 92 93 a3 636174 91 92 a3 636174 01 02 93 a3 646f67 91 92 a3 646f67 01 01 90',
  // [1, 4, "q3", "red car on the left", false, [["car", [["car", 1]], 0, ["red", "left"]]], []]:
  // fixarray(7), tag 4, fixstr(2), fixstr(19) = b3, false c2; words fixarray(1) of fixarray(4): the
  // word, its classes, flags 0 (none set), then the modifiers fixarray(2) of fixstr(3) and fixstr(4)
  'grounding.modifiers':
    '97 01 04 a2 7133 b3 72656420636172206f6e20746865206c656674 c2 91 94 a3 636172 91 92 a3 636172 01 00 92 a3 726564 a4 6c656674 90',
  // [1, 18, "decode-error"]: fixarray(3), tag 18 = 0x12, fixstr(12)
  refresh: '93 01 12 ac 6465636f64652d6572726f72',
  // [1, 19, true, 500000]: fixarray(4), tag 19 = 0x13, true c3, 500000 = 0x0007a120 as uint32 (ce)
  view: '94 01 13 c3 ce 0007a120',
  // [1, 2, 8, 1000.5, 64, 0, 1, 198, 2, 0, bin(09), bin(30..47)]: one part of one; a tie between
  // the codings goes to packed (0): symbols 1, 1 at bits 0-2 and 3-5 = 0b00001001 = 09.
  frame: `9c 01 02 08 ${f64['1000.5']} 40 00 01 ccc6 02 00 c401 09 c418 ${bytes(0x30, 0x48)}`,
  // Part 0 of the split frame: fixarray(12), tag 2, frameId 7, captureTs, budget 300, part 0 of 2,
  // firstPatch 0, 197 patches (uint8: cc c5), coding 1 (run-length), levelMap bin8(5):
  // 1f = symbol 0, run "32 + varint"; varint a3 01 = 0x23 + (1 << 7) = 163, so 195 skips;
  // 20 = symbol 1 run 1; 40 = symbol 2 run 1; then payload bin8(36) = 0x00..0x23.
  'frame.part0': `9c 01 02 07 ${f64['1000.5']} cd012c 00 02 00 ccc5 01 c405 1fa3012040 c424 ${bytes(0x00, 0x24)}`,
  // Part 1: part 1 of 2, firstPatch 197, 3 patches, coding 0 (packed): symbols 1, 7, 0 at bits 0-2,
  // 3-5, 6-8 LSB-first = 0b00111001 0b00000000 = 39 00 (three run tokens would cost 3 bytes);
  // payload bin8(12) = 0x24..0x2f.
  'frame.part1': `9c 01 02 07 ${f64['1000.5']} cd012c 01 02 ccc5 03 00 c402 3900 c40c ${bytes(0x24, 0x30)}`,
};
const hand = (name: string) => (HAND[name] as string).replaceAll(' ', '');

describe('golden wire vectors', () => {
  it('cover every message type', () => {
    const names = new Set(Object.keys(golden).map((k) => k.split('.')[0]));
    expect([...names].sort()).toEqual(Object.keys(MESSAGE_TYPES).sort());
  });

  it('agree with the bytes worked out by hand', () => {
    for (const name of [
      'frame',
      'video',
      'picture',
      'base',
      'grounding.flags',
      'grounding.modifiers',
      'query',
      'feedback',
      'refresh',
      'view',
      'error',
    ])
      expect(hex(name), name).toBe(hand(name));
    expect(parts()).toEqual([hand('frame.part0'), hand('frame.part1')]);
  });

  it.each(Object.keys(GOLDEN_MESSAGES))('%s: encodes to the fixture bytes', (name) => {
    expect(toHex(encodeMessage(GOLDEN_MESSAGES[name]!, GOLDEN_CTX))).toBe(hex(name));
  });

  it.each(Object.keys(GOLDEN_MESSAGES))('%s: the fixture bytes decode to the input', (name) => {
    expect(decodeMessage(fromHex(hex(name)), GOLDEN_CTX)).toEqual(GOLDEN_MESSAGES[name]);
  });

  it('frame: splitFrame makes the fixture parts', () => {
    expect(splitFrame(GOLDEN_FRAME, GOLDEN_SPLIT).map(toHex)).toEqual(parts());
  });

  it('frame: the fixture parts decode to the input frame', () => {
    const got = parts().map((h) => decodeMessage(fromHex(h), GOLDEN_CTX) as FrameMessage);
    expect(got.map((m) => [m.type, m.frameId, m.captureTs, m.budget, m.part, m.parts, m.firstPatch])).toEqual([
      ['frame', 7, 1000.5, 300, 0, 2, 0],
      ['frame', 7, 1000.5, 300, 1, 2, 197],
    ]);
    expect(Uint8Array.from(got.flatMap((m) => [...m.levels]))).toEqual(GOLDEN_FRAME.levels);
    expect(Uint8Array.from(got.flatMap((m) => [...m.payload]))).toEqual(GOLDEN_FRAME.payload);
  });
});
