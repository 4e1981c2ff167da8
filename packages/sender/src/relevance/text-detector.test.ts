import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dilate, TextDetector } from './text-detector.js';

describe('dilate', () => {
  it('is the largest value within r along x and y, ends included (against the direct reading)', () => {
    const w = 23;
    const h = 17;
    let seed = 7;
    const src = Float32Array.from({ length: w * h }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    });
    for (const r of [1, 2, 3, 5]) {
      const got = dilate(src, w, h, r);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let m = 0;
          for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++)
            for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) m = Math.max(m, src[yy * w + xx] as number);
          expect(got[y * w + x]).toBe(Math.fround(m));
        }
    }
  });
});

// Text drawn with sharp (librsvg) in the system's sans-serif font: skipped, with the reason, where no font is installed.
const fonts = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/truetype/liberation', '/usr/share/fonts/opentype'].some((d) =>
  existsSync(d),
);

describe('TextDetector (PP-OCRv4 detector on drawn text)', () => {
  let det: TextDetector;
  beforeAll(async () => {
    det = await TextDetector.load();
  });
  afterAll(() => det?.release());

  it('rounds the input to multiples of 32 within its long side (288 by default)', async () => {
    expect(det.maxSide).toBe(288);
    expect(det.inputSize(480, 320)).toEqual([288, 192]);
    expect(det.inputSize(480, 360)).toEqual([288, 224]); // 288×216, to the nearer multiple
    const wide = await TextDetector.load(undefined, 480);
    try {
      expect(wide.inputSize(480, 320)).toEqual([480, 320]);
      expect(wide.inputSize(480, 360)).toEqual([480, 352]);
      expect(wide.inputSize(960, 540)).toEqual([480, 256]); // 480×270, to the nearer multiple
      expect(wide.inputSize(20, 10)).toEqual([32, 32]); // at least one multiple
    } finally {
      await wide.release();
    }
  });

  it.skipIf(!fonts)('marks a line of text and little else (needs a system font to draw it)', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="320"><rect width="480" height="320" fill="#6a7"/>' +
        '<text x="100" y="200" font-family="sans-serif" font-size="40" fill="white">EXIT 42 OPEN</text></svg>',
    );
    const data = new Uint8Array(await sharp(svg).removeAlpha().raw().toBuffer());
    const r = await det.run({ width: 480, height: 320, data });
    expect(r.map).toHaveLength(480 * 320);
    let inside = 0;
    let n = 0;
    let outside = 0;
    let m = 0;
    for (let y = 0; y < 320; y++)
      for (let x = 0; x < 480; x++) {
        const v = r.map[y * 480 + x] as number;
        if (y >= 168 && y < 206 && x >= 100 && x < 380) {
          inside += v;
          n++;
        } else if (y < 120 || y > 260) {
          outside += v;
          m++;
        }
      }
    expect(inside / n).toBeGreaterThan(0.5);
    expect(outside / m).toBeLessThan(0.02);
  });

  it('refuses a frame that is not RGB', async () => {
    await expect(det.run({ width: 4, height: 4, data: new Uint8Array(10) })).rejects.toThrow(RangeError);
  });
});
