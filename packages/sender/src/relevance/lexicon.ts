import { type InstanceModifier, ModifierBuilder, modifierWord } from './modifiers.js';

/**
 * Query text → weights over the detector's COCO classes, with an account of every word.
 *
 * Pure logic over a parsed lexicon (models/lexicon.json, built offline by models/lexicon/build.mjs from
 * WordNet 3.0 and GloVe vectors): no I/O and no Node-only APIs, so it can run in a browser as well.
 */

/** Longest query accepted, in UTF-16 code units (longer text throws {@link LexiconError}). */
export const MAX_QUERY_CHARS = 1024;
/** Most words accepted in one query (longer queries throw {@link LexiconError}). */
export const MAX_QUERY_WORDS = 64;
/** Class weights below this are not reported for a word. */
export const MIN_CLASS_WEIGHT = 0.2;
/** At most this many classes are reported for a word, unless it is a category word ("animals"). */
export const MAX_CLASSES_PER_WORD = 8;

/** Thrown for a malformed lexicon file and for queries over the length limits. */
export class LexiconError extends Error {
  override readonly name = 'LexiconError';
}

/** One class a lexicon entry points at. */
export interface LexiconClassRef {
  /** Index into {@link Lexicon.classes} (= detector channel). */
  readonly index: number;
  /** 0..1; 1 = the word names that class. */
  readonly weight: number;
}

export interface Lexicon {
  /** Class names in detector channel order. */
  readonly classes: readonly string[];
  /** COCO supercategory of each class. */
  readonly supercategories: readonly string[];
  /** Words that are dropped silently (neither grounded nor reported as ungrounded). */
  readonly stopWords: ReadonlySet<string>;
  /** Words that split a query into items, like the punctuation , ; & + / */
  readonly separators: ReadonlySet<string>;
  /** Entries that name a group of classes; they list all their classes. */
  readonly categoryWords: ReadonlySet<string>;
  /** Longest multi-word entry, in words. */
  readonly maxPhraseTokens: number;
  /** Lower-case word or phrase (single spaces) → classes, by weight descending. */
  readonly entries: ReadonlyMap<string, readonly LexiconClassRef[]>;
  /** Sources, versions and licences, as written by the build. */
  readonly provenance: unknown;
}

export interface GroundedClass {
  readonly name: string;
  readonly weight: number;
}

export interface GroundedWord {
  /** The word or phrase as typed (lower-cased), e.g. "cell phones". */
  readonly word: string;
  /** The lexicon entry it matched, e.g. "cell phone". */
  readonly matched: string;
  /** True when the entry is a category word ("vehicles") and lists all member classes. */
  readonly category: boolean;
  /** Classes by weight, descending. */
  readonly classes: readonly GroundedClass[];
  /** True when the query negates the word ("everything except the dog", "no people"): its classes are suppressed. */
  readonly negated: boolean;
  /** What the modifier words ("red", "on the left", "second … from the right") ask of its instances; null when none. */
  readonly modifier: InstanceModifier | null;
  /** Those words as typed, in query order (empty when none). */
  readonly modifierWords: readonly string[];
}

export interface QueryGrounding {
  /** Words that matched at least one class, in query order, each once. */
  readonly words: readonly GroundedWord[];
  /** Words that matched nothing (stop words excluded), in query order, each once. */
  readonly ungrounded: readonly string[];
  /** One weight per class (detector channel order): the maximum over the grounded words that are not negated. */
  readonly classWeights: Float32Array;
  /** The same over the negated words: the classes to suppress. */
  readonly negatedWeights: Float32Array;
  /** The text channel's weight: 1 when a word asks for text (signs, labels, plates, a quoted word), else 0. */
  readonly textWeight: number;
  /** 1 when a negated word asks for text ("everything except the text"), else 0. */
  readonly negatedText: number;
  /** True when no word grounded: the caller should fall back to a query-agnostic relevance map. */
  readonly fallback: boolean;
}

/** The name a text word grounds to: not a detector class but the text detector's channel. */
export const TEXT_CLASS = 'text';

/**
 * Words and phrases that ask for text: the text detector's channel, not an object class. A longer
 * lexicon phrase starting at the same word wins ("stop sign" stays the COCO class).
 */
export const TEXT_PHRASES: ReadonlySet<string> = new Set([
  'text',
  'texts',
  'sign',
  'signs',
  'signage',
  'signboard',
  'signboards',
  'street sign',
  'street signs',
  'road sign',
  'road signs',
  'traffic sign',
  'traffic signs',
  'shop sign',
  'billboard',
  'billboards',
  'label',
  'labels',
  'tag',
  'tags',
  'price tag',
  'name tag',
  'license plate',
  'license plates',
  'licence plate',
  'licence plates',
  'number plate',
  'number plates',
  'registration plate',
  'plate number',
  'writing',
  'handwriting',
  'word',
  'words',
  'letter',
  'letters',
  'lettering',
  'caption',
  'captions',
  'subtitle',
  'subtitles',
  'logo',
  'logos',
  'inscription',
  'graffiti',
  'poster',
  'posters',
  'banner',
  'banners',
  'notice',
  'menu',
  'headline',
  'title',
]);

// ------------------------------------------------------------------------------------------------ parsing

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v)) throw new LexiconError(`lexicon: ${what} must be an array of strings`);
  return v.map((s, i) => {
    if (typeof s !== 'string') throw new LexiconError(`lexicon: ${what}[${i}] must be a string`);
    return s;
  });
}

/**
 * Validates and indexes a parsed lexicon.json. Throws {@link LexiconError} naming the first problem found.
 */
export function parseLexicon(json: unknown): Lexicon {
  if (!isObject(json)) throw new LexiconError('lexicon: expected a JSON object');
  if (json.format !== 'mmsc-lexicon') throw new LexiconError(`lexicon: format must be "mmsc-lexicon", got ${JSON.stringify(json.format)}`);
  if (json.version !== 1) throw new LexiconError(`lexicon: unsupported version ${JSON.stringify(json.version)} (expected 1)`);
  const classes = stringArray(json.classes, 'classes');
  if (classes.length === 0) throw new LexiconError('lexicon: classes is empty');
  if (new Set(classes).size !== classes.length) throw new LexiconError('lexicon: classes contains duplicates');
  const supercategories = stringArray(json.supercategories, 'supercategories');
  if (supercategories.length !== classes.length) {
    throw new LexiconError(`lexicon: ${supercategories.length} supercategories for ${classes.length} classes`);
  }
  const stopWords = new Set(stringArray(json.stopWords, 'stopWords'));
  const separators = new Set(json.separators === undefined ? ['and', 'or', 'with'] : stringArray(json.separators, 'separators'));
  const categoryWords = new Set(json.categoryWords === undefined ? [] : stringArray(json.categoryWords, 'categoryWords'));
  const maxPhraseTokens = json.maxPhraseTokens ?? 3;
  if (typeof maxPhraseTokens !== 'number' || !Number.isInteger(maxPhraseTokens) || maxPhraseTokens < 1 || maxPhraseTokens > 8) {
    throw new LexiconError('lexicon: maxPhraseTokens must be an integer in 1..8');
  }
  const scale = json.weightScale ?? 100;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0)
    throw new LexiconError('lexicon: weightScale must be a positive number');
  if (!isObject(json.entries)) throw new LexiconError('lexicon: entries must be an object');
  const entries = new Map<string, LexiconClassRef[]>();
  for (const [key, raw] of Object.entries(json.entries)) {
    const where = `lexicon: entries[${JSON.stringify(key)}]`;
    if (key.length === 0 || key !== key.trim() || key.includes('  ')) throw new LexiconError(`${where}: malformed key`);
    if (!Array.isArray(raw) || raw.length === 0 || raw.length % 2 !== 0) {
      throw new LexiconError(`${where} must be a non-empty array of [class index, weight] pairs`);
    }
    const refs: LexiconClassRef[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const index: unknown = raw[i];
      const w: unknown = raw[i + 1];
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= classes.length) {
        throw new LexiconError(`${where}[${i}]: class index ${JSON.stringify(index)} out of range (${classes.length} classes)`);
      }
      if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0 || w > scale) {
        throw new LexiconError(`${where}[${i + 1}]: weight ${JSON.stringify(w)} outside (0, ${scale}]`);
      }
      refs.push({ index, weight: w / scale });
    }
    refs.sort((a, b) => b.weight - a.weight || a.index - b.index);
    entries.set(key, refs);
  }
  for (const w of categoryWords) {
    if (!entries.has(w)) throw new LexiconError(`lexicon: category word ${JSON.stringify(w)} has no entry`);
  }
  return {
    classes,
    supercategories,
    stopWords,
    separators,
    categoryWords,
    maxPhraseTokens,
    entries,
    provenance: json.provenance,
  };
}

// ------------------------------------------------------------------------------------------------ tokens

interface Token {
  /** Normalised form used for lookup. */
  readonly norm: string;
  /** Offsets into the lower-cased text (for "as typed"). */
  readonly start: number;
  readonly end: number;
}

/** Word = letters, marks and digits, optionally joined by apostrophes; any other non-space character except - _ ' ends an item. */
const TOKEN_RE = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*['’]?|[^\s\p{L}\p{M}\p{N}'’_-]/gu;
const WORD_RE = /^[\p{L}\p{M}\p{N}]/u;
const NUMBER_RE = /^\p{N}+$/u;

function normaliseWord(raw: string): string {
  return raw
    .replace(/’/g, "'")
    .replace(/'s$/, '') // possessive: dog's -> dog
    .replace(/'/g, '');
}

/** Splits lower-cased text into items (runs of word tokens between separators). */
function segment(text: string, lex: Lexicon): Token[][] {
  const items: Token[][] = [];
  let current: Token[] = [];
  let words = 0;
  const flush = () => {
    if (current.length > 0) items.push(current);
    current = [];
  };
  for (const m of text.matchAll(TOKEN_RE)) {
    const raw = m[0];
    const start = m.index;
    if (!WORD_RE.test(raw)) {
      flush(); // punctuation: , ; & + / . ! ? ( ) ...
      continue;
    }
    words++;
    if (words > MAX_QUERY_WORDS) throw new LexiconError(`query has more than ${MAX_QUERY_WORDS} words`);
    const norm = normaliseWord(raw);
    if (lex.separators.has(norm)) {
      flush();
      continue;
    }
    if (norm.length === 0) continue;
    current.push({ norm, start, end: start + raw.length });
  }
  flush();
  return items;
}

/** Candidate singular forms of an inflected word, most specific first. */
function singulars(w: string): string[] {
  const out: string[] = [];
  if (w.length > 4 && w.endsWith('ies')) out.push(`${w.slice(0, -3)}y`); // puppies
  if (w.length > 4 && w.endsWith('ves')) out.push(`${w.slice(0, -3)}f`, `${w.slice(0, -3)}fe`); // wolves, knives
  if (w.length > 3 && w.endsWith('men')) out.push(`${w.slice(0, -3)}man`); // firemen
  if (w.length > 3 && /(?:s|x|z|ch|sh|o)es$/.test(w)) out.push(w.slice(0, -2)); // boxes, buses, dishes, potatoes
  if (w.length > 2 && w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) out.push(w.slice(0, -1)); // dogs, vases
  return out;
}

/** Looks a phrase up, trying singular forms of its last word when the typed form is not an entry. */
function lookup(toks: readonly string[], lex: Lexicon): string | undefined {
  const key = toks.join(' ');
  if (lex.entries.has(key)) return key;
  const last = toks[toks.length - 1];
  if (last === undefined) return undefined;
  const head = toks.slice(0, -1);
  for (const s of singulars(last)) {
    const k = [...head, s].join(' ');
    if (lex.entries.has(k)) return k;
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------ grounding

/**
 * Grounds an operator's query in the lexicon's classes.
 *
 * Lower-cases the text, splits it into items at , ; & + / (and other punctuation) and at separator words
 * ("and", "or", "with", ...), drops stop words, and matches the longest phrase (up to
 * {@link Lexicon.maxPhraseTokens} words) at each position, falling back to singular forms of the phrase's last
 * word. Numbers are treated like stop words. Throws {@link LexiconError} for text over {@link MAX_QUERY_CHARS}
 * characters or {@link MAX_QUERY_WORDS} words.
 */
/** Words that negate what follows until a restoring word: its objects are suppressed, the rest of the picture matters. */
const NEGATIONS = new Set(['not', 'no', 'without', 'except', 'excluding', 'exclude', 'minus', 'ignore', 'ignoring']);
/** Two-word negations: "other than", "apart from", "rather than". */
const NEGATION_PAIRS = new Map([
  ['other', 'than'],
  ['apart', 'from'],
  ['rather', 'than'],
]);
/** `but` after one of these negates ("everything but the dog", "all but cars"). */
const EVERYTHING = new Set(['everything', 'all', 'anything', 'rest']);
/** Words that end a negation ("no people, only cars", "not the dog but the cat"). */
const RESTORES = new Set(['but', 'only', 'just']);

/**
 * What a token does to the negation state, from it, the token after it and the word before it:
 * `negate` / `restore` with how many tokens the cue takes, or null when the token is no cue.
 */
function negationCue(
  norm: string,
  next: string | undefined,
  before: string | undefined,
  negating: boolean,
): { cue: 'negate' | 'restore'; tokens: number } | null {
  if (NEGATIONS.has(norm)) return { cue: 'negate', tokens: 1 };
  if (next !== undefined && NEGATION_PAIRS.get(norm) === next) return { cue: 'negate', tokens: 2 };
  if (norm === 'but' && before !== undefined && EVERYTHING.has(before)) return { cue: 'negate', tokens: 1 };
  // "but not the truck": the `not` negates; `but` alone ends a negation.
  if (negating && RESTORES.has(norm) && next !== 'not' && next !== 'no') return { cue: 'restore', tokens: 1 };
  return null;
}

export function groundQuery(text: string, lex: Lexicon): QueryGrounding {
  if (typeof text !== 'string') throw new LexiconError('query must be a string');
  if (text.length > MAX_QUERY_CHARS) throw new LexiconError(`query is longer than ${MAX_QUERY_CHARS} characters (${text.length})`);
  let lower = text.normalize('NFKC').toLowerCase();
  const words: GroundedWord[] = [];
  const ungrounded: string[] = [];
  const seenWords = new Set<string>();
  const seenUngrounded = new Set<string>();
  const classWeights = new Float32Array(lex.classes.length);
  const negatedWeights = new Float32Array(lex.classes.length);
  let negating = false;
  let before: string | undefined;

  let textWeight = 0;
  let negatedText = 0;
  // A quoted word or phrase ("the word “EXIT”") asks for text: it is taken out before the rest is read.
  for (const m of lower.matchAll(QUOTED_RE)) {
    const inner = (m[1] ?? '').trim();
    if (inner.length === 0) continue;
    const typed = m[0];
    if (!seenWords.has(typed)) {
      seenWords.add(typed);
      words.push({
        word: typed,
        matched: TEXT_CLASS,
        category: false,
        classes: [{ name: TEXT_CLASS, weight: 1 }],
        negated: false,
        modifier: null,
        modifierWords: [],
      });
    }
    textWeight = 1;
    lower = lower.slice(0, m.index) + ' '.repeat(typed.length) + lower.slice(m.index + typed.length);
  }
  const unground = (typed: string) => {
    if (seenUngrounded.has(typed)) return;
    seenUngrounded.add(typed);
    ungrounded.push(typed);
  };

  for (const item of segment(lower, lex)) {
    // Modifier words wait for the word they modify ("the red car"), or attach to the item's last
    // word when they follow it ("the person on the left"); words of this item, modifiers pending.
    const itemWords: { word: Omit<GroundedWord, 'modifier' | 'modifierWords'>; mods: ModifierBuilder; plural: boolean }[] = [];
    let pending = new ModifierBuilder();
    let i = 0;
    while (i < item.length) {
      const first = item[i] as Token;
      const cue = negationCue(first.norm, item[i + 1]?.norm, before, negating);
      before = first.norm;
      if (cue) {
        negating = cue.cue === 'negate';
        i += cue.tokens;
        continue;
      }
      const part = modifierWord(first.norm);
      if (part && startsWord(item, i + 1, lex)) {
        pending.add(part, lower.slice(first.start, first.end));
        i++;
        continue;
      }
      // A colour after its word is "in red", "wearing blue"; a direction or rank follows freely.
      const worn = 'colour' in (part ?? {}) && WEARING.has(item[i - 1]?.norm ?? '');
      if (part && (!('colour' in part) || worn) && pending.empty) {
        const last = itemWords[itemWords.length - 1];
        if (last && !last.mods.placed) {
          last.mods.add(part, lower.slice(first.start, first.end));
          i++;
          continue;
        }
      }
      // Text words ("sign", "license plate"): the text channel, unless a longer lexicon phrase starts here.
      const tlen = textPhraseLength(item, i, lex);
      if (tlen > 0 && tlen >= lexiconPhraseLength(item, i, lex)) {
        const last = item[i + tlen - 1] as Token;
        const typed = lower.slice(first.start, last.end);
        i += tlen;
        // Modifiers pick among objects; text has none to pick from: they are reported as not understood.
        for (const w of pending.words) unground(w);
        pending = new ModifierBuilder();
        if (negating) negatedText = 1;
        else textWeight = 1;
        itemWords.push({
          word: { word: typed, matched: TEXT_CLASS, category: false, classes: [{ name: TEXT_CLASS, weight: 1 }], negated: negating },
          mods: new ModifierBuilder(),
          plural: false,
        });
        continue;
      }
      const skippable = lex.stopWords.has(first.norm) || NUMBER_RE.test(first.norm);
      // Longest phrase first; a phrase may contain stop words ("four poster"), a single stop word is dropped.
      let matched: string | undefined;
      let len = Math.min(lex.maxPhraseTokens, item.length - i);
      for (; len >= (skippable ? 2 : 1); len--) {
        matched = lookup(
          item.slice(i, i + len).map((t) => t.norm),
          lex,
        );
        if (matched !== undefined) break;
      }
      if (matched === undefined && skippable) {
        i++;
        continue;
      }
      if (matched === undefined) {
        if (part) pending.add(part, lower.slice(first.start, first.end));
        else unground(lower.slice(first.start, first.end));
        i++;
        continue;
      }
      const last = item[i + len - 1] as Token;
      const typed = lower.slice(first.start, last.end);
      i += len;
      const category = lex.categoryWords.has(matched);
      const refs = (lex.entries.get(matched) ?? []).filter((r) => r.weight >= MIN_CLASS_WEIGHT);
      const listed = category ? refs : refs.slice(0, MAX_CLASSES_PER_WORD);
      if (listed.length === 0) continue;
      const classes = listed.map((r) => ({ name: lex.classes[r.index] ?? String(r.index), weight: r.weight }));
      const into = negating ? negatedWeights : classWeights;
      for (const r of listed) if (r.weight > (into[r.index] ?? 0)) into[r.index] = r.weight;
      // A plural ("the people on the left") asks for every instance on that side.
      const plural = isPlural(last.norm, lex);
      itemWords.push({ word: { word: typed, matched, category, classes, negated: negating }, mods: pending, plural });
      pending = new ModifierBuilder();
    }
    // Modifiers that found no word ("the red one") are reported as not understood.
    for (const w of pending.words) unground(w);
    for (const { word, mods, plural } of itemWords) {
      const seenKey = `${word.word}|${mods.words.join(' ')}`;
      if (seenWords.has(seenKey)) continue;
      seenWords.add(seenKey);
      words.push({ ...word, modifier: mods.build(plural), modifierWords: [...mods.words] });
    }
  }
  return { words, ungrounded, classWeights, negatedWeights, textWeight, negatedText, fallback: words.length === 0 };
}

/** Words after which a colour describes the word before them ("the person in red", "a man wearing blue"). */
const WEARING = new Set(['in', 'wearing', 'dressed']);

const IRREGULAR_PLURALS = new Set(['people', 'persons', 'men', 'women', 'children', 'kids', 'mice', 'geese', 'oxen', 'cattle']);

/** Whether a typed word is a plural ("dogs", "people"): an inflected form of an entry, or an irregular plural. */
function isPlural(norm: string, lex: Lexicon): boolean {
  if (IRREGULAR_PLURALS.has(norm)) return true;
  return norm.endsWith('s') && singulars(norm).some((s) => lex.entries.has(s));
}

/** A double-quoted span: "…", “…”, «…». */
const QUOTED_RE = /["“”«»]([^"“”«»]{1,64})["“”«»]/gu;

/** Length in tokens of the longest text phrase at `i` (0 when none). */
function textPhraseLength(item: readonly Token[], i: number, lex: Lexicon): number {
  for (let n = Math.min(lex.maxPhraseTokens, item.length - i); n >= 1; n--) {
    if (
      TEXT_PHRASES.has(
        item
          .slice(i, i + n)
          .map((t) => t.norm)
          .join(' '),
      )
    )
      return n;
  }
  return 0;
}

/** Length in tokens of the longest lexicon phrase at `i` (0 when none). */
function lexiconPhraseLength(item: readonly Token[], i: number, lex: Lexicon): number {
  for (let n = Math.min(lex.maxPhraseTokens, item.length - i); n >= 1; n--) {
    if (
      lookup(
        item.slice(i, i + n).map((t) => t.norm),
        lex,
      ) !== undefined
    )
      return n;
  }
  return 0;
}

/** Whether the item's tokens from `j` (stop words and modifier words skipped) begin a lexicon entry. */
function startsWord(item: readonly Token[], j: number, lex: Lexicon): boolean {
  while (j < item.length) {
    const t = item[j] as Token;
    if (lexiconPhraseLength(item, j, lex) > 0) return true;
    if (!(lex.stopWords.has(t.norm) || NUMBER_RE.test(t.norm) || modifierWord(t.norm))) return false;
    j++;
  }
  return false;
}

/**
 * The weights the relevance fuses: a grounded class's weight, or minus its negated weight where the
 * query negates it (a class both asked for and negated is suppressed). Null when no word grounded.
 */
export function signedWeights(g: QueryGrounding): Float32Array | null {
  if (g.fallback) return null;
  const w = Float32Array.from(g.classWeights);
  g.negatedWeights.forEach((n, c) => {
    if (n > 0) w[c] = -n;
  });
  return w;
}
