import { resolve } from 'node:path';

/**
 * Which relevance scores the frames: the default extractor (COCO detector, lexicon, person mask,
 * text detector) or an open-vocabulary text–image export (`OnnxTextImageRelevance`), which reads
 * the query's text itself.
 */
export type RelevanceChoice = { kind: 'detector' } | { kind: 'onnx'; file: string };

export const DEFAULT_RELEVANCE_CHOICE: RelevanceChoice = { kind: 'detector' };

/** What `--relevance` says: `detector` or `onnx:<file>` (the path resolved against the working folder). */
export function parseRelevanceChoice(spec: string): RelevanceChoice {
  if (spec === 'detector') return { kind: 'detector' };
  if (spec.startsWith('onnx:') && spec.length > 'onnx:'.length) return { kind: 'onnx', file: resolve(spec.slice('onnx:'.length)) };
  throw new RangeError(`--relevance must be "detector" or "onnx:<file>" (an ONNX text-image export); got "${spec}"`);
}

/** The choice in words (logs, reports). */
export function describeRelevanceChoice(c: RelevanceChoice): string {
  return c.kind === 'detector' ? 'detector (COCO-80 + lexicon)' : `open-vocabulary ONNX ${c.file}`;
}
