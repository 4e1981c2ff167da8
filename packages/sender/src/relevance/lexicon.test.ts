import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  groundQuery,
  type Lexicon,
  LexiconError,
  MAX_QUERY_CHARS,
  MAX_QUERY_WORDS,
  parseLexicon,
  type QueryGrounding,
  signedWeights,
} from './lexicon.js';

const lexiconUrl = new URL('../../../../models/lexicon.json', import.meta.url);
const paraphrasesUrl = new URL('../../../../models/lexicon/paraphrases.json', import.meta.url);
const raw: unknown = JSON.parse(readFileSync(lexiconUrl, 'utf8'));
const lex = parseLexicon(raw);

const ANIMALS = ['bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe'];
const VEHICLES = ['bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat'];
const FOOD = ['banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake'];
const KITCHEN = ['bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl'];

/** Weight of a class in the query's combined class weights. */
function weight(g: QueryGrounding, name: string): number {
  const i = lex.classes.indexOf(name);
  if (i < 0) throw new Error(`no class ${name}`);
  return g.classWeights[i] ?? Number.NaN;
}

/** The highest-weighted class of a query. */
function top(g: QueryGrounding): string | undefined {
  let best = -1;
  let bestW = 0;
  g.classWeights.forEach((w, i) => {
    if (w > bestW) [best, bestW] = [i, w];
  });
  return best < 0 ? undefined : lex.classes[best];
}

function ground(text: string): QueryGrounding {
  return groundQuery(text, lex);
}

/** A small hand-made lexicon for tests that need exact control over entries. */
function tinyLexicon(entries: Record<string, number[]>, extra: Record<string, unknown> = {}): Lexicon {
  const classes = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'];
  return parseLexicon({
    format: 'mmsc-lexicon',
    version: 1,
    classes,
    supercategories: classes.map(() => 'x'),
    stopWords: ['the'],
    separators: ['and'],
    maxPhraseTokens: 3,
    weightScale: 100,
    categoryWords: [],
    entries,
    ...extra,
  });
}

describe('committed lexicon', () => {
  it('has the 80 COCO classes in detector order with supercategories and provenance', () => {
    expect(lex.classes).toHaveLength(80);
    expect(lex.classes[0]).toBe('person');
    expect(lex.classes[16]).toBe('dog');
    expect(lex.classes[67]).toBe('cell phone');
    expect(lex.classes[79]).toBe('toothbrush');
    expect(lex.supercategories[lex.classes.indexOf('zebra')]).toBe('animal');
    expect(lex.supercategories[lex.classes.indexOf('toaster')]).toBe('appliance');
    expect(lex.entries.size).toBeGreaterThan(10_000);
    expect(JSON.stringify(lex.provenance)).toMatch(/WordNet 3\.0/);
    expect(JSON.stringify(lex.provenance)).toMatch(/PDDL/);
  });

  it('stays compact', () => {
    expect(readFileSync(lexiconUrl).byteLength).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});

describe('synonyms and hypernym walks', () => {
  it.each([
    ['puppy', 'dog'],
    ['kitten', 'cat'],
    ['tabby', 'cat'],
    ['sofa', 'couch'],
    ['television', 'tv'],
    ['telly', 'tv'],
    ['automobile', 'car'],
    ['jeep', 'car'],
    ['man', 'person'],
    ['woman', 'person'],
    ['child', 'person'],
    ['fridge', 'refrigerator'],
    ['laptop computer', 'laptop'],
    ['mobile phone', 'cell phone'],
    ['smartphone', 'cell phone'],
    ['table', 'dining table'],
  ])('%s grounds to %s', (query, cls) => {
    const g = ground(query);
    expect(top(g)).toBe(cls);
    expect(weight(g, cls)).toBeGreaterThanOrEqual(0.8);
    expect(g.fallback).toBe(false);
  });

  it('sofa names couch exactly (weight 1)', () => {
    expect(weight(ground('sofa'), 'couch')).toBe(1);
  });

  it('bike is a bicycle first and a motorcycle second', () => {
    const g = ground('bike');
    expect(weight(g, 'bicycle')).toBe(1);
    expect(weight(g, 'motorcycle')).toBeGreaterThan(0.2);
    expect(weight(g, 'motorcycle')).toBeLessThan(weight(g, 'bicycle'));
    expect(g.words[0]?.classes.map((c) => c.name)).toEqual(['bicycle', 'motorcycle']);
  });

  it('handles the known traps', () => {
    expect(top(ground('coach'))).toBe('bus');
    expect(top(ground('monitor'))).toBe('tv');
    expect(weight(ground('mouse'), 'mouse')).toBe(1);
    expect(top(ground('remote'))).toBe('remote');
    expect(top(ground('tv'))).toBe('tv');
    const cup = ground('cup');
    expect(top(cup)).toBe('cup');
    expect(weight(cup, 'sports ball')).toBe(0);
  });
});

describe('family names', () => {
  it.each([
    ['canine', 'dog'],
    ['canines', 'dog'],
    ['feline', 'cat'],
    ['equine', 'horse'],
    ['bovine', 'cow'],
    ['ovine', 'sheep'],
  ])('"%s" means the one COCO class of its family, %s, at 0.9', (word, cls) => {
    const g = ground(word);
    expect(top(g)).toBe(cls);
    expect(weight(g, cls)).toBeCloseTo(0.9, 5);
  });
});

describe('category words', () => {
  it.each([
    ['animals', ANIMALS],
    ['vehicles', VEHICLES],
    ['furniture', ['chair', 'couch', 'bed', 'dining table']],
    ['food', FOOD],
    ['kitchenware', KITCHEN],
    ['fruit', ['banana', 'apple', 'orange']],
    ['vegetables', ['broccoli', 'carrot']],
    ['cutlery', ['fork', 'knife', 'spoon']],
    ['electronics', ['tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone']],
    ['appliances', ['microwave', 'oven', 'toaster', 'refrigerator']],
    ['pets', ['cat', 'dog']],
  ])('%s covers its member classes', (query, members) => {
    const g = ground(query);
    for (const m of members) expect(weight(g, m), m).toBeGreaterThanOrEqual(0.5);
    expect(g.words).toHaveLength(1);
    expect(g.words[0]?.category).toBe(true);
    // ... and nothing unrelated
    expect(weight(g, 'toothbrush')).toBe(0);
  });

  it('lists all members of a category word, beyond the per-word cap of 8', () => {
    const g = ground('animals');
    const names = g.words[0]?.classes.map((c) => c.name) ?? [];
    expect(names).toHaveLength(10);
    expect([...names].sort()).toEqual([...ANIMALS].sort());
  });
});

describe('inflections', () => {
  it.each([
    ['dogs', 'dog'],
    ['mice', 'mouse'],
    ['knives', 'knife'],
    ['puppies', 'dog'],
    ['people', 'person'],
    ['children', 'person'],
    ['women', 'person'],
    ['buses', 'bus'],
    ['geese', 'bird'],
  ])('the lexicon holds %s, grounding to %s', (query, cls) => {
    expect(lex.entries.has(query)).toBe(true);
    const g = ground(query);
    expect(g.words[0]?.word).toBe(query);
    expect(top(g)).toBe(cls);
  });

  it('reports a plural phrase as typed', () => {
    const g = ground('cell phones');
    expect(g.words).toEqual([
      {
        word: 'cell phones',
        matched: 'cell phones',
        category: false,
        classes: [{ name: 'cell phone', weight: 1 }],
        negated: false,
        modifier: null,
        modifierWords: [],
      },
    ]);
  });

  it('falls back to singular rules for forms missing from the lexicon', () => {
    // Possessives resolve to the entry...
    expect(ground("the jeep's wheel").words[0]?.matched).toBe('jeep');
    expect(ground('the dogs’ bowls').words.map((w) => w.matched)).toEqual(['dogs', 'bowls']);
    // ...and plurals missing from a lexicon are singularised by rule.
    const tiny = tinyLexicon({ box: [1, 100], puppy: [2, 90], knife: [3, 100], fireman: [4, 100] });
    expect(groundQuery('boxes', tiny).words[0]?.matched).toBe('box');
    expect(groundQuery('puppies', tiny).words[0]?.matched).toBe('puppy');
    expect(groundQuery('knives', tiny).words[0]?.matched).toBe('knife');
    expect(groundQuery('firemen', tiny).words[0]?.matched).toBe('fireman');
  });
});

describe('multi-word phrases', () => {
  it.each([
    ['cell phone', 'cell phone'],
    ['dining table', 'dining table'],
    ['teddy bear', 'teddy bear'],
    ['hot dog', 'hot dog'],
    ['fire hydrant', 'fire hydrant'],
    ['traffic light', 'traffic light'],
    ['baseball glove', 'baseball glove'],
  ])('%s is matched as one phrase', (query, cls) => {
    const g = ground(query);
    expect(g.words).toHaveLength(1);
    expect(g.words[0]?.matched).toBe(query);
    expect(g.words[0]?.classes[0]).toEqual({ name: cls, weight: 1 });
    expect(g.ungrounded).toEqual([]);
  });

  it('prefers the longest phrase: a teddy bear is no bear, a hot dog no dog', () => {
    expect(weight(ground('teddy bear'), 'bear')).toBe(0);
    expect(weight(ground('hot dog'), 'dog')).toBe(0);
    expect(weight(ground('big hot dog'), 'hot dog')).toBe(1);
  });

  it('matches phrases typed with hyphens and capitals, reporting them as typed', () => {
    const g = ground('Cell-Phones');
    expect(g.words[0]?.word).toBe('cell-phones');
    expect(g.words[0]?.matched).toBe('cell phones');
    expect(top(g)).toBe('cell phone');
  });
});

describe('splitting a query', () => {
  it('splits on "and"', () => {
    const g = ground('cat and keyboard');
    expect(g.words.map((w) => w.word)).toEqual(['cat', 'keyboard']);
    expect(weight(g, 'cat')).toBe(1);
    expect(weight(g, 'keyboard')).toBe(1);
  });

  it('splits on commas and "or"', () => {
    const g = ground('dog, car or bike');
    expect(g.words.map((w) => w.word)).toEqual(['dog', 'car', 'bike']);
    expect(weight(g, 'bicycle')).toBe(1);
  });

  it('splits on & + / ; and "with"', () => {
    const g = ground('cup & spoon + fork / bowl; pizza with knife');
    expect(g.words.map((w) => w.matched)).toEqual(['cup', 'spoon', 'fork', 'bowl', 'pizza', 'knife']);
  });

  it('never joins a phrase across a separator', () => {
    const g = ground('hot, dog');
    expect(g.words.map((w) => w.word)).toEqual(['dog']);
    expect(g.ungrounded).toEqual(['hot']);
    expect(weight(g, 'hot dog')).toBe(0);
  });

  it('reports each word once', () => {
    const g = ground('dog and dog, dogs');
    expect(g.words.map((w) => w.word)).toEqual(['dog', 'dogs']);
  });
});

describe('words that ground to nothing', () => {
  it.each(['zxqv', 'tree', 'sky', 'grass', 'road', 'building', 'happiness'])('%s is ungrounded', (word) => {
    const g = ground(word);
    expect(g.words).toEqual([]);
    expect(g.ungrounded).toEqual([word]);
    expect(g.fallback).toBe(true);
    expect(Array.from(g.classWeights).every((w) => w === 0)).toBe(true);
  });

  it('drops stop words silently and reports only content words', () => {
    const g = ground('please show me all of the trees near my cat');
    expect(g.words.map((w) => w.word)).toEqual(['cat']);
    expect(g.ungrounded).toEqual(['trees']);
    expect(g.fallback).toBe(false);
  });

  it('treats numbers like stop words', () => {
    const g = ground('2 dogs');
    expect(g.words.map((w) => w.word)).toEqual(['dogs']);
    expect(g.ungrounded).toEqual([]);
  });

  it('an empty or stop-word-only query falls back without ungrounded words', () => {
    for (const q of ['', '   ', 'show me the', ', ; /']) {
      const g = ground(q);
      expect(g.fallback).toBe(true);
      expect(g.words).toEqual([]);
      expect(g.ungrounded).toEqual([]);
    }
  });

  it('keeps non-ASCII words and reports them as typed', () => {
    const g = ground('Café and Hund');
    expect(g.ungrounded).toEqual(['café', 'hund']);
  });
});

describe('class weights', () => {
  it('takes the maximum over words', () => {
    const bike = ground('bike');
    const motorcycleFromBike = weight(bike, 'motorcycle');
    expect(motorcycleFromBike).toBeLessThan(1);
    const both = ground('bike and motorcycle');
    expect(weight(both, 'motorcycle')).toBe(1);
    expect(weight(both, 'bicycle')).toBe(1);
    const g = ground('cup and glass');
    // "glass" gives cup 0.5, "cup" gives 1: the maximum wins, no sum above 1.
    expect(weight(g, 'cup')).toBe(1);
    expect(weight(g, 'wine glass')).toBeCloseTo(0.8, 5);
  });

  it('has one entry per class and matches the listed classes', () => {
    const g = ground('a man riding a horse');
    expect(g.classWeights).toHaveLength(80);
    const listed = new Map<string, number>();
    for (const w of g.words) for (const c of w.classes) listed.set(c.name, Math.max(listed.get(c.name) ?? 0, c.weight));
    lex.classes.forEach((name, i) => {
      expect(g.classWeights[i]).toBeCloseTo(listed.get(name) ?? 0, 6);
    });
    expect(g.ungrounded).toEqual(['riding']);
  });

  it('drops weights below 0.2 and caps ordinary words at 8 classes, sorted by weight', () => {
    const tiny = tinyLexicon(
      {
        many: [0, 90, 1, 80, 2, 70, 3, 60, 4, 55, 5, 50, 6, 45, 7, 40, 8, 35, 9, 30],
        weak: [0, 15, 1, 50],
        group: [0, 90, 1, 80, 2, 70, 3, 60, 4, 55, 5, 50, 6, 45, 7, 40, 8, 35, 9, 30],
      },
      { categoryWords: ['group'] },
    );
    const many = groundQuery('many', tiny);
    expect(many.words[0]?.classes.map((c) => c.name)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']);
    expect(many.classWeights[8]).toBe(0);
    expect(groundQuery('weak', tiny).words[0]?.classes).toEqual([{ name: 'a1', weight: 0.5 }]);
    expect(groundQuery('group', tiny).words[0]?.classes).toHaveLength(10);
  });
});

describe('negation', () => {
  /** The words of a query as typed, negated ones marked with a leading "-". */
  const marked = (text: string) => ground(text).words.map((w) => (w.negated ? `-${w.word}` : w.word));

  it('negates what follows not / no / without / except / excluding / minus / ignore', () => {
    for (const q of [
      'everything except the dog',
      'not the dog',
      'no dogs',
      'without the dog',
      'excluding dogs',
      'minus the dog',
      'ignore the dog',
    ])
      expect(
        marked(q).map((w) => w.replace(/s$/, '')),
        q,
      ).toEqual(['-dog']);
  });

  it('"everything but", "all but", "other than", "apart from" negate; the cue words are not reported as ungrounded', () => {
    for (const q of ['everything but the dog', 'all but the dog', 'anything other than the dog', 'the picture apart from the dog']) {
      const g = ground(q);
      expect(marked(q), q).toEqual(['-dog']);
      expect(
        g.ungrounded.filter((w) => ['but', 'other', 'than', 'apart', 'from', 'except'].includes(w)),
        q,
      ).toEqual([]);
    }
  });

  it('a negation lasts over "and" until but / only / just', () => {
    expect(marked('everything except dogs and cats')).toEqual(['-dogs', '-cats']);
    expect(marked('cars but not trucks')).toEqual(['cars', '-trucks']);
    expect(marked('no people, only cars')).toEqual(['-people', 'cars']);
    expect(marked('not the dog but the cat')).toEqual(['-dog', 'cat']);
    expect(marked('dogs and no cats')).toEqual(['dogs', '-cats']);
    // `but` with nothing negated is a stop word.
    expect(marked('cat but dog')).toEqual(['cat', 'dog']);
  });

  it('negated classes go to negatedWeights, not classWeights; signed weights make them negative, suppression winning', () => {
    const g = ground('cars but not trucks');
    const car = lex.classes.indexOf('car');
    const truck = lex.classes.indexOf('truck');
    expect(g.classWeights[car]).toBe(1);
    expect(g.negatedWeights[truck]).toBe(1);
    expect(g.classWeights[truck]).toBeLessThan(1); // "cars" reaches truck only by its hypernym walk
    const w = signedWeights(g) as Float32Array;
    expect(w[car]).toBe(1);
    expect(w[truck]).toBe(-1);
    expect(signedWeights(ground('the the'))).toBeNull();
    // A plain query's signed weights are its class weights.
    expect([...(signedWeights(ground('dog')) as Float32Array)]).toEqual([...ground('dog').classWeights]);
  });

  it('a query without a cue negates nothing', () => {
    for (const q of ['dog', 'cat and keyboard', 'the person on the left', 'knots'])
      expect(
        ground(q).words.every((w) => !w.negated),
        q,
      ).toBe(true);
  });
});

describe('modifiers: position, order and colour', () => {
  const word = (q: string, i = 0) => ground(q).words[i];

  it('takes a direction after the word ("the person on the left")', () => {
    const w = word('the person on the left');
    expect(w?.matched).toBe('person');
    expect(w?.modifier).toEqual({ select: { by: 'x', order: 'asc', rank: 1, all: false } });
    expect(w?.modifierWords).toEqual(['left']);
    expect(ground('the person on the left').ungrounded).toEqual([]);
  });

  it('takes superlatives and ordinals before the word', () => {
    expect(word('the biggest dog')?.modifier).toEqual({ select: { by: 'area', order: 'desc', rank: 1, all: false } });
    expect(word('smallest cup')?.modifier).toEqual({ select: { by: 'area', order: 'asc', rank: 1, all: false } });
    expect(word('the rightmost car')?.modifier?.select).toMatchObject({ by: 'x', order: 'desc', rank: 1 });
    expect(word('the second car from the right')?.modifier?.select).toEqual({ by: 'x', order: 'desc', rank: 2, all: false });
    expect(word('the 3rd person from the top')?.modifier?.select).toEqual({ by: 'y', order: 'asc', rank: 3, all: false });
    expect(word('the second largest bowl')?.modifier?.select).toEqual({ by: 'area', order: 'desc', rank: 2, all: false });
    expect(word('the dog in the middle')?.modifier?.select).toMatchObject({ by: 'centre', order: 'asc', rank: 1 });
  });

  it('asks for every instance on a side when the word is plural', () => {
    expect(word('the people on the left')?.modifier?.select).toEqual({ by: 'x', order: 'asc', rank: 1, all: true });
    expect(word('cars at the bottom')?.modifier?.select).toMatchObject({ by: 'y', order: 'desc', all: true });
    expect(word('the second cars from the left')?.modifier?.select?.all).toBe(false);
  });

  it('takes a colour before the word, and keeps colour-named classes and compounds', () => {
    expect(word('the red car')?.modifier).toEqual({ colour: 'red' });
    expect(word('a grey cat')?.modifier).toEqual({ colour: 'gray' });
    expect(word('the red car on the left')?.modifier).toEqual({ colour: 'red', select: { by: 'x', order: 'asc', rank: 1, all: false } });
    expect(word('the red car on the left')?.modifierWords).toEqual(['red', 'left']);
    expect(word('the person in red')?.modifier).toEqual({ colour: 'red' });
    expect(word('a man wearing blue')?.modifierWords).toEqual(['blue']);
    // "orange" on its own is the fruit; before a word it is a colour.
    expect(word('orange')?.classes[0]?.name).toBe('orange');
    expect(word('orange cat')?.matched).toBe('cat');
    expect(word('orange cat')?.modifier).toEqual({ colour: 'orange' });
    // A word after a modifier wins over a compound that would mean something else ("top dog" is a dog at the top).
    expect(word('top dog')?.classes[0]?.name).toBe('dog');
  });

  it('reports modifiers that find no word as not understood', () => {
    const g = ground('the red one');
    expect(g.words).toEqual([]);
    expect(g.ungrounded).toEqual(['red']);
    expect(ground('left').ungrounded).toEqual(['left']);
  });

  it('keeps two modified uses of one word apart, and leaves plain queries alone', () => {
    const g = ground('the dog on the left and the dog on the right');
    expect(g.words.map((w) => w.modifierWords)).toEqual([['left'], ['right']]);
    expect(word('dog')?.modifier).toBeNull();
    expect(ground('cat and keyboard').words.every((w) => w.modifier === null && w.modifierWords.length === 0)).toBe(true);
  });

  it('negates a modified word', () => {
    const w = word('everything except the red car');
    expect(w?.negated).toBe(true);
    expect(w?.modifier).toEqual({ colour: 'red' });
  });
});

describe('text words', () => {
  it('ground signs, labels, plates and writing to the text channel, not to an object class', () => {
    for (const q of ['text', 'the sign', 'labels', 'license plate', 'the number plate', 'street sign', 'graffiti']) {
      const g = ground(q);
      expect(
        g.words.map((w) => w.classes.map((c) => c.name)),
        q,
      ).toEqual([['text']]);
      expect(g.textWeight, q).toBe(1);
      expect(
        g.classWeights.every((w) => w === 0),
        q,
      ).toBe(true);
      expect(g.fallback, q).toBe(false);
    }
  });

  it('keep "stop sign" the COCO class, and mix with object words', () => {
    expect(ground('stop sign').words[0]?.classes[0]?.name).toBe('stop sign');
    expect(ground('stop sign').textWeight).toBe(0);
    const g = ground('the dog and the sign');
    expect(g.words.map((w) => w.matched)).toEqual(['dog', 'text']);
    expect(weight(g, 'dog')).toBe(1);
    expect(g.textWeight).toBe(1);
  });

  it('take a quoted word as text to find, and negate text', () => {
    const g = ground('the word “EXIT”');
    expect(g.words.map((w) => w.word)).toEqual(['“exit”', 'word']);
    expect(g.words.every((w) => w.classes[0]?.name === 'text')).toBe(true);
    expect(g.ungrounded).toEqual([]);
    expect(ground('"open" and the dog').words.map((w) => w.word)).toEqual(['"open"', 'dog']);
    const not = ground('everything except the text');
    expect([not.textWeight, not.negatedText]).toEqual([0, 1]);
    expect(not.words[0]?.negated).toBe(true);
  });

  it('report a modifier of a text word as not understood (text has no instances to pick)', () => {
    const g = ground('the red sign');
    expect(g.words.map((w) => [w.matched, w.modifier])).toEqual([['text', null]]);
    expect(g.ungrounded).toEqual(['red']);
  });
});

describe('input bounds', () => {
  it(`rejects text over ${MAX_QUERY_CHARS} characters`, () => {
    expect(() => ground('dog '.repeat(300))).toThrow(LexiconError);
    expect(() => ground('x'.repeat(MAX_QUERY_CHARS + 1))).toThrow(/longer than 1024/);
    expect(ground('x'.repeat(MAX_QUERY_CHARS)).ungrounded).toHaveLength(1);
  });

  it(`rejects more than ${MAX_QUERY_WORDS} words`, () => {
    expect(() => ground(Array.from({ length: MAX_QUERY_WORDS + 1 }, () => 'cat').join(' '))).toThrow(/more than 64 words/);
    expect(ground(Array.from({ length: MAX_QUERY_WORDS }, () => 'cat').join(' ')).words).toHaveLength(1);
  });
});

describe('parseLexicon validation', () => {
  const good = raw as Record<string, unknown>;
  it.each<[string, unknown, RegExp]>([
    ['null', null, /JSON object/],
    ['an array', [], /JSON object/],
    ['a wrong format tag', { ...good, format: 'other' }, /format/],
    ['a wrong version', { ...good, version: 2 }, /version/],
    ['missing classes', { ...good, classes: undefined }, /classes/],
    ['duplicate classes', { ...good, classes: ['a', 'a'], supercategories: ['x', 'x'] }, /duplicates/],
    ['supercategories of the wrong length', { ...good, supercategories: ['x'] }, /supercategories/],
    ['entries that are not an object', { ...good, entries: [] }, /entries/],
    ['an odd-length entry', { ...good, entries: { dog: [16] } }, /pairs/],
    ['a class index out of range', { ...good, entries: { dog: [80, 100] } }, /out of range/],
    ['a weight above the scale', { ...good, entries: { dog: [16, 101] } }, /weight/],
    ['a zero weight', { ...good, entries: { dog: [16, 0] } }, /weight/],
    ['a category word without an entry', { ...good, categoryWords: ['nonexistent'] }, /category word/],
    ['a non-string stop word', { ...good, stopWords: ['the', 3] }, /stopWords\[1\]/],
  ])('rejects %s', (_name, json, message) => {
    let error: unknown;
    try {
      parseLexicon(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LexiconError);
    expect((error as Error).name).toBe('LexiconError');
    expect((error as Error).message).toMatch(message);
  });
});

describe('paraphrase set (models/lexicon/paraphrases.json)', () => {
  interface Paraphrase {
    query: string;
    expect: string[];
  }
  const set = JSON.parse(readFileSync(paraphrasesUrl, 'utf8')) as { paraphrases: Paraphrase[]; mustNotGround: string[] };

  it('places over 90 % of paraphrases on the right top class, all expected classes >= 0.5', () => {
    let topOk = 0;
    let allOk = 0;
    for (const p of set.paraphrases) {
      const g = ground(p.query);
      const t = top(g);
      if (t !== undefined && p.expect.includes(t)) topOk++;
      if (p.expect.every((e) => weight(g, e) >= 0.5)) allOk++;
    }
    expect(set.paraphrases.length).toBeGreaterThanOrEqual(120);
    expect(topOk / set.paraphrases.length).toBeGreaterThan(0.9);
    expect(allOk / set.paraphrases.length).toBeGreaterThan(0.9);
  });

  it('grounds none of the must-not-ground words', () => {
    expect(set.mustNotGround.length).toBeGreaterThanOrEqual(20);
    const grounded = set.mustNotGround.filter((q) => !ground(q).fallback);
    expect(grounded).toEqual([]);
  });
});
