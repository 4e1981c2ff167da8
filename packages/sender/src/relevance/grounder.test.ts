import { beforeAll, describe, expect, it } from 'vitest';
import { AGNOSTIC_KEY, groundingMessage, groundOpen, groundText, weightsKey } from './grounder.js';
import type { Lexicon } from './lexicon.js';
import { loadLexicon } from './load-relevance.js';

let lexicon: Lexicon;
beforeAll(async () => {
  lexicon = await loadLexicon();
});

describe('grounding a query once', () => {
  it('queries that ground alike share their weights’ key; others do not', () => {
    const [dog, dogs, aDog, car] = ['dog', 'dogs', 'a dog', 'car'].map((t) => groundText(t, lexicon));
    expect(dogs?.key).toBe(dog?.key);
    expect(aDog?.key).toBe(dog?.key);
    expect(car?.key).not.toBe(dog?.key);
    expect(dog?.weights?.length).toBe(lexicon.classes.length);
    expect(dog?.text).toBe('dog');
  });

  it('a modified word carries its rule to the models, under a key of its own, and its modifiers to the receiver', () => {
    const [dog, left, leftAgain, right] = ['dog', 'the dog on the left', 'leftmost dog', 'the dog on the right'].map((t) =>
      groundText(t, lexicon),
    );
    expect(dog?.rules).toEqual([]);
    expect(left?.rules).toEqual([{ classes: [16], negated: false, select: { by: 'x', order: 'asc', rank: 1, all: false } }]);
    expect(left?.key).not.toBe(dog?.key);
    expect(leftAgain?.key).toBe(left?.key);
    expect(right?.key).not.toBe(left?.key);
    expect(groundingMessage('q', left as NonNullable<typeof left>).words).toEqual([
      { word: 'dog', classes: [{ name: 'dog', weight: 1 }], modifiers: ['left'] },
    ]);
    // A class also asked for without a modifier keeps all its instances: no rule.
    expect(groundText('the dog on the left and the dog', lexicon).rules).toEqual([]);
    expect(groundText('everything except the red car', lexicon).rules).toEqual([{ classes: [2], negated: true, colour: 'red' }]);
  });

  it('a text word asks the models for the text channel under a key of its own; "in view" reads it after the classes', () => {
    const sign = groundText('the sign', lexicon);
    expect(sign.textWeight).toBe(1);
    expect(sign.weights?.every((w) => w === 0)).toBe(true);
    expect(sign.key).toBe('none|text:1');
    expect(groundText('license plate', lexicon).key).toBe(sign.key);
    expect(sign.wordClasses).toEqual([[{ index: lexicon.classes.length, weight: 1 }]]);
    expect(groundText('dog and text', lexicon).key).toBe(`${groundText('dog', lexicon).key}|text:1`);
    expect(groundText('everything except the text', lexicon).textWeight).toBe(-1);
    expect(groundingMessage('q', sign).words).toEqual([{ word: 'sign', classes: [{ name: 'text', weight: 1 }] }]);
  });

  it('a query that grounds nothing has no weights: the query-agnostic map, reported as a fallback', () => {
    const g = groundText('sky and zxqv', lexicon);
    expect(g.weights).toBeNull();
    expect(g.key).toBe(AGNOSTIC_KEY);
    expect(g.ungrounded).toEqual(['sky', 'zxqv']);
    expect(groundingMessage('q1', g)).toMatchObject({ type: 'grounding', queryId: 'q1', text: 'sky and zxqv', fallback: true, words: [] });
  });

  it('the grounding message says what each word matched, and is not a fallback when one did', () => {
    const m = groundingMessage('q2', groundText('puppy and zxqv', lexicon));
    expect(m.fallback).toBe(false);
    expect(m.words[0]).toMatchObject({ word: 'puppy', classes: [{ name: 'dog' }] });
    expect(m.ungrounded).toEqual(['zxqv']);
  });

  it('a negated word: its classes weigh negative, the key differs from the plain query’s, the message marks it', () => {
    const but = groundText('everything except the dog', lexicon);
    const dog = groundText('dog', lexicon);
    const i = lexicon.classes.indexOf('dog');
    expect(but.weights?.[i]).toBe(-1);
    expect(but.key).not.toBe(dog.key);
    expect(but.key).toBe(`${i}:-1`);
    const m = groundingMessage('q3', but);
    expect(m.fallback).toBe(false);
    expect(m.words).toEqual([{ word: 'dog', classes: [{ name: 'dog', weight: 1 }], negated: true }]);
    expect(groundingMessage('q4', dog).words[0]).not.toHaveProperty('negated');
  });

  it('for an open-vocabulary model the text goes to the models under its own key, and nothing is grounded here', () => {
    const q = groundOpen('  the cat on the keyboard ');
    expect(q).toMatchObject({ key: 'open:the cat on the keyboard', openText: 'the cat on the keyboard', weights: null, words: [] });
    expect(groundOpen('the cat on the keyboard').key).toBe(q.key);
    expect(groundOpen('a dog').key).not.toBe(q.key);
    // Not a fallback: the model reads the query.
    expect(groundingMessage('q', q)).toMatchObject({ fallback: false, words: [], ungrounded: [] });
    const none = groundOpen('  ');
    expect(none.key).toBe(AGNOSTIC_KEY);
    expect(none.openText).toBeUndefined();
    expect(groundingMessage('q', none).fallback).toBe(true);
  });

  it('the key names the weights exactly: all-zero weights are the agnostic map too', () => {
    const w = new Float32Array(80);
    expect(weightsKey(w)).toBe(AGNOSTIC_KEY);
    w[3] = 0.5;
    expect(weightsKey(w)).toBe('3:0.5');
  });

  it('a query over the lexicon’s limits throws (the link refuses it as bad-query)', () => {
    expect(() => groundText('cat '.repeat(100), lexicon)).toThrow(/words/);
  });
});
