import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import {
  decodeLevels,
  decodePacked,
  decodeRle,
  encodeLevels,
  encodePacked,
  encodeRle,
  LEVEL_CODING,
  packedLength,
  rleLength,
} from './level-coding.js';

const runs = (...rs: [number, number][]) => Uint8Array.from(rs.flatMap(([v, n]) => new Array<number>(n).fill(v)));

describe('packed coding', () => {
  it('uses 3 bits per symbol', () => {
    expect(packedLength(8)).toBe(3);
    expect(packedLength(2400)).toBe(900);
    // 0b001 at bit 0, 0b111 at bit 3, 0b100 at bit 6 (spans bytes 0 and 1).
    expect(Array.from(encodePacked(Uint8Array.from([1, 7, 4])))).toEqual([0b00111001, 0b1]);
  });
  it('round-trips every symbol at every bit offset', () => {
    const levels = Uint8Array.from({ length: 67 }, (_, i) => (i * 5) % 8);
    expect(decodePacked(encodePacked(levels), 67)).toEqual(levels);
  });
  it('rejects wrong lengths and non-zero padding', () => {
    expect(() => decodePacked(new Uint8Array(2), 8)).toThrow(ProtocolError);
    expect(() => decodePacked(new Uint8Array(4), 8)).toThrow(ProtocolError);
    expect(() => decodePacked(Uint8Array.from([0, 0b10000000]), 4)).toThrow(/padding/);
  });
});

describe('run-length coding', () => {
  it('codes runs up to 31 in one byte and longer runs with a varint', () => {
    expect(Array.from(encodeRle(runs([3, 31])))).toEqual([(3 << 5) | 30]);
    expect(Array.from(encodeRle(runs([2, 32])))).toEqual([(2 << 5) | 31, 0]);
    expect(Array.from(encodeRle(runs([0, 2400])))).toEqual([31, (2368 & 0x7f) | 0x80, 2368 >> 7]);
    expect(rleLength(runs([0, 2400], [1, 3]))).toBe(4);
  });
  it('round-trips mixed runs', () => {
    const levels = runs([0, 500], [1, 1], [2, 40], [7, 2], [4, 129], [0, 1000]);
    expect(decodeRle(encodeRle(levels), levels.length)).toEqual(levels);
  });
  it('rejects runs that overshoot, fall short or have bytes left over', () => {
    const bytes = encodeRle(runs([0, 40]));
    expect(() => decodeRle(bytes, 39)).toThrow(/more than/);
    expect(() => decodeRle(bytes, 41)).toThrow(/covers 40 of 41/);
    expect(() => decodeRle(Uint8Array.from([...bytes, 0]), 40)).toThrow(/after/);
    expect(() => decodeRle(Uint8Array.from([31, 0x80, 0x80, 0x80]), 5000)).toThrow(/too long/);
    expect(() => decodeRle(Uint8Array.from([31, 0x80]), 5000)).toThrow(/cut short/);
  });
});

describe('choosing a coding', () => {
  it('sends clustered maps as runs and scattered maps packed', () => {
    expect(encodeLevels(runs([0, 2000], [3, 400])).coding).toBe(LEVEL_CODING.rle);
    const scattered = Uint8Array.from({ length: 2400 }, (_, i) => i % 5);
    const { coding, bytes } = encodeLevels(scattered);
    expect(coding).toBe(LEVEL_CODING.packed);
    expect(bytes.length).toBe(900);
    expect(decodeLevels(coding, bytes, 2400)).toEqual(scattered);
  });
});
