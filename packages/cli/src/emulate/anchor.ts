/**
 * The anchor: a plain Chromium → Chromium WebRTC video call sending the emulation clip, the call an
 * operator would otherwise use. Two headless Debian Chromium instances (each optionally inside a network
 * namespace) run the pages in `packages/cli/emulate-pages/`; the receiver reads each presented frame's
 * stamp and scores the picture against that source frame with the same `stamp.js` the rest of `mmsc
 * emulate` uses.
 *
 * No network server is involved: the pages, `stamp.js` and the clip are served to each browser through
 * `context.route('http://localhost/**')` (a secure context), and signalling is done by this driver moving
 * the SDP between the pages with `page.evaluate` — non-trickle: each side's description is read only once
 * its ICE gathering has completed, so it carries every candidate. Only the media path crosses the
 * emulated link, which is all the anchor has to measure.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { readClip } from './clip.js';

/** An ICE server, as `RTCPeerConnection` takes it. */
export interface AnchorIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export type AnchorCodec = 'VP8' | 'VP9' | 'AV1' | 'H264';

export interface AnchorOptions {
  clipDir: string;
  /** How long to run after the first picture is shown, s. */
  seconds: number;
  /** Network namespaces to run the two browsers in (null = this namespace, loopback). */
  senderNs: string | null;
  receiverNs: string | null;
  /** Default VP8. */
  codec?: AnchorCodec;
  /**
   * `RTCRtpSender.setParameters` encodings[0].maxBitrate, bit/s; default 20_000_000, so that the call's
   * own estimate, not Chrome's per-resolution default, limits it.
   */
  maxBitrateBps?: number;
  iceServers?: AnchorIceServer[];
  iceTransportPolicy?: 'all' | 'relay';
  /** Offer created → first picture shown, at most; default 15000. */
  connectTimeoutMs?: number;
  /** Called once both browsers are ready, right before the offer (the harness starts the link here). */
  beforeOffer?: () => Promise<void>;
  log?: (s: string) => void;
}

export interface AnchorShown {
  /** Source frame index (the unwrapped stamp; a looped clip starts again at 0). */
  n: number;
  /** Epoch ms the receiver page was called back for this picture (requestVideoFrameCallback). */
  shownAt: number;
  /** Epoch ms the sender drew frame n (its latest draw of n at or before shownAt); null if none. */
  capturedAt: number | null;
  psnr: number;
  queryPsnr: number | null;
}

/**
 * One getStats() sample of both peers, about once a second. Counters (bytes, frames, freezes, NACKs,
 * PLIs) are cumulative since the call started, as getStats() reports them; `jitterBufferDelayMs` is the
 * mean jitter-buffer delay per frame emitted since the previous sample.
 */
export interface AnchorSecond {
  /** s since the first picture. */
  t: number;
  /** Sender's selected candidate pair. */
  availableOutgoingBitrate: number | null;
  /** Sender's outbound-rtp. */
  targetBitrate: number | null;
  bytesSent: number;
  /** Receiver's inbound-rtp (video). */
  bytesReceived: number;
  framesPerSecond: number | null;
  framesDecoded: number;
  framesDropped: number;
  freezeCount: number;
  totalFreezesDuration: number;
  jitterBufferDelayMs: number | null;
  /** NACKs and PLIs the sender received (outbound-rtp). */
  nackCount: number;
  pliCount: number;
  /** The encoded resolution (outbound-rtp; inbound-rtp when the sender has none yet). */
  frameWidth: number | null;
  frameHeight: number | null;
}

export interface AnchorResult {
  connected: boolean;
  /** Offer created → first picture shown, ms. */
  connectMs: number | null;
  /** Epoch ms the offer was created. */
  startedAt: number;
  firstPictureAt: number | null;
  shown: AnchorShown[];
  seconds: AnchorSecond[];
  /** The negotiated codec (the requested one until a packet was sent). */
  codec: string;
  maxBitrateBps: number;
  errors: string[];
}

/** Internal options, beyond the public ones (tests and the loopback case). */
interface InternalOptions {
  /** Both browsers on this host's loopback: Chromium needs `--allow-loopback-in-peer-connection`. */
  loopback?: boolean;
}

export const CHROMIUM = process.env.MMSC_CHROMIUM ?? '/usr/bin/chromium';

const DISABLED_FEATURES = [
  'WebRtcHideLocalIpsWithMdns',
  'MediaRouter',
  'PaintHolding',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'DestroyProfileOnBrowserClose',
];

/** Headless flags from the platform notes, plus what the anchor call needs. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Host candidates carry real addresses: an mDNS `.local` name cannot be resolved across the emulated router.
  // Chromium keeps only the last --disable-features switch, and playwright passes its own list first: the
  // entries of that list that matter here (no background discovery or network chatter, HTTP routes kept on
  // HTTP, painting not held back) are repeated so that they stay off.
  `--disable-features=${DISABLED_FEATURES.join(',')}`,
  '--autoplay-policy=no-user-gesture-required',
  // Rendering only (not the call): headless software compositing otherwise paces its frames so that at
  // 30 fps some decoded video frames are never presented (measured: ~97 of 120 shown, ~111 with these).
  '--disable-frame-rate-limit',
  '--disable-gpu-vsync',
  // Media permission (granted without a prompt, fake devices): Chromium then gathers a host candidate on
  // every interface, as it does for an operator whose page holds camera permission.
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

const PAGES_DIR = fileURLToPath(new URL('../../emulate-pages/', import.meta.url));
/** The compiled stamp module (pure ESM, no imports), from src/emulate or dist/emulate alike. */
const STAMP_JS = fileURLToPath(new URL('../../dist/emulate/stamp.js', import.meta.url));
const PAGE_FILES = ['anchor-send.html', 'anchor-send.js', 'anchor-recv.html', 'anchor-recv.js', 'anchor-common.js'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** `p`, or a rejection after `ms` naming `what`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms)} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type PageApi = Record<string, ((...args: unknown[]) => unknown) | undefined>;

/** Calls `window.anchor[method](...args)` in a page. */
async function call<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  const r = await page.evaluate(
    ([m, a]) => {
      const api = (globalThis as unknown as { anchor?: PageApi }).anchor;
      const f = api?.[m];
      if (!f) throw new Error(`page has no anchor.${m}`);
      return f(...a);
    },
    [method, args] as [string, unknown[]],
  );
  return r as T;
}

interface SenderStats {
  at: number;
  bytesSent: number;
  targetBitrate: number | null;
  nackCount: number;
  pliCount: number;
  frameWidth: number | null;
  frameHeight: number | null;
  availableOutgoingBitrate: number | null;
  codec: string | null;
}

interface ReceiverStats {
  at: number;
  bytesReceived: number;
  framesPerSecond: number | null;
  framesDecoded: number;
  framesDropped: number;
  freezeCount: number;
  totalFreezesDuration: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  nackCount: number;
  pliCount: number;
  frameWidth: number | null;
  frameHeight: number | null;
}

interface Side {
  name: 'sender' | 'receiver';
  context: BrowserContext;
  page: Page;
}

function checkNs(ns: string | null): void {
  if (ns === null) return;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(ns)) throw new Error(`bad network namespace name '${ns}'`);
  if (!existsSync(`/run/netns/${ns}`)) throw new Error(`network namespace ${ns} does not exist (ip netns list)`);
}

/** Launches one headless Chromium with a fresh profile under `tmp`, inside `ns` when given (`extraArgs` after the usual flags). */
export async function launch(
  name: string,
  ns: string | null,
  loopback: boolean,
  tmp: string,
  extraArgs: string[] = [],
): Promise<BrowserContext> {
  let executablePath = CHROMIUM;
  if (ns !== null) {
    // Playwright talks to the browser over a pipe (inherited file descriptors), which crosses namespaces.
    executablePath = join(tmp, `${name}-chromium.sh`);
    await writeFile(executablePath, `#!/bin/sh\nexec ip netns exec ${ns} '${CHROMIUM}' "$@"\n`);
    await chmod(executablePath, 0o755);
  }
  const args = [...CHROMIUM_ARGS, ...(loopback ? ['--allow-loopback-in-peer-connection'] : []), ...extraArgs];
  // Loaded on first use: playwright-core is a root devDependency, and nothing else in the CLI needs it.
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(join(tmp, `${name}-profile`), { executablePath, args, headless: true });
}

/** Serves the pages, stamp.js and the clip at http://localhost/ inside one browser context. */
async function serve(context: BrowserContext, clipDir: string, clipFiles: readonly string[]): Promise<void> {
  const files = new Map<string, string>();
  for (const f of PAGE_FILES) files.set(`/${f}`, join(PAGES_DIR, f));
  files.set('/stamp.js', STAMP_JS);
  files.set('/clip/clip.json', join(clipDir, 'clip.json'));
  for (const f of clipFiles) files.set(`/clip/${encodeURI(basename(f))}`, join(clipDir, basename(f)));
  await context.route('http://localhost/**', async (route) => {
    const path = new URL(route.request().url()).pathname;
    const file = files.get(path);
    let body: Buffer | null = null;
    if (file) body = await readFile(file).catch(() => null);
    if (!body) await route.fulfill({ status: 404, contentType: 'text/plain', body: `not found: ${path}` });
    else await route.fulfill({ status: 200, contentType: CONTENT_TYPES[extname(path)] ?? 'application/octet-stream', body });
  });
}

/** Opens a page and loads the clip into it (`init`); a failure here is a setup error. */
async function open(side: Side, cfg: Record<string, unknown>, errors: string[]): Promise<void> {
  const note = (s: string) => {
    if (errors.length < 50) errors.push(`${side.name}: ${s}`);
  };
  side.page.on('pageerror', (e) => note(e.message));
  side.page.on('console', (m) => {
    if (m.type() === 'error') note(m.text());
  });
  await side.page.goto(`http://localhost/anchor-${side.name === 'sender' ? 'send' : 'recv'}.html`);
  await side.page.waitForFunction(() => (globalThis as unknown as { anchor?: unknown }).anchor !== undefined, undefined, {
    timeout: 15_000,
  });
  await within(call(side.page, 'init', cfg), 60_000, `${side.name} init`);
}

function row(t: number, s: SenderStats, r: ReceiverStats, prev: ReceiverStats | null): AnchorSecond {
  const emitted = r.jitterBufferEmittedCount - (prev?.jitterBufferEmittedCount ?? 0);
  const delay = r.jitterBufferDelay - (prev?.jitterBufferDelay ?? 0);
  return {
    t,
    availableOutgoingBitrate: s.availableOutgoingBitrate,
    targetBitrate: s.targetBitrate,
    bytesSent: s.bytesSent,
    bytesReceived: r.bytesReceived,
    framesPerSecond: r.framesPerSecond,
    framesDecoded: r.framesDecoded,
    framesDropped: r.framesDropped,
    freezeCount: r.freezeCount,
    totalFreezesDuration: r.totalFreezesDuration,
    jitterBufferDelayMs: emitted > 0 ? (1000 * delay) / emitted : null,
    nackCount: s.nackCount,
    pliCount: s.pliCount,
    frameWidth: s.frameWidth ?? r.frameWidth,
    frameHeight: s.frameHeight ?? r.frameHeight,
  };
}

/** The latest time in `times` (ascending) at or before `at`. */
function latestAtOrBefore(times: readonly number[] | undefined, at: number): number | null {
  if (!times) return null;
  for (let i = times.length - 1; i >= 0; i--) {
    const t = times[i] as number;
    if (t <= at) return t;
  }
  return null;
}

/**
 * Runs the anchor call for `seconds` after its first picture and returns what the receiver showed, with
 * both peers' statistics. A call that shows no picture within `connectTimeoutMs` comes back with
 * `connected: false` and the reason in `errors`; only setup errors (no Chromium, no clip, an unknown
 * namespace or codec) throw.
 */
export async function runAnchor(o: AnchorOptions & InternalOptions): Promise<AnchorResult> {
  const log = o.log ?? (() => undefined);
  const codec = o.codec ?? 'VP8';
  const maxBitrateBps = o.maxBitrateBps ?? 20_000_000;
  const connectTimeoutMs = o.connectTimeoutMs ?? 15_000;
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium); browsers are never downloaded`);
  }
  const manifest = await readClip(o.clipDir);
  for (const f of manifest.files)
    if (!existsSync(join(o.clipDir, basename(f)))) throw new Error(`${o.clipDir}: frame file ${f} is missing`);
  if (!existsSync(STAMP_JS)) throw new Error(`${STAMP_JS} is missing: build first (npx tsc -b)`);
  for (const f of PAGE_FILES) if (!existsSync(join(PAGES_DIR, f))) throw new Error(`anchor page ${join(PAGES_DIR, f)} is missing`);
  checkNs(o.senderNs);
  checkNs(o.receiverNs);
  const loopback = o.loopback ?? (o.senderNs === null && o.receiverNs === null);

  const result: AnchorResult = {
    connected: false,
    connectMs: null,
    startedAt: 0,
    firstPictureAt: null,
    shown: [],
    seconds: [],
    codec,
    maxBitrateBps,
    errors: [],
  };
  const tmp = await mkdtemp(join(tmpdir(), 'mmsc-anchor-'));
  const contexts: BrowserContext[] = [];
  try {
    const launched = await Promise.allSettled([
      launch('sender', o.senderNs, loopback, tmp),
      launch('receiver', o.receiverNs, loopback, tmp),
    ]);
    for (const l of launched) if (l.status === 'fulfilled') contexts.push(l.value);
    for (const l of launched) if (l.status === 'rejected') throw new Error(`cannot launch Chromium: ${(l.reason as Error).message}`);
    const sides: Side[] = [];
    for (const [i, name] of (['sender', 'receiver'] as const).entries()) {
      const context = contexts[i] as BrowserContext;
      await serve(context, o.clipDir, manifest.files);
      sides.push({ name, context, page: context.pages()[0] ?? (await context.newPage()) });
    }
    const [snd, rcv] = sides as [Side, Side];
    const cfg = { codec, iceServers: o.iceServers ?? [], iceTransportPolicy: o.iceTransportPolicy ?? 'all', mediaPermission: true };
    try {
      await Promise.all([open(snd, cfg, result.errors), open(rcv, cfg, result.errors)]);
    } catch (e) {
      const first = ((e as Error).message.split('\n')[0] ?? '').replace(/^page\.evaluate: (Error: )?/, '');
      throw new Error(`anchor setup failed: ${first}`);
    }
    log(`anchor: browsers ready (${codec}, sender ${o.senderNs ?? 'loopback'}, receiver ${o.receiverNs ?? 'loopback'})`);

    await o.beforeOffer?.();
    // Signalling (non-trickle, see the module comment), then wait for the first picture.
    result.startedAt = Date.now();
    const deadline = result.startedAt + connectTimeoutMs;
    const gatherMs = Math.min(5000, connectTimeoutMs / 3);
    try {
      const left = () => Math.max(1, deadline - Date.now());
      const offer = await within(call<string>(snd.page, 'offer', gatherMs), left(), 'offer');
      const answer = await within(call<string>(rcv.page, 'answer', offer, codec, gatherMs), left(), 'answer');
      await within(call(snd.page, 'answer', answer, maxBitrateBps), left(), 'applying the answer');
      while (Date.now() < deadline) {
        const first = await within(call<number | null>(rcv.page, 'firstShown'), left(), 'first picture');
        if (first !== null) {
          result.firstPictureAt = first;
          break;
        }
        await sleep(Math.min(50, deadline - Date.now()));
      }
    } catch (e) {
      result.errors.push(`connecting: ${(e as Error).message}`);
    }
    if (result.firstPictureAt === null) {
      const states = await Promise.all(
        sides.map((s) => within(call<string>(s.page, 'state'), 5000, 'state').catch((e: Error) => e.message)),
      );
      result.errors.push(`no picture within ${connectTimeoutMs} ms (sender: ${states[0]}; receiver: ${states[1]})`);
      log(`anchor: ${result.errors.at(-1)}`);
      return result;
    }
    result.connected = true;
    result.connectMs = result.firstPictureAt - result.startedAt;
    log(`anchor: first picture ${result.connectMs} ms after the offer`);

    // Both peers' statistics once a second until `seconds` after the first picture.
    const sample = () =>
      within(Promise.all([call<SenderStats>(snd.page, 'stats'), call<ReceiverStats>(rcv.page, 'stats')]), 5000, 'getStats');
    const end = result.firstPictureAt + o.seconds * 1000;
    let prev: ReceiverStats | null = null;
    try {
      prev = (await sample())[1];
    } catch (e) {
      result.errors.push(`stats: ${(e as Error).message}`);
    }
    let negotiated: string | null = null;
    for (let k = 1; result.firstPictureAt + k * 1000 <= end; k++) {
      await sleep(result.firstPictureAt + k * 1000 - Date.now());
      try {
        const [s, r] = await sample();
        result.seconds.push(row((Math.max(s.at, r.at) - result.firstPictureAt) / 1000, s, r, prev));
        prev = r;
        negotiated = s.codec ?? negotiated;
      } catch (e) {
        result.errors.push(`stats: ${(e as Error).message}`);
      }
    }
    await sleep(end - Date.now());
    if (negotiated) {
      result.codec = negotiated;
      if (negotiated.toUpperCase() !== codec) result.errors.push(`negotiated ${negotiated}, not the requested ${codec}`);
    }

    const [sent, got] = await within(
      Promise.all([
        call<{ draws: number[][] }>(snd.page, 'collect'),
        call<{ shown: Omit<AnchorShown, 'capturedAt'>[]; unreadable: number; callbacks: number; missed: number; busyMs: number }>(
          rcv.page,
          'collect',
        ),
      ]),
      30_000,
      'collecting results',
    );
    result.shown = got.shown.map((s) => ({ ...s, capturedAt: latestAtOrBefore(sent.draws[s.n], s.shownAt) }));
    if (got.unreadable > 0) result.errors.push(`unreadable stamps: ${got.unreadable}`);
    log(
      `anchor: ${result.shown.length} pictures shown (${got.callbacks} frame callbacks, ${got.missed} presented without one; ` +
        `${(got.busyMs / Math.max(1, got.callbacks)).toFixed(1)} ms scoring each), ${result.seconds.length} stats rows`,
    );
    await Promise.all(sides.map((s) => within(call(s.page, 'stop'), 5000, 'stop').catch(() => undefined)));
    return result;
  } finally {
    await Promise.all(contexts.map((c) => within(c.close(), 15_000, 'closing Chromium').catch(() => undefined)));
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}
