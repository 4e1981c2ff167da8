import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CocoError, parseCoco } from '../build-pairs.js';
import { makeCocoClip, queryCategories } from './coco-clips.js';

// A hand-made COCO folder: 200×150 grey images, each with red squares annotated as dogs and one
// blue square annotated as a cat. Images 1–3, 8 and 9 hold one dog; images 4–7 hold several (the
// crowd). Image 9, on green, is the only one neither coco-tour nor coco-crowd uses for dogs.
const W = 200;
const H = 150;
const RED = { r: 230, g: 20, b: 20 };
const BLUE = { r: 20, g: 20, b: 230 };
type Sq = { x: number; y: number; s: number };
const dogs: Record<number, Sq[]> = {
  1: [{ x: 40, y: 30, s: 60 }],
  2: [{ x: 100, y: 50, s: 70 }],
  3: [{ x: 10, y: 80, s: 50 }],
  4: [0, 1, 2, 3, 4].map((i) => ({ x: 10 + 38 * i, y: 20, s: 24 })),
  5: [0, 1, 2, 3, 4, 5].map((i) => ({ x: 5 + 32 * i, y: 90, s: 20 })),
  6: [0, 1, 2, 3].map((i) => ({ x: 20 + 45 * i, y: 60, s: 28 })),
  7: [0, 1, 2, 3, 4].map((i) => ({ x: 12 + 36 * i, y: 110, s: 22 })),
  8: [{ x: 60, y: 40, s: 50 }],
  9: [{ x: 30, y: 60, s: 60 }],
};
const GREEN = { r: 30, g: 140, b: 50 };
const cat: Sq = { x: 150, y: 5, s: 30 };
const square = ({ x, y, s }: Sq) => [[x, y, x + s, y, x + s, y + s, x, y + s]];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsc-coco-'));
  await mkdir(join(dir, 'images'));
  const annotations = [];
  for (const [id, list] of Object.entries(dogs)) {
    const fill = (sq: Sq, c: typeof RED) => ({
      input: { create: { width: sq.s, height: sq.s, channels: 3 as const, background: c } },
      left: sq.x,
      top: sq.y,
    });
    await sharp({ create: { width: W, height: H, channels: 3, background: id === '9' ? GREEN : { r: 128, g: 128, b: 128 } } })
      .composite([...list.map((sq) => fill(sq, RED)), fill(cat, BLUE)])
      .png()
      .toFile(join(dir, 'images', `${id}.png`));
    for (const sq of list)
      annotations.push({ image_id: Number(id), category_id: 18, segmentation: square(sq), area: sq.s * sq.s, iscrowd: 0 });
    annotations.push({ image_id: Number(id), category_id: 17, segmentation: square(cat), area: cat.s * cat.s, iscrowd: 0 });
  }
  const coco = {
    images: Object.keys(dogs).map((id) => ({ id: Number(id), file_name: `${id}.png`, width: W, height: H })),
    categories: [
      { id: 17, name: 'cat', supercategory: 'animal' },
      { id: 18, name: 'dog', supercategory: 'animal' },
      { id: 58, name: 'hot dog', supercategory: 'food' },
    ],
    annotations,
  };
  await writeFile(join(dir, 'instances_val2017.json'), JSON.stringify(coco));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * How well the truth masks match the pixels of a colour, away from edges (the frames are resampled,
 * their edges blend): the share of the mask's interior that is that colour, and of the colour's
 * interior that is in the mask. Interior: the pixel and its 4 neighbours all set.
 */
function agreement(frame: Uint8Array, mask: Uint8Array | null, c: typeof RED, w: number) {
  const n = frame.length / 3;
  const h = n / w;
  const isColour = new Uint8Array(n);
  for (let p = 0; p < n; p++)
    isColour[p] =
      Math.abs((frame[p * 3] as number) - c.r) +
        Math.abs((frame[p * 3 + 1] as number) - c.g) +
        Math.abs((frame[p * 3 + 2] as number) - c.b) <
      90
        ? 1
        : 0;
  const m = mask ?? new Uint8Array(n);
  const interior = (a: Uint8Array, p: number) => {
    const x = p % w;
    const y = (p - x) / w;
    return a[p] === 1 && x > 0 && y > 0 && x < w - 1 && y < h - 1 && a[p - 1] === 1 && a[p + 1] === 1 && a[p - w] === 1 && a[p + w] === 1;
  };
  let inMask = 0;
  let maskColour = 0;
  let colour = 0;
  let colourInMask = 0;
  for (let p = 0; p < n; p++) {
    if (interior(m, p)) {
      inMask++;
      if (isColour[p]) maskColour++;
    }
    if (interior(isColour, p)) {
      colour++;
      if (m[p]) colourInMask++;
    }
  }
  return { inMask, colour, precision: inMask ? maskColour / inMask : 1, recall: colour ? colourInMask / colour : 1 };
}

describe('COCO clips with ground truth', () => {
  it('names the COCO categories a query holds, whole words, longest first', () => {
    const coco = parseCoco({
      images: [],
      annotations: [],
      categories: [
        { id: 18, name: 'dog', supercategory: 'animal' },
        { id: 58, name: 'hot dog', supercategory: 'food' },
        { id: 1, name: 'person', supercategory: 'person' },
      ],
    });
    expect(queryCategories('Hot dog and a dog', coco)).toEqual(['hot dog', 'dog']);
    expect(queryCategories('the person, and dogs', coco)).toEqual(['person']);
    expect(queryCategories('license plate', coco)).toEqual([]);
  });

  it('coco-tour: the truth moves with the picture, frame by frame, and is the query’s category only', async () => {
    const size = { width: 96, height: 72 };
    const clip = await makeCocoClip('coco-tour', dir, 'dog', 60, 10, size);
    expect(clip.frames).toHaveLength(60);
    expect(clip.region?.kind).toBe('truth');
    const masks = clip.region?.masks ?? [];
    let checked = 0;
    for (const [k, f] of clip.frames.entries()) {
      expect([f.width, f.height, f.data.length]).toEqual([96, 72, 96 * 72 * 3]);
      const a = agreement(f.data, masks[k] ?? null, RED, 96);
      if (a.colour < 20) continue; // the dog is out of view or a sliver
      checked++;
      expect(a.precision).toBeGreaterThan(0.9);
      expect(a.recall).toBeGreaterThan(0.9);
      // The cat is never in the dog's truth.
      expect(agreement(f.data, masks[k] ?? null, BLUE, 96).precision).toBeLessThan(0.05);
    }
    expect(checked).toBeGreaterThan(30);
    // Segments cut to other images: the truth's place changes.
    expect(clip.name).toContain('dog');
    const cats = await makeCocoClip('coco-tour', dir, 'cat', 20, 10, size);
    const c = cats.frames.map((f, k) => agreement(f.data, cats.region?.masks[k] ?? null, BLUE, 96)).filter((a) => a.colour >= 20);
    expect(c.length).toBeGreaterThan(0);
    for (const a of c) expect(a.precision).toBeGreaterThan(0.9);
  });

  it('coco-crowd: 2×2 canvases of the images with the most instances, many small objects in view', async () => {
    const size = { width: 192, height: 144 };
    const clip = await makeCocoClip('coco-crowd', dir, 'dog', 20, 10, size);
    const masks = clip.region?.masks ?? [];
    const first = agreement(clip.frames[0]?.data as Uint8Array, masks[0] ?? null, RED, 192);
    expect(first.precision).toBeGreaterThan(0.9);
    expect(first.recall).toBeGreaterThan(0.9);
    // Zoomed out over four crowded images: a dog is a few pixels across, and many are in view.
    const red = (k: number) => agreement(clip.frames[k]?.data as Uint8Array, masks[k] ?? null, RED, 192).colour;
    expect(red(0)).toBeGreaterThan(0.03 * 192 * 144);
  });

  it('coco-heldout: the tour over images neither other clip uses, its truth moving with it', async () => {
    const size = { width: 96, height: 72 };
    const green = (f: { data: Uint8Array }) => {
      let g = 0;
      for (let p = 0; p < f.data.length; p += 3) if (Math.abs((f.data[p + 1] as number) - GREEN.g) < 30 && (f.data[p] as number) < 80) g++;
      return g / (f.data.length / 3);
    };
    const held = await makeCocoClip('coco-heldout', dir, 'dog', 30, 10, size);
    expect(held.frames.every((f) => green(f) > 0.3)).toBe(true);
    const tour = await makeCocoClip('coco-tour', dir, 'dog', 30, 10, size);
    expect(tour.frames.every((f) => green(f) < 0.01)).toBe(true);
    const a = held.frames.map((f, k) => agreement(f.data, held.region?.masks[k] ?? null, RED, 96)).filter((x) => x.colour >= 20);
    expect(a.length).toBeGreaterThan(10);
    for (const x of a) expect(x.precision).toBeGreaterThan(0.9);
    // A category no image shows: refused, as by the other clips.
    await expect(makeCocoClip('coco-heldout', dir, 'hot dog', 5, 10, size)).rejects.toThrow(/no image/);
  });

  it('refuses a query that names no category, and a folder without annotations', async () => {
    await expect(makeCocoClip('coco-tour', dir, 'license plate', 5, 10, { width: 48, height: 36 })).rejects.toThrow(CocoError);
    await expect(makeCocoClip('coco-tour', dir, 'license plate', 5, 10, { width: 48, height: 36 })).rejects.toThrow(
      /names no COCO category/,
    );
    await expect(makeCocoClip('coco-tour', join(dir, 'images'), 'dog', 5, 10, { width: 48, height: 36 })).rejects.toThrow(/cannot read/);
    await expect(makeCocoClip('coco-tour', dir, 'hot dog', 5, 10, { width: 48, height: 36 })).rejects.toThrow(/no image/);
  });
});
