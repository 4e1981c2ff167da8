import { describe, expect, it } from 'vitest';
import { fromBase64, isBase64, toBase64 } from './base64.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('base64', () => {
  // RFC 4648 §10 test vectors.
  it.each([
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ])('%j is %j', (plain, coded) => {
    expect(toBase64(ascii(plain))).toBe(coded);
    expect(fromBase64(coded)).toEqual(ascii(plain));
  });

  it('uses + and / for 62 and 63, and round-trips every byte value', () => {
    expect(toBase64(Uint8Array.of(0xfb, 0xff))).toBe('+/8=');
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromBase64(toBase64(all))).toEqual(all);
  });

  it.each([
    ['a length not a multiple of 4', 'Zm9'],
    ['a character outside the alphabet', 'Zm9-'],
    ['padding in the middle', 'Zg==Zm9v'],
    ['three padding characters', 'Z==='],
    ['whitespace', 'Zm9v Zg=='],
  ])('refuses %s', (_, text) => {
    expect(isBase64(text)).toBe(false);
    expect(() => fromBase64(text)).toThrow(/base64/);
  });
});
