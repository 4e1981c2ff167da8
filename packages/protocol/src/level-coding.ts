import { ProtocolError } from './errors.js';

/**
 * Level maps travel in one of two codings; the encoder sends whichever is shorter.
 * - PACKED: 3 bits per symbol, LSB-first, zero padding — for scattered maps.
 * - RLE: runs of one symbol — for the clustered maps query-driven allocation produces.
 * See PROTOCOL.md § Level maps.
 */
export const LEVEL_CODING = { packed: 0, rle: 1 } as const;
export type LevelCoding = (typeof LEVEL_CODING)[keyof typeof LEVEL_CODING];

const SHORT_RUN_MAX = 31; // runs 1..31 fit the 5-bit field; 31 means "32 + varint follows"
const MAX_VARINT_BYTES = 3;

export function packedLength(count: number): number {
  return Math.ceil((count * 3) / 8);
}

export function encodePacked(levels: Uint8Array): Uint8Array {
  const out = new Uint8Array(packedLength(levels.length));
  for (let i = 0; i < levels.length; i++) {
    const bit = i * 3;
    const v = (levels[i] as number) & 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    out[byte] = (out[byte] as number) | ((v << shift) & 0xff);
    if (shift > 5) out[byte + 1] = (out[byte + 1] as number) | (v >> (8 - shift));
  }
  return out;
}

export function decodePacked(bytes: Uint8Array, count: number): Uint8Array {
  if (bytes.length !== packedLength(count)) {
    const code = bytes.length < packedLength(count) ? 'truncated' : 'bad-level-coding';
    throw new ProtocolError(code, `packed level map of ${count} symbols needs ${packedLength(count)} bytes, got ${bytes.length}`, 'levels');
  }
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = i * 3;
    const byte = bit >> 3;
    const shift = bit & 7;
    let v = (bytes[byte] as number) >> shift;
    if (shift > 5) v |= (bytes[byte + 1] as number) << (8 - shift);
    out[i] = v & 7;
  }
  const usedBits = count * 3;
  if (usedBits & 7 && (bytes[bytes.length - 1] as number) >> (usedBits & 7)) {
    throw new ProtocolError('bad-level-coding', 'non-zero padding bits in packed level map', 'levels');
  }
  return out;
}

function runTokenLength(run: number): number {
  if (run <= SHORT_RUN_MAX) return 1;
  let rest = run - 32;
  let n = 2;
  while (rest >= 0x80) {
    rest >>>= 7;
    n++;
  }
  return n;
}

/** Exact RLE size without allocating, so the framer can size parts cheaply. */
export function rleLength(levels: Uint8Array, start = 0, end = levels.length): number {
  let n = 0;
  let i = start;
  while (i < end) {
    const v = levels[i];
    let j = i + 1;
    while (j < end && levels[j] === v) j++;
    n += runTokenLength(j - i);
    i = j;
  }
  return n;
}

export function encodeRle(levels: Uint8Array): Uint8Array {
  const out = new Uint8Array(rleLength(levels));
  let o = 0;
  let i = 0;
  while (i < levels.length) {
    const v = (levels[i] as number) & 7;
    let j = i + 1;
    while (j < levels.length && levels[j] === levels[i]) j++;
    const run = j - i;
    if (run <= SHORT_RUN_MAX) {
      out[o++] = (v << 5) | (run - 1);
    } else {
      out[o++] = (v << 5) | SHORT_RUN_MAX;
      let rest = run - 32;
      while (rest >= 0x80) {
        out[o++] = (rest & 0x7f) | 0x80;
        rest >>>= 7;
      }
      out[o++] = rest;
    }
    i = j;
  }
  return out;
}

export function decodeRle(bytes: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  let o = 0;
  let i = 0;
  while (i < bytes.length) {
    if (o >= count) throw new ProtocolError('bad-level-coding', `RLE level map has bytes after its ${count} symbols`, 'levels');
    const t = bytes[i++] as number;
    const v = t >> 5;
    let run = (t & 31) + 1;
    if ((t & 31) === SHORT_RUN_MAX) {
      let rest = 0;
      let shift = 0;
      for (let k = 0; ; k++) {
        if (k === MAX_VARINT_BYTES) throw new ProtocolError('bad-level-coding', 'RLE run length varint too long', 'levels');
        if (i >= bytes.length) throw new ProtocolError('truncated', 'RLE run length varint cut short', 'levels');
        const b = bytes[i++] as number;
        rest |= (b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
      }
      run = 32 + rest;
    }
    if (o + run > count) throw new ProtocolError('bad-level-coding', `RLE runs cover more than ${count} symbols`, 'levels');
    out.fill(v, o, o + run);
    o += run;
  }
  if (o < count) throw new ProtocolError('truncated', `RLE level map covers ${o} of ${count} symbols`, 'levels');
  return out;
}

/** Picks the shorter coding (ties go to PACKED, which is cheaper to decode). */
export function encodeLevels(levels: Uint8Array): { coding: LevelCoding; bytes: Uint8Array } {
  if (rleLength(levels) < packedLength(levels.length)) return { coding: LEVEL_CODING.rle, bytes: encodeRle(levels) };
  return { coding: LEVEL_CODING.packed, bytes: encodePacked(levels) };
}

export function decodeLevels(coding: number, bytes: Uint8Array, count: number): Uint8Array {
  if (coding === LEVEL_CODING.packed) return decodePacked(bytes, count);
  if (coding === LEVEL_CODING.rle) return decodeRle(bytes, count);
  throw new ProtocolError('bad-level-coding', `unknown level coding ${coding}`, 'levelCoding');
}
