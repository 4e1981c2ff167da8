import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { ModelError, patchify } from '@mmsc/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_IMAGE } from '../assets.js';
import { type RgbImage, readFrame } from '../images.js';
import { type GroundedQuery, groundText } from '../relevance/grounder.js';
import { testModels } from '../testing/test-sender.js';
import { InlineModels, PipelineError } from './frame-pipeline.js';
import { WorkerModels } from './worker-models.js';

// The compiled worker (dist/pipeline/model-worker.js, built by `tsc -b` before vitest) with the committed models.
let worker: WorkerModels;
let image: RgbImage;
/** A query grounded on this thread, as the links ground them. */
let q: (text: string) => GroundedQuery;
beforeAll(async () => {
  [worker, image] = await Promise.all([WorkerModels.start(undefined, { restartEveryMs: 0 }), readFrame(DEMO_IMAGE, 480, 320)]);
  const lexicon = (await testModels()).relevance.lexicon;
  q = (text) => groundText(text, lexicon);
});
afterAll(() => worker?.close());

const crash = (m: WorkerModels) => (m as unknown as { worker: Worker }).worker.terminate();

describe('WorkerModels', () => {
  it('gives the same patches, statistics and relevance as the models in this thread, for queries asked later too, and the same codes', async () => {
    const t = await testModels();
    const inline = new InlineModels(t.relevance, t.encoders);
    const queries = ['dog', 'car and bicycle', 'dog'].map(q);
    const [a, b] = [await worker.process(image, queries), await inline.process(image, queries)];
    expect(a.patches).toEqual(patchify(image.data, 480, 320));
    expect(a.patches).toEqual(b.patches);
    expect(a.variances).toEqual(b.variances);
    // By the weights' key, each once; no grounding comes back (it was made here).
    expect(a.relevance.map(([key]) => key)).toEqual([q('dog').key, q('car and bicycle').key]);
    expect(Object.keys(a.relevance[0]?.[1] ?? {}).sort()).toEqual(['best', 'ms', 'patchScores']);
    // The dog's best detection comes back with the map (whether it is in view).
    expect((a.relevance[0] as [string, { best: Float32Array }])[1].best.length).toBe(81); // 80 classes, then the text channel
    for (const [i, [, r]] of a.relevance.entries()) {
      const { ms: _, ...want } = (b.relevance[i] as [string, typeof r])[1];
      expect({ ...r, ms: 0 }).toEqual({ ...want, ms: 0 }); // all but the timing
    }
    const later = await worker.fuse(a.seq, q('person'));
    const inlineLater = await inline.fuse(b.seq, q('person'));
    expect(later.patchScores).toEqual(inlineLater.patchScores);
    expect(later.best).toEqual(inlineLater.best);
    expect(later.patchScores).not.toEqual((a.relevance[0] as [string, typeof later])[1].patchScores);
    const patches = a.patches.subarray(0, 192 * 300);
    for (const bytes of [12, 24, 48, 192]) {
      expect(await worker.encoder.encode(bytes, patches)).toEqual(await t.encoders.encode(bytes, patches));
    }
    // By index, from the patches the worker kept: the same codes as those patches sent over.
    const idx = Uint32Array.from([2399, 0, 1234, 7]);
    const picked = new Uint8Array(idx.length * 192);
    idx.forEach((p, i) => {
      picked.set(a.patches.subarray(p * 192, (p + 1) * 192), i * 192);
    });
    expect(await worker.encodeIndexed(a.seq, 24, idx)).toEqual(await t.encoders.encode(24, picked));
  });

  it('carries modifiers, people and text to the worker: the same maps as in this thread', async () => {
    const t = await testModels();
    const inline = new InlineModels(t.relevance, t.encoders);
    const queries = ['the dog on the left', 'the person in red', 'the sign', 'everything except the text'].map(q);
    expect(new Set(queries.map((x) => x.key)).size).toBe(4);
    const [a, b] = [await worker.process(image, queries), await inline.process(image, queries)];
    expect(a.relevance.map(([k]) => k)).toEqual(queries.map((x) => x.key));
    for (const [i, [, r]] of a.relevance.entries()) {
      const { ms: _, ...want } = (b.relevance[i] as [string, typeof r])[1];
      expect({ ...r, ms: 0 }).toEqual({ ...want, ms: 0 });
    }
    // The modifier changed the map (it is not the plain word's), and the text query has one of its own.
    const plain = await inline.fuse(b.seq, q('dog'));
    expect((b.relevance[0] as [string, typeof plain])[1].patchScores).not.toEqual(plain.patchScores);
    expect((b.relevance[2] as [string, typeof plain])[1].patchScores.some((v) => v > 0)).toBe(true);
  });

  it('keeps the last 4 frames for late queries and codes by index, and says so for older ones', async () => {
    const first = await worker.process(image, []);
    for (let i = 0; i < 4; i++) await worker.process(image, []);
    await expect(worker.fuse(first.seq, q('dog'))).rejects.toThrow(PipelineError); // so the frame is skipped, not the session
    await expect(worker.fuse(first.seq, q('dog'))).rejects.toThrow(/no longer kept/);
    await expect(worker.encodeIndexed(first.seq, 12, Uint32Array.from([0]))).rejects.toThrow(/no longer kept/);
  });

  it('a worker that dies fails what it had pending, says so in health, and is started again on the next request', async () => {
    const m = await WorkerModels.start(undefined, { restartEveryMs: 0 });
    try {
      const pending = m.process(image, [q('dog')]);
      await crash(m);
      await expect(pending).rejects.toThrow(/model worker exited/);
      expect(m.health()).toMatchObject({ ok: false, reason: expect.stringMatching(/model worker exited/) });
      const again = await m.process(image, [q('dog')]);
      expect(again.patches.length).toBe(480 * 320 * 3);
      expect(m.health()).toEqual({ ok: true });
    } finally {
      await m.close();
    }
  });

  it('is not restarted more often than its restart interval', async () => {
    const m = await WorkerModels.start(undefined, { restartEveryMs: 60_000 });
    try {
      await crash(m);
      await expect(m.process(image, [q('dog')])).rejects.toThrow(/model worker exited/);
    } finally {
      await m.close();
    }
  });

  it('a missing model folder rejects at start with a ModelError naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mmsc-no-models-'));
    try {
      const err = await WorkerModels.start(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect(err).toMatchObject({ code: 'model-missing', file: 'manifest.json' });
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('a lexicon whose classes are not the detector’s is refused at start', async () => {
    const err = await WorkerModels.start(undefined, { classes: ['cat', 'dog'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ code: 'manifest-invalid', file: 'lexicon.json' });
  });

  it('after close, requests reject instead of hanging', async () => {
    const m = await WorkerModels.start();
    await m.close();
    await expect(m.process(image, [q('dog')])).rejects.toThrow(/closed/);
  });
});
