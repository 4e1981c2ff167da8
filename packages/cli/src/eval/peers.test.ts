import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { maskedMse } from '../metrics.js';
import { avifAt, jpegAt, webpAt, x264At } from './peers.js';

const hasX264 = (() => {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('libx264');
})();

/** A 96×64 test picture: smooth gradients plus a textured square (so quality costs bytes). */
function picture() {
  const width = 96;
  const height = 64;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const inSquare = x >= 48 && x < 80 && y >= 16 && y < 48;
      data[o] = inSquare ? (x * 53 + y * 97) % 256 : x * 2;
      data[o + 1] = inSquare ? (x * 31 + y * 17) % 256 : y * 3;
      data[o + 2] = 128;
    }
  }
  return { width, height, data };
}
const mse = (a: Uint8Array, b: Uint8Array) => maskedMse(a, b, new Uint8Array(a.length / 3).fill(1));

describe('still-image peers at a byte budget', () => {
  const frame = picture();
  for (const [name, at] of [
    ['jpeg', jpegAt],
    ['webp', webpAt],
    ['avif', avifAt],
  ] as const) {
    it(`${name}: fits the budget, and a larger budget buys a better picture`, async () => {
      const small = await at(frame, 700);
      const large = await at(frame, 4000);
      expect(small.bytes).toBeGreaterThan(0);
      expect(small.bytes).toBeLessThanOrEqual(700);
      expect(large.bytes).toBeLessThanOrEqual(4000);
      expect(large.quality).toBeGreaterThan(small.quality);
      expect(large.image.length).toBe(frame.data.length);
      expect(mse(frame.data, large.image)).toBeLessThan(mse(frame.data, small.image));
      // Nothing fits in 10 bytes: the receiver would show grey.
      expect((await at(frame, 10)).image.every((v) => v === 128)).toBe(true);
    });
  }

  it.skipIf(!hasX264)('x264: fits the budget, and its ROI box gets the better picture (needs ffmpeg with libx264)', async () => {
    const plain = await x264At(frame, 1500);
    expect(plain.bytes).toBeGreaterThan(0);
    expect(plain.bytes).toBeLessThanOrEqual(1500);
    expect(plain.image.length).toBe(frame.data.length);
    const square = { x: 48, y: 16, w: 32, h: 32 };
    const inside = new Uint8Array(frame.width * frame.height);
    for (let y = square.y; y < square.y + square.h; y++) inside.fill(1, y * frame.width + square.x, y * frame.width + square.x + square.w);
    // Same encoder settings (ROI frames keep AQ), the region on the square or on the gradient corner.
    const onSquare = await x264At(frame, 3000, [square], -0.5);
    const elsewhere = await x264At(frame, 3000, [{ x: 0, y: 0, w: 32, h: 32 }], -0.5);
    expect(onSquare.bytes).toBeLessThanOrEqual(3000);
    expect(maskedMse(frame.data, onSquare.image, inside)).toBeLessThan(maskedMse(frame.data, elsewhere.image, inside));
  });
});
