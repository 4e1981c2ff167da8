import { describe, expect, it } from 'vitest';
import { BaseLayerError, baseError, baseImage, decodeBase, encodeBase, makeBase } from './base-layer.js';
import { patchify } from './patchify.js';

const W = 48;
const H = 32;
function image(seed: number) {
  const rgb = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      rgb.set([(x * 5 + seed) & 255, (y * 7 + 2 * seed) & 255, 128 + 60 * Math.sin((x + y + seed) / 6)], (y * W + x) * 3);
  return rgb;
}

describe('base layer', () => {
  it('round-trips through its bytes exactly', () => {
    for (const seed of [0, 17, 99]) {
      const b = makeBase(patchify(image(seed), W, H), W / 8, H / 8, 8);
      const back = decodeBase(encodeBase(b), W / 8, H / 8, 8);
      expect(back).toEqual(b);
    }
  });

  it('is small and far closer to a smooth picture than grey is', () => {
    const rgb = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgb.set([60 + 3 * x, 200 - 4 * y, 100 + 2 * (x + y)], (y * W + x) * 3);
    const patches = patchify(rgb, W, H);
    const b = makeBase(patches, W / 8, H / 8, 8);
    // 24 luma + 2 × 6 chroma values: well under a byte each.
    expect(encodeBase(b).length).toBeLessThan(36 + 3);
    const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, x) => s + x, 0) / xs.length;
    const greyMse = mean(Array.from(patches, (v) => (v - 128) ** 2));
    expect(mean(baseError(b, patches))).toBeLessThan(greyMse / 20);
  });

  it('paints a flat picture as its own colour', () => {
    const rgb = new Uint8Array(W * H * 3);
    for (let i = 0; i < W * H; i++) rgb.set([200, 40, 90], i * 3);
    const b = makeBase(patchify(rgb, W, H), W / 8, H / 8, 8);
    const out = baseImage(b);
    expect(out.length).toBe(W * H * 3);
    for (let k = 0; k < out.length; k += 3) {
      expect(Math.abs((out[k] as number) - 200)).toBeLessThanOrEqual(8);
      expect(Math.abs((out[k + 1] as number) - 40)).toBeLessThanOrEqual(8);
      expect(Math.abs((out[k + 2] as number) - 90)).toBeLessThanOrEqual(8);
    }
  });

  it('rejects truncated or out-of-range bytes with a BaseLayerError', () => {
    const bytes = encodeBase(makeBase(patchify(image(3), W, H), W / 8, H / 8, 8));
    expect(() => decodeBase(bytes.subarray(0, 5), W / 8, H / 8, 8)).toThrow(BaseLayerError);
    expect(() => decodeBase(Uint8Array.of(9, 0, 0, 0), W / 8, H / 8, 8)).toThrow(BaseLayerError);
    expect(() => decodeBase(Uint8Array.of(0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), W / 8, H / 8, 8)).toThrow(
      BaseLayerError,
    );
  });
});
