import { describe, expect, it } from 'vitest';
import { GeometryError, patchify, placePatches, unpatchify } from './patchify.js';

// A 16×8 image (2×1 patches) whose pixel values encode their coordinates.
const W = 16;
const H = 8;
const img = Uint8Array.from({ length: W * H * 3 }, (_, i) => {
  const c = i % 3;
  const x = Math.floor(i / 3) % W;
  const y = Math.floor(i / 3 / W);
  return (y * 16 + x) * 2 + (c === 0 ? 0 : c === 1 ? 1 : 0) + c * 100;
});

describe('patchify', () => {
  it('orders patches row-major over the grid, pixels row-major (HWC) inside each patch', () => {
    const p = patchify(img, W, H);
    // Patch 1 starts at pixel (x=8, y=0); its second row starts at (8, 1).
    expect(Array.from(p.subarray(192, 195))).toEqual(Array.from(img.subarray(8 * 3, 8 * 3 + 3)));
    expect(Array.from(p.subarray(192 + 24, 192 + 27))).toEqual(Array.from(img.subarray((W + 8) * 3, (W + 8) * 3 + 3)));
  });

  it('unpatchify inverts it', () => {
    expect(unpatchify(patchify(img, W, H), W, H)).toEqual(img);
  });

  it('placePatches writes selected patches only', () => {
    const canvas = new Uint8Array(img.length);
    const patches = patchify(img, W, H);
    placePatches(canvas, W, patches.subarray(192, 384), [1]);
    const back = patchify(canvas, W, H);
    expect(back.subarray(0, 192).every((v) => v === 0)).toBe(true);
    expect(back.subarray(192)).toEqual(patches.subarray(192));
  });

  it('rejects sizes that are not whole patches or do not match the buffer', () => {
    expect(() => patchify(new Uint8Array(12 * 8 * 3), 12, 8)).toThrow(GeometryError);
    expect(() => patchify(new Uint8Array(10), W, H)).toThrow(/expected 16×8×3/);
  });
});
