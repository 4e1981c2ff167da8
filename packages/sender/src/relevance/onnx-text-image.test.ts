import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OnnxTextImageRelevance, type TextImageEntry, upsampleNormalised } from './onnx-text-image.js';
import { parseRelevanceChoice } from './relevance-choice.js';

// Plumbing only: the fixture weights R, G, B by the query's first three bytes (see its script).
const FIXTURE = fileURLToPath(new URL('../../../../models/fixtures/text-image-fixture.onnx', import.meta.url));

async function fixture() {
  const bytes = new Uint8Array(await readFile(FIXTURE));
  const entry: TextImageEntry = {
    id: 'fixture',
    kind: 'text-image-relevance',
    file: 'text-image-fixture.onnx',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    inputSize: [40, 60],
    inputs: [
      { name: 'image', dtype: 'float32', shape: [1, 40, 60, 3] },
      { name: 'text', dtype: 'uint8', shape: [1, 'L'] },
    ],
    outputs: [{ name: 'relevance', dtype: 'float32', shape: [1, 40, 60] }],
  };
  return { entry, model: await OnnxTextImageRelevance.load(entry, async () => bytes) };
}

/** 480×320 frame: left half red, right half blue. */
const frame = {
  width: 480,
  height: 320,
  data: Uint8Array.from({ length: 480 * 320 * 3 }, (_, i) => ((i / 3) % 480 < 240 ? (i % 3 === 0 ? 255 : 0) : i % 3 === 2 ? 255 : 0)),
};

describe('OnnxTextImage adapter (fixture model, plumbing only)', () => {
  it('feeds image and query bytes to the model and maps its output onto the frame', async () => {
    const { model } = await fixture();
    const red = await model.relevance(frame, 'zab'); // 'z' weights red more than 'b' weights blue
    const blue = await model.relevance(frame, 'baz');
    expect(red.patchScores).toHaveLength(2400);
    expect(red.patchScores[0]).toBeGreaterThan(red.patchScores[59] as number);
    expect(blue.patchScores[59]).toBeGreaterThan(blue.patchScores[0] as number);
    expect(red.map.reduce((a, b) => Math.max(a, b))).toBeCloseTo(1, 5);
    expect(red.map.reduce((a, b) => Math.min(a, b))).toBeCloseTo(0, 5);
  });

  it('rejects a model whose hash does not match its entry', async () => {
    const { entry } = await fixture();
    await expect(OnnxTextImageRelevance.load({ ...entry, sha256: '0'.repeat(64) }, async () => readFile(FIXTURE))).rejects.toThrow(
      /does not match/,
    );
  });

  it('loads an export by its path, its input size read from the image input', async () => {
    const model = await OnnxTextImageRelevance.fromFile(FIXTURE);
    expect(model.entry).toMatchObject({ id: 'text-image-fixture', inputSize: [40, 60], file: 'text-image-fixture.onnx' });
    expect(model.entry.sha256).toBe(
      createHash('sha256')
        .update(await readFile(FIXTURE))
        .digest('hex'),
    );
    // One prepared frame, several queries: the same maps as scoring each from scratch.
    const input = await model.prepare(frame);
    const [red, blue] = [await model.score(input, 'zab'), await model.score(input, 'baz')];
    expect(Array.from(red.patchScores)).toEqual(Array.from((await model.relevance(frame, 'zab')).patchScores));
    expect(blue.patchScores[59]).toBeGreaterThan(blue.patchScores[0] as number);
    await model.release();
  });

  it('an empty or blank query is the query-agnostic map, flagged, without running the model', async () => {
    const { model } = await fixture();
    const r = await model.relevance(frame, '   ');
    expect(r.fallback).toBe(true);
    expect(new Set(r.patchScores)).toEqual(new Set([1]));
    expect((await model.relevance(frame, 'zab')).fallback).toBe(false);
  });

  it('refuses a file that is missing or not a text-image export, naming it', async () => {
    await expect(OnnxTextImageRelevance.fromFile('/nonexistent/x.onnx')).rejects.toMatchObject({ code: 'model-missing' });
    const mask = fileURLToPath(new URL('../../../../models/person-mask.onnx', import.meta.url));
    await expect(OnnxTextImageRelevance.fromFile(mask)).rejects.toMatchObject({
      code: 'model-contract',
      message: expect.stringMatching(/person-mask\.onnx has inputs .* takes image and text/),
    });
  });

  it('--relevance: detector or onnx:<file>, resolved against the working folder', () => {
    expect(parseRelevanceChoice('detector')).toEqual({ kind: 'detector' });
    expect(parseRelevanceChoice('onnx:m/x.onnx')).toEqual({ kind: 'onnx', file: `${process.cwd()}/m/x.onnx` });
    for (const bad of ['onnx:', 'clip', '', 'ONNX:x']) expect(() => parseRelevanceChoice(bad)).toThrow(/detector" or "onnx:<file>/);
  });

  it('normalises and upsamples a small grid bilinearly', () => {
    const out = upsampleNormalised(Float32Array.from([0, 10]), 2, 1, 4, 1);
    expect(Array.from(out)).toEqual([0, 0.25, 0.75, 1]);
  });
});
