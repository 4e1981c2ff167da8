import { type GroundedWord, type GroundingMessage, LIMITS, truncateUtf8 } from '@mmsc/protocol';
import { groundQuery, type Lexicon, type GroundedWord as LexiconWord, signedWeights, TEXT_CLASS } from './lexicon.js';
import { type InstanceRule, modifierKey } from './modifiers.js';

/**
 * A query as the sender understands it, grounded once on the main thread: what its words matched
 * (told to the receiver) and the class weights the models fuse with (sent to the model worker
 * under `key`; the text never crosses the thread boundary).
 */
export interface GroundedQuery {
  /**
   * Names the class weights: two queries that ground alike ("dog", "puppy") share it, so a frame's
   * map is fused once for both.
   */
  readonly key: string;
  readonly text: string;
  /**
   * One weight per detector class, negative for a class the query negates ("everything except the
   * dog"); null when no word grounded (the query-agnostic map).
   */
  readonly weights: Float32Array | null;
  /** What the modified words ("the red car", "the dog on the left") ask of their classes' instances. */
  readonly rules: readonly InstanceRule[];
  /** The text channel's weight: 1 asked for (signs, labels, plates, a quoted word), −1 negated, 0 not asked. */
  readonly textWeight: number;
  readonly words: readonly GroundedWord[];
  /**
   * Per word, its classes as detector channel indices with their weights (for "in view"; not sent);
   * a text word's is the channel after the detector's, {@link textChannel}.
   */
  readonly wordClasses: readonly (readonly { index: number; weight: number }[])[];
  readonly ungrounded: readonly string[];
  /**
   * For an open-vocabulary model: the text it reads (the query, trimmed), sent to the models with
   * the key; absent for the lexicon's grounding, whose models see class weights only.
   */
  readonly openText?: string;
}

/** The key of the query-agnostic map (every query that grounds nothing). */
export const AGNOSTIC_KEY = 'agnostic';

/** The weights' key: the grounded classes and their weights, in class order. */
export function weightsKey(weights: Float32Array | null): string {
  if (weights === null) return AGNOSTIC_KEY;
  const parts: string[] = [];
  weights.forEach((w, c) => {
    if (w !== 0) parts.push(`${c}:${w}`);
  });
  return parts.length === 0 ? AGNOSTIC_KEY : parts.join(',');
}

/** Grounds a query with the lexicon (throws `LexiconError` for a query over its limits). */
export function groundText(text: string, lexicon: Lexicon): GroundedQuery {
  const g = groundQuery(text, lexicon);
  const weights = signedWeights(g);
  const rules = instanceRules(g.words, lexicon);
  const textSign = g.textWeight > 0 ? 1 : g.negatedText > 0 ? -1 : 0;
  const base = weightsKey(weights);
  const key = [
    // Text alone: no class weight, but not the query-agnostic map either.
    textSign !== 0 && base === AGNOSTIC_KEY ? 'none' : base,
    ...(rules.length > 0 ? [rules.map(ruleKey).join(';')] : []),
    ...(textSign !== 0 ? [`text:${textSign}`] : []),
  ].join('|');
  return {
    key,
    text,
    weights,
    rules,
    textWeight: textSign,
    words: g.words.map((w) => ({
      word: w.word,
      classes: w.classes.map((c) => ({ name: c.name, weight: c.weight })),
      ...(w.negated ? { negated: true as const } : {}),
      ...(w.modifierWords.length > 0 ? { modifiers: [...w.modifierWords] } : {}),
    })),
    wordClasses: g.words.map((w) =>
      w.matched === TEXT_CLASS || w.classes.every((c) => c.name === TEXT_CLASS)
        ? [{ index: textChannel(lexicon), weight: 1 }]
        : w.classes.map((c) => ({ index: lexicon.classes.indexOf(c.name), weight: c.weight })),
    ),
    ungrounded: [...g.ungrounded],
  };
}

/**
 * A query for an open-vocabulary model (`--relevance onnx:<file>`): nothing is grounded here, the
 * model reads the text. An empty query is the query-agnostic map; the same text shares one map.
 */
export function groundOpen(text: string): GroundedQuery {
  const t = text.trim();
  return {
    key: t === '' ? AGNOSTIC_KEY : `open:${t}`,
    text,
    weights: null,
    rules: [],
    textWeight: 0,
    words: [],
    wordClasses: [],
    ungrounded: [],
    ...(t === '' ? {} : { openText: t }),
  };
}

/**
 * The modified words' rules. A class that an unmodified word of the same sense also asks for ("the
 * dog on the left and the dog") is left out of the rule: all its instances are wanted.
 */
function instanceRules(words: readonly LexiconWord[], lexicon: Lexicon): InstanceRule[] {
  const plain = (negated: boolean) =>
    new Set(words.filter((w) => w.modifier === null && w.negated === negated).flatMap((w) => w.classes.map((c) => c.name)));
  const free = [plain(false), plain(true)];
  const rules: InstanceRule[] = [];
  for (const w of words) {
    if (w.modifier === null || w.classes.some((c) => c.name === TEXT_CLASS)) continue;
    const taken = free[w.negated ? 1 : 0] as Set<string>;
    const classes = w.classes.filter((c) => !taken.has(c.name)).map((c) => lexicon.classes.indexOf(c.name));
    if (classes.length > 0) rules.push({ ...w.modifier, classes, negated: w.negated });
  }
  return rules;
}

/** The index "in view" reads a text word's evidence at: the channel after the detector's classes. */
export function textChannel(lexicon: Lexicon): number {
  return lexicon.classes.length;
}

function ruleKey(r: InstanceRule): string {
  return `${r.negated ? '-' : ''}${r.classes.join('.')}:${modifierKey(r)}`;
}

/**
 * The grounding report for a receiver's query, its echoed strings cut to the protocol's limits (the
 * words are the peer's); `notInView`: indices of the words none of whose objects is in view.
 */
export function groundingMessage(queryId: string, q: GroundedQuery, notInView: readonly number[] = []): GroundingMessage {
  const word = (w: string) => truncateUtf8(w, LIMITS.wordBytes);
  return {
    type: 'grounding',
    queryId: truncateUtf8(queryId, LIMITS.idBytes),
    text: truncateUtf8(q.text, LIMITS.textBytes),
    fallback: q.weights === null && q.openText === undefined,
    words: q.words.slice(0, LIMITS.words).map((w, i) => ({
      word: word(w.word),
      classes: w.classes.slice(0, LIMITS.classesPerWord).map((c) => ({ name: word(c.name), weight: c.weight })),
      ...(w.negated ? { negated: true as const } : {}),
      ...(notInView.includes(i) ? { notInView: true as const } : {}),
      ...(w.modifiers ? { modifiers: w.modifiers.slice(0, LIMITS.modifiersPerWord).map(word) } : {}),
    })),
    ungrounded: q.ungrounded.slice(0, LIMITS.words).map(word),
  };
}
