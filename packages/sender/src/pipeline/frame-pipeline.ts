import { patchify } from '@mmsc/codec';
import { patchVariances } from '../allocate/distortion.js';
import type { RgbImage } from '../images.js';
import type { GroundedQuery } from '../relevance/grounder.js';
import type { AnalysingRelevance, Frame } from '../relevance/relevance-model.js';
import type { FrameSource } from '../sources/sources.js';
import { gatherPatches, PatchCodeCache, type PatchEncoder } from './code-cache.js';
import {
  type AnalysedFrame,
  detectorPipelineRelevance,
  type FrameRelevance,
  type PipelineRelevance,
  type QueryWeights,
  queryWeights,
} from './pipeline-relevance.js';

export { type FrameRelevance, type QueryWeights, queryWeights };

/**
 * The pipeline could not do its part for a frame (the model worker stopped, a frame's analysis is
 * gone): that frame is skipped for the receiver, whose session goes on.
 */
export class PipelineError extends Error {
  override name = 'PipelineError';
}

/** Whether frames can be made, and why not (for /health and the page). */
export interface PipelineHealth {
  ok: boolean;
  reason?: string;
}

/** A frame's shared work as the models' thread returns it (the frame itself stays with the caller). */
export interface ProcessedFrame {
  /** Names this frame's analysis, kept by the models for queries that arrive later (`fuse`). */
  seq: number;
  patches: Uint8Array;
  variances: Float32Array;
  /** Time of the detector pass, ms. */
  analysisMs: number;
  /** The relevance of each query asked for (by its weights' key), fused in the models' thread. */
  relevance: [string, FrameRelevance][];
}

/** How many recent frames' analyses the models keep for `fuse`. */
const KEEP_ANALYSES = 4;

/** The models a pipeline runs: in this thread, or in a worker (`WorkerModels`). */
export interface PipelineModels {
  /** Patchify, patch statistics, the detector pass and each query's fusion for one frame. */
  process(frame: Frame, queries: readonly QueryWeights[]): Promise<ProcessedFrame>;
  /** A query's relevance on a recent frame (`seq` from `process`) that was not asked for with it. */
  fuse(seq: number, query: QueryWeights): Promise<FrameRelevance>;
  /** Codes at `bytes` per patch of patches `idx` of a recent frame (`seq`), whose patches the models kept. */
  encodeIndexed(seq: number, bytes: number, idx: Uint32Array): Promise<Uint8Array>;
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
  /** Time of the detector pass, ms. */
  readonly analysisMs: number;
  /** Patch codes per level, made on first use for all receivers. */
  readonly codes: PatchCodeCache;
  /** Milliseconds the shared work took (0 when a still source repeated the frame). */
  readonly ms: number;
  /** A query's relevance (made with the frame, or asked of the models for a query that came later; memoised by its key). */
  relevance(query: GroundedQuery): Promise<FrameRelevance>;
}

/** Where receivers' frames come from: one shared frame per tick, whoever receives it. */
export interface FramePipeline {
  readonly description: string;
  /** Consecutive frames may be the same object (a still image): its capture time is then "now". */
  readonly still: boolean;
  /** The next shared frame, with the relevance of `queries` (the receivers' current ones) made alongside. */
  next(queries: readonly GroundedQuery[]): Promise<PipelineFrame>;
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

  async next(queries: readonly GroundedQuery[]): Promise<PipelineFrame> {
    const image = await this.source.next();
    // Captured when the source handed the frame over: the analysis below is part of its age.
    const captureTs = Date.now();
    if (this.last?.image === image) {
      // A still source hands back the same frame object: its analysis and codes are reused.
      return { ...this.last, ms: 0 };
    }
    const t0 = performance.now();
    const done = await this.models.process(image, distinct(queries));
    const byQuery = new Map<string, Promise<FrameRelevance>>(done.relevance.map(([q, r]) => [q, Promise.resolve(r)]));
    const frame: PipelineFrame = {
      image,
      captureTs,
      patches: done.patches,
      variances: done.variances,
      analysisMs: done.analysisMs,
      codes: new PatchCodeCache(done.patches, this.models.encoder, (bytes, idx) => this.models.encodeIndexed(done.seq, bytes, idx)),
      ms: performance.now() - t0,
      relevance: (query) => {
        let r = byQuery.get(query.key);
        if (!r) {
          r = this.models.fuse(done.seq, queryWeights(query));
          byQuery.set(query.key, r);
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

/** Each query's weights once (receivers whose queries ground alike share a fusion); the text stays here unless an open-vocabulary model reads it. */
function distinct(queries: readonly QueryWeights[]): QueryWeights[] {
  const byKey = new Map<string, QueryWeights>();
  for (const q of queries) if (!byKey.has(q.key)) byKey.set(q.key, queryWeights(q));
  return [...byKey.values()];
}

/** The models in this thread (tests, benches, `serve --pipeline inline`, and inside the model worker). */
export class InlineModels implements PipelineModels {
  private seq = 0;
  private readonly recent = new Map<number, { analysis: AnalysedFrame; patches: Uint8Array }>();
  private readonly relevance: PipelineRelevance;

  /** `relevance`: the pipeline's relevance, or the default extractor's detector pass and fusion. */
  constructor(
    relevance: PipelineRelevance | AnalysingRelevance,
    readonly encoder: PatchEncoder & { readonly levels: readonly number[] },
  ) {
    this.relevance = 'fromWeights' in relevance ? detectorPipelineRelevance(relevance) : relevance;
  }

  async process(frame: Frame, queries: readonly QueryWeights[]): Promise<ProcessedFrame> {
    const patches = patchify(frame.data, frame.width, frame.height);
    const variances = patchVariances(patches);
    const a = await this.relevance.analyse(frame, queries);
    const seq = ++this.seq;
    this.recent.set(seq, { analysis: a, patches });
    this.recent.delete(seq - KEEP_ANALYSES);
    const relevance: [string, FrameRelevance][] = [];
    for (const q of distinct(queries)) relevance.push([q.key, await a.relevance(q)]);
    return { seq, patches, variances, analysisMs: a.ms, relevance };
  }

  async fuse(seq: number, query: QueryWeights): Promise<FrameRelevance> {
    return this.kept(seq).analysis.relevance(query);
  }

  async encodeIndexed(seq: number, bytes: number, idx: Uint32Array): Promise<Uint8Array> {
    return this.encoder.encode(bytes, gatherPatches(this.kept(seq).patches, idx));
  }

  private kept(seq: number) {
    const k = this.recent.get(seq);
    if (!k) throw new PipelineError(`frame ${seq} is no longer kept (${KEEP_ANALYSES} recent frames are)`);
    return k;
  }

  async warmUp(width: number, height: number): Promise<void> {
    const pixels = new Uint8Array(width * height * 3); // a whole frame's patches take the same bytes
    await this.process({ width, height, data: pixels }, [{ key: 'warm up', weights: null }]);
    for (const bytes of this.encoder.levels) await this.encoder.encode(bytes, pixels);
  }

  health(): PipelineHealth {
    return { ok: true };
  }

  async close(): Promise<void> {}
}
