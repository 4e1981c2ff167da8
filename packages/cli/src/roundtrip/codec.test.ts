import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelError, PATCH_VALUES, type PatchCodecs } from '@mmsc/codec';
import { DEFAULT_MODELS_DIR, loadCodecs, readManifest } from '@mmsc/sender';
import { noisyPatches } from '@mmsc/sender/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psnr, sumSquaredError } from '../metrics.js';

// Runs the committed ONNX codecs (models/) on onnxruntime-node.
let enc: PatchCodecs;
let dec: PatchCodecs;
beforeAll(async () => {
  enc = await loadCodecs('encoder');
  dec = await loadCodecs('decoder');
});
afterAll(async () => {
  await enc?.release();
  await dec?.release();
});

/** Smooth synthetic patches: gentle colour gradients, the easy case for any codec. */
function smoothPatches(n: number): Uint8Array {
  const out = new Uint8Array(n * PATCH_VALUES);
  for (let p = 0; p < n; p++) {
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++)
        for (let c = 0; c < 3; c++) out[p * 192 + (y * 8 + x) * 3 + c] = 40 + ((p * 13 + c * 50) % 120) + x * (1 + c) + y * 2;
  }
  return out;
}

describe('patch codecs (committed ONNX models)', () => {
  it('offers the paper levels 12, 24 and 48 bytes', () => {
    expect(enc.levels).toEqual([12, 24, 48]);
    expect(dec.levels).toEqual([12, 24, 48]);
  });

  it.each([12, 24, 48])('the %i-byte encoder emits exactly that many bytes per patch, deterministically', async (bytes) => {
    const patches = noisyPatches(37);
    const codes = await enc.encode(bytes, patches);
    expect(codes).toBeInstanceOf(Uint8Array);
    expect(codes.length).toBe(37 * bytes);
    expect(await enc.encode(bytes, patches)).toEqual(codes);
    // Batching does not change a patch's code.
    expect(await enc.encode(bytes, patches.subarray(0, PATCH_VALUES))).toEqual(codes.subarray(0, bytes));
  });

  it.each([
    [12, 28],
    [24, 31],
    [48, 33],
  ])('decode(encode(x)) of smooth patches is close at %i bytes (PSNR ≥ %i dB)', async (bytes, minDb) => {
    const x = smoothPatches(64);
    const y = await dec.decode(bytes, await enc.encode(bytes, x));
    expect(y.length).toBe(x.length);
    expect(psnr(sumSquaredError(x, y) / x.length)).toBeGreaterThanOrEqual(minDb);
  });

  it('more bytes give lower error on textured patches', async () => {
    const x = noisyPatches(200);
    const err: number[] = [];
    for (const bytes of [12, 24, 48]) err.push(sumSquaredError(x, await dec.decode(bytes, await enc.encode(bytes, x))));
    expect(err[0]).toBeGreaterThan(err[1] as number);
    expect(err[1]).toBeGreaterThan(err[2] as number);
  });

  it.each([12, 24, 48])('every %i-byte code byte is the best codeword: no single-byte change lowers the error', async (bytes) => {
    // The shipped decoders are linear over an orthonormal PCA basis (decoderHidden 0), so the nearest
    // codeword in each group minimises the patch error; a wrong search (order, ties, sign) breaks this.
    const x = new Uint8Array([...smoothPatches(4), ...noisyPatches(4)]);
    const n = x.length / PATCH_VALUES;
    const codes = await enc.encode(bytes, x);
    const errOf = async (c: Uint8Array) => {
      const y = await dec.decode(bytes, c);
      return Array.from({ length: n }, (_, p) =>
        sumSquaredError(x.subarray(p * PATCH_VALUES, (p + 1) * PATCH_VALUES), y.subarray(p * PATCH_VALUES, (p + 1) * PATCH_VALUES)),
      );
    };
    const base = await errOf(codes);
    let s = 99;
    for (let trial = 0; trial < 24; trial++) {
      const alt = codes.slice();
      const g = trial % bytes;
      for (let p = 0; p < n; p++) {
        s = (s * 1103515245 + 12345) >>> 0;
        const k = p * bytes + g;
        alt[k] = ((alt[k] as number) + 1 + (s >>> 24)) % 256; // a different codeword of group g
      }
      const err = await errOf(alt);
      // Clipping to [0,255] and rounding to uint8 (SSE noise ~16 per patch) can favour a near neighbour a little.
      for (let p = 0; p < n; p++) expect(err[p] as number).toBeGreaterThanOrEqual((base[p] as number) * 0.98 - 24);
    }
  });

  it('the raw level is exact and needs no model', async () => {
    const x = noisyPatches(3);
    expect(await dec.decode(192, await enc.encode(192, x))).toEqual(x);
  });

  it('rejects inputs that are not whole patches and levels without a codec', async () => {
    await expect(enc.encode(12, new Uint8Array(100))).rejects.toThrow(/whole number/);
    await expect(dec.decode(12, new Uint8Array(13))).rejects.toThrow(/whole number/);
    await expect(enc.encode(16, new Uint8Array(192))).rejects.toThrow(/no learned codec for 16/);
    await expect(dec.encode(12, new Uint8Array(192))).rejects.toThrow(/decoders/);
  });
});

describe('model files are verified against the manifest', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mmsc-models-'));
    await cp(DEFAULT_MODELS_DIR, dir, { recursive: true, filter: (src) => !src.includes('node_modules') });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a corrupted model file is rejected, naming the file', async () => {
    const file = join(dir, 'codec-L24-dec.onnx');
    const bytes = await readFile(file);
    bytes.writeUInt8((bytes.readUInt8(bytes.length >> 1) ^ 0xff) & 0xff, bytes.length >> 1);
    await writeFile(file, bytes);
    const err = await loadCodecs('decoder', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ code: 'model-hash-mismatch', file: 'codec-L24-dec.onnx' });
    // The encoders of the same folder are untouched and still load.
    await (await loadCodecs('encoder', dir)).release();
  });

  it('a missing model file is a clear error naming the file', async () => {
    await rm(join(dir, 'codec-L12-enc.onnx'));
    await expect(loadCodecs('encoder', dir)).rejects.toMatchObject({ code: 'model-missing', file: 'codec-L12-enc.onnx' });
  });

  it('a missing manifest says where it looked', async () => {
    await expect(readManifest(join(dir, 'nowhere'))).rejects.toThrow(/no model manifest at .*nowhere/);
  });
});
