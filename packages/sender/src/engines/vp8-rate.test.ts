import { allocYuv } from '@mmsc/codec';
import { describe, expect, it } from 'vitest';
import {
  coarsen,
  lumaChange,
  MAX_PICTURE_OFFSET,
  MAX_TRIALS,
  MIN_PICTURE_OFFSET,
  nextTrial,
  pick,
  relativeBytes,
  sizeAim,
  type Trial,
  Vp8RateModel,
} from './vp8-rate.js';

/** A picture whose bytes follow the table from `at0` bytes at offset 0, scaled by `slope` in the log. */
const picture =
  (at0: number, slope = 1) =>
  (o: number) =>
    Math.round(at0 * relativeBytes(o) ** slope);

/** Runs the trial search as the stream does (at most `max` trials) and returns the trials and the pick. */
function search(first: number, bytes: (o: number) => number, aim: ReturnType<typeof sizeAim>, max = MAX_TRIALS) {
  const trials: Trial[] = [];
  for (let o: number | null = first; o !== null && trials.length < max; ) {
    trials.push({ offset: o, bytes: bytes(o) });
    o = nextTrial(trials, aim);
  }
  return { trials, take: pick(trials, aim) };
}

describe('Vp8RateModel', () => {
  it('relative bytes fall as the offset rises, 1 at offset 0', () => {
    expect(relativeBytes(0)).toBe(1);
    for (let o = MIN_PICTURE_OFFSET; o < MAX_PICTURE_OFFSET; o++) expect(relativeBytes(o + 1)).toBeLessThan(relativeBytes(o));
  });

  it('guesses the finest offset whose predicted size fits, and follows what pictures cost', () => {
    const m = new Vp8RateModel(480 * 320);
    const key = m.choose(true, 12_000, 0);
    m.coded(key, true, 4000);
    // A predicted picture is taken to cost half a keyframe at the same offset.
    const p = m.choose(false, 6000, 5);
    expect(p).toBeLessThanOrEqual(key);
    m.coded(p, false, 6000 * 3); // it cost three times its aim
    expect(m.choose(false, 6000, 5)).toBeGreaterThan(p);
  });

  it('a larger change than the last picture’s (a cut) raises the first guess', () => {
    const base = () => {
      const m = new Vp8RateModel(480 * 320);
      m.coded(m.choose(true, 12_000, 0), true, 4000);
      m.coded(m.choose(false, 6000, 5), false, 4000);
      return m;
    };
    expect(base().choose(false, 6000, 60)).toBeGreaterThan(base().choose(false, 6000, 5));
  });

  it('coarsen replaces each f×f block by its mean, in new planes', () => {
    const pic = allocYuv(6, 4);
    pic.y.set([0, 4, 10, 10, 1, 1, 8, 0, 20, 30, 1, 1, 0, 0, 0, 0, 9, 9, 0, 0, 0, 0, 9, 9]);
    pic.u.set([0, 100, 50, 50, 7, 7]);
    const c = coarsen(pic, 2);
    expect([...c.y]).toEqual([3, 3, 18, 18, 1, 1, 3, 3, 18, 18, 1, 1, 0, 0, 0, 0, 9, 9, 0, 0, 0, 0, 9, 9]);
    expect([...c.u]).toEqual([39, 39, 29, 39, 39, 29]);
    expect(pic.y[1]).toBe(4);
  });

  it('lumaChange is the mean absolute difference on a 4-pixel grid', () => {
    const a = new Uint8Array(16 * 8).fill(10);
    const b = new Uint8Array(16 * 8).fill(30);
    expect(lumaChange(a, b, 16, 8)).toBe(20);
    expect(lumaChange(a, a, 16, 8)).toBe(0);
  });
});

describe('trial search (nextTrial, pick)', () => {
  const aim = sizeAim(false, 6000, 18_000);

  it('the aim: a predicted picture at its target, a keyframe at up to twice it, both under the credit', () => {
    expect(aim.target).toBe(6000);
    expect(aim.low).toBeLessThan(6000);
    expect(aim.high).toBeGreaterThan(6000);
    const key = sizeAim(true, 6000, 18_000);
    expect(key.target).toBe(12_000);
    expect(sizeAim(false, 6000, 5000).high).toBeLessThanOrEqual(5000);
  });

  it('a first trial within the aim is taken as is', () => {
    const r = search(0, () => 6100, aim);
    expect(r.trials).toHaveLength(1);
    expect(r.take?.offset).toBe(0);
  });

  for (const [name, bytes] of [
    ['as the table says', picture(20_000)],
    ['steeper than the table (a cut)', picture(60_000, 1.6)],
    ['flatter than the table', picture(9000, 0.6)],
  ] as const)
    it(`from a wrong guess either way it lands within the aim in MAX_TRIALS trials (bytes ${name})`, () => {
      for (const first of [MIN_PICTURE_OFFSET, -4, 20, MAX_PICTURE_OFFSET]) {
        const { take } = search(first, bytes, aim);
        expect(take).not.toBeNull();
        expect((take as Trial).bytes).toBeLessThanOrEqual(aim.high);
        expect((take as Trial).bytes).toBeGreaterThanOrEqual(0.6 * aim.target);
      }
    });

  it('stops at the ends of the range and takes nothing when even the coarsest is over the credit', () => {
    const tiny = search(0, () => 100, aim);
    expect(tiny.trials.map((t) => t.offset).at(-1)).toBe(MIN_PICTURE_OFFSET);
    expect(tiny.take?.offset).toBe(MIN_PICTURE_OFFSET);
    const huge = search(0, () => 50_000, aim);
    expect(huge.trials.map((t) => t.offset).at(-1)).toBe(MAX_PICTURE_OFFSET);
    expect(huge.take).toBeNull();
  });

  it('picks the finest trial within the aim, else the smallest within the credit', () => {
    const t = (offset: number, bytes: number) => ({ offset, bytes });
    expect(pick([t(10, 4000), t(6, 6500), t(2, 9000)], aim)?.offset).toBe(6);
    expect(pick([t(10, 15_000), t(20, 9000)], aim)?.offset).toBe(20);
    expect(pick([t(10, 17_000)], aim)).toBeNull();
  });
});
