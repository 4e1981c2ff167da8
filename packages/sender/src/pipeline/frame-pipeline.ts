import { patchify } from '@mmsc/codec';
import { patchVariances } from '../allocate/distortion.js';
import type { RgbImage } from '../images.js';
import type { Analysis, DetectorRelevance, Frame, QueryRelevance, RelevanceResult } from '../relevance/relevance-model.js';
import type { FrameSource } from '../sources/sources.js';
import { PatchCodeCache, type PatchEncoder } from './code-cache.js';

/** Whether frames can be made, and why not (for /health and the page). */
export interface PipelineHealth {
  ok: boolean;
  reason?: string;
}

/** A frame's shared work as the models' thread returns it (the frame itself stays with the caller). */
export interface ProcessedFrame {
  patches: Uint8Array;
  variances: Float32Array;
  /** The detector pass (query-independent), without the frame. */
  analysis: Omit<Analysis, 'frame'>;
  /** The relevance of each query asked for, fused in the models' thread. */
  relevance: [string, RelevanceResult][];
}

/** The models a pipeline runs: in this thread, or in a worker (`WorkerModels`). */
export interface PipelineModels {
  /** Patchify, patch statistics, the detector pass and each query's fusion for one frame. */
  process(frame: Frame, queries: readonly string[]): Promise<ProcessedFrame>;
  readonly encoder: PatchEncoder;
  /** Runs every model once on a whole frame, so start-up costs and arena growth happen before receivers. */
  warmUp(width: number, height: number): Promise<void>;
  health(): PipelineHealth;
  close(): Promise<void>;
}

/** The work one source frame needs, done once and shared by every receiver. */
export interface PipelineFrame {
  readonly image: RgbImage;
  readonly captureTs: number;
  readonly patches: Uint8Array;
  readonly variances: Float32Array;
  readonly analysis: Analysis;
  /** Patch codes per level, made on first use for all receivers. */
  readonly codes: PatchCodeCache;
  /** Milliseconds the shared work took (0 when a still source repeated the frame). */
  readonly ms: number;
  /** The relevance map for a query (made with the frame, or fused here for a query that came later; memoised). */
  relevance(query: string): RelevanceResult;
}

/** Where receivers' frames come from: one shared frame per tick, whoever receives it. */
export interface FramePipeline {
  readonly description: string;
  /** Consecutive frames may be the same object (a still image): its capture time is then "now". */
  readonly still: boolean;
  /** The next shared frame, with the relevance of `queries` (the receivers' current ones) made alongside. */
  next(queries: readonly string[]): Promise<PipelineFrame>;
  health(): PipelineHealth;
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The production pipeline: a source, then patchify, patch statistics and the detector pass once per
 * new source frame; each query's fusion once per frame; patch codes on demand (`PatchCodeCache`).
 * The models may live in a worker thread so that onnxruntime's runs leave this thread's event loop
 * (werift's SCTP timers, signalling) alone.
 */
export class SourcePipeline implements FramePipeline {
  private last: PipelineFrame | null = null;

  constructor(
    readonly source: FrameSource,
    readonly models: PipelineModels,
    readonly fusion: QueryRelevance,
    private readonly geometry: { width: number; height: number },
  ) {}

  get description(): string {
    return this.source.description;
  }

  get still(): boolean {
    return this.source.still;
  }

  health(): PipelineHealth {
    const src = this.source.health();
    if (!src.ok) return { ok: false, reason: src.reason ?? 'the source produces no frames' };
    return this.models.health();
  }

  warmUp(): Promise<void> {
    return this.models.warmUp(this.geometry.width, this.geometry.height);
  }

  async next(queries: readonly string[]): Promise<PipelineFrame> {
    const image = await this.source.next();
    if (this.last?.image === image) {
      // A still source hands back the same frame object: its analysis and codes are reused.
      return { ...this.last, ms: 0, relevance: this.last.relevance };
    }
    const t0 = performance.now();
    const done = await this.models.process(image, queries);
    const analysis: Analysis = { ...done.analysis, frame: image };
    const byQuery = new Map(done.relevance);
    const frame: PipelineFrame = {
      image,
      captureTs: Date.now(),
      patches: done.patches,
      variances: done.variances,
      analysis,
      codes: new PatchCodeCache(done.patches, this.models.encoder),
      ms: performance.now() - t0,
      relevance: (query) => {
        let r = byQuery.get(query);
        if (!r) {
          r = this.fusion.fromAnalysis(analysis, query);
          byQuery.set(query, r);
        }
        return r;
      },
    };
    this.last = frame;
    return frame;
  }

  async close(): Promise<void> {
    this.source.close();
    await this.models.close();
  }
}

/** The models in this thread (tests, benches, `serve --pipeline inline`, and inside the model worker). */
export class InlineModels implements PipelineModels {
  constructor(
    private readonly relevance: DetectorRelevance,
    readonly encoder: PatchEncoder & { readonly levels: readonly number[] },
  ) {}

  async process(frame: Frame, queries: readonly string[]): Promise<ProcessedFrame> {
    const patches = patchify(frame.data, frame.width, frame.height);
    const variances = patchVariances(patches);
    const a = await this.relevance.analyse(frame);
    const relevance = [...new Set(queries)].map((q): [string, RelevanceResult] => [q, this.relevance.fromAnalysis(a, q)]);
    return { patches, variances, analysis: { fit: a.fit, out: a.out, ms: a.ms }, relevance };
  }

  async warmUp(width: number, height: number): Promise<void> {
    const pixels = new Uint8Array(width * height * 3); // a whole frame's patches take the same bytes
    await this.process({ width, height, data: pixels }, ['warm up']);
    for (const bytes of this.encoder.levels) await this.encoder.encode(bytes, pixels);
  }

  health(): PipelineHealth {
    return { ok: true };
  }

  async close(): Promise<void> {}
}
