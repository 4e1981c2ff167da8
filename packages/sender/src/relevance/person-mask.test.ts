import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRgb, readSourceFrame } from '../images.js';
import { PersonMask, resizeBilinear } from './person-mask.js';

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
