import { describe, expect, it } from 'vitest';
import type { GroundedQuery } from './grounder.js';
import { bestPerClass, IN_VIEW_SCORE, TEXT_IN_VIEW, ViewTracker, wordsNotInView } from './in-view.js';

/** A query of words, each with its classes as [index, weight], negated ones marked. */
function query(words: { classes: [number, number][]; negated?: boolean }[]): GroundedQuery {
  return {
    key: 'k',
    text: 't',
    weights: null,
    rules: [],
    textWeight: 0,
    words: words.map((w, i) => ({ word: `w${i}`, classes: [], ...(w.negated ? { negated: true as const } : {}) })),
    wordClasses: words.map((w) => w.classes.map(([index, weight]) => ({ index, weight }))),
    ungrounded: [],
  };
}

describe('words in view', () => {
  const best = (scores: Record<number, number>) => {
    const b = new Float32Array(80);
    for (const [c, s] of Object.entries(scores)) b[Number(c)] = s;
    return b;
  };

  it('a word is in view when one of its main classes has a detection scoring IN_VIEW_SCORE', () => {
    const q = query([
      { classes: [[16, 1]] },
      {
        classes: [
          [2, 1],
          [7, 0.6],
        ],
      },
      { classes: [[11, 1]] },
    ]);
    expect(wordsNotInView(q, best({ 16: 0.3, 7: IN_VIEW_SCORE, 11: 0.055 }))).toEqual([2]);
    expect(wordsNotInView(q, best({}))).toEqual([0, 1, 2]);
  });

  it('a weak class alone does not count, unless the word has nothing stronger; negated words are never reported', () => {
    const q = query([
      {
        classes: [
          [16, 1],
          [15, 0.3],
        ],
      },
      {
        classes: [
          [15, 0.3],
          [21, 0.25],
        ],
      },
      { classes: [[0, 1]], negated: true },
    ]);
    expect(wordsNotInView(q, best({ 15: 0.9 }))).toEqual([0]);
    expect(wordsNotInView(q, best({ 21: 0.9 }))).toEqual([0, 1]);
  });

  it('the report changes only after a new answer holds three frames, and ignores a one-frame flicker', () => {
    const v = new ViewTracker();
    expect(v.notInView).toEqual([]);
    expect(v.update([0])).toBe(false);
    expect(v.update([])).toBe(false); // flicker: back to what was reported
    expect(v.update([0])).toBe(false);
    expect(v.update([0])).toBe(false);
    expect(v.update([0])).toBe(true);
    expect(v.notInView).toEqual([0]);
    expect(v.update([0])).toBe(false);
    expect([v.update([]), v.update([]), v.update([])]).toEqual([false, false, true]);
    expect(v.notInView).toEqual([]);
  });
});

describe('the text channel in view', () => {
  it('is the text map’s peak where it reaches TEXT_IN_VIEW, after the classes', () => {
    const text = new Float32Array(100);
    expect(bestPerClass([], 80, text)[80]).toBe(0);
    text[42] = TEXT_IN_VIEW - 0.01;
    expect(bestPerClass([], 80, text)[80]).toBe(0);
    text[43] = 0.9;
    const best = bestPerClass([{ cls: 16, score: 0.5, x0: 0, y0: 0, x1: 1, y1: 1 }], 80, text);
    expect(best).toHaveLength(81);
    expect(best[80]).toBeCloseTo(0.9);
    expect(best[16]).toBeCloseTo(0.5);
    // A text word looks at index 80.
    const q = query([{ classes: [[80, 1]] }]);
    expect(wordsNotInView(q, best)).toEqual([]);
    expect(wordsNotInView(q, bestPerClass([], 80))).toEqual([0]);
  });
});
