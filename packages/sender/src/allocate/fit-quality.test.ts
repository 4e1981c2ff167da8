import { describe, expect, it } from 'vitest';
import { fitQuality } from './fit-quality.js';

describe('fitQuality', () => {
  it('finds the highest quality whose size fits, or null', async () => {
    const enc = async (q: number) => new Uint8Array(q * 10);
    expect((await fitQuality(1, 100, 555, enc, (f) => f.length))?.q).toBe(55);
    expect(await fitQuality(1, 100, 5, enc, (f) => f.length)).toBeNull();
  });

  it('measures with the size function given (message lists: their total bytes)', async () => {
    const enc = async (q: number) => [new Uint8Array(q), new Uint8Array(q)];
    const fit = await fitQuality(0, 50, 41, enc, (parts) => parts.reduce((s, p) => s + p.length, 0));
    expect(fit?.q).toBe(20);
    expect(fit?.coded).toHaveLength(2);
  });
});
