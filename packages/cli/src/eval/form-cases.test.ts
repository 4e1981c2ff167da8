import { describe, expect, it } from 'vitest';
import { type Coco, parseCoco } from './build-pairs.js';
import { colourCase, formCandidates, frameInstance, spatialCase } from './form-cases.js';

// Images of 100×100: image 1 has two dogs and one cat; image 2 two dogs and a crowd of dogs; image 3 one dog.
function coco(): Coco {
  const square = (x: number, y: number, s: number) => [[x, y, x + s, y, x + s, y + s, x, y + s]];
  const ann = (image_id: number, category_id: number, segmentation: unknown, iscrowd: 0 | 1 = 0) => ({
    image_id,
    category_id,
    segmentation,
    area: 100,
    iscrowd,
  });
  return parseCoco({
    images: [1, 2, 3].map((id) => ({ id, file_name: `${id}.jpg`, width: 100, height: 100 })),
    categories: [
      { id: 1, name: 'cat', supercategory: 'animal' },
      { id: 2, name: 'dog', supercategory: 'animal' },
    ],
    annotations: [
      ann(1, 2, square(0, 0, 10)),
      ann(1, 2, square(50, 50, 40)),
      ann(1, 1, square(20, 20, 10)),
      ann(2, 2, square(0, 0, 10)),
      ann(2, 2, square(50, 50, 10)),
      ann(2, 2, { counts: [0, 1000, 9000], size: [100, 100] }, 1),
      ann(3, 2, square(0, 0, 10)),
    ],
  });
}

/** An instance that is the rectangle [x0, x1) × [y0, y1) of a w×h frame. */
function rect(w: number, h: number, x0: number, y0: number, x1: number, y1: number) {
  const m = new Uint8Array(w * h);
  for (let y = y0; y < y1; y++) m.fill(1, y * w + x0, y * w + x1);
  return frameInstance(m, w);
}

describe('form candidates', () => {
  it('are the image–category pairs with two instances or more and no crowd region, in a seeded order', () => {
    const c = formCandidates(coco(), 1);
    expect(c.map((x) => [x.imageId, x.category, x.annotations])).toEqual([[1, 'dog', [0, 1]]]);
    expect(formCandidates(coco(), 2)).toEqual(c);
  });
});

describe('spatial cases', () => {
  // A 200×100 frame: a small dog on the left, a big one in the middle, a medium one right and low.
  const dogs = [rect(200, 100, 0, 10, 30, 40), rect(200, 100, 80, 0, 140, 100), rect(200, 100, 160, 60, 200, 100)];

  it('cycle through the variants, each with its clear answer', () => {
    const cases = [0, 1, 2, 3, 4, 5, 6].map((v) => spatialCase('dog', dogs, 200, 100, v));
    expect(cases.map((c) => [c?.variant, c?.query, c?.truth])).toEqual([
      ['left', 'the dog on the left', [0]],
      ['rightmost', 'the rightmost dog', [2]],
      ['biggest', 'the biggest dog', [1]],
      ['top', 'the dog at the top', [0]],
      ['smallest', 'the smallest dog', [0]],
      ['bottom', 'the dog at the bottom', [2]],
      ['second from the left', 'the second dog from the left', [1]],
    ]);
    expect(cases[0]?.plain).toBe('dog');
  });

  it('skip a variant without a clear answer, and a candidate with none', () => {
    // Two dogs side by side of the same size: left and right are clear, size and height are not.
    const pair = [rect(200, 100, 0, 0, 40, 40), rect(200, 100, 150, 0, 190, 40)];
    expect(spatialCase('dog', pair, 200, 100, 2)?.variant).toBe('second from the left');
    // Two dogs in one spot: nothing is clear.
    const same = [rect(200, 100, 0, 0, 40, 40), rect(200, 100, 1, 0, 41, 40)];
    expect(spatialCase('dog', same, 200, 100, 0)).toBeNull();
    // A dog that left the frame does not count.
    expect(spatialCase('dog', [pair[0] as ReturnType<typeof rect>, frameInstance(new Uint8Array(200 * 100), 200)], 200, 100, 0)).toBeNull();
  });
});

describe('colour cases', () => {
  it('ask for the colour some instances are and another is not; people by what they wear', () => {
    const w = 100;
    const h = 50;
    const rgb = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set(x < 50 ? [220, 30, 30] : [30, 60, 200], (y * w + x) * 3);
    const two = [rect(w, h, 0, 0, 40, 40), rect(w, h, 60, 0, 100, 40)];
    const red = colourCase('car', two, rgb, w, h, 0);
    expect(red).toEqual({ query: 'the red car', plain: 'car', variant: 'red', truth: [0] });
    // From another starting colour the first that fits is blue.
    expect(colourCase('person', two, rgb, w, h, 2)).toEqual({ query: 'the person in blue', plain: 'person', variant: 'blue', truth: [1] });
    // Both red: no case.
    expect(colourCase('car', [rect(w, h, 0, 0, 20, 40), rect(w, h, 25, 0, 45, 40)], rgb, w, h, 0)).toBeNull();
  });
});
