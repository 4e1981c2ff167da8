/**
 * Every engine in real Chromium against a real `mmsc serve` over a moving source (pan over
 * dog.jpg) held to 0.5 Mbit/s: the page says which engine runs, its canvas equals the Node
 * receiver's picture from the same messages, and the shown picture is the current source frame,
 * not a mosaic of earlier ones — h264 and vp8: PSNR ≥ 28 dB against the best-matching frame the
 * sender made; patches (with its base layer): ≥ 20 dB (a mosaic of stale patches scores far lower).
 * The codec engines run on the data channel here (`--transport channel`, whose messages the page
 * logs); rtp.e2e.ts runs them on the video track, their default. Needs `npm run build` first.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type OrtRuntime, PatchCodecs, parseManifest } from '@mmsc/codec';
import { H264Decoder } from '@mmsc/codec/h264-node';
import { FrameReceiver, ffmpegVideoDecoders, type ReceiverDecoders } from '@mmsc/receiver';
import { PanSource } from '@mmsc/sender';
import * as ortNode from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, ROOT, startSender, waitForState } from './harness.mjs';
import { psnrRgbaRgb } from './pixels.js';

interface PageApi {
  state(): { connection: string; framesShown: number; shownFrameId: number | null };
  snapshot(): { frameId: number | null; width: number; height: number; rgba: string };
  log(): { enabled: boolean; truncated: boolean; messages: string[] };
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const DOG = join(ROOT, 'assets/images/dog.jpg');

/** The Node receiver's picture after `frameId`, replaying the page's message log. */
async function reconstruct(messages: Uint8Array[], frameId: number, decoders?: ReceiverDecoders): Promise<Uint8Array> {
  const rx = new FrameReceiver({
    ...(decoders ? { decoders } : {}),
    decoderSource: 'models/manifest.json',
    video: ffmpegVideoDecoders((name) => H264Decoder.create(name)),
  });
  for (const bytes of messages) {
    const r = rx.receive(bytes, 0);
    if (r.type === 'invalid') throw r.error;
    if (r.type === 'hello' && r.refused) throw r.refused;
    if (r.type !== 'frame') continue;
    for (const f of r.frames) {
      const stats = await rx.decode(f);
      if (stats?.refresh) throw new Error(`frame ${f.frame.frameId} did not decode in Node: ${stats.refresh}`);
      if (f.frame.frameId === frameId) return Uint8Array.from(rx.picture?.picture.image ?? []);
    }
  }
  throw new Error(`frame ${frameId} is not in the page's log`);
}

let sender: Awaited<ReturnType<typeof startSender>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
  // What started is kept even when the other fails, so that afterAll stops it.
  const [s, b] = await Promise.allSettled([
    startSender({ source: `pan:${DOG}`, query: 'dog', args: ['--engine', 'h264', '--max-rate', '0.5', '--transport', 'channel'] }),
    launchBrowser(),
  ]);
  if (s.status === 'fulfilled') sender = s.value;
  if (b.status === 'fulfilled') browser = b.value;
  for (const r of [s, b]) if (r.status === 'rejected') throw r.reason;
});

afterAll(async () => {
  await browser?.close();
  await sender?.stop();
});

/** The shown picture's best PSNR against the sender's pan frames (the frame itself or a neighbour). */
async function bestSourcePsnr(rgba: Uint8Array, width: number, height: number) {
  const pan = await PanSource.open(DOG, { width, height }, 10);
  let best = 0;
  let at = -1;
  for (let k = 0; k < 400; k++) {
    const p = psnrRgbaRgb(rgba, (await pan.next()).data);
    if (p > best) {
      best = p;
      at = k;
    }
  }
  return { best, at };
}

/** The canvas after `frames` shown frames, the page's log, and the largest |Δ| against Node's picture of the same frame. */
async function showAndCompare(page: Page, frames: number, decoders?: ReceiverDecoders) {
  await waitForState(page, `s.connection === "open" && s.framesShown >= ${frames}`, 90_000);
  const [snap, log] = await page.evaluate(() => {
    const m = (window as unknown as { mmsc: PageApi }).mmsc;
    return [m.snapshot(), m.log()] as const;
  });
  expect(log.truncated).toBe(false);
  const rgba = b64(snap.rgba);
  const node = await reconstruct(log.messages.map(b64), snap.frameId as number, decoders);
  let maxDiff = 0;
  const bad = new Set<number>();
  for (let i = 0, j = 0; j < node.length; i += 4, j += 3)
    for (let c = 0; c < 3; c++) {
      const d = Math.abs((rgba[i + c] as number) - (node[j + c] as number));
      if (d > 2) bad.add(((j / 3 / snap.width / 8) | 0) * (snap.width / 8) + ((((j / 3) % snap.width) / 8) | 0));
      maxDiff = Math.max(maxDiff, d);
    }
  if (bad.size)
    console.log(
      `canvas vs Node: ${bad.size} patches differ by more than 2, e.g. ${[...bad].slice(0, 12).join(',')}; frame ${snap.frameId}`,
    );
  return { snap, rgba, maxDiff };
}

describe('engines in the browser (Chromium) on a moving source at 0.5 Mbit/s', () => {
  it('h264 (WebCodecs): shows whole source frames, equal to the Node decoder’s pictures', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(sender.page('/?debug'));
    const { snap, rgba, maxDiff } = await showAndCompare(page, 20);
    // The default engine codes 4:4:4 and the page says so once a picture is decoded.
    await expect(page.locator('#session').textContent()).resolves.toContain('engine h264 (x264, quantizer by relevance, H.264 4:4:4)');
    expect(maxDiff).toBeLessThanOrEqual(2);
    // The sender's frames are PanSource's, in order from its first; the shown one is among the first
    // few hundred. The best match is the frame itself or a neighbour (which can only lower it).
    const { best, at } = await bestSourcePsnr(rgba, snap.width, snap.height);
    console.log(
      `h264 at 0.5 Mbit/s: frame #${snap.frameId}, canvas vs Node max |Δ| ${maxDiff}; PSNR ${best.toFixed(2)} dB against source frame ${at}`,
    );
    expect(best).toBeGreaterThanOrEqual(28);
    // Every picture decoded: no keyframe was asked for.
    const refused = (await page.locator('#events li').allTextContents()).filter((t) => t.includes('not decoded'));
    expect(refused).toEqual([]);
    await page.screenshot({ path: join(ROOT, 'artifacts', 'receiver-e2e-h264.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('h264 on a browser without High 4:4:4: the page says unsupported-format, the stream restarts in 4:2:0, and the canvas equals Node', async () => {
    // Chromium's software decoder has High 4:4:4, Safari's and most hardware decoders do not. The
    // decode worker's script is served with a prelude that makes WebCodecs refuse every High 4:4:4
    // codec string (avc1.f4…), as such a browser's would.
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const refusing = `{ const ask = VideoDecoder.isConfigSupported.bind(VideoDecoder);
      VideoDecoder.isConfigSupported = (c) => c.codec.startsWith('avc1.f4') ? Promise.resolve({ supported: false, config: c }) : ask(c); }\n`;
    let patched = 0;
    await page.route('**/worker.js*', async (route) => {
      const original = await route.fetch();
      patched++;
      await route.fulfill({ response: original, body: refusing + (await original.text()) });
    });
    await page.goto(sender.page('/?debug'));
    const { snap, rgba, maxDiff } = await showAndCompare(page, 20);
    expect(patched).toBe(1);
    await expect(page.locator('#session').textContent()).resolves.toContain('H.264 4:2:0');
    const events = await page.locator('#events li').allTextContents();
    // One picture refused for its format (the first keyframe, in 4:4:4), then every picture decoded.
    expect(events.filter((t) => t.includes('not decoded (unsupported-format)'))).toHaveLength(1);
    expect(events.filter((t) => t.includes('not decoded') && !t.includes('unsupported-format'))).toEqual([]);
    expect(maxDiff).toBeLessThanOrEqual(2);
    const { best, at } = await bestSourcePsnr(rgba, snap.width, snap.height);
    console.log(
      `h264 without 4:4:4 at 0.5 Mbit/s: frame #${snap.frameId}, canvas vs Node max |Δ| ${maxDiff}; PSNR ${best.toFixed(2)} dB against source frame ${at}`,
    );
    expect(best).toBeGreaterThanOrEqual(28);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('patches engine: skipped patches show the current frame’s base layer, not a mosaic', async () => {
    const modelsDir = join(ROOT, 'models');
    const manifest = parseManifest(JSON.parse(await readFile(join(modelsDir, 'manifest.json'), 'utf8')));
    const read = async (file: string) => new Uint8Array(await readFile(join(modelsDir, file)));
    const codecs = await PatchCodecs.create(ortNode as unknown as OrtRuntime, manifest, read, 'decoder', { intraOpNumThreads: 1 });
    const patches = await startSender({ source: `pan:${DOG}`, query: 'dog', args: ['--engine', 'patches', '--max-rate', '0.5'] });
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(patches.page('/?debug'));
      const { snap, rgba, maxDiff } = await showAndCompare(page, 20, codecs);
      await expect(page.locator('#session').textContent()).resolves.toContain('engine patches');
      expect(maxDiff).toBeLessThanOrEqual(2);
      const { best, at } = await bestSourcePsnr(rgba, snap.width, snap.height);
      console.log(
        `patches at 0.5 Mbit/s: frame #${snap.frameId}, canvas vs Node max |Δ| ${maxDiff}; PSNR ${best.toFixed(2)} dB against source frame ${at}`,
      );
      expect(best).toBeGreaterThanOrEqual(20);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await patches.stop();
      await codecs.release();
    }
  });

  it('vp8 (WebCodecs vp8): shows whole source frames, equal to the Node decoder’s pictures', async () => {
    const vp8 = await startSender({
      source: `pan:${DOG}`,
      query: 'dog',
      args: ['--engine', 'vp8', '--max-rate', '0.5', '--transport', 'channel'],
    });
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(vp8.page('/?debug'));
      const { snap, rgba, maxDiff } = await showAndCompare(page, 20);
      await expect(page.locator('#session').textContent()).resolves.toContain('engine vp8 (libvpx, quantizer by relevance, VP8');
      expect(maxDiff).toBeLessThanOrEqual(2);
      const { best, at } = await bestSourcePsnr(rgba, snap.width, snap.height);
      console.log(
        `vp8 at 0.5 Mbit/s: frame #${snap.frameId}, canvas vs Node max |Δ| ${maxDiff}; PSNR ${best.toFixed(2)} dB against source frame ${at}`,
      );
      expect(best).toBeGreaterThanOrEqual(28);
      const refused = (await page.locator('#events li').allTextContents()).filter((t) => t.includes('not decoded'));
      expect(refused).toEqual([]);
      await page.screenshot({ path: join(ROOT, 'artifacts', 'receiver-e2e-vp8.png') });
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await vp8.stop();
    }
  });
});
