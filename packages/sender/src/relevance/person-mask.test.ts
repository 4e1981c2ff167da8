import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRgb, readSourceFrame } from '../images.js';
import { cropFrame, cropInput, maskCrop, PersonMask, resizeBilinear, stretchMask, stretchMaskRegion } from './person-mask.js';

// The real model (models/person-mask.onnx) on a committed demo image: Debian darknet's person.jpg
// (640×424: a person standing between a dog and a horse; assets/README.md). The person's box
// [187, 109, 277, 376] (x0, y0, x1, y1) is CenterNet's person peak on that image (0.71).
const PERSON = fileURLToPath(new URL('../../../../assets/images/person.jpg', import.meta.url));
const BOX = { x0: 187, y0: 109, x1: 277, y1: 376 };

let model: PersonMask;
beforeAll(async () => {
  model = await PersonMask.load();
});
afterAll(() => model?.release());

/** Mean of the mask inside and outside a box given in 640×424 image pixels, scaled to the mask's size. */
function meanInOut(mask: Float32Array, width: number, height: number): { inside: number; outside: number } {
  const sx = width / 640;
  const sy = height / 424;
  let sIn = 0;
  let nIn = 0;
  let sOut = 0;
  let nOut = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = mask[y * width + x] as number;
      if (x >= BOX.x0 * sx && x < BOX.x1 * sx && y >= BOX.y0 * sy && y < BOX.y1 * sy) {
        sIn += v;
        nIn++;
      } else {
        sOut += v;
        nOut++;
      }
    }
  return { inside: sIn / nIn, outside: sOut / nOut };
}

describe('PersonMask on person.jpg', () => {
  it('is high on the person and low elsewhere', async () => {
    const frame = await readRgb(PERSON);
    expect([frame.width, frame.height]).toEqual([640, 424]);
    const { mask } = await model.run(frame);
    const { inside, outside } = meanInOut(mask, frame.width, frame.height);
    // measured: inside 0.56 (the box holds background around the silhouette too), outside 0.003
    expect(inside).toBeGreaterThan(0.4);
    expect(outside).toBeLessThan(0.05);
    expect(inside).toBeGreaterThan(10 * outside);
  });

  it('returns one probability per frame pixel at a sender frame size', async () => {
    const frame = await readSourceFrame(PERSON);
    const { mask, ms } = await model.run(frame);
    expect(mask).toBeInstanceOf(Float32Array);
    expect(mask).toHaveLength(frame.width * frame.height);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of mask) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(hi).toBeGreaterThan(0.9);
    expect(ms).toBeGreaterThan(0);
    const { inside, outside } = meanInOut(mask, frame.width, frame.height);
    expect(inside).toBeGreaterThan(10 * outside);
  });

  it('runs at another input size (the frame aspect) and refuses sizes that are not multiples of 16', async () => {
    const wide = await PersonMask.load(undefined, { width: 384, height: 256 });
    try {
      const frame = await readSourceFrame(PERSON);
      const { mask } = await wide.run(frame);
      expect(mask).toHaveLength(frame.width * frame.height);
      const { inside, outside } = meanInOut(mask, frame.width, frame.height);
      expect(inside).toBeGreaterThan(0.4);
      expect(inside).toBeGreaterThan(10 * outside);
    } finally {
      await wide.release();
    }
    await expect(PersonMask.load(undefined, { width: 100, height: 100 })).rejects.toThrow(RangeError);
  });

  it('segment gives the mask at the model size; stretched, it is what run gives', async () => {
    const frame = await readSourceFrame(PERSON);
    const { grid, ms } = await model.segment(frame);
    expect([grid.width, grid.height, grid.data.length]).toEqual([256, 256, 256 * 256]);
    expect(ms).toBeGreaterThan(0);
    const full = stretchMask(grid, frame.width, frame.height);
    expect(firstDiff(full, reference(grid.data, 256, 256, 1, frame.width, frame.height))).toBe(-1);
    expect(firstDiff((await model.run(frame)).mask, full)).toBe(-1);
  });

  it('rejects a frame whose bytes do not match its size', async () => {
    await expect(model.run({ width: 4, height: 4, data: new Uint8Array(47) })).rejects.toThrow(RangeError);
  });

  it('loads only against the manifest (a missing folder is a ModelError naming manifest.json)', async () => {
    await expect(PersonMask.load('/nonexistent-models-dir')).rejects.toThrow(/manifest/);
  });
});

describe('resizeBilinear (TF legacy sampling)', () => {
  it('samples at destination · (in / out) and clamps the right/bottom neighbour', () => {
    // 2×1 → 4×1: sources 0, 0.5, 1, 1.5 → 0, 5, 10, 10 (last clamps to the edge)
    expect(Array.from(resizeBilinear([0, 10], 2, 1, 1, 4, 1))).toEqual([0, 5, 10, 10]);
    // 4×1 → 2×1 picks sources 0 and 2; scale applies to every value
    expect(Array.from(resizeBilinear([0, 1, 2, 3], 4, 1, 1, 2, 1, 0.5))).toEqual([0, 1]);
    // channels stay apart
    expect(Array.from(resizeBilinear([0, 100, 10, 200], 2, 1, 2, 4, 1))).toEqual([0, 100, 5, 150, 10, 200, 10, 200]);
  });
});

/**
 * resizeBilinear written from its definition, value by value: what the faster paths must equal (the
 * column weight is a float32, as the implementations keep it in a table).
 */
function reference(src: ArrayLike<number>, sw: number, sh: number, channels: number, dw: number, dh: number, scale = 1): Float32Array {
  const out = new Float32Array(dw * dh * channels);
  const at = (y: number, x: number, c: number) => src[(y * sw + x) * channels + c] as number;
  for (let y = 0; y < dh; y++)
    for (let x = 0; x < dw; x++) {
      const [fy, fx] = [(y * sh) / dh, (x * sw) / dw];
      const [y0, x0] = [Math.floor(fy), Math.floor(fx)];
      const [y1, x1] = [Math.min(y0 + 1, sh - 1), Math.min(x0 + 1, sw - 1)];
      const wx = Math.fround(fx - x0);
      for (let c = 0; c < channels; c++) {
        const top = at(y0, x0, c) + (at(y0, x1, c) - at(y0, x0, c)) * wx;
        const bottom = at(y1, x0, c) + (at(y1, x1, c) - at(y1, x0, c)) * wx;
        out[(y * dw + x) * channels + c] = (top + (bottom - top) * (fy - y0)) * scale;
      }
    }
  return out;
}

/** The first index where two arrays differ (length included), or -1: large arrays compared quickly. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : n;
}

/** A seeded generator of numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

// [source w, h] → [destination w, h]: frame → model (down, up, odd sizes), model → frame.
const SIZES = [
  [480, 320, 256, 256],
  [640, 424, 256, 256],
  [480, 320, 384, 256],
  [97, 61, 256, 256],
  [256, 256, 480, 320],
  [256, 256, 640, 424],
  [31, 17, 7, 5],
  [5, 3, 5, 3],
] as const;

describe('resizeBilinear paths and the stretched mask', () => {
  it("RGB bytes (frames, Buffers) resize to exactly the plain loop's values", () => {
    const rand = random(1);
    for (const [sw, sh, dw, dh] of SIZES) {
      const bytes = Uint8Array.from({ length: sw * sh * 3 }, () => Math.floor(rand() * 256));
      for (const scale of [1 / 255, 1]) {
        const want = reference(bytes, sw, sh, 3, dw, dh, scale);
        expect(firstDiff(resizeBilinear(bytes, sw, sh, 3, dw, dh, scale), want)).toBe(-1);
        expect(firstDiff(resizeBilinear(Buffer.from(bytes), sw, sh, 3, dw, dh, scale), want)).toBe(-1);
      }
    }
  });

  it("one-channel floats resize to exactly the plain loop's values", () => {
    const rand = random(2);
    for (const [sw, sh, dw, dh] of SIZES) {
      const src = Float32Array.from({ length: sw * sh }, rand);
      expect(firstDiff(resizeBilinear(src, sw, sh, 1, dw, dh), reference(src, sw, sh, 1, dw, dh))).toBe(-1);
    }
  });

  it('a stretched region equals the whole stretched mask at its pixels; the whole equals resizeBilinear', () => {
    const rand = random(3);
    for (const [sw, sh, dw, dh] of SIZES) {
      const grid = { width: sw, height: sh, data: Float32Array.from({ length: sw * sh }, rand) };
      const full = reference(grid.data, sw, sh, 1, dw, dh);
      expect(firstDiff(stretchMask(grid, dw, dh), full)).toBe(-1);
      for (let k = 0; k < 20; k++) {
        const [xa, xb] = [Math.floor(rand() * (dw + 1)), Math.floor(rand() * (dw + 1))];
        const [ya, yb] = [Math.floor(rand() * (dh + 1)), Math.floor(rand() * (dh + 1))];
        const rect = { x0: Math.min(xa, xb), x1: Math.max(xa, xb), y0: Math.min(ya, yb), y1: Math.max(ya, yb) };
        const want: number[] = [];
        for (let y = rect.y0; y < rect.y1; y++) want.push(...full.subarray(y * dw + rect.x0, y * dw + rect.x1));
        expect(firstDiff(stretchMaskRegion(grid, dw, dh, rect), want)).toBe(-1);
      }
    }
    const grid = { width: 4, height: 4, data: new Float32Array(16) };
    expect(() => stretchMaskRegion(grid, 8, 8, { x0: 0, y0: 0, x1: 9, y1: 8 })).toThrow(RangeError);
    expect(() => stretchMaskRegion(grid, 8, 8, { x0: 3, y0: 0, x1: 2, y1: 8 })).toThrow(RangeError);
  });
});

describe('the crop the person mask runs on', () => {
  it('is the union of the boxes grown by the margin, within the frame; none without a box', () => {
    const boxes = [
      { x0: 100.4, y0: 50, x1: 160, y1: 250.2 },
      { x0: 300, y0: 10, x1: 330.5, y1: 120 },
    ];
    expect(maskCrop(boxes, 480, 320, 15)).toEqual({ x0: 85, y0: 0, x1: 346, y1: 266 });
    expect(maskCrop([{ x0: -5, y0: 300, x1: 470, y1: 330 }], 480, 320, 15)).toEqual({ x0: 0, y0: 285, x1: 480, y1: 320 });
    expect(maskCrop([], 480, 320, 15)).toBeNull();
  });

  it('is coded at one input pixel per frame pixel, at most the reference side, sides rounded up to the multiple', () => {
    expect(cropInput({ x0: 85, y0: 0, x1: 183, y1: 230 }, 256, 16)).toEqual({ width: 112, height: 240 });
    // 480×320 → scaled to a long side of 256 → 256×171 → 256×176
    expect(cropInput({ x0: 0, y0: 0, x1: 480, y1: 320 }, 256, 16)).toEqual({ width: 256, height: 176 });
    expect(cropInput({ x0: 0, y0: 0, x1: 3, y1: 40 }, 256, 16)).toEqual({ width: 16, height: 48 });
  });

  it('copies the rectangle’s pixels, row by row', () => {
    const frame = { width: 4, height: 3, data: Uint8Array.from({ length: 36 }, (_, i) => i) };
    const c = cropFrame(frame, { x0: 1, y0: 1, x1: 3, y1: 3 });
    expect([c.width, c.height]).toEqual([2, 2]);
    expect(Array.from(c.data)).toEqual([15, 16, 17, 18, 19, 20, 27, 28, 29, 30, 31, 32]);
  });
});
