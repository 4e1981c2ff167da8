/**
 * The codec engines on the RTP video track (`serve --transport rtp`) in real Chromium, over a moving
 * source (pan over dog.jpg) held to 0.5 Mbit/s: Chromium's receiver assembles the track's pictures,
 * the page cuts each one's trailer (its `picture` announcement) off before Chromium's decoder sees
 * it, and the worker decodes the picture; the canvas equals
 * the Node receiver's picture from the same messages and pictures, and is the current source frame
 * (PSNR ≥ 28 dB against the best-matching frame the sender made). Needs `npm run build` first.
 */
import { join } from 'node:path';
import { H264Decoder } from '@mmsc/codec/h264-node';
import { type PictureMessage, splitPictureTrailer } from '@mmsc/protocol';
import { type FinishedFrame, FrameReceiver, ffmpegVideoDecoders } from '@mmsc/receiver';
import { PanSource } from '@mmsc/sender';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, ROOT, startSender, waitForState } from './harness.mjs';
import { psnrRgbaRgb } from './pixels.js';

interface LoggedPicture {
  at: number;
  rtpTs: number;
  key: boolean;
  data: string;
  receiveTs: number;
  picture: PictureMessage | null;
}
interface PageApi {
  snapshot(): { frameId: number | null; width: number; height: number; rgba: string };
  log(): { enabled: boolean; truncated: boolean; messages: string[]; pictures: LoggedPicture[] };
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
/** Whether bytes still end in a picture trailer. */
function isTrailed(b: Uint8Array): boolean {
  try {
    splitPictureTrailer(b);
    return true;
  } catch {
    return false;
  }
}
const DOG = join(ROOT, 'assets/images/dog.jpg');

/** The Node receiver's picture after `frameId`: the page's messages and track pictures replayed in the order they came. */
async function reconstruct(messages: Uint8Array[], pictures: LoggedPicture[], frameId: number): Promise<Uint8Array> {
  const rx = new FrameReceiver({ video: ffmpegVideoDecoders((name) => H264Decoder.create(name)) });
  let found = false;
  const decode = async (frames: FinishedFrame[]) => {
    for (const f of frames) {
      if (found) return;
      const stats = await rx.decode(f);
      if (stats?.refresh) throw new Error(`frame ${f.frame.frameId} did not decode in Node: ${stats.refresh}`);
      if (f.frame.frameId === frameId) found = true;
    }
  };
  for (const [i, bytes] of messages.entries()) {
    for (const p of pictures.filter((q) => q.at === i)) await decode(rx.trackPicture({ ...p, data: b64(p.data) }, 0).frames);
    const r = rx.receive(bytes, 0);
    if (r.type === 'invalid') throw r.error;
    if (r.type === 'hello' && r.refused) throw r.refused;
    if (r.type === 'hello') await decode(r.track.frames); // the pictures that came before it
    if (r.type === 'frame') await decode(r.frames);
    if (found) return Uint8Array.from(rx.picture?.picture.image ?? []);
  }
  for (const p of pictures.filter((q) => q.at === messages.length)) await decode(rx.trackPicture({ ...p, data: b64(p.data) }, 0).frames);
  if (found) return Uint8Array.from(rx.picture?.picture.image ?? []);
  throw new Error(`frame ${frameId} is not in the page's log`);
}

/** The shown picture's best PSNR against the sender's pan frames. */
async function bestSourcePsnr(rgba: Uint8Array, width: number, height: number) {
  const pan = await PanSource.open(DOG, { width, height }, 10);
  let best = 0;
  for (let k = 0; k < 400; k++) best = Math.max(best, psnrRgbaRgb(rgba, (await pan.next()).data));
  return best;
}

let browser: Awaited<ReturnType<typeof launchBrowser>>;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Starts a pan sender on the track, opens its page (with `prepare` run first), waits for 20 shown frames; the canvas, log and events. */
async function run(engine: string, prepare?: (page: Page) => Promise<unknown>) {
  const sender = await startSender({
    source: `pan:${DOG}`,
    query: 'dog',
    args: ['--engine', engine, '--transport', 'rtp', '--max-rate', '0.5'],
  });
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await prepare?.(page);
    await page.goto(sender.page('/?debug'));
    await waitForState(page, 's.connection === "open" && s.framesShown >= 20', 90_000);
    const [snap, log] = await page.evaluate(() => {
      const m = (window as unknown as { mmsc: PageApi }).mmsc;
      return [m.snapshot(), m.log()] as const;
    });
    expect(log.truncated).toBe(false);
    const session = (await page.locator('#session').textContent()) ?? '';
    const events = await page.locator('#events li').allTextContents();
    const rgba = b64(snap.rgba);
    const node = await reconstruct(log.messages.map(b64), log.pictures, snap.frameId as number);
    let maxDiff = 0;
    for (let i = 0, j = 0; j < node.length; i += 4, j += 3)
      for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs((rgba[i + c] as number) - (node[j + c] as number)));
    const best = await bestSourcePsnr(rgba, snap.width, snap.height);
    // What the sender's track heard back from Chromium's receiver (its PLIs: its decoder's complaints).
    const stats = await (await fetch(`${sender.url}/stats`, { headers: { authorization: `Bearer ${sender.token}` } })).json();
    const track = stats.receivers?.[0]?.track as
      | {
          packetsSent: number;
          nacks: number;
          plis: number;
          transportFeedback: number;
          badFeedback: number;
          feedbackDropped: number;
          rtcpDropped: number;
        }
      | undefined;
    await page.close();
    // Signalling connections the sender took for this page load.
    const connections = (sender.output().match(/ connected from /g) ?? []).length;
    return { snap, log, session, events, maxDiff, best, errors, track, connections };
  } finally {
    await sender.stop();
  }
}

describe('codec engines on the RTP video track in the browser (Chromium), 0.5 Mbit/s', () => {
  it.each([
    ['h264', 'H.264 4:4:4'],
    ['vp8', 'VP8'],
  ])('%s: Chromium assembles the track, the worker decodes, the canvas equals Node’s picture', async (engine, format) => {
    const r = await run(engine);
    console.log(
      `${engine} on the track at 0.5 Mbit/s: frame #${r.snap.frameId}, canvas vs Node max |Δ| ${r.maxDiff}; PSNR ${r.best.toFixed(2)} dB`,
    );
    // The pictures came on the track, not as video messages, each with its announcement in its
    // trailer, which the page cut off (before Chromium's decoder, which never asked for a keyframe).
    expect(r.log.pictures.length).toBeGreaterThanOrEqual(20);
    expect(r.log.pictures.filter((p) => p.picture?.rtpTs !== p.rtpTs)).toEqual([]);
    expect(r.log.pictures.filter((p) => isTrailed(b64(p.data))).map((p) => p.picture?.frameId)).toEqual([]);
    console.log(`the sender's track: ${JSON.stringify(r.track)}`);
    expect(r.track?.plis).toBe(0);
    // Chromium's transport-wide feedback is read by the sender's own decoder, all of it, within its budgets.
    expect(r.track?.transportFeedback).toBeGreaterThan(0);
    expect(r.track).toMatchObject({ badFeedback: 0, feedbackDropped: 0, rtcpDropped: 0 });
    expect(r.session).toContain(`engine ${engine}`);
    expect(r.session).toContain(format);
    // One signalling connection: the app took the socket index.html opened while it loaded.
    expect(r.connections).toBe(1);
    expect(r.maxDiff).toBeLessThanOrEqual(2);
    expect(r.best).toBeGreaterThanOrEqual(28);
    // Nothing lost on loopback: no keyframe was asked for.
    expect(r.events.filter((t) => t.includes('keyframe asked for'))).toEqual([]);
    expect(r.errors).toEqual([]);
  });

  it('h264 on a browser without High 4:4:4: unsupported-format, the track restarts in 4:2:0, the canvas equals Node', async () => {
    // As in engines.e2e.ts: the worker's WebCodecs refuses every High 4:4:4 codec string.
    const refusing = `{ const ask = VideoDecoder.isConfigSupported.bind(VideoDecoder);
      VideoDecoder.isConfigSupported = (c) => c.codec.startsWith('avc1.f4') ? Promise.resolve({ supported: false, config: c }) : ask(c); }\n`;
    const r = await run('h264', (page) =>
      page.route('**/worker.js*', async (route) => {
        const original = await route.fetch();
        await route.fulfill({ response: original, body: refusing + (await original.text()) });
      }),
    );
    console.log(
      `h264 without 4:4:4 on the track: frame #${r.snap.frameId}, canvas vs Node max |Δ| ${r.maxDiff}; PSNR ${r.best.toFixed(2)} dB`,
    );
    expect(r.session).toContain('H.264 4:2:0');
    expect(r.events.filter((t) => t.includes('not decoded (unsupported-format)'))).toHaveLength(1);
    expect(r.maxDiff).toBeLessThanOrEqual(2);
    expect(r.best).toBeGreaterThanOrEqual(28);
    expect(r.errors).toEqual([]);
  });
});
