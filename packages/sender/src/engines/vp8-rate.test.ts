import { describe, expect, it } from 'vitest';
import { lumaChange, MAX_OFFSET, MIN_OFFSET, relativeBytes, Vp8RateModel } from './vp8-rate.js';

describe('Vp8RateModel', () => {
  it('relative bytes fall as the offset rises, 1 at offset 0', () => {
    expect(relativeBytes(0)).toBe(1);
    for (let o = MIN_OFFSET; o < MAX_OFFSET; o++) expect(relativeBytes(o + 1)).toBeLessThan(relativeBytes(o));
  });

  it('takes the finest offset whose predicted size fits, and follows what pictures cost', () => {
    const m = new Vp8RateModel(480 * 320);
    const key = m.choose({ key: true, target: 6000, credit: 18000, motion: 0 });
    m.coded(key, true, 4000);
    // A predicted picture is taken to cost half a keyframe at the same offset, and aims under its target.
    const p = m.choose({ key: false, target: 6000, credit: 18000, motion: 5 });
    expect(p).toBeLessThanOrEqual(key);
    m.coded(p, false, 6000 * 3); // it cost three times its target
    const next = m.choose({ key: false, target: 6000, credit: 18000, motion: 5 });
    expect(next).toBeGreaterThan(p);
  });

  it('a larger change than the last picture’s (a cut) raises the offset before coding', () => {
    const base = () => {
      const m = new Vp8RateModel(480 * 320);
      m.coded(m.choose({ key: true, target: 6000, credit: 18000, motion: 0 }), true, 4000);
      const o = m.choose({ key: false, target: 6000, credit: 18000, motion: 5 });
      m.coded(o, false, 4000);
      return m;
    };
    const steady = base().choose({ key: false, target: 6000, credit: 18000, motion: 5 });
    const cut = base().choose({ key: false, target: 6000, credit: 18000, motion: 60 });
    expect(cut).toBeGreaterThan(steady);
  });

  it('the offset falls at most 3 a frame but rises at once', () => {
    const m = new Vp8RateModel(480 * 320);
    m.coded(m.choose({ key: true, target: 1000, credit: 3000, motion: 0 }), true, 3000);
    let o = m.choose({ key: false, target: 1000, credit: 3000, motion: 5 });
    m.coded(o, false, 100); // far under: the model would go much finer
    const finer = m.choose({ key: false, target: 1000, credit: 3000, motion: 5 });
    expect(finer).toBe(o - 3);
    o = finer;
    m.coded(o, false, 50_000);
    expect(m.choose({ key: false, target: 1000, credit: 3000, motion: 5 })).toBe(MAX_OFFSET);
  });

  it('lumaChange is the mean absolute difference on a 4-pixel grid', () => {
    const a = new Uint8Array(16 * 8).fill(10);
    const b = new Uint8Array(16 * 8).fill(30);
    expect(lumaChange(a, b, 16, 8)).toBe(20);
    expect(lumaChange(a, a, 16, 8)).toBe(0);
  });
});
