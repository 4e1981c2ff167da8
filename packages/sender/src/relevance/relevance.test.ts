import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSourceFrame } from '../images.js';
import type { Detection } from './decode-detections.js';
import { loadRelevance } from './load-relevance.js';
import { DEFAULT_RELEVANCE, type DetectorRelevance, type RelevanceResult } from './relevance-model.js';

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
      const mask = a.person?.mask as Float32Array;
      expect(mask).toHaveLength(frame.width * frame.height);
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
