/**
 * The browser receiver in real Chromium against a real `mmsc serve --engine patches` (dog.jpg, initial query "dog"):
 * the canvas shows exactly what the Node decoder reconstructs from the same messages, and a new
 * query moves the high levels and updates the grounding report. Needs `npm run build` first.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type OrtRuntime, PatchCodecs, parseManifest } from '@mmsc/codec';
import { FrameReceiver } from '@mmsc/receiver';
import * as ortNode from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, launchBrowser, ROOT, startSender, waitForState } from './harness.mjs';

/** What the page exposes on `window.mmsc` (packages/receiver/app/main.ts). */
interface PageFrame {
  frameId: number;
  bytes: number;
  budget: number;
  complete: boolean;
  levels: string;
  groundingId: string | null;
  receiveTs: number;
  captureTs: number;
}
interface PageApi {
  state(): {
    connection: string;
    sessionId: string | null;
    shownFrameId: number | null;
    framesShown: number;
    framesReceived: number;
    grounding: { queryId: string; text: string; fallback: boolean; words: { word: string }[]; ungrounded: string[] } | null;
    wanted: { queryId: string } | null;
    queryStatus: { state: string; text: string };
  };
  snapshot(): { frameId: number | null; width: number; height: number; rgba: string };
  log(): { enabled: boolean; truncated: boolean; messages: string[] };
  frames(): PageFrame[];
  relevances(): { frameId: number; groundingId: string | null; width: number; height: number; values: string }[];
}
const api = (page: Page) => ({
  state: () => page.evaluate(() => (window as unknown as { mmsc: PageApi }).mmsc.state()),
  snapshot: () => page.evaluate(() => (window as unknown as { mmsc: PageApi }).mmsc.snapshot()),
  log: () => page.evaluate(() => (window as unknown as { mmsc: PageApi }).mmsc.log()),
  frames: () => page.evaluate(() => (window as unknown as { mmsc: PageApi }).mmsc.frames()),
  relevances: () => page.evaluate(() => (window as unknown as { mmsc: PageApi }).mmsc.relevances()),
});

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const ARTIFACTS = join(ROOT, 'artifacts');

/**
 * Replays the page's message log through the Node receiver (FrameReceiver on onnxruntime-node, the
 * hello's decoders checked against the manifest's) up to `frameId`.
 */
/** A page past the sender's initial grounding. */
async function openPage(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(sender.page('/?debug'));
  await waitForState(page, 's.grounding && s.grounding.queryId === "initial"', 90_000);
  return page;
}

/** Types a query as the operator does and returns its id. */
async function ask(page: Page, text: string): Promise<string | undefined> {
  await page.fill('#query', text);
  await page.press('#query', 'Enter');
  return (await api(page).state()).wanted?.queryId;
}

async function reconstruct(messages: Uint8Array[], frameId: number, codecs: PatchCodecs) {
  const receiver = new FrameReceiver({ decoders: codecs, decoderSource: 'models/manifest.json' });
  let learned = new Set<number>();
  let learnedPatches = 0;
  const count = (levels: Uint8Array) => {
    for (const s of levels) if (learned.has(s)) learnedPatches++;
  };
  const picture = () => {
    if (!receiver.picture) throw new Error('no picture: the log has no hello');
    return receiver.picture.picture;
  };
  for (const bytes of messages) {
    const r = receiver.receive(bytes, 0);
    if (r.type === 'invalid') throw r.error;
    if (r.type === 'hello') {
      if (r.refused) throw r.refused;
      learned = new Set(r.message.levels.filter((l) => l.kind === 'learned').map((l) => l.id));
    } else if (r.type === 'frame') {
      for (const f of r.frames) {
        await receiver.decode(f);
        count(f.frame.levels);
        if (f.frame.frameId === frameId) return { picture: picture(), learnedPatches };
      }
    }
  }
  for (const f of receiver.close()) {
    await receiver.decode(f);
    count(f.frame.levels);
    if (f.frame.frameId === frameId) return { picture: picture(), learnedPatches };
  }
  throw new Error(`frame ${frameId} is not in the page's log (${messages.length} messages)`);
}

let sender: Awaited<ReturnType<typeof startSender>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let codecs: PatchCodecs;

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  const modelsDir = join(ROOT, 'models');
  const manifest = parseManifest(JSON.parse(await readFile(join(modelsDir, 'manifest.json'), 'utf8')));
  const read = async (file: string) => new Uint8Array(await readFile(join(modelsDir, file)));
  // Started side by side; what started is kept even when another fails (no Chromium, say), so
  // that afterAll stops it: a sender left running would outlive the test run.
  const [s, b, c] = await Promise.allSettled([
    startSender({ query: 'dog', args: ['--engine', 'patches'] }),
    launchBrowser(),
    PatchCodecs.create(ortNode as unknown as OrtRuntime, manifest, read, 'decoder', { intraOpNumThreads: 1 }),
  ]);
  if (s.status === 'fulfilled') sender = s.value;
  if (b.status === 'fulfilled') browser = b.value;
  if (c.status === 'fulfilled') codecs = c.value;
  for (const r of [s, b, c]) if (r.status === 'rejected') throw r.reason;
});

afterAll(async () => {
  await browser?.close();
  await sender?.stop();
  await codecs?.release();
});

describe('browser receiver (Chromium)', () => {
  it('shows frames whose pixels equal the Node decoder’s reconstruction of the same messages', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(sender.page('/?debug'));
    await waitForState(page, 's.connection === "open" && s.framesShown >= 8', 90_000);
    const [snap, log] = await Promise.all([api(page).snapshot(), api(page).log()]);
    expect(log.enabled).toBe(true);
    expect(log.truncated).toBe(false);
    expect(snap.frameId).not.toBeNull();
    const frameId = snap.frameId as number;

    const { picture, learnedPatches } = await reconstruct(log.messages.map(b64), frameId, codecs);
    // The comparison covers the learned decoders (onnxruntime-web vs -node), not only raw patches.
    expect(learnedPatches).toBeGreaterThan(500);
    const rgba = b64(snap.rgba);
    expect([snap.width, snap.height]).toEqual([picture.width, picture.height]);
    let maxDiff = 0;
    let sumDiff = 0;
    for (let i = 0, j = 0; j < picture.image.length; i += 4, j += 3) {
      for (let c = 0; c < 3; c++) {
        const d = Math.abs((rgba[i + c] as number) - (picture.image[j + c] as number));
        if (d > maxDiff) maxDiff = d;
        sumDiff += d;
      }
      expect(rgba[i + 3]).toBe(255);
    }
    console.log(
      `frame #${frameId} (${learnedPatches} learned-level patches decoded so far): canvas vs Node reconstruction, max |Δ| ${maxDiff}, mean |Δ| ${(sumDiff / picture.image.length).toFixed(4)}`,
    );
    expect(maxDiff).toBeLessThanOrEqual(2);
    // Not a blank or flat picture: the still is dog.jpg.
    const lum = Array.from({ length: 1000 }, (_, k) => rgba[Math.floor((k * rgba.length) / 4000) * 4] as number);
    expect(Math.max(...lum) - Math.min(...lum)).toBeGreaterThan(100);
    await page.screenshot({ path: join(ARTIFACTS, 'receiver-e2e.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('moves the high levels and updates the grounding report when the query changes (dog → car)', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(sender.page('/?debug&levels=1&levelMode=sent&relevance=0'));
    // Switch early: on a still image the sender soon holds every patch at the top level (then only
    // "keep" is sent and no query can change a thing).
    await waitForState(page, 's.grounding && s.grounding.queryId === "initial" && s.framesReceived >= 2', 90_000);
    await expect(page.locator('#grounding [data-word="dog"] [data-class="dog"]').count()).resolves.toBe(1);
    await page.fill('#query', 'car');
    await page.press('#query', 'Enter');
    const queryId = (await api(page).state()).wanted?.queryId;
    expect(queryId).toBeTruthy();
    await waitForState(page, `s.grounding && s.grounding.queryId === ${JSON.stringify(queryId)} && s.queryStatus.state === 'applied'`);
    await page.locator('#grounding [data-word="car"] [data-class="car"]').waitFor({ timeout: 10_000 });
    await expect(page.locator('#grounding [data-word="dog"]').count()).resolves.toBe(0);
    // A few frames under the new query.
    const after = (await api(page).state()).framesReceived;
    await waitForState(page, `s.framesReceived >= ${after + 5}`);

    const frames = await api(page).frames();
    const rel = await api(page).relevances();
    const dogMap = rel.find((r) => r.groundingId === 'initial');
    const carMap = rel.find((r) => r.groundingId === queryId);
    expect(dogMap, 'a relevance map under the query "dog"').toBeTruthy();
    expect(carMap, 'a relevance map under the query "car"').toBeTruthy();
    const dogRel = b64(dogMap?.values ?? '');
    const carRel = b64(carMap?.values ?? '');
    const dogRegion: number[] = [];
    const carRegion: number[] = [];
    for (let p = 0; p < dogRel.length; p++) {
      const d = (dogRel[p] as number) / 255;
      const c = (carRel[p] as number) / 255;
      if (d >= 0.5 && c < 0.2) dogRegion.push(p);
      if (c >= 0.5 && d < 0.2) carRegion.push(p);
    }
    expect(dogRegion.length).toBeGreaterThan(20);
    expect(carRegion.length).toBeGreaterThan(20);

    // Mean payload bytes per patch sent in each region, per query phase. The sender sends the new
    // query's map just before the first frame it allocates with it, so that map's frameId splits the
    // phases exactly (a frame arriving after the grounding report may still be an old-query one, and
    // on a still image the new region is served at once and then only "kept").
    const firstCarFrame = carMap?.frameId ?? Number.POSITIVE_INFINITY;
    const bytesOf = [0, 12, 24, 48, 192, 0, 0, 0];
    const phase = (list: PageFrame[]) => {
      const mean = (region: number[]) => {
        let s = 0;
        for (const f of list) {
          const lv = b64(f.levels);
          for (const p of region) s += bytesOf[lv[p] as number] ?? 0;
        }
        return s / Math.max(1, region.length * list.length);
      };
      return { frames: list.length, dog: mean(dogRegion), car: mean(carRegion) };
    };
    const dogPhase = phase(frames.filter((f) => f.groundingId === 'initial' && f.frameId < firstCarFrame));
    const carPhase = phase(frames.filter((f) => f.frameId >= firstCarFrame));
    console.log(
      `regions: dog ${dogRegion.length} patches, car ${carRegion.length}; mean bytes/patch sent — query "dog" (${dogPhase.frames} frames): dog ${dogPhase.dog.toFixed(1)}, car ${dogPhase.car.toFixed(1)}; query "car" (${carPhase.frames} frames): dog ${carPhase.dog.toFixed(1)}, car ${carPhase.car.toFixed(1)}`,
    );
    expect(dogPhase.frames).toBeGreaterThan(0);
    expect(carPhase.frames).toBeGreaterThan(0);
    expect(dogPhase.dog).toBeGreaterThan(dogPhase.car);
    expect(carPhase.car).toBeGreaterThan(carPhase.dog);

    // The level map overlay is on and drawn.
    const overlay = await page.evaluate(() => {
      const c = document.getElementById('overlay-levels') as HTMLCanvasElement;
      const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
      let opaque = 0;
      for (let i = 3; i < d.length; i += 4) if ((d[i] as number) > 0) opaque++;
      return { hidden: c.hidden, opaque };
    });
    expect(overlay.hidden).toBe(false);
    expect(overlay.opaque).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'receiver-e2e-query-car.png') });

    // A query nothing grounds: the fallback is explained and the word visibly flagged.
    await page.fill('#query', 'xyzzy');
    await page.press('#query', 'Enter');
    await page.locator('#grounding [data-ungrounded="true"][data-word="xyzzy"]').waitFor({ timeout: 10_000 });
    await page.locator('#grounding [data-test="fallback"]').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'receiver-e2e-fallback.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a negated word as negated ("everything except the dog") and modifiers as understood ("the red car on the left")', async () => {
    const page = await openPage();
    const queryId = await ask(page, 'everything except the dog');
    await waitForState(page, `s.grounding && s.grounding.queryId === ${JSON.stringify(queryId)} && s.queryStatus.state === 'applied'`);
    const word = page.locator('#grounding [data-word="dog"][data-negated="true"]');
    await word.waitFor({ timeout: 10_000 });
    await expect(word.locator('.g-term').textContent()).resolves.toBe('not dog');
    await expect(page.locator('#grounding [data-test="fallback"]').count()).resolves.toBe(0);
    // Modifier words are shown as understood, beside the word they pick among.
    const modified = await ask(page, 'the red car on the left');
    await waitForState(page, `s.grounding && s.grounding.queryId === ${JSON.stringify(modified)}`);
    const chip = page.locator('#grounding [data-word="car"] [data-test="modifiers"]');
    await chip.waitFor({ timeout: 10_000 });
    await expect(chip.textContent()).resolves.toBe('red · left');
    await expect(page.locator('#grounding [data-ungrounded="true"]').count()).resolves.toBe(0);
    await page.close();
  });

  it('says “not in view” for a query whose objects are not in the picture: "stop sign" on the dog', async () => {
    const page = await openPage();
    await ask(page, 'stop sign');
    await waitForState(page, `s.queryStatus.state === 'absent'`, 20_000);
    expect((await api(page).state()).queryStatus.text).toBe('Not in view: nothing in the picture matches “stop sign”.');
    await page.locator('#grounding [data-word="stop sign"] [data-test="not-in-view"]').waitFor({ timeout: 5_000 });
    // Back to the dog: in view again.
    await ask(page, 'dog');
    await waitForState(page, `s.queryStatus.state === 'applied'`, 20_000);
    await expect(page.locator('#grounding [data-test="not-in-view"]').count()).resolves.toBe(0);
    await page.close();
  });

  it('reconnects on its own when the sender restarts, and re-sends the operator’s query', async () => {
    const port = await freePort();
    let second: Awaited<ReturnType<typeof startSender>> | null = null;
    let first: Awaited<ReturnType<typeof startSender>> | null = await startSender({ port, query: 'dog', args: ['--engine', 'patches'] });
    const page = await browser.context.newPage();
    try {
      await page.goto(first.page('/'));
      await waitForState(page, 's.connection === "open" && s.framesShown >= 2', 90_000);
      await page.fill('#query', 'bicycle');
      await page.press('#query', 'Enter');
      await waitForState(page, 's.wanted && s.grounding && s.grounding.queryId === s.wanted.queryId');
      const before = await api(page).state();
      const token = first.token; // a restarted sender given the same --token lets the page back in

      await first.stop();
      first = null;
      await waitForState(page, 's.connection === "waiting"', 30_000);
      // The stage and the indicator follow the state on their own events: waited for, not raced.
      await page.waitForSelector('#stage.stale', { timeout: 5000 });
      await page.waitForSelector('#conn[data-state="waiting"]', { timeout: 5000 });

      second = await startSender({ port, query: 'dog', token, args: ['--engine', 'patches'] });
      await waitForState(
        page,
        `s.connection === "open" && s.sessionId !== ${JSON.stringify(before.sessionId)} && s.framesShown > ${before.framesShown}` +
          ` && s.grounding && s.grounding.queryId === ${JSON.stringify(before.wanted?.queryId)}`,
        90_000,
      );
      const after = await api(page).state();
      expect(after.grounding?.text).toBe('bicycle');
      await expect(page.locator('#stage.stale').count()).resolves.toBe(0);
    } finally {
      await page.close();
      await first?.stop();
      await second?.stop();
    }
  });
});
