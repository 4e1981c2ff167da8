import { describe, expect, it } from 'vitest';
import { colourOf, colourShare, instanceFactors, iou, modifierKey, selectInstances, UNPICKED } from './modifiers.js';

describe('colourOf', () => {
  it.each([
    [[220, 30, 30], 'red'],
    [[250, 140, 20], 'orange'],
    [[240, 220, 30], 'yellow'],
    [[40, 160, 40], 'green'],
    [[30, 60, 200], 'blue'],
    [[120, 40, 160], 'purple'],
    [[255, 150, 200], 'pink'],
    [[120, 70, 30], 'brown'],
    [[10, 10, 10], 'black'],
    [[245, 245, 240], 'white'],
    [[128, 128, 128], 'gray'],
  ] as const)('%j is %s', (rgb, name) => {
    expect(colourOf(rgb[0], rgb[1], rgb[2])).toBe(name);
  });

  it('names no colour for a washed-out pixel between the greys and the hues', () => {
    expect(colourOf(150, 130, 120)).toBeNull();
  });
});

/** A w×h RGB frame filled by `paint(x, y)`. */
function frame(w: number, h: number, paint: (x: number, y: number) => [number, number, number]) {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(paint(x, y), (y * w + x) * 3);
  return { width: w, height: h, data };
}

describe('colourShare', () => {
  it('is the share of a rectangle in the colour', () => {
    const f = frame(40, 20, (x) => (x < 10 ? [220, 30, 30] : [30, 60, 200]));
    expect(colourShare(f.data, f.width, { x0: 0, y0: 0, x1: 20, y1: 20 }, 'red', 1)).toBeCloseTo(0.5);
    expect(colourShare(f.data, f.width, { x0: 20, y0: 0, x1: 40, y1: 20 }, 'red', 1)).toBe(0);
  });
});

const box = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1 });

describe('selectInstances', () => {
  // Three instances across a 300×100 frame: small left, big middle, medium right and low.
  const boxes = [box(0, 10, 40, 50), box(100, 0, 200, 100), box(240, 60, 300, 100)];
  const sel = (by: 'x' | 'y' | 'area' | 'centre', order: 'asc' | 'desc', rank = 1, all = false) =>
    selectInstances(boxes, { by, order, rank, all }, 300, 100);

  it('picks by position, rank, size and distance from the centre', () => {
    expect(sel('x', 'asc')).toEqual([0]);
    expect(sel('x', 'desc')).toEqual([2]);
    expect(sel('x', 'asc', 2)).toEqual([1]);
    expect(sel('y', 'desc')).toEqual([2]);
    expect(sel('area', 'desc')).toEqual([1]);
    expect(sel('area', 'asc')).toEqual([0]);
    expect(sel('centre', 'asc')).toEqual([1]);
  });

  it('picks nothing past the last instance, and every one on a side for a plural', () => {
    expect(sel('x', 'asc', 4)).toEqual([]);
    // The middle one's centre (x 150) is on the right half, with the right one; rightmost first.
    expect(sel('x', 'desc', 1, true)).toEqual([2, 1]);
    expect(sel('x', 'asc', 1, true)).toEqual([0]);
    // Nothing on that side: the nearest one answers.
    expect(selectInstances([box(200, 0, 300, 50)], { by: 'x', order: 'asc', rank: 1, all: true }, 300, 100)).toEqual([0]);
  });
});

describe('instanceFactors', () => {
  // A red object on the left, a blue one on the right, on a grey ground.
  const f = frame(200, 100, (x, y) =>
    y >= 20 && y < 80 && x >= 10 && x < 70 ? [220, 30, 30] : y >= 20 && y < 80 && x >= 120 && x < 180 ? [30, 60, 200] : [128, 128, 128],
  );
  const red = { cls: 2, score: 0.6, ...box(10, 20, 70, 80) };
  const blue = { cls: 2, score: 0.5, ...box(120, 20, 180, 80) };
  const redAgain = { cls: 7, score: 0.3, ...box(12, 22, 70, 80) }; // the same object, another class
  const weak = { cls: 2, score: 0.04, ...box(80, 0, 110, 20) };
  const other = { cls: 16, score: 0.9, ...box(0, 0, 10, 10) };
  const dets = [red, blue, redAgain, weak, other];
  const rule = (r: object) => ({ classes: [2, 7], negated: false, ...r });

  it('keeps the instances of the asked colour and dims the others of the word, not other words', () => {
    const k = instanceFactors(dets, [rule({ colour: 'red' })], f);
    expect(Array.from(k)).toEqual([1, UNPICKED, 1, UNPICKED, 1].map(Math.fround));
    const b = instanceFactors(dets, [rule({ colour: 'blue' })], f);
    expect(b[1]).toBe(1);
    expect(b[0]).toBeCloseTo(UNPICKED);
  });

  it('picks by position among the instances, one object seen twice counted once', () => {
    const right = instanceFactors(dets, [rule({ select: { by: 'x', order: 'desc', rank: 1, all: false } })], f);
    expect([right[0], right[1], right[2]].map((v) => Number(v?.toFixed(3)))).toEqual([UNPICKED, 1, UNPICKED]);
    // "the second from the left": the duplicate of the red one does not count as the second.
    const second = instanceFactors(dets, [rule({ select: { by: 'x', order: 'asc', rank: 2, all: false } })], f);
    expect(second[1]).toBe(1);
    expect(second[0]).toBeCloseTo(UNPICKED);
  });

  it('picks by position among the instances of the colour', () => {
    // "the blue one on the left": the only blue one, though it is on the right.
    const k = instanceFactors(dets, [rule({ colour: 'blue', select: { by: 'x', order: 'asc', rank: 1, all: false } })], f);
    expect(k[1]).toBe(1);
    expect(k[0]).toBeCloseTo(UNPICKED);
  });

  it('dims every instance when none is of the colour', () => {
    const k = instanceFactors(dets, [rule({ colour: 'green' })], f);
    expect([k[0], k[1], k[2]].every((v) => Math.abs((v as number) - UNPICKED) < 1e-6)).toBe(true);
    expect(k[4]).toBe(1);
  });

  it('keys and overlaps', () => {
    expect(modifierKey({ colour: 'red', select: { by: 'x', order: 'asc', rank: 2, all: false } })).toBe('red/x+2');
    expect(modifierKey({ select: { by: 'area', order: 'desc', rank: 1, all: true } })).toBe('/area-1*');
    expect(iou(box(0, 0, 10, 10), box(5, 0, 15, 10))).toBeCloseTo(1 / 3);
    expect(iou(box(0, 0, 10, 10), box(20, 0, 30, 10))).toBe(0);
  });
});
