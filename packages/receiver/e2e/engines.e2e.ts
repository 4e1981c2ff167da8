/**
 * The h264 engine in real Chromium against a real `mmsc serve --engine h264` over a moving source
 * (pan over dog.jpg) held to 0.5 Mbit/s: the page says which engine runs, its canvas equals the
 * Node decoder's picture from the same messages, and the shown picture is a whole source frame
 * (no mosaic of earlier frames): PSNR ≥ 28 dB against the best-matching frame the sender made.
 * Needs `npm run build` first.
 */
import { join } from 'node:path';
import { h264DecoderPort } from '@mmsc/codec/h264-node';
import { FrameReceiver, type ReceiverDecoders } from '@mmsc/receiver';
import { PanSource } from '@mmsc/sender/sources/sources.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, ROOT, startSender, waitForState } from './harness.mjs';

interface PageApi {
  state(): { connection: string; framesShown: number; shownFrameId: number | null };
  snapshot(): { frameId: number | null; width: number; height: number; rgba: string };
  log(): { enabled: boolean; truncated: boolean; messages: string[] };
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const DOG = join(ROOT, 'assets/images/dog.jpg');
/** An h264 session uses no patch decoder. */
const NO_PATCHES = { levels: [], entry: () => null, decode: () => Promise.reject(new Error('unused')) } as unknown as ReceiverDecoders;

/** The Node receiver's picture after `frameId`, replaying the page's message log. */
async function reconstruct(messages: Uint8Array[], frameId: number): Promise<Uint8Array> {
  const rx = new FrameReceiver({ decoders: NO_PATCHES, decoderSource: 'node-av', video: h264DecoderPort });
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

function psnrRgbaRgb(rgba: Uint8Array, rgb: Uint8Array): number {
  let s = 0;
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3)
    for (let c = 0; c < 3; c++) s += ((rgba[i + c] as number) - (rgb[j + c] as number)) ** 2;
  return 10 * Math.log10((255 * 255) / (s / rgb.length));
}

let sender: Awaited<ReturnType<typeof startSender>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
  [sender, browser] = await Promise.all([
    startSender({ source: `pan:${DOG}`, query: 'dog', args: ['--engine', 'h264', '--max-rate', '0.5'] }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await sender?.stop();
});

describe('h264 engine in the browser (Chromium, WebCodecs)', () => {
  it('shows whole source frames at 0.5 Mbit/s, equal to the Node decoder’s pictures', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(sender.page('/?debug'));
    await waitForState(page, 's.connection === "open" && s.framesShown >= 20', 90_000);
    await expect(page.locator('#session').textContent()).resolves.toContain('engine h264');
    const [snap, log] = await page.evaluate(() => {
      const m = (window as unknown as { mmsc: PageApi }).mmsc;
      return [m.snapshot(), m.log()] as const;
    });
    expect(log.truncated).toBe(false);
    const frameId = snap.frameId as number;
    const rgba = b64(snap.rgba);

    const node = await reconstruct(log.messages.map(b64), frameId);
    let maxDiff = 0;
    for (let i = 0, j = 0; j < node.length; i += 4, j += 3)
      for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs((rgba[i + c] as number) - (node[j + c] as number)));
    expect(maxDiff).toBeLessThanOrEqual(2);

    // The sender's frames are PanSource's, in order from its first; the shown one is among the
    // first few hundred. The best match is the frame itself or a neighbour (which can only lower it).
    const pan = await PanSource.open(DOG, { width: snap.width, height: snap.height }, 10);
    let best = 0;
    let bestAt = -1;
    for (let k = 0; k < 400; k++) {
      const p = psnrRgbaRgb(rgba, (await pan.next()).data);
      if (p > best) {
        best = p;
        bestAt = k;
      }
    }
    console.log(
      `h264 at 0.5 Mbit/s: frame #${frameId}, canvas vs Node max |Δ| ${maxDiff}; PSNR ${best.toFixed(2)} dB against source frame ${bestAt}`,
    );
    expect(best).toBeGreaterThanOrEqual(28);
    // Every picture decoded: no keyframe was asked for.
    const refused = (await page.locator('#events li').allTextContents()).filter((t) => t.includes('not decoded'));
    expect(refused).toEqual([]);
    await page.screenshot({ path: join(ROOT, 'artifacts', 'receiver-e2e-h264.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
