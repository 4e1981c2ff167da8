import { type GroundedWord, type GroundingMessage, LIMITS, truncateUtf8 } from '@mmsc/protocol';
import { groundQuery, type Lexicon, signedWeights } from './lexicon.js';

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
  readonly words: readonly GroundedWord[];
  /** Per word, its classes as detector channel indices with their weights (for "in view"; not sent). */
  readonly wordClasses: readonly (readonly { index: number; weight: number }[])[];
  readonly ungrounded: readonly string[];
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
  return {
    key: weightsKey(weights),
    text,
    weights,
    words: g.words.map((w) => ({
      word: w.word,
      classes: w.classes.map((c) => ({ name: c.name, weight: c.weight })),
      ...(w.negated ? { negated: true as const } : {}),
    })),
    wordClasses: g.words.map((w) => w.classes.map((c) => ({ index: lexicon.classes.indexOf(c.name), weight: c.weight }))),
    ungrounded: [...g.ungrounded],
  };
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
    fallback: q.weights === null,
    words: q.words.slice(0, LIMITS.words).map((w, i) => ({
      word: word(w.word),
      classes: w.classes.slice(0, LIMITS.classesPerWord).map((c) => ({ name: word(c.name), weight: c.weight })),
      ...(w.negated ? { negated: true as const } : {}),
      ...(notInView.includes(i) ? { notInView: true as const } : {}),
    })),
    ungrounded: q.ungrounded.slice(0, LIMITS.words).map(word),
  };
}
