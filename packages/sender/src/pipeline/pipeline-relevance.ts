import type { GroundedQuery } from '../relevance/grounder.js';
import { bestPerClass } from '../relevance/in-view.js';
import { loadFusion } from '../relevance/load-relevance.js';
import { OnnxTextImageRelevance } from '../relevance/onnx-text-image.js';
import { DEFAULT_RELEVANCE_CHOICE, type RelevanceChoice } from '../relevance/relevance-choice.js';
import type { AnalysingRelevance, Frame } from '../relevance/relevance-model.js';

/**
 * What a link needs of a query's relevance: the patch scores. The per-pixel map and the detector
 * output stay with the models (megabytes per frame that the main thread would only have to collect);
 * the grounding was made once on the main thread when the query came.
 */
export interface FrameRelevance {
  /** Mean relevance of each 8×8 patch, row-major, in [0, 1]. */
  patchScores: Float32Array;
  /** Per detector class, the best score of a detection of it that the map used (0: none); whether a word's objects are in view. */
  best: Float32Array;
  /** Time of the fusion, ms. */
  ms: number;
}

/**
 * A query as the models see it: its class weights and instance rules under their key
 * (`GroundedQuery`); its text only for an open-vocabulary model, which reads it (`openText`).
 */
export type QueryWeights = Pick<GroundedQuery, 'key' | 'weights'> & {
  rules?: GroundedQuery['rules'];
  textWeight?: number;
  openText?: string;
};

/** The models' part of a query (what crosses to the model worker). */
export function queryWeights(q: QueryWeights): QueryWeights {
  return {
    key: q.key,
    weights: q.weights,
    ...(q.rules && q.rules.length > 0 ? { rules: q.rules } : {}),
    ...(q.textWeight ? { textWeight: q.textWeight } : {}),
    ...(q.openText !== undefined ? { openText: q.openText } : {}),
  };
}

/** One frame's relevance pass, kept for the queries asked of it (those of the frame and later ones). */
export interface AnalysedFrame {
  /** Time of the pass, ms. */
  readonly ms: number;
  /** A query's map on this frame (its patch scores and, for "in view", its classes' best detections). */
  relevance(q: QueryWeights): Promise<FrameRelevance>;
}

/** What a pipeline's models run for relevance: one pass per frame, then each query's map on it. */
export interface PipelineRelevance {
  /** The pass, for the queries the frame is made with (they decide what it must run). */
  analyse(frame: Frame, queries: readonly QueryWeights[]): Promise<AnalysedFrame>;
  release(): Promise<void>;
}

/** The default extractor's: one detector pass (person mask, text when asked for), then each query's class weights fused. */
export function detectorPipelineRelevance(r: AnalysingRelevance, release: () => Promise<void> = async () => {}): PipelineRelevance {
  return {
    async analyse(frame, queries) {
      const a = await r.analyse(frame, {
        weights: queries.map((q) => q.weights),
        text: queries.some((q) => (q.textWeight ?? 0) !== 0),
      });
      return {
        ms: a.ms,
        async relevance(q) {
          const t0 = performance.now();
          const m = r.fromWeights(a, q.weights, q.rules, q.textWeight);
          // The text channel's evidence follows the detector's classes (where a text word looks for it).
          const best = bestPerClass(m.detections, a.out.classes, (q.textWeight ?? 0) !== 0 ? a.text : undefined);
          return { patchScores: m.patchScores, best, ms: a.ms + performance.now() - t0 };
        },
      };
    },
    release,
  };
}

/**
 * An open-vocabulary export's (`--relevance onnx:<file>`): the frame is resized once; each query's
 * text (`openText`) is run through the model on it. It reports no detections, so nothing is judged
 * "not in view" (`best` is empty); a query without text gets the query-agnostic map.
 */
export function openPipelineRelevance(m: OnnxTextImageRelevance): PipelineRelevance {
  return {
    async analyse(frame) {
      const input = await m.prepare(frame);
      return {
        ms: input.ms,
        async relevance(q) {
          const r = await m.score(input, q.openText ?? '');
          return { patchScores: r.patchScores, best: new Float32Array(0), ms: r.ms };
        },
      };
    },
    release: () => m.release(),
  };
}

/**
 * The pipeline's relevance for `choice`: the detector and the fusion (checked against the lexicon's
 * `classes` when given), or the open-vocabulary export.
 */
export async function loadPipelineRelevance(
  modelsDir: string,
  classes: readonly string[] | null,
  choice: RelevanceChoice | null = DEFAULT_RELEVANCE_CHOICE,
): Promise<PipelineRelevance> {
  if (choice?.kind === 'onnx') return openPipelineRelevance(await OnnxTextImageRelevance.fromFile(choice.file));
  const fusion = await loadFusion(modelsDir, classes);
  return detectorPipelineRelevance(fusion, () => fusion.release());
}
