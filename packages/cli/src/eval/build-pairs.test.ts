import { describe, expect, it } from 'vitest';
import { buildPairs, type Coco, CocoError, gtMask, parseCoco, parsePairsFile } from './build-pairs.js';

// A hand-made instances file: 6 images of 100×100, categories cat/dog/car.
function coco(): Coco {
  const square = (x: number, y: number, s: number) => [[x, y, x + s, y, x + s, y + s, x, y + s]];
  return parseCoco({
    images: Array.from({ length: 6 }, (_, i) => ({ id: i + 1, file_name: `${i + 1}.jpg`, width: 100, height: 100 })),
    categories: [
      { id: 1, name: 'cat', supercategory: 'animal' },
      { id: 2, name: 'dog', supercategory: 'animal' },
      { id: 3, name: 'car', supercategory: 'vehicle' },
    ],
    annotations: [
      ...[1, 2, 3, 4, 5].map((img) => ({ image_id: img, category_id: 1, segmentation: square(0, 0, 50), area: 2500, iscrowd: 0 })),
      ...[1, 2, 3, 4, 5].map((img) => ({ image_id: img, category_id: 2, segmentation: square(50, 50, 40), area: 1600, iscrowd: 0 })),
      // A car under 1 % of the image (9 px²) everywhere: never queried, never in a mask.
      ...[1, 2, 3, 4, 5, 6].map((img) => ({ image_id: img, category_id: 3, segmentation: square(90, 0, 3), area: 9, iscrowd: 0 })),
      // A crowd region as uncompressed RLE: the left 10 columns of image 1 (column-major runs).
      { image_id: 1, category_id: 2, segmentation: { counts: [0, 1000, 9000], size: [100, 100] }, area: 1000, iscrowd: 1 },
    ],
  });
}

describe('pair building (paper protocol)', () => {
  it('is deterministic in the seed and differs across seeds', () => {
    const a = buildPairs(coco(), { seed: 7 });
    expect(buildPairs(coco(), { seed: 7 })).toEqual(a);
    const seeds = [1, 2, 3, 4, 5, 6, 8, 9].map((s) => JSON.stringify(buildPairs(coco(), { seed: s })));
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });

  it('queries one or two eligible categories per image, skipping images with none and tiny instances', () => {
    const pairs = buildPairs(coco(), { seed: 3 });
    expect(pairs).toHaveLength(5); // image 6 only has a tiny car
    for (const p of pairs) {
      expect(p.categories.length).toBeGreaterThanOrEqual(1);
      expect(p.categories).not.toContain('car');
      expect(p.query).toBe(p.categories.join(' and '));
    }
    expect(buildPairs(coco(), { count: 2 })).toHaveLength(2);
  });

  it('builds the GT mask as the union of the queried categories, scaled to the frame', () => {
    const pair = { imageId: 1, file: '1.jpg', query: 'cat and dog', categories: ['cat', 'dog'] };
    const m = gtMask(coco(), pair, 20, 30);
    const at = (x: number, y: number) => m[y * 30 + x];
    expect(at(1, 1)).toBe(1); // cat square (top-left)
    expect(at(20, 15)).toBe(1); // dog square (bottom-right): the 100×100 image's centre 100×67 band on the 30×20 grid
    expect(at(1, 18)).toBe(1); // crowd RLE: left 10 % of columns
    expect(at(29, 0)).toBe(0); // the tiny car is ignored
    const onlyCat = gtMask(coco(), { ...pair, categories: ['cat'] }, 20, 30);
    expect(onlyCat.reduce((s, v) => s + v, 0)).toBeLessThan(m.reduce((s, v) => s + v, 0));
  });

  it('maps the image onto a frame of another aspect as the frame shows it: centre-cropped, not stretched', () => {
    // A 30×30 square at the centre of a 120×90 (4:3) image, on a 60×40 (3:2) frame: scale 0.5 both ways.
    const c = coco();
    c.images.push({ id: 7, file_name: '7.jpg', width: 120, height: 90 });
    c.annotations.push({ image_id: 7, category_id: 1, segmentation: [[45, 30, 75, 30, 75, 60, 45, 60]], area: 900, iscrowd: 0 });
    const m = gtMask(c, { imageId: 7, file: '7.jpg', query: 'cat', categories: ['cat'] }, 40, 60);
    const cols = [...Array(60).keys()].filter((x) => m.some((v, i) => v && i % 60 === x));
    const rows = [...Array(40).keys()].filter((y) => m.subarray(y * 60, y * 60 + 60).some((v) => v));
    expect([cols.length, rows.length]).toEqual([15, 15]);
    expect([cols[0], rows[0]]).toEqual([22, 12]); // 45·0.5, (30 − 5)·0.5: the crop drops 5 rows above
  });

  it('the box variant fills the bounding box of each instance', () => {
    // A triangle: its mask covers about half of its bounding box, the box variant all of it.
    const c = coco();
    c.annotations.push({ image_id: 6, category_id: 1, segmentation: [[10, 10, 60, 10, 10, 60]], area: 1250, iscrowd: 0 });
    const pair = { imageId: 6, file: '6.jpg', query: 'cat', categories: ['cat'] };
    const sum = (m: Uint8Array) => m.reduce((s, v) => s + v, 0);
    const mask = gtMask(c, pair, 100, 100);
    const box = gtMask(c, pair, 100, 100, undefined, 'box');
    // Pixel-centre rasterisation puts the triangle's extent at 49–50 px a side; the box is all of it.
    const cols = [...Array(100).keys()].filter((x) => mask.some((v, i) => v && i % 100 === x));
    const rows = [...Array(100).keys()].filter((y) => mask.subarray(y * 100, y * 100 + 100).some((v) => v));
    expect(cols.length).toBeGreaterThanOrEqual(49);
    expect(sum(box)).toBe(cols.length * rows.length);
    expect(sum(mask)).toBeGreaterThan(0.4 * 2500);
    expect(sum(mask)).toBeLessThan(0.6 * 2500);
    for (let i = 0; i < mask.length; i++) if (mask[i]) expect(box[i]).toBe(1);
    expect(box[55 * 100 + 55]).toBe(1); // the corner the triangle leaves out
    expect(mask[55 * 100 + 55]).toBe(0);
  });

  it('reads free-form pairs files and rejects bad ones', () => {
    const c = coco();
    expect(parsePairsFile([{ image_id: 2, query: 'kitty', categories: ['cat'] }], c)).toEqual([
      { imageId: 2, file: '2.jpg', query: 'kitty', categories: ['cat'] },
    ]);
    expect(() => parsePairsFile([{ image_id: 99, query: 'x', categories: ['cat'] }], c)).toThrow(CocoError);
    expect(() => parsePairsFile([{ image_id: 2, query: 'x', categories: ['unicorn'] }], c)).toThrow(/unknown category/);
    expect(() => parseCoco({ images: [] })).toThrow(CocoError);
  });
});
