import { ModelError } from '@mmsc/codec';
import { DEFAULT_MODELS_DIR, readModelJson } from '../models.js';
import { Detector } from './detector.js';
import { type Lexicon, parseLexicon } from './lexicon.js';
import { PersonMask } from './person-mask.js';
import { DEFAULT_RELEVANCE, DetectorFusion, DetectorRelevance, type DetectorRelevanceOptions } from './relevance-model.js';
import { TextDetector } from './text-detector.js';

/** The text detector the options ask for, or null. */
function loadTextDetector(dir: string, options: DetectorRelevanceOptions): Promise<TextDetector | null> {
  return options.text ? TextDetector.load(dir, options.text.maxSide) : Promise.resolve(null);
}

/** The person mask the options ask for, or null. */
function loadPersonMask(dir: string, options: DetectorRelevanceOptions): Promise<PersonMask | null> {
  if (!options.person) return Promise.resolve(null);
  const [width, height] = options.person.input;
  return PersonMask.load(dir, { width, height });
}

export async function loadLexicon(dir = DEFAULT_MODELS_DIR): Promise<Lexicon> {
  return parseLexicon(await readModelJson(dir, 'lexicon.json', 'query lexicon', 'rebuild: see models/lexicon/README.md'));
}

/** The lexicon's classes must be the detector's, in its order (its weights index the detector's channels). */
export function checkClasses(lexiconClasses: readonly string[], detectorClasses: readonly string[]): void {
  if (lexiconClasses.join('|') !== detectorClasses.join('|')) {
    throw new ModelError(
      'manifest-invalid',
      'lexicon.json and the detector list different classes (or orders): rebuild the lexicon',
      'lexicon.json',
    );
  }
}

/** The default extractor, ready to run: detector (verified against the manifest) + lexicon. */
export async function loadRelevance(
  dir = DEFAULT_MODELS_DIR,
  options: DetectorRelevanceOptions = DEFAULT_RELEVANCE,
): Promise<DetectorRelevance> {
  const [detector, lexicon, person, text] = await Promise.all([
    Detector.load(dir),
    loadLexicon(dir),
    loadPersonMask(dir, options),
    loadTextDetector(dir, options),
  ]);
  checkClasses(lexicon.classes, detector.classes);
  return new DetectorRelevance(detector, lexicon, options, person, text);
}

/**
 * The detector and the fusion without the lexicon (the model worker's: queries reach it as class
 * weights); `classes` are the lexicon's, checked against the detector's.
 */
export async function loadFusion(
  dir = DEFAULT_MODELS_DIR,
  classes: readonly string[] | null = null,
  options: DetectorRelevanceOptions = DEFAULT_RELEVANCE,
): Promise<DetectorFusion> {
  const [detector, person, text] = await Promise.all([Detector.load(dir), loadPersonMask(dir, options), loadTextDetector(dir, options)]);
  if (classes) checkClasses(classes, detector.classes);
  return new DetectorFusion(detector, options, person, text);
}
