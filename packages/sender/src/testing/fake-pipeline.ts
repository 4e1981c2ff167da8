import { patchify } from '@mmsc/codec';
import { patchVariances } from '../allocate/distortion.js';
import { PatchCodeCache, type PatchEncoder } from '../pipeline/code-cache.js';
import type { FramePipeline, FrameRelevance, PipelineFrame, PipelineHealth } from '../pipeline/frame-pipeline.js';
import type { GroundedQuery } from '../relevance/grounder.js';

/** Stands in for the learned encoders: a patch's code is its first `bytes` values. Counts what it codes. */
export class FakeEncoder implements PatchEncoder {
  patchesCoded = 0;

  async encode(bytes: number, patches: Uint8Array): Promise<Uint8Array> {
    const n = patches.length / 192;
    this.patchesCoded += n;
    const out = new Uint8Array(n * bytes);
    for (let p = 0; p < n; p++) out.set(patches.subarray(p * 192, p * 192 + bytes), p * bytes);
    return out;
  }
}

/**
 * A frame pipeline without models or a source: moving noise frames; a query's map is 1 on the left
 * half for "left" and 1 on the right half otherwise (by its text; memoised by its key, as the real
 * one). Records what it was asked for.
 */
export class FakePipeline implements FramePipeline {
  readonly description = 'fake frames';
  still = false;
  readonly encoder = new FakeEncoder();
  framesMade = 0;
  /** Queries fused, in order (once per frame and query key when the memo works). */
  readonly fused: string[] = [];
  /** Make `next()` reject with this (a source or model failure), until set back to null. */
  failWith: Error | null = null;
  healthNow: PipelineHealth = { ok: true };
  /** Make every frame's `relevance()` reject with this (the models went away mid-frame), until null. */
  relevanceFailsWith: Error | null = null;
  /** Per detector class, the best detection score frames report (every class in view by default). */
  best = new Float32Array(80).fill(1);
  closed = false;
  warmedUp = false;

  constructor(
    readonly width = 480,
    readonly height = 320,
  ) {}

  /** The queries each `next()` was asked to make alongside. */
  readonly asked: string[][] = [];

  async next(queries: readonly GroundedQuery[]): Promise<PipelineFrame> {
    this.asked.push(queries.map((q) => q.text));
    if (this.failWith) throw this.failWith;
    const { width, height } = this;
    const data = new Uint8Array(width * height * 3);
    const seed = this.framesMade++;
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 17 + ((i * i) >>> 7)) & 255;
    const image = { width, height, data };
    const patches = patchify(data, width, height);
    const cols = width / 8;
    const n = patches.length / 192;
    const memo = new Map<string, FrameRelevance>();
    return {
      image,
      captureTs: Date.now(),
      patches,
      variances: patchVariances(patches),
      analysisMs: 0,
      codes: new PatchCodeCache(patches, this.encoder),
      ms: 0,
      relevance: async (query) => {
        if (this.relevanceFailsWith) throw this.relevanceFailsWith;
        let r = memo.get(query.key);
        if (!r) {
          const text = query.text;
          this.fused.push(text);
          const patchScores = new Float32Array(n);
          for (let p = 0; p < n; p++) patchScores[p] = p % cols < cols / 2 === (text === 'left') ? 1 : 0;
          r = { patchScores, best: Float32Array.from(this.best), ms: 0 };
          memo.set(query.key, r);
        }
        return r;
      },
    };
  }

  health(): PipelineHealth {
    return this.healthNow;
  }

  async warmUp(): Promise<void> {
    this.warmedUp = true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * A query grounded without a lexicon: nothing in particular (the query-agnostic map), under its own
 * text as key, so a fake pipeline can tell queries apart by their text.
 */
export function ungroundedQuery(text: string): GroundedQuery {
  return { key: text, text, weights: null, rules: [], textWeight: 0, words: [], wordClasses: [], ungrounded: [] };
}
