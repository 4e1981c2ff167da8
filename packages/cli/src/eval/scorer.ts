import type { DetectorRelevance, DetectorRelevanceOptions, OnnxTextImageRelevance, RelevanceResult, RgbImage } from '@mmsc/sender';

/**
 * What the evaluations ask of a relevance, whichever scores it: the default extractor (detector +
 * lexicon) or an open-vocabulary export (`--relevance onnx:<file>`).
 */
export interface Scorer {
  readonly name: string;
  /** The lexicon's grounding is reported (the detector's); an open-vocabulary model grounds nothing. */
  readonly grounds: boolean;
  /** What is reported as the relevance's options. */
  readonly options: DetectorRelevanceOptions | { model: string; sha256: string };
  /** The maps of `queries` on one frame from one pass over it, and that pass's query-agnostic map. */
  score(frame: RgbImage, queries: readonly string[]): Promise<{ maps: RelevanceResult[]; baseline: RelevanceResult }>;
  /** The query-agnostic map from a pass of its own (what a frame costs without a query). */
  baseline(frame: RgbImage): Promise<RelevanceResult>;
  release(): Promise<void>;
}

export function detectorScorer(model: DetectorRelevance): Scorer {
  return {
    name: model.name,
    grounds: true,
    options: model.options,
    async score(frame, queries) {
      const a = await model.analyse(frame, model.analyseOptions(...queries));
      return { maps: queries.map((q) => model.fromAnalysis(a, q)), baseline: model.baselineFromAnalysis(a) };
    },
    async baseline(frame) {
      return model.baselineFromAnalysis(await model.analyse(frame));
    },
    release: () => model.release(),
  };
}

/** The open-vocabulary model's: the frame is resized once for every query; its baseline is the uniform map. */
export function openScorer(model: OnnxTextImageRelevance): Scorer {
  return {
    name: model.name,
    grounds: false,
    options: { model: model.entry.file, sha256: model.entry.sha256 },
    async score(frame, queries) {
      const input = await model.prepare(frame);
      const maps: RelevanceResult[] = [];
      for (const q of queries) maps.push(await model.score(input, q));
      return { maps, baseline: await model.score(input, '') };
    },
    baseline: (frame) => model.relevance(frame, ''),
    release: () => model.release(),
  };
}
