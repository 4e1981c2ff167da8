import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launch } from './anchor.js';
import { loadClipFrames, readClip } from './clip.js';
import type { Shown } from './metrics.js';
import { type MmscPeerOptions, startServe } from './mmsc-peer.js';
import { readStamp, scorePicture, unwrapStamp } from './stamp.js';

/** What the real receiver page showed, read from outside through its test API (`window.mmsc`). */
export interface PagePeerRaw {
  failure: string | null;
  /** When the page was opened, epoch ms. */
  startedAt: number;
  endAt: number;
  shown: Shown[];
  unreadableStamps: number;
  /** Bytes the sender sent this receiver (its /stats) from the first picture to the end. */
  bytes: number | null;
  /** The sender's estimate for this receiver, about once a second: [epoch ms, bit/s]. */
  estimates: [number, number][];
  errors: string[];
}

interface PageState {
  shownFrameId: number | null;
  framesShown: number;
  connection: string;
}

interface Snapshot {
  /** The frame the canvas shows as it is read back, and its session. */
  frameId: number | null;
  epoch: number;
  width: number;
  height: number;
  rgba: string;
}

interface SenderStats {
  receivers: { rate: { rateBps: number }; bytesSent: number }[];
}

const POLL_MS = 40;
/**
 * A shown picture is read back and scored at most this often (ms): each read-back copies the canvas
 * out of the page (~0.8 MB as base64), and doing it for every picture took CPU from the page itself.
 */
const SNAPSHOT_MS = 200;
/** A page that shows no picture this long after it was opened has its state and events put in the report. */
const SLOW_FIRST_MS = 5000;

interface PageFrame {
  frameId: number;
  captureTs: number;
  shownAt: number | null;
}

/**
 * The operator's real page (the built app `serve` hands out) in Chromium in the receiver's namespace.
 * What it showed, and when, comes from the page's own frame history (its show time and the frame's
 * capture time), so frame rate, age and stalls count every picture. The page is polled every 40 ms:
 * when the frame it shows changed and the last read-back is SNAPSHOT_MS old, its canvas is read
 * back, its stamp read and the picture scored like the other peers'; PSNR is the mean over those.
 */
export async function runPagePeer(o: MmscPeerOptions): Promise<PagePeerRaw> {
  const clip = await readClip(o.clipDir);
  const frames = await loadClipFrames(o.clipDir, clip);
  const serve = await startServe(o);
  const tmp = await mkdtemp(join(tmpdir(), 'mmsc-page-'));
  const raw: PagePeerRaw = {
    failure: null,
    startedAt: 0,
    endAt: 0,
    shown: [],
    unreadableStamps: 0,
    bytes: null,
    estimates: [],
    errors: [],
  };
  let context: BrowserContext | null = null;
  try {
    const origin = new URL(serve.publicUrl).origin;
    // WebCodecs needs a secure context; the emulated hosts are plain http, as a LAN camera node is.
    context = await launch('page', o.receiverNs, false, tmp, [`--unsafely-treat-insecure-origin-as-secure=${origin}`]);
    const page: Page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => {
      if (raw.errors.length < 20) raw.errors.push(`page: ${e.message}`);
    });
    await o.beforeConnect();
    raw.startedAt = Date.now();
    await page.goto(`${serve.publicUrl}/?token=${serve.token}`);
    await page.waitForFunction(() => (globalThis as unknown as { mmsc?: unknown }).mmsc !== undefined, undefined, { timeout: 15_000 });
    const state = () => page.evaluate(() => (globalThis as unknown as { mmsc: { state(): PageState } }).mmsc.state());
    const snapshot = () => page.evaluate(() => (globalThis as unknown as { mmsc: { snapshot(): Snapshot } }).mmsc.snapshot());
    const stats = () =>
      page.evaluate(
        async (token) => (await (await fetch('/stats', { headers: { Authorization: `Bearer ${token}` } })).json()) as SenderStats,
        serve.token,
      );
    const connectBy = raw.startedAt + 30_000;
    let firstAt: number | null = null;
    let slowNoted = false;
    let lastFrame: number | null = null;
    let lastN: number | null = null;
    let bytesAtFirst: number | null = null;
    /** Scores of the pictures read back, by session and frame id (`epoch:frameId`). */
    const scored = new Map<string, { n: number; psnr: number; queryPsnr: number | null }>();
    /**
     * The page's frame history, by session and frame id: read once a second, since the page starts
     * it afresh with each session (a reconnect, e.g. after an outage, would lose the frames before).
     */
    const shownFrames = new Map<string, PageFrame>();
    const readHistory = async () => {
      const h = await page.evaluate(() => {
        const m = (globalThis as unknown as { mmsc: { state(): { epoch: number }; frames(): PageFrame[] } }).mmsc;
        return {
          epoch: m.state().epoch,
          frames: m.frames().map((f) => ({ frameId: f.frameId, captureTs: f.captureTs, shownAt: f.shownAt })),
        };
      });
      for (const f of h.frames) if (f.shownAt !== null) shownFrames.set(`${h.epoch}:${f.frameId}`, f);
    };
    /** The sender's bytes for this page over its sessions: a new session's count starts at 0. */
    let bytesBefore = 0;
    let lastBytes = 0;
    let nextSnapshot = 0;
    let nextStats = 0;
    while (true) {
      const now = Date.now();
      if (firstAt === null && now > connectBy) {
        raw.failure = 'the page showed no picture within 30 s';
        break;
      }
      if (firstAt !== null && now >= firstAt + o.seconds * 1000) break;
      const s = await state();
      if (firstAt === null && !slowNoted && now > raw.startedAt + SLOW_FIRST_MS) {
        // What the page was doing, for the report: a slow first picture has many causes.
        slowNoted = true;
        const events = await page.locator('#events li').allTextContents();
        raw.errors.push(
          `page: no picture ${SLOW_FIRST_MS / 1000} s after opening it: state ${JSON.stringify(s)}; events ${JSON.stringify(events)}`,
        );
      }
      if (s.shownFrameId !== null) firstAt ??= Date.now();
      if (s.shownFrameId !== null && s.shownFrameId !== lastFrame && now >= nextSnapshot) {
        lastFrame = s.shownFrameId;
        nextSnapshot = now + SNAPSHOT_MS;
        const snap = await snapshot();
        const px = Buffer.from(snap.rgba, 'base64');
        const stamp = readStamp(px, snap.width, snap.height, 4);
        if (stamp === null) raw.unreadableStamps++;
        else {
          const n = unwrapStamp(stamp, lastN);
          if (n !== lastN && snap.frameId !== null) {
            lastN = n;
            const score = scorePicture(
              px,
              4,
              frames[n % clip.frames] as Uint8Array,
              3,
              snap.width,
              snap.height,
              clip.boxes[n % clip.frames] ?? [],
            );
            scored.set(`${snap.epoch}:${snap.frameId}`, {
              n,
              psnr: Number(score.psnr.toFixed(3)),
              queryPsnr: score.queryPsnr === null ? null : Number(score.queryPsnr.toFixed(3)),
            });
          }
        }
      }
      if (now >= nextStats) {
        nextStats = now + 1000;
        await readHistory();
        const st = await stats().catch(() => null);
        const r = st?.receivers[0];
        if (r) {
          raw.estimates.push([Date.now(), Math.round(r.rate.rateBps)]);
          if (r.bytesSent < lastBytes) bytesBefore += lastBytes;
          lastBytes = r.bytesSent;
          if (firstAt !== null) {
            bytesAtFirst ??= bytesBefore + r.bytesSent;
            raw.bytes = bytesBefore + r.bytesSent - bytesAtFirst;
          }
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await readHistory();
    for (const [key, f] of shownFrames) {
      if (f.shownAt === null) continue;
      const sc = scored.get(key);
      raw.shown.push({
        n: sc?.n ?? null,
        shownAt: f.shownAt,
        capturedAt: f.captureTs,
        psnr: sc?.psnr ?? null,
        queryPsnr: sc?.queryPsnr ?? null,
      });
    }
    raw.shown.sort((a, b) => a.shownAt - b.shownAt);
  } catch (e) {
    raw.failure = (e as Error).message.split('\n')[0] ?? 'page failed';
  } finally {
    raw.endAt = Date.now();
    await context?.close().catch(() => undefined);
    await serve.stop();
    await rm(tmp, { recursive: true, force: true });
  }
  return raw;
}
