import { codecEntries, type PatchCodecs, patchify } from '@mmsc/codec';
import { contextFromHello, DEFAULT_MAX_MESSAGE_BYTES, decodeMessage, type FrameMessage, KEEP_LEVEL } from '@mmsc/protocol';
import { FrameCollector, Reassembler } from '@mmsc/receiver';
import {
  curvesOf,
  DEMO_IMAGE,
  FrameEncoder,
  helloFor,
  KeepState,
  loadCodecs,
  PatchCodeCache,
  patchVariances,
  readFrame,
  readManifest,
} from '@mmsc/sender';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psnr, sumSquaredError } from '../metrics.js';

// The sender's frame encoder against the receiver's collection and reassembly (both packages, so here).
let enc: PatchCodecs;
let dec: PatchCodecs;
let encoders: Record<'rd' | 'paper', FrameEncoder>;
const hello = { ...helloFor(codecEntries(await readManifest()), 10, DEFAULT_MAX_MESSAGE_BYTES), sessionId: 't' };
const ctx = contextFromHello(hello);
let patches: Uint8Array;
let variances: Float32Array;
// A relevance field: the left third of the frame matters.
const scores = Float32Array.from({ length: 2400 }, (_, p) => (p % 60 < 20 ? 1 : 0.05));

beforeAll(async () => {
  enc = await loadCodecs('encoder');
  dec = await loadCodecs('decoder');
  const curves = curvesOf(codecEntries(await readManifest()));
  encoders = { rd: new FrameEncoder(hello, ctx, enc, 'rd', curves), paper: new FrameEncoder(hello, ctx, enc, 'paper', curves) };
  const frame = await readFrame(DEMO_IMAGE);
  patches = patchify(frame.data, frame.width, frame.height);
  variances = patchVariances(patches);
});
afterAll(async () => {
  await enc?.release();
  await dec?.release();
});

async function receive(parts: Uint8Array[], picture: Reassembler) {
  const c = new FrameCollector(ctx);
  const frames = parts.flatMap((b) => {
    const m = decodeMessage(b, ctx);
    if (m.type === 'base') {
      c.pushBase(m, b.length);
      return [];
    }
    return c.push(m as FrameMessage, b.length, 0);
  });
  for (const f of frames) await picture.apply(f);
  return frames;
}

describe('frame encoder', () => {
  it.each(['rd', 'paper'] as const)('%s: every frame fits its wire budget exactly, from tiny to raw', async (name) => {
    for (const budget of [300, 2_000, 9_216, 23_040, 46_080, 115_200, 230_400, 470_000]) {
      const out = await encoders[name].encode({ frameId: 1, captureTs: 0, budget }, patches, variances, scores);
      if (!out) {
        expect(budget).toBeLessThan(1000); // only budgets below the framing itself give no frame
        continue;
      }
      expect(out.wireBytes).toBeLessThanOrEqual(budget);
      if (budget >= 2_000) expect(out.wireBytes).toBeGreaterThan(budget * 0.9);
      for (const p of out.parts) expect(p.length).toBeLessThanOrEqual(hello.maxMessageBytes);
    }
  });

  it('spends more on relevant patches, and decodes to a closer picture there', async () => {
    const out = (await encoders.rd.encode({ frameId: 1, captureTs: 0, budget: 46_080 }, patches, variances, scores)) as NonNullable<
      Awaited<ReturnType<FrameEncoder['encode']>>
    >;
    const bytesOf = encoders.rd.levels.map((l) => l.bytes);
    let rel = 0;
    let other = 0;
    for (let p = 0; p < 2400; p++) {
      const b = bytesOf[out.choice[p] as number] as number;
      if (p % 60 < 20) rel += b;
      else other += b;
    }
    expect(rel / 800).toBeGreaterThan((2 * other) / 1600);
    const picture = new Reassembler(ctx, dec);
    await receive(out.parts, picture);
    const got = patchify(picture.image, 480, 320);
    const err = (sel: (p: number) => boolean) => {
      let s = 0;
      let n = 0;
      for (let p = 0; p < 2400; p++)
        if (sel(p)) {
          s += sumSquaredError(patches.subarray(p * 192, p * 192 + 192), got.subarray(p * 192, p * 192 + 192));
          n += 192;
        }
      return s / n;
    };
    expect(psnr(err((p) => p % 60 < 20))).toBeGreaterThan(psnr(err((p) => p % 60 >= 20)) + 3);
  });

  it('base layer: it goes first within the budget, and skipped patches then show the new frame, not the old one', async () => {
    // Frame A, then B = A moved 16 px left (a pan): B at a budget too small to code every patch.
    const frame = await readFrame(DEMO_IMAGE);
    const moved = new Uint8Array(frame.data.length);
    for (let y = 0; y < 320; y++) moved.set(frame.data.subarray((y * 480 + 16) * 3, (y + 1) * 480 * 3), y * 480 * 3);
    const pb = patchify(moved, 480, 320);
    const vb = patchVariances(pb);
    const curves = curvesOf(codecEntries(await readManifest()));
    const psnrB = async (base: boolean) => {
      const e = new FrameEncoder(hello, ctx, enc, 'rd', curves, { base });
      const keep = new KeepState(2400);
      const picture = new Reassembler(ctx, dec);
      const a = await e.encode({ frameId: 1, captureTs: 0, budget: 46_080 }, patches, variances, scores, keep);
      keep.commit(patches, a!.choice, a!.kept, a!.base);
      await receive(a!.parts, picture);
      const b = await e.encode({ frameId: 2, captureTs: 0, budget: 9_216 }, pb, vb, scores, keep);
      expect(b!.wireBytes).toBeLessThanOrEqual(9_216);
      expect(b!.base).toBe(base);
      if (base) expect(decodeMessage(b!.parts[0]!, ctx).type).toBe('base');
      keep.commit(pb, b!.choice, b!.kept, b!.base);
      await receive(b!.parts, picture);
      return psnr(sumSquaredError(patchify(picture.image, 480, 320), pb) / pb.length);
    };
    const [without, withBase] = [await psnrB(false), await psnrB(true)];
    expect(withBase).toBeGreaterThan(without + 3);
  });

  it('temporal reuse: an unchanged still converges, then costs almost nothing, and a late joiner still gets a full picture', async () => {
    const keep = new KeepState(2400);
    const picture = new Reassembler(ctx, dec);
    const sizes: number[] = [];
    for (let f = 0; f < 25; f++) {
      const out = await encoders.rd.encode({ frameId: f, captureTs: 0, budget: 46_080 }, patches, variances, scores, keep);
      if (!out) throw new Error('no frame');
      keep.commit(patches, out.choice, out.kept);
      await receive(out.parts, picture);
      sizes.push(out.wireBytes);
    }
    // 25 frames × 46 kB exceed every level of every patch (2,400 × 276 B): all has arrived raw, then only "keep" remains.
    expect(sizes.at(-1)).toBeLessThan(200);
    expect(psnr(sumSquaredError(patchify(picture.image, 480, 320), patches) / patches.length)).toBe(Number.POSITIVE_INFINITY);
    const last = await encoders.rd.encode({ frameId: 99, captureTs: 0, budget: 46_080 }, patches, variances, scores, keep);
    const levels = (last?.parts ?? []).flatMap((b) => [...(decodeMessage(b, ctx) as FrameMessage).levels]);
    expect(levels).toHaveLength(2400);
    expect(levels.every((l) => l === KEEP_LEVEL)).toBe(true);
    // A new receiver has its own (empty) state: its first frame carries real patches again.
    const fresh = await encoders.rd.encode({ frameId: 0, captureTs: 0, budget: 46_080 }, patches, variances, scores, new KeepState(2400));
    expect(fresh?.payloadBytes).toBeGreaterThan(40_000);
  });

  it('a shared code cache gives the same bytes and encodes each patch at a level once across receivers', async () => {
    const curves = curvesOf(codecEntries(await readManifest()));
    const fresh = () => new FrameEncoder(hello, ctx, enc, 'rd', curves);
    const frame = { frameId: 3, captureTs: 0, budget: 30_000 };
    const alone = await fresh().encode(frame, patches, variances, scores);
    const cache = new PatchCodeCache(patches, enc);
    const first = await fresh().encode(frame, patches, variances, scores, undefined, cache);
    expect(first?.parts).toEqual(alone?.parts);
    const afterFirst = cache.encoded;
    expect(afterFirst).toBeGreaterThan(0);
    // A second receiver with the same query needs no encoder run at all; one with another query only its new patches.
    const second = await fresh().encode(frame, patches, variances, scores, undefined, cache);
    expect(second?.parts).toEqual(alone?.parts);
    expect(cache.encoded).toBe(afterFirst);
    const other = Float32Array.from(scores, (_, p) => (p % 60 >= 40 ? 1 : 0.05));
    const third = await fresh().encode(frame, patches, variances, other, undefined, cache);
    expect(third?.parts).toEqual((await fresh().encode(frame, patches, variances, other))?.parts);
    expect(cache.encoded - afterFirst).toBeLessThan(afterFirst);
  });
});
