import { ModelError } from '@mmsc/codec';
import { DEFAULT_MODELS_DIR, readModelJson } from '../models.js';
import { Detector } from './detector.js';
import { type Lexicon, parseLexicon } from './lexicon.js';
import { DEFAULT_RELEVANCE, DetectorRelevance, type DetectorRelevanceOptions } from './relevance-model.js';

export async function loadLexicon(dir = DEFAULT_MODELS_DIR): Promise<Lexicon> {
  return parseLexicon(await readModelJson(dir, 'lexicon.json', 'query lexicon', 'rebuild: see models/lexicon/README.md'));
}

/** The default extractor, ready to run: detector (verified against the manifest) + lexicon. */
export async function loadRelevance(
  dir = DEFAULT_MODELS_DIR,
  options: DetectorRelevanceOptions = DEFAULT_RELEVANCE,
): Promise<DetectorRelevance> {
  const [detector, lexicon] = await Promise.all([Detector.load(dir), loadLexicon(dir)]);
  if (lexicon.classes.join('|') !== detector.classes.join('|')) {
    throw new ModelError(
      'manifest-invalid',
      'lexicon.json and the detector list different classes (or orders): rebuild the lexicon',
      'lexicon.json',
    );
  }
  return new DetectorRelevance(detector, lexicon, options);
}
