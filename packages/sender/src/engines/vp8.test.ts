import { vp8Available } from '@mmsc/codec/vp8-node';
import { contextFromHello, decodeMessage, REFRESH_UNSUPPORTED_FORMAT, type VideoMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../images.js';
import { BUCKET_FRAMES } from '../pipeline/encode-video.js';
import type { PipelineFrame } from '../pipeline/frame-pipeline.js';
import { videoHello } from '../testing/video-hello.js';
import { engineFor } from './registry.js';

const available = await vp8Available();
const W = 160;
const H = 96;
const hello = engineFor('vp8').hello(videoHello(W, H));
const options = { allocator: 'rd', curves: [], chroma: '444' } as const;

/** A textured picture moving right by 3 px a frame; `cut` changes it wholly. */
function image(t: number, cut = 0): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const v = 128 + 50 * Math.sin((x + 3 * t + cut * 37) / (4 + cut)) * Math.cos(y / 5) + 40 * Math.sin((x * y + 7 * t) / 90);
      data.set([v, 255 - v, (v * 3) & 255], (y * W + x) * 3);
    }
  return { width: W, height: H, data };
}
const frame = (img: RgbImage) => ({ image: img }) as PipelineFrame;
const scores = new Float32Array((W / 8) * (H / 8)).fill(0.01);
scores.fill(0.9, 0, 20);

describe.skipIf(!available)('engine vp8 (node-av libvpx; skipped when it does not load)', () => {
  it('one keyframe, then predicted pictures, each within the credit stated on the wire, near the budget on average', async () => {
    const enc = engineFor('vp8').createLinkEncoder(hello, contextFromHello(hello), options);
    const keys: boolean[] = [];
    let total = 0;
    let budgets = 0;
    for (let t = 0; t < 40; t++) {
      // The link's budget moves every frame, by up to 2.5× (libvpx is never reopened for it).
      const budget = Math.round(1500 * (t < 15 ? 1 : t < 30 ? 2.5 : 0.7) * (1 + 0.2 * Math.sin(t)));
      budgets += budget;
      const out = await enc.encode(frame(image(t)), { frameId: t, captureTs: t * 100, budget }, scores);
      if (!out) continue;
      keys.push(out.debug.key as boolean);
      total += out.wireBytes;
      expect(out.wireBytes).toBeLessThanOrEqual(out.stated);
      expect(out.stated).toBeLessThanOrEqual(budget * BUCKET_FRAMES);
      const msgs = out.parts.map((p) => decodeMessage(p) as VideoMessage);
      expect(msgs.every((m) => m.type === 'video' && m.frameId === t)).toBe(true);
    }
    enc.close();
    expect(keys[0]).toBe(true);
    expect(keys.slice(1).filter(Boolean)).toEqual([]);
    expect(keys.length).toBeGreaterThanOrEqual(36);
    expect(total / budgets).toBeGreaterThan(0.5);
    expect(total).toBeLessThanOrEqual(budgets + 1500 * BUCKET_FRAMES);
  });

  it('a cut at a low rate is sent within the credit as a predicted picture (coarser, flattened if need be), no keyframe', async () => {
    const enc = engineFor('vp8').createLinkEncoder(hello, contextFromHello(hello), options);
    const keys: boolean[] = [];
    let afterCut = 0;
    for (let t = 0; t < 20; t++) {
      const out = await enc.encode(frame(image(t, t >= 10 ? 3 : 0)), { frameId: t, captureTs: t * 100, budget: 300 }, scores);
      if (!out) continue;
      keys.push(out.debug.key as boolean);
      if (t >= 10) afterCut++;
      expect(out.wireBytes).toBeLessThanOrEqual(out.stated);
    }
    enc.close();
    expect(afterCut).toBeGreaterThanOrEqual(8);
    expect(keys[0]).toBe(true);
    expect(keys.slice(1).filter(Boolean)).toEqual([]);
  });

  it('takes a refresh as a keyframe and has no other format to restart in', async () => {
    const enc = engineFor('vp8').createLinkEncoder(hello, contextFromHello(hello), options);
    // The first picture is a keyframe already: the request is answered by it (and counted as ignored).
    expect(enc.refresh(REFRESH_UNSUPPORTED_FORMAT)).toEqual({ ok: true, ignored: true });
    expect(engineFor('vp8').describe(options)).toBe('420');
    const out = await enc.encode(frame(image(0)), { frameId: 0, captureTs: 0, budget: 2000 }, scores);
    expect(out?.debug.key).toBe(true);
    enc.close();
  });
});
