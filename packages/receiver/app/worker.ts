/**
 * Decode worker: runs the receiver's shared decode code off the page's thread — a SessionPicture
 * per session from the picture source of the hello's engine (patches: PatchCodecs on
 * onnxruntime-web, verified against the hello, then Reassembler; video engines: WebCodecs) — one
 * frame at a time in arrival order, and hands each finished picture back as RGBA (transferred, not
 * copied).
 */

import { type OrtRuntime, PatchCodecs, parseManifest } from '@mmsc/codec';
import { DEFAULT_CONTEXT, type HelloMessage } from '@mmsc/protocol';
import { type CollectedFrame, type PatchDecoder, pictureSource, Reassembler, type ReceiverPlatform, SessionPicture } from '../src/index.js';
import { webCodecsDecoder } from './webcodecs.js';
import type { BenchMix, BenchResult, FromWorker, ToWorker } from './worker-api.js';

/** The worker global, typed by hand (the app compiles against the DOM lib). */
const scope = self as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
  location: Location;
};

type OrtWebModule = typeof import('./ort-web.js');

/**
 * onnxruntime-web, loaded only for a session of the patches engine: it is half of this worker's
 * code, and the codec engines' sessions (WebCodecs) never need it. On a slow link the worker's
 * download shares the link with the WebRTC handshake, so what it does not carry comes sooner.
 */
async function loadOrt(): Promise<OrtRuntime> {
  // Its own bundle (ort-web.ts), fetched by URL: the build leaves this import alone.
  const url = new URL('/ort-web.js', scope.location.href).href;
  const { ortWeb } = (await import(url)) as OrtWebModule;
  // The wasm glue and binary come from the sender (/ort/), never from a CDN. One thread: on the
  // project's 2-core machines a second one gained nothing, and it needs cross-origin isolation.
  ortWeb.env.wasm.wasmPaths = new URL('/ort/', scope.location.href).href;
  ortWeb.env.wasm.numThreads = 1;
  ortWeb.env.wasm.proxy = false;
  return ortWeb as unknown as OrtRuntime;
}

interface Loaded {
  codecs: PatchCodecs;
  loadMs: number;
}

interface Session {
  epoch: number;
  picture: SessionPicture;
}

let loaded: Promise<Loaded> | null = null;
let session: Session | null = null;
let latestEpoch = -1;
let chain: Promise<void> = Promise.resolve();
let queued = 0;

function loadCodecs(): Promise<Loaded> {
  loaded ??= (async () => {
    const t0 = performance.now();
    const base = new URL('/models/', scope.location.href);
    // The page hands the operator token over in this worker's URL; /models needs it.
    const token = new URLSearchParams(scope.location.search).get('token');
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    const res = await fetch(new URL('manifest.json', base), { cache: 'no-cache', headers });
    if (res.status === 401) throw new Error('the sender refused the token for /models (open the URL `mmsc serve` printed)');
    if (!res.ok) throw new Error(`cannot fetch /models/manifest.json: HTTP ${res.status}`);
    const manifest = parseManifest(await res.json());
    const read = async (file: string) => {
      const r = await fetch(new URL(file, base), { headers });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    };
    const codecs = await PatchCodecs.create(await loadOrt(), manifest, read, 'decoder', {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    // Warm up: a session's first run allocates and compiles (~100–250 ms here). Do it now, with a
    // full frame's batch, rather than on the first frame the operator is waiting for.
    for (const bytes of codecs.levels) await codecs.decode(bytes, new Uint8Array(bytes * 2400));
    return { codecs, loadMs: performance.now() - t0 };
  })();
  // A failed load may be retried by the next session (e.g. the models were still being written).
  loaded.catch(() => {
    loaded = null;
  });
  return loaded;
}

async function startSession(epoch: number, hello: HelloMessage): Promise<void> {
  const source = pictureSource(hello.engine);
  // Only the engines that need them wait for the patch decoders; video engines decode with WebCodecs.
  const l = source.needsPatchDecoders ? await loadCodecs() : null;
  const platform: ReceiverPlatform = {
    decoders: l?.codecs ?? null,
    decoderSource: l ? '/models/manifest.json' : 'WebCodecs',
    video: webCodecsDecoder,
    videoName: 'WebCodecs',
  };
  // The hello names each learned level's decoder by id and sha256: they must be the ones we run
  // (a DecoderMismatchError otherwise, reported as fatal for this session).
  const picture = SessionPicture.open(hello, platform);
  if (!picture) throw new Error(`no decoders for engine ${hello.engine}`);
  session = { epoch, picture };
  scope.postMessage({ type: 'ready', epoch, loadMs: Math.round(l?.loadMs ?? 0), models: source.decoderNames(platform) });
}

async function applyFrame(epoch: number, frame: CollectedFrame, arrived: number): Promise<void> {
  const s = session;
  if (!s || s.epoch !== epoch) {
    // A frame of a session that has since been replaced, or that never started.
    scope.postMessage({ type: 'dropped', epoch, frameId: frame.frameId });
    return;
  }
  const waitMs = performance.now() - arrived;
  const stats = await s.picture.apply(frame);
  const { ctx, picture } = s.picture;
  const shown = s.picture.shownLevels();
  const rgba = toRgba(picture.image, ctx.width * ctx.height);
  scope.postMessage(
    {
      type: 'picture',
      epoch,
      frameId: frame.frameId,
      width: ctx.width,
      height: ctx.height,
      rgba,
      shown,
      stats,
      queued: queued - 1,
      waitMs,
    },
    [rgba, shown.buffer],
  );
}

function toRgba(rgb: Uint8Array, pixels: number): ArrayBuffer {
  const out = new ArrayBuffer(pixels * 4);
  const px = new Uint32Array(out); // little-endian: 0xAABBGGRR
  for (let i = 0, j = 0; i < pixels; i++, j += 3) {
    px[i] = 0xff000000 | ((rgb[j + 2] as number) << 16) | ((rgb[j + 1] as number) << 8) | (rgb[j] as number);
  }
  return out;
}

/**
 * Decode + reassembly time of synthetic frames with fixed level mixes (random codes), on a separate
 * picture so the live one is untouched: the worst case a link can ask of this receiver.
 */
async function bench(mixes: BenchMix[], frames: number): Promise<BenchResult[]> {
  const l = await loadCodecs();
  const ctx = session?.picture.ctx ?? DEFAULT_CONTEXT;
  const results: BenchResult[] = [];
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (const mix of mixes) {
    let modelMs = 0;
    const timed: PatchDecoder = {
      async decode(bytes, codes) {
        const t = performance.now();
        const out = await l.codecs.decode(bytes, codes);
        modelMs += performance.now() - t;
        return out;
      },
    };
    const picture = new Reassembler(ctx, timed);
    const symbols = Object.keys(mix.shares).map(Number);
    const times: number[] = [];
    const model: number[] = [];
    for (let f = 0; f < frames + 3; f++) {
      modelMs = 0;
      const levels = new Uint8Array(ctx.patchCount);
      let payloadBytes = 0;
      for (let p = 0; p < levels.length; p++) {
        let r = rand();
        let sym = symbols[symbols.length - 1] as number;
        for (const s of symbols) {
          r -= mix.shares[s] as number;
          if (r < 0) {
            sym = s;
            break;
          }
        }
        levels[p] = sym;
        payloadBytes += ctx.levelBytes[sym] ?? 0;
      }
      const payload = new Uint8Array(payloadBytes);
      for (let i = 0; i < payload.length; i++) payload[i] = (rand() * 256) | 0;
      const frame: CollectedFrame = {
        frameId: f,
        captureTs: Date.now(),
        budget: payloadBytes,
        parts: 1,
        partsReceived: 1,
        bytesReceived: payloadBytes,
        lastReceiveTs: Date.now(),
        complete: true,
        levels,
        received: [{ type: 'frame', frameId: f, captureTs: 0, budget: payloadBytes, part: 0, parts: 1, firstPatch: 0, levels, payload }],
        video: null,
        base: null,
      };
      const stats = await picture.apply(frame);
      if (f >= 3) {
        // the first frames warm the sessions up
        times.push(stats.decodeMs);
        model.push(modelMs);
      }
    }
    const q = (xs: number[], x: number) => {
      const s = [...xs].sort((a, b) => a - b);
      return Number((s[Math.min(s.length - 1, Math.floor(x * s.length))] ?? Number.NaN).toFixed(2));
    };
    results.push({ name: mix.name, frames: times.length, applyMsP50: q(times, 0.5), applyMsP90: q(times, 0.9), modelMsP50: q(model, 0.5) });
  }
  return results;
}

/** `frameId` null: the session cannot start. */
function fail(epoch: number, frameId: number | null) {
  return (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    scope.postMessage({ type: 'error', epoch, frameId, message });
  };
}

scope.onmessage = (ev) => {
  const m = ev.data;
  switch (m.type) {
    case 'session':
      latestEpoch = m.epoch;
      session = null;
      chain = chain.then(() => startSession(m.epoch, m.hello)).catch(fail(m.epoch, null));
      break;
    case 'frame': {
      if (m.epoch !== latestEpoch) {
        scope.postMessage({ type: 'dropped', epoch: m.epoch, frameId: m.frame.frameId });
        return;
      }
      const arrived = performance.now();
      queued++;
      chain = chain
        .then(() => applyFrame(m.epoch, m.frame, arrived))
        .catch(fail(m.epoch, m.frame.frameId))
        .finally(() => {
          queued--;
        });
      break;
    }
    case 'bench':
      chain = chain
        .then(async () => scope.postMessage({ type: 'bench', id: m.id, results: await bench(m.mixes, m.frames) }))
        .catch(fail(latestEpoch, -1));
      break;
  }
};
