import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './load-model.js';
import { sha256 } from './sha256.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('sha256 (plain JS, for browsers without WebCrypto)', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(hex(sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('matches node:crypto on every length around the block boundaries and on a large input', () => {
    for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 1 << 20]) {
      const data = new Uint8Array(randomBytes(n));
      expect(hex(sha256(data)), `length ${n}`).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('is what sha256Hex falls back to when crypto.subtle is missing (insecure browser contexts)', async () => {
    const data = new Uint8Array(randomBytes(5000));
    const expected = createHash('sha256').update(data).digest('hex');
    const subtle = Object.getOwnPropertyDescriptor(globalThis.crypto, 'subtle');
    Object.defineProperty(globalThis.crypto, 'subtle', { value: undefined, configurable: true });
    try {
      expect(await sha256Hex(data)).toBe(expected);
    } finally {
      if (subtle) Object.defineProperty(globalThis.crypto, 'subtle', subtle);
      else Reflect.deleteProperty(globalThis.crypto, 'subtle');
    }
    expect(await sha256Hex(data)).toBe(expected);
  });
});
