import { encodeBase, makeBase } from '@mmsc/codec';
import { decodeMessage, type FrameMessage, KEEP_LEVEL, makeContext, splitFrame } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { FrameCollector } from './collect-frame.js';
import { type PatchDecoder, Reassembler } from './reassemble.js';

// A 32×16 frame = 4×2 patches; levels: skip, 12 B (fake learned), raw.
const ctx = makeContext(
  [
    { id: 0, bytes: 0, kind: 'skip', model: null },
    { id: 1, bytes: 12, kind: 'learned', model: { id: 'fake', sha256: '0'.repeat(64) } },
    { id: 4, bytes: 192, kind: 'raw', model: null },
  ],
  { width: 32, height: 16, patchSize: 8 },
);

/** Fake learned decoder: every pixel of a patch takes the code's first byte; records its calls. */
class FakeDecoder implements PatchDecoder {
  calls: { bytes: number; n: number }[] = [];
  async decode(bytes: number, codes: Uint8Array) {
    const n = codes.length / bytes;
    this.calls.push({ bytes, n });
    const out = new Uint8Array(n * 192);
    for (let i = 0; i < n; i++) out.fill(codes[i * bytes] as number, i * 192, (i + 1) * 192);
    return out;
  }
}

function frame(frameId: number, levels: number[], payloadFor: (p: number, level: number) => Uint8Array, drop: number[] = []) {
  const payload = levels.flatMap((l, p) => Array.from(payloadFor(p, l)));
  const parts = splitFrame(
    { frameId, captureTs: 1, budget: 1e6, levels: Uint8Array.from(levels), payload: Uint8Array.from(payload) },
    { ctx, maxMessageBytes: 1024 },
  );
  const c = new FrameCollector(ctx);
  const done = parts.filter((_, i) => !drop.includes(i)).flatMap((b) => c.push(decodeMessage(b, ctx) as FrameMessage, b.length, 0));
  return [...done, ...c.flush()][0]!;
}

const patchValue = (img: Uint8Array, p: number) => {
  const c = p % 4;
  const r = (p - c) / 4;
  return Array.from({ length: 64 }, (_, k) => img[((r * 8 + (k >> 3)) * 32 + c * 8 + (k & 7)) * 3] as number);
};
const code = (v: number) => new Uint8Array(12).fill(v);
const raw = (v: number) => new Uint8Array(192).fill(v);

describe('Reassembler', () => {
  it('decodes one batch per level and places patches; raw is exact', async () => {
    const dec = new FakeDecoder();
    const r = new Reassembler(ctx, dec);
    const f = frame(1, [1, 1, 4, 1, 4, 1, 1, 1], (p, l) => (l === 1 ? code(10 * p) : l === 4 ? raw(200 + p) : new Uint8Array(0)));
    const stats = await r.apply(f);
    expect(dec.calls).toEqual([{ bytes: 12, n: 6 }]);
    expect(stats).toMatchObject({ decoded: 8, reused: 0, interpolated: 0 });
    expect(new Set(patchValue(r.image, 3))).toEqual(new Set([30]));
    expect(new Set(patchValue(r.image, 4))).toEqual(new Set([204]));
  });

  it('skipped and kept patches show the last copy', async () => {
    const r = new Reassembler(ctx, new FakeDecoder());
    await r.apply(frame(1, [4, 4, 4, 4, 4, 4, 4, 4], (p) => raw(p + 1)));
    const stats = await r.apply(frame(2, [0, KEEP_LEVEL, 4, 0, 0, 0, 0, 0], (_p, l) => (l === 4 ? raw(99) : new Uint8Array(0))));
    expect(stats).toMatchObject({ decoded: 1, reused: 7, interpolated: 0 });
    expect(new Set(patchValue(r.image, 0))).toEqual(new Set([1]));
    expect(new Set(patchValue(r.image, 1))).toEqual(new Set([2]));
    expect(new Set(patchValue(r.image, 2))).toEqual(new Set([99]));
  });

  it('with a base layer, skipped patches show the current frame’s base, kept ones their copy', async () => {
    const r = new Reassembler(ctx, new FakeDecoder());
    await r.apply(frame(1, [4, 4, 4, 4, 4, 4, 4, 4], (p) => raw(p + 1)));
    // The source is now a flat grey 160 everywhere: its base is (close to) 160.
    const base = encodeBase(makeBase(new Uint8Array(8 * 192).fill(160), 4, 2, 8));
    const f = frame(2, [0, KEEP_LEVEL, 4, 0, 0, 0, 0, 0], (_p, l) => (l === 4 ? raw(99) : new Uint8Array(0)));
    const stats = await r.apply({ ...f, base });
    expect(stats).toMatchObject({ decoded: 1, reused: 1, based: 6, interpolated: 0 });
    for (const v of patchValue(r.image, 0)) expect(Math.abs(v - 160)).toBeLessThanOrEqual(4);
    expect(new Set(patchValue(r.image, 1))).toEqual(new Set([2])); // kept: its copy
    expect(new Set(patchValue(r.image, 2))).toEqual(new Set([99]));
    // A malformed base is ignored (counted); the frame still applies with the old rule.
    const bad = await r.apply({ ...frame(3, [0, 0, 0, 0, 0, 0, 0, 0], () => new Uint8Array(0)), base: Uint8Array.of(9, 9, 9) });
    expect(bad).toMatchObject({ based: 0, reused: 8 });
    expect(r.badBases).toBe(1);
  });

  it('patches never received are interpolated from neighbours, never black', async () => {
    const r = new Reassembler(ctx, new FakeDecoder());
    // Only the first and last column arrive: 100 on the left, 200 on the right.
    const levels = [4, 0, 0, 4, 4, 0, 0, 4];
    const stats = await r.apply(frame(1, levels, (p, l) => (l === 4 ? raw(p % 4 === 0 ? 100 : 200) : new Uint8Array(0))));
    expect(stats.interpolated).toBe(4);
    for (const p of [1, 2, 5, 6]) {
      const v = patchValue(r.image, p);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(100);
      expect(Math.max(...v)).toBeLessThanOrEqual(200);
    }
    // Closer to the left neighbour → closer to 100.
    expect(patchValue(r.image, 1)[0]).toBeLessThan(patchValue(r.image, 2)[7] as number);
  });

  it('a first frame that carries nothing shows grey; lost parts are concealed', async () => {
    const r = new Reassembler(ctx, new FakeDecoder());
    expect((await r.apply(frame(1, new Array(8).fill(0), () => new Uint8Array(0)))).interpolated).toBe(8);
    expect(r.image.every((v) => v === 128)).toBe(true);
    await r.apply(frame(2, new Array(8).fill(4), () => raw(50)));
    // Frame 3's second part (patches 4..7) is lost: its patches keep frame 2's copy.
    const f = frame(3, new Array(8).fill(4), () => raw(60), [1]);
    expect(f.complete).toBe(false);
    const stats = await r.apply(f);
    expect(stats.decoded).toBe(f.received.reduce((s, p) => s + p.levels.length, 0));
    expect(new Set(patchValue(r.image, 7))).toEqual(new Set([50]));
    expect(new Set(patchValue(r.image, 0))).toEqual(new Set([60]));
  });
});
