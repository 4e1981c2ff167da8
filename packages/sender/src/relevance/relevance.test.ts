import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSourceFrame } from '../images.js';
import type { Detection } from './decode-detections.js';
import { IN_VIEW_SCORE } from './in-view.js';
import { loadRelevance } from './load-relevance.js';
import { type PersonMaskGrid, type PixelRect, stretchMask } from './person-mask.js';
import {
  DEFAULT_RELEVANCE,
  type DetectorRelevance,
  type DetectorRelevanceOptions,
  type RelevanceResult,
  refineByMask,
  suppress,
} from './relevance-model.js';

// The real detector (models/centernet.onnx) and lexicon on a committed demo image: Debian darknet's
// dog.jpg (a dog, a bicycle and a car; see assets/README.md), at its own aspect as `serve` frames it.
const DOG = fileURLToPath(new URL('../../../../assets/images/dog.jpg', import.meta.url));
// Four horses running across a field, a white one on the left (assets/README.md).
const HORSES = fileURLToPath(new URL('../../../../assets/images/horses.jpg', import.meta.url));
// Text is drawn with sharp (librsvg), in the system's sans-serif font.
const FONTS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/truetype/liberation', '/usr/share/fonts/opentype'].some((d) =>
  existsSync(d),
);
const PERSON = fileURLToPath(new URL('../../../../assets/images/person.jpg', import.meta.url));
let model: DetectorRelevance;
beforeAll(async () => {
  model = await loadRelevance();
});
afterAll(() => model?.detector.release());

/** Mean patch score inside a box (frame pixels). */
function meanIn(r: RelevanceResult, d: Detection): number {
  let s = 0;
  let n = 0;
  for (let y = Math.ceil(d.y0); y < d.y1; y++)
    for (let x = Math.ceil(d.x0); x < d.x1; x++) {
      s += r.map[y * r.width + x] as number;
      n++;
    }
  return s / n;
}

/** refineByMask spelled out over a frame-sized mask: every pixel in a big person's box, once. */
function refineByFullMask(
  map: Float32Array,
  mask: Float32Array,
  detections: readonly Detection[],
  width: number,
  height: number,
  opts: DetectorRelevanceOptions['person'],
): Float32Array {
  const out = Float32Array.from(map);
  if (!opts) return out;
  const inBig = new Uint8Array(width * height);
  for (const d of detections) {
    if (d.score < IN_VIEW_SCORE || d.y1 - d.y0 < opts.minHeight * height) continue;
    for (let y = Math.max(0, Math.floor(d.y0)); y < Math.min(height, Math.ceil(d.y1)); y++)
      inBig.fill(1, y * width + Math.max(0, Math.floor(d.x0)), y * width + Math.min(width, Math.ceil(d.x1)));
  }
  for (let i = 0; i < out.length; i++) if (inBig[i]) out[i] = (out[i] as number) * (opts.floor + (1 - opts.floor) * (mask[i] as number));
  return out;
}

/** The mean of a map over each patch as a plain loop over its pixels, row-major, summed in float32. */
function patchMeansReference(map: Float32Array, width: number, height: number, patchSize: number): Float32Array {
  const cols = width / patchSize;
  const out = new Float32Array(cols * (height / patchSize));
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = Math.floor(y / patchSize) * cols + Math.floor(x / patchSize);
      out[p] = (out[p] as number) + (map[y * width + x] as number);
    }
  for (let p = 0; p < out.length; p++) out[p] = (out[p] as number) / (patchSize * patchSize);
  return out;
}

/** Whether two float arrays hold the same bits. */
const same = (x: Float32Array, y: Float32Array) =>
  Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));

const strongest = (r: RelevanceResult, name: string) =>
  r.detections.filter((d) => model.detector.classes[d.cls] === name).sort((a, b) => b.score - a.score)[0] as Detection;

describe('detector-grounded relevance on dog.jpg', () => {
  it('"dog" lights the dog and not the car; "car" the reverse', async () => {
    const frame = await readSourceFrame(DOG);
    const a = await model.analyse(frame);
    const base = model.baselineFromAnalysis(a);
    const dogBox = strongest(base, 'dog');
    const carBox = strongest(base, 'car');
    expect(dogBox).toBeDefined();
    expect(carBox).toBeDefined();
    const dog = model.fromAnalysis(a, 'dog');
    const car = model.fromAnalysis(a, 'car');
    expect(meanIn(dog, dogBox)).toBeGreaterThan(0.4);
    expect(meanIn(dog, carBox)).toBeLessThan(0.05);
    expect(meanIn(car, carBox)).toBeGreaterThan(0.4);
    // Weak car evidence spreads a little into the dog's box (0.055 at 480×360): far below the car's own.
    expect(meanIn(car, dogBox)).toBeLessThan(0.1);
    expect([frame.width, frame.height]).toEqual([480, 360]); // dog.jpg is 4:3: its own aspect
    expect(dog.patchScores).toHaveLength(60 * 45);
    expect(dog.grounding).toEqual([{ word: 'dog', classes: [{ name: 'dog', weight: 1 }] }]);
  });

  it('"everything except the dog" keeps the picture and suppresses the dog; "cars but not dogs" the car alone', async () => {
    const frame = await readSourceFrame(DOG);
    const a = await model.analyse(frame);
    const dogBox = strongest(model.fromAnalysis(a, 'dog'), 'dog');
    const carBox = strongest(model.fromAnalysis(a, 'car'), 'car');
    const but = model.fromAnalysis(a, 'everything except the dog');
    expect(but.grounding).toEqual([{ word: 'dog', classes: [{ name: 'dog', weight: 1 }], negated: true }]);
    expect(but.fallback).toBe(false);
    expect(meanIn(but, dogBox)).toBeLessThan(0.5);
    expect(meanIn(but, carBox)).toBeGreaterThan(0.95);
    // Everywhere away from the dog the whole picture matters.
    expect(but.map[5 * but.width + 5]).toBeGreaterThan(0.99);
    expect(but.patchScores.length).toBe(60 * 45);
    const mixed = model.fromAnalysis(a, 'cars but not dogs');
    expect(meanIn(mixed, carBox)).toBeGreaterThan(0.4);
    expect(meanIn(mixed, dogBox)).toBeLessThan(0.05);
    expect(mixed.detections.every((d) => model.detector.classes[d.cls] !== 'dog')).toBe(true);
  });

  it('synonyms ground; unknown words are reported; nothing grounded falls back to the baseline', async () => {
    const frame = await readSourceFrame(DOG);
    const a = await model.analyse(frame);
    const r = model.fromAnalysis(a, 'puppy and zxqv');
    expect(r.grounding.map((w) => w.word)).toEqual(['puppy']);
    expect(r.ungrounded).toEqual(['zxqv']);
    expect(r.fallback).toBe(false);
    const none = model.fromAnalysis(a, 'sky and zxqv');
    expect(none.fallback).toBe(true);
    expect(none.ungrounded).toEqual(['sky', 'zxqv']);
    expect(Array.from(none.patchScores)).toEqual(Array.from(model.baselineFromAnalysis(a).patchScores));
  });

  it('makes the query-agnostic map once per frame: every ungroundable query and the baseline share it', async () => {
    const frame = await readSourceFrame(DOG);
    const a = await model.analyse(frame);
    const first = model.fromAnalysis(a, 'zxqv');
    const other = model.fromAnalysis(a, 'sky');
    expect(other.ungrounded).toEqual(['sky']);
    expect(other.patchScores).toBe(first.patchScores);
    expect(model.baselineFromAnalysis(a).patchScores).toBe(first.patchScores);
    // A grounded query has its own map; a new frame's analysis gets a new query-agnostic one.
    expect(model.fromAnalysis(a, 'dog').patchScores).not.toBe(first.patchScores);
    const again = model.fromAnalysis(await model.analyse(frame), 'zxqv');
    expect(again.patchScores).not.toBe(first.patchScores);
    expect(Array.from(again.patchScores)).toEqual(Array.from(first.patchScores));
  });

  it('modifiers pick among the instances: the horse on the left, the rightmost one', async () => {
    const frame = await readSourceFrame(HORSES);
    const a = await model.analyse(frame);
    const horses = model.fromAnalysis(a, 'horse').detections.filter((d) => d.score >= 0.3);
    const centre = (d: Detection) => (d.x0 + d.x1) / 2;
    const leftmost = horses.reduce((m, d) => (centre(d) < centre(m) ? d : m));
    const rightmost = horses.reduce((m, d) => (centre(d) > centre(m) ? d : m));
    expect(centre(rightmost) - centre(leftmost)).toBeGreaterThan(frame.width / 3);
    const plain = model.fromAnalysis(a, 'horse');
    const left = model.fromAnalysis(a, 'the horse on the left');
    const right = model.fromAnalysis(a, 'the rightmost horse');
    expect(left.grounding).toEqual([{ word: 'horse', classes: [{ name: 'horse', weight: 1 }], modifiers: ['left'] }]);
    expect(left.ungrounded).toEqual([]);
    // Without a modifier both are lit alike; with one, the picked horse is lit and the other dimmed.
    expect(Math.abs(meanIn(plain, leftmost) - meanIn(plain, rightmost))).toBeLessThan(0.25);
    expect(meanIn(left, leftmost)).toBeGreaterThan(2 * meanIn(left, rightmost));
    expect(meanIn(right, rightmost)).toBeGreaterThan(2 * meanIn(right, leftmost));
  });

  it('the person mask shapes the person part of the map to the body, and only when a query asks for people', async () => {
    const frame = await readSourceFrame(PERSON);
    const plain = await loadRelevance(undefined, { ...DEFAULT_RELEVANCE, person: null });
    try {
      expect(model.wantsPerson('the man and the horse')).toBe(true);
      expect(model.wantsPerson('everything except people')).toBe(true);
      expect(model.wantsPerson('dog')).toBe(false);
      expect((await model.analyse(frame)).person).toBeUndefined();
      const a = await model.analyse(frame, { person: true });
      // The mask runs on the crop around the large people, one input pixel per frame pixel (sides
      // rounded up to 16), and stays at the model's size; stretched onto the crop, it is one
      // probability per frame pixel there (0 elsewhere: it is never read there).
      const grid = a.person?.mask as PersonMaskGrid;
      const rect = a.person?.rect as PixelRect;
      const [rw, rh] = [rect.x1 - rect.x0, rect.y1 - rect.y0];
      expect(rw * rh).toBeLessThan(0.5 * frame.width * frame.height);
      expect([grid.width, grid.height]).toEqual([Math.ceil(rw / 16) * 16, Math.ceil(rh / 16) * 16]);
      const local = stretchMask(grid, rw, rh);
      const mask = new Float32Array(frame.width * frame.height);
      for (let y = 0; y < rh; y++) mask.set(local.subarray(y * rw, (y + 1) * rw), (rect.y0 + y) * frame.width + rect.x0);
      const withMask = model.fromAnalysis(a, 'person');
      const without = plain.fromAnalysis(await plain.analyse(frame), 'person');
      const box = strongest(without, 'person');
      // Inside the person's box: the background beside the body is dimmed, the body kept.
      const mean = (r: RelevanceResult, keep: (m: number) => boolean) => {
        let s = 0;
        let n = 0;
        for (let y = Math.ceil(box.y0); y < box.y1; y++)
          for (let x = Math.ceil(box.x0); x < box.x1; x++) {
            const i = y * frame.width + x;
            if (!keep(mask[i] as number)) continue;
            s += r.map[i] as number;
            n++;
          }
        return s / n;
      };
      expect(mean(withMask, (m) => m < 0.2)).toBeLessThan(0.7 * mean(without, (m) => m < 0.2));
      // Stretching the mask inside the people's boxes only refines exactly as the whole stretched mask does.
      const opts = DEFAULT_RELEVANCE.person;
      const people = withMask.detections.filter((d) => model.detector.classes[d.cls] === 'person');
      const big = people.filter((d) => d.score >= IN_VIEW_SCORE && d.y1 - d.y0 >= (opts?.minHeight ?? 1) * frame.height);
      expect(big.length).toBeGreaterThan(0);
      // The crop holds every large person's box.
      for (const d of big) expect([d.x0 >= rect.x0, d.y0 >= rect.y0, d.x1 <= rect.x1, d.y1 <= rect.y1]).toEqual([true, true, true, true]);
      expect(
        same(
          refineByMask(without.map, grid, people, frame.width, frame.height, opts, rect),
          refineByFullMask(without.map, mask, people, frame.width, frame.height, opts),
        ),
      ).toBe(true);
      expect(same(withMask.patchScores, patchMeansReference(withMask.map, frame.width, frame.height, 8))).toBe(true);
      expect(mean(withMask, (m) => m > 0.8)).toBeGreaterThan(0.9 * mean(without, (m) => m > 0.8));
      // A query without people, and the query-agnostic map, do not use it.
      expect(Array.from(model.fromAnalysis(a, 'horse').patchScores)).toEqual(
        Array.from(plain.fromAnalysis(await plain.analyse(frame), 'horse').patchScores),
      );
      expect(Array.from(model.baselineFromAnalysis(a).patchScores)).toEqual(
        Array.from(plain.baselineFromAnalysis(await plain.analyse(frame)).patchScores),
      );
    } finally {
      plain.detector.release();
    }
  });

  it.skipIf(!FONTS)(
    'text words light a drawn sign, "everything except the text" dims it, and an object query does not run the text detector (needs a system font)',
    async () => {
      const frame = await readSourceFrame(DOG);
      const svg = Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${frame.width}" height="${frame.height}"><rect x="280" y="30" width="160" height="56" fill="#1f6f3f"/>` +
          '<text x="292" y="72" font-family="sans-serif" font-weight="bold" font-size="34" fill="white">EXIT</text></svg>',
      );
      const data = new Uint8Array(
        await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
          .composite([{ input: svg }])
          .removeAlpha()
          .raw()
          .toBuffer(),
      );
      const f = { width: frame.width, height: frame.height, data };
      const plate = { cls: 0, score: 1, x0: 280, y0: 30, x1: 440, y1: 86 };
      expect((await model.analyse(f, model.analyseOptions('dog'))).text).toBeUndefined();
      const a = await model.analyse(f, model.analyseOptions('the sign'));
      expect(a.text).toHaveLength(f.width * f.height);
      const sign = model.fromAnalysis(a, 'the sign');
      const dogBox = strongest(model.fromAnalysis(a, 'dog'), 'dog');
      expect(meanIn(sign, plate)).toBeGreaterThan(0.4);
      expect(meanIn(sign, dogBox)).toBeLessThan(0.05);
      const both = model.fromAnalysis(a, 'the dog and the word "EXIT"');
      expect(meanIn(both, plate)).toBeGreaterThan(0.4);
      expect(meanIn(both, dogBox)).toBeGreaterThan(0.4);
      const rest = model.fromAnalysis(a, 'everything except the text');
      expect(meanIn(rest, plate)).toBeLessThan(0.6);
      expect(meanIn(rest, dogBox)).toBeGreaterThan(0.9);
    },
  );
});

describe('refineByMask', () => {
  it('stretches the mask only inside big people and refines as the frame-sized mask does (overlapping, clipped, small and weak boxes)', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const [width, height] = [480, 320];
    const opts = { floor: 0.5, minHeight: 0.25, input: [256, 256] as [number, number] };
    for (const [gw, gh] of [
      [256, 256],
      [384, 256],
      [480, 320],
      [96, 64],
    ] as const) {
      const grid = { width: gw, height: gh, data: Float32Array.from({ length: gw * gh }, rand) };
      const map = Float32Array.from({ length: width * height }, rand);
      const box = (x0: number, y0: number, x1: number, y1: number, score = 0.6): Detection => ({ cls: 0, score, x0, y0, x1, y1 });
      const detections = [
        box(100.4, 20.7, 190.2, 300.1),
        box(150.5, 60.2, 260.9, 250.3), // overlaps the first: refined once
        box(0, 0, 37.5, 319.99), // on the frame's edges
        box(400.2, 200, 480, 320),
        box(300, 10, 340, 70), // small: left as it was
        box(200, 10, 320, 300, IN_VIEW_SCORE / 2), // weak: left as it was
      ];
      const full = stretchMask(grid, width, height);
      const got = refineByMask(map, grid, detections, width, height, opts);
      expect(same(got, map)).toBe(false);
      expect(same(got, refineByFullMask(map, full, detections, width, height, opts))).toBe(true);
      expect(same(refineByMask(map, grid, [], width, height, opts), map)).toBe(true);
      expect(same(refineByMask(map, grid, detections, width, height, null), map)).toBe(true);
    }
  });
});

describe('patch means', () => {
  it("are each patch's float32 sum of its pixels, row-major, over its area", () => {
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (const [width, height, ps] of [
      [480, 320, 8],
      [640, 424, 8],
      [48, 32, 16],
    ] as const) {
      const negated = {
        width,
        height,
        map: Float32Array.from({ length: width * height }, rand),
        patchScores: new Float32Array(0),
        peak: 1,
      };
      const out = suppress(null, negated, width, height, ps);
      expect(same(out.patchScores, patchMeansReference(out.map, width, height, ps))).toBe(true);
    }
  });
});
