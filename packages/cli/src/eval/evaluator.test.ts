import { codecEntries } from '@mmsc/codec';
import { h264Available } from '@mmsc/codec/h264-node';
import { DEFAULT_MAX_MESSAGE_BYTES } from '@mmsc/protocol';
import { curvesOf, DEMO_IMAGE, helloFor, loadCodecs, loadRelevance, readFrame, readManifest, readSourceFrame } from '@mmsc/sender';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Evaluator, METHODS, STILL_ENGINES } from './evaluate.js';

const x264 = await h264Available();

// The real models on the committed demo image (dog, bicycle, car): the evaluator end to end.
let evaluator: Evaluator;
beforeAll(async () => {
  const codecs = codecEntries(await readManifest());
  const [relevance, enc, dec] = await Promise.all([loadRelevance(), loadCodecs('encoder'), loadCodecs('decoder')]);
  evaluator = new Evaluator(relevance, enc, dec, helloFor(codecs, 10, DEFAULT_MAX_MESSAGE_BYTES), 'rd', curvesOf(codecs));
});
afterAll(async () => {
  await evaluator?.encoders.release();
  await evaluator?.decoders.release();
  await evaluator?.relevance.detector.release();
});

describe('Evaluator on dog.jpg', () => {
  it('a result does not depend on which other methods ran before it; budgets hold; oracles need their masks', async () => {
    const frame = await readFrame(DEMO_IMAGE);
    const pair = { imageId: 1, query: 'dog', categories: ['dog'] };
    // A stand-in GT mask: the left third of the frame, lower half (where the dog is).
    const mask = new Uint8Array(frame.width * frame.height);
    for (let y = frame.height / 2; y < frame.height; y++) mask.fill(1, y * frame.width, y * frame.width + frame.width / 3);
    const rates = [0.05, 0.25];
    const alone = await evaluator.evaluate(frame, pair, mask, rates, ['mmsc']);
    const after = await evaluator.evaluate(frame, pair, mask, rates, ['uniform', 'baseline', 'oracle', 'mmsc']);
    const mmscAfter = after.filter((r) => r.method === 'mmsc');
    expect(mmscAfter).toEqual(alone);
    for (const r of after) expect(r.bytes).toBeLessThanOrEqual(r.budget);
    // The GT-mask oracle spends on the mask: its masked error is the lowest of the allocators.
    for (const rate of rates) {
      const at = (m: string) => after.find((r) => r.rate === rate && r.method === m)?.maskedMse as number;
      expect(at('oracle')).toBeLessThanOrEqual(at('baseline'));
      expect(at('oracle')).toBeLessThanOrEqual(at('uniform'));
    }
    await expect(evaluator.evaluate(frame, pair, mask, rates, ['oracle-box'])).rejects.toThrow(/oracle-box needs/);
  });

  it('evaluates each image at its own geometry (dog.jpg is 4:3: 480×360), budgets in its own raw bytes', async () => {
    const frame = await readSourceFrame(DEMO_IMAGE);
    expect([frame.width, frame.height]).toEqual([480, 360]);
    const pair = { imageId: 1, query: 'dog', categories: ['dog'] };
    const mask = new Uint8Array(frame.width * frame.height).fill(1);
    const methods = ['uniform', 'mmsc', ...(x264 ? (['h264'] as const) : [])] as const;
    const results = await evaluator.evaluate(frame, pair, mask, [0.1], [...methods]);
    expect(evaluator.hello).toMatchObject({ width: 480, height: 360 });
    for (const r of results) {
      expect(r.budget).toBe(Math.floor(0.1 * 480 * 360 * 3));
      expect(r.bytes).toBeLessThanOrEqual(r.budget);
      expect(r.psnr).toBeGreaterThan(20); // the whole frame decoded at its geometry, not a grey or shifted one
    }
    // Back to a 480×320 frame: the geometry follows again.
    await evaluator.evaluate(await readFrame(DEMO_IMAGE), pair, new Uint8Array(480 * 320).fill(1), [0.1], ['mmsc']);
    expect(evaluator.hello).toMatchObject({ width: 480, height: 320 });
  });

  it.skipIf(!x264)(
    'h264 (the default engine; skipped when node-av’s libx264 does not load): a keyframe within the wire budget, better with more bytes',
    async () => {
      const frame = await readFrame(DEMO_IMAGE);
      const pair = { imageId: 1, query: 'dog', categories: ['dog'] };
      const mask = new Uint8Array(frame.width * frame.height).fill(1);
      const [low, high] = await evaluator.evaluate(frame, pair, mask, [0.02, 0.1], ['h264']);
      for (const r of [low, high]) {
        expect(r?.bytes).toBeGreaterThan(0.8 * (r?.budget as number)); // the crf search spends the budget…
        expect(r?.bytes).toBeLessThanOrEqual(r?.budget as number); // …and never more
      }
      expect(high?.psnr).toBeGreaterThan((low?.psnr as number) + 2);
      expect(low?.psnr).toBeGreaterThan(25); // a picture, not grey (grey is ~11 dB here)
    },
  );

  it.skipIf(!x264)(
    'vp8 (a video engine of the registry, a method by its name): a keyframe within the wire budget, better with more bytes',
    async () => {
      expect(STILL_ENGINES).toEqual(['h264', 'vp8']);
      expect(METHODS).toEqual(expect.arrayContaining(['h264', 'vp8', 'mmsc']));
      const frame = await readFrame(DEMO_IMAGE);
      const pair = { imageId: 1, query: 'dog', categories: ['dog'] };
      const mask = new Uint8Array(frame.width * frame.height).fill(1);
      const [low, high] = await evaluator.evaluate(frame, pair, mask, [0.02, 0.1], ['vp8']);
      for (const r of [low, high]) {
        expect(r?.method).toBe('vp8');
        expect(r?.bytes).toBeGreaterThan(0.6 * (r?.budget as number));
        expect(r?.bytes).toBeLessThanOrEqual(r?.budget as number);
      }
      expect(high?.psnr).toBeGreaterThan((low?.psnr as number) + 2);
      expect(low?.psnr).toBeGreaterThan(25);
    },
  );
});
