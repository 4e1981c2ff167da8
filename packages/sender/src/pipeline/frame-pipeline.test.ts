import { describe, expect, it } from 'vitest';
import type { GroundedQuery } from '../relevance/grounder.js';
import type { FrameSource } from '../sources/sources.js';
import { FakeEncoder } from '../testing/fake-pipeline.js';
import { type PipelineModels, type ProcessedFrame, type QueryWeights, SourcePipeline } from './frame-pipeline.js';

/** Models that record what crosses to them (the model worker's side of the boundary) and fuse nothing. */
class RecordingModels implements PipelineModels {
  readonly processed: QueryWeights[][] = [];
  readonly fused: QueryWeights[] = [];
  readonly encoder = new FakeEncoder();
  async process(frame: { width: number; height: number }, queries: readonly QueryWeights[]): Promise<ProcessedFrame> {
    this.processed.push([...queries]);
    const n = (frame.width / 8) * (frame.height / 8);
    const scores = (q: QueryWeights) => new Float32Array(n).fill(q.weights ? 1 : 0.5);
    return {
      seq: this.processed.length,
      patches: new Uint8Array(n * 192),
      variances: new Float32Array(n),
      analysisMs: 0,
      relevance: queries.map((q) => [q.key, { patchScores: scores(q), best: new Float32Array(80), ms: 0 }]),
    };
  }
  async fuse(_seq: number, q: QueryWeights) {
    this.fused.push(q);
    return { patchScores: new Float32Array(1), best: new Float32Array(80), ms: 0 };
  }
  async encodeIndexed(): Promise<Uint8Array> {
    return new Uint8Array(0);
  }
  async warmUp() {}
  health() {
    return { ok: true };
  }
  async close() {}
}

const source = (): FrameSource => ({
  description: 'noise',
  still: false,
  next: async () => ({ width: 32, height: 16, data: new Uint8Array(32 * 16 * 3) }),
  health: () => ({ ok: true }),
  close() {},
});
const weights = new Float32Array(80);
weights[16] = 1;
const query = (text: string, key: string, w: Float32Array | null): GroundedQuery => ({
  key,
  text,
  weights: w,
  rules: [],
  textWeight: 0,
  words: [],
  wordClasses: [],
  ungrounded: [],
});

describe('SourcePipeline', () => {
  it('sends the models each query’s class weights once by key, never its text', async () => {
    const models = new RecordingModels();
    const pipeline = new SourcePipeline(source(), models, { width: 32, height: 16 });
    const dog = query('dog', '16:1', weights);
    const dogs = query('dogs', '16:1', weights);
    const sky = query('sky', 'agnostic', null);
    const frame = await pipeline.next([dog, dogs, sky]);
    expect(models.processed).toEqual([
      [
        { key: '16:1', weights },
        { key: 'agnostic', weights: null },
      ],
    ]);
    // Receivers whose queries ground alike get the same fusion; nothing is asked again.
    expect(await frame.relevance(dogs)).toBe(await frame.relevance(dog));
    expect(models.fused).toEqual([]);
    // A query that came after the frame was made is fused on demand, once.
    const car = query('car', '2:1', weights);
    await frame.relevance(car);
    await frame.relevance({ ...car, text: 'cars' });
    expect(models.fused).toEqual([{ key: '2:1', weights }]);
  });
});
