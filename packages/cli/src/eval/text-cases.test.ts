import { seededRandom } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { drawnBox, TEXT_QUERIES, TEXT_WORDS, textCase } from './text-cases.js';

describe('text cases', () => {
  it('are deterministic in the seed, cycle through the queries and keep the word inside the frame', () => {
    const make = (seed: number) => Array.from({ length: 10 }, (_, i) => textCase(480, 360, i, seededRandom(seed + i)));
    expect(make(3)).toEqual(make(3));
    const cases = make(3);
    expect(
      cases
        .map((c) => c.query)
        .slice(0, TEXT_QUERIES.length)
        .at(-1),
    ).toMatch(/^the word "/);
    expect(cases[0]?.query).toBe('text');
    for (const c of cases) {
      expect(TEXT_WORDS).toContain(c.word);
      expect(c.fontSize).toBeGreaterThanOrEqual(14);
      expect(c.fontSize).toBeLessThanOrEqual(44);
      expect(c.svg).toContain(`>${c.word}</text>`);
      expect(c.svg.includes('<rect')).toBe(c.plate);
      for (const [, x, y] of c.svg.matchAll(/<(?:rect|text) x="(\d+)" y="(\d+)"/g)) {
        expect(Number(x)).toBeLessThan(480);
        expect(Number(y)).toBeLessThan(360);
      }
    }
  });

  it('take the drawn pixels’ bounding box as the truth', () => {
    const rgba = new Uint8Array(10 * 6 * 4);
    rgba[(2 * 10 + 3) * 4 + 3] = 255;
    rgba[(4 * 10 + 6) * 4 + 3] = 10;
    const m = drawnBox(rgba, 10, 6);
    expect(m.reduce((s, v) => s + v, 0)).toBe(4 * 3);
    expect(m[2 * 10 + 3]).toBe(1);
    expect(m[4 * 10 + 6]).toBe(1);
    expect(m[1 * 10 + 3]).toBe(0);
    expect(drawnBox(new Uint8Array(10 * 6 * 4), 10, 6).includes(1)).toBe(false);
  });
});
