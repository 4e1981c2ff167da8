import type { PatchCodecs } from '@mmsc/codec';
import { EXIT, encodeMessage, type GroundingMessage, type HelloMessage } from '@mmsc/protocol';
import { type CollectedFrame, type FinishedFrame, FrameReceiver, ReceiverConnection } from '@mmsc/receiver';
import { median } from '@mmsc/sender/metrics.js';
import { DEFAULT_MODELS_DIR, loadCodecs, setOrtSpinning } from '@mmsc/sender/models.js';
import { Command, Option } from 'commander';
import { type RTCDataChannel, RTCPeerConnection } from 'werift';
import WebSocket from 'ws';
import { CliError } from '../errors.js';
import { nodeVideoDecoders } from '../receive/node-decoders.js';

export interface ProbeResult {
  frames: number;
  /** Complete frames per second between the first and the last one (steady state). */
  fps: number;
  meanFrameBytes: number;
  budgetViolations: number;
  latencyMsP50: number;
  latencyMsP95: number;
  estimatedRateBps: number | null;
  goodputBps: number;
  incompleteFrames: number;
  decodeMsP50: number;
  /** How the sender coded the pictures (its hello), null before a hello. */
  engine: string | null;
  /** Keyframes asked for (h264: pictures that could not be decoded). */
  refreshes: number;
  /** From the start of the connection (the signalling socket) to the data channel open, ms; null if it never opened. */
  channelMs: number | null;
  /** From the start of the connection to the first picture decoded (what an operator waits for), ms; null if none. */
  firstPictureMs: number | null;
  grounding: Omit<GroundingMessage, 'type'> | null;
  /** Everything that went wrong during the run (signalling errors, disconnects, protocol errors); empty = clean run. */
  errors: string[];
}

export interface ProbeOptions {
  /** Sender URL, e.g. `http://127.0.0.1:8080` or `http://127.0.0.1:8080/?token=…` (path, query and hash are dropped). */
  url: string;
  query: string;
  /** How long to receive once the data channel is up. */
  seconds: number;
  /** Models folder holding manifest.json (the patch decoders). */
  modelsDir?: string;
  /** Sent as `Authorization: Bearer <token>` on /signal and /stats; defaults to the URL's `token` parameter. */
  token?: string;
  log?: (s: string) => void;
  /** How long the data channel may take to open, ms (default 15,000). */
  connectTimeoutMs?: number;
  /** Called with each picture decoded (RGB, the hello's width × height, as the operator would see it) and the frame it came from. */
  onPicture?: (picture: { image: Uint8Array; width: number; height: number }, frame: CollectedFrame, shownAt: number) => void;
  /** Called with the size of every data-channel message as it arrives (per-second goodput). */
  onBytes?: (bytes: number, at: number) => void;
  /** Aborting stops the run early: the partial result is returned (or, before the connection is up, the promise rejects with the reason). */
  signal?: AbortSignal;
}

/** Exit code of `mmsc probe` when the sender is full. */
export const EXIT_BUSY = EXIT.busy;

/** The sender refused the connection: wrong or missing token (401), Origin refused (403), or full (busy). */
export class ProbeRefusedError extends CliError {
  override readonly name = 'ProbeRefusedError';
  constructor(
    readonly reason: 'unauthorized' | 'forbidden' | 'busy',
    message: string,
    exitCode = 1,
  ) {
    super(message, exitCode);
  }
}

/** The sender's endpoints from a user-given URL, and the token it carries (if any). */
export function senderEndpoints(url: string): { signalUrl: string; statsUrl: string; token: string | null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    u = new URL('invalid:');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError('--url must be an http(s) URL, e.g. http://127.0.0.1:8080', 2);
  const token = u.searchParams.get('token');
  return {
    signalUrl: `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}/signal`,
    statsUrl: `${u.origin}/stats`,
    token: token ? token : null,
  };
}

function refusal(status: number, signalUrl: string): CliError {
  if (status === 401) return new ProbeRefusedError('unauthorized', 'the sender refused the token (HTTP 401): pass --token or MMSC_TOKEN');
  if (status === 403) return new ProbeRefusedError('forbidden', 'the sender refused this connection (HTTP 403: Origin not allowed)');
  return new CliError(`cannot open ${signalUrl}: HTTP ${status}`, 1);
}

type End =
  | { kind: 'done' }
  | { kind: 'aborted' }
  | { kind: 'disconnected' }
  | { kind: 'busy'; message: string }
  | { kind: 'fatal'; error: Error };

/**
 * A headless receiver in Node: connects like the browser (the receiver's ReceiverConnection over
 * `ws` signalling and a werift peer), sends the query, decodes and reassembles every frame with the
 * receiver's FrameReceiver (decoders checked against the hello), sends feedback, and reports what it saw.
 *
 * Rejects when it cannot start: bad URL (CliError, exit 2), sender unreachable, token or Origin
 * refused or sender busy ({@link ProbeRefusedError}), no data channel within 15 s, models missing,
 * the sender's decoders not the ones in the models folder.
 * A disconnect once connected (signalling closed, data channel closed, peer connection failed,
 * session id changed) ends the run early: the partial result is returned with the reason in `errors`.
 */
export async function probe(o: ProbeOptions): Promise<ProbeResult> {
  const { query, seconds, log = () => {}, signal, connectTimeoutMs = 15_000 } = o;
  const ep = senderEndpoints(o.url);
  const token = o.token || ep.token || undefined;
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  signal?.throwIfAborted();

  const errors: string[] = [];
  const startedAt = Date.now();
  let channelAt: number | null = null;
  let firstPictureAt: number | null = null;
  let end: End | null = null;
  let wake = () => {};
  const ended = new Promise<void>((r) => {
    wake = r;
  });
  const finish = (e: End) => {
    if (end) return;
    end = e;
    wake();
  };
  let connectedAt = 0;
  const disconnected = (what: string) => {
    if (end) return;
    errors.push(`disconnected after ${((Date.now() - connectedAt) / 1000).toFixed(1)} s: ${what}`);
    finish({ kind: 'disconnected' });
  };
  // The decoders load once the sender has accepted us (a refused probe loads nothing), in
  // parallel with the offer/answer exchange; the answer waits for them, so no frame can come first.
  let decodersP: Promise<PatchCodecs> | null = null;
  const decoders = () => {
    if (!decodersP) {
      // The probe measures a link, often beside the sender it measures: its decoders' threads must
      // not spin on the cores the sender needs.
      setOrtSpinning(false);
      decodersP = loadCodecs('decoder', o.modelsDir ?? DEFAULT_MODELS_DIR);
      decodersP.catch((e: unknown) => finish({ kind: 'fatal', error: e as Error }));
    }
    return decodersP;
  };
  let receiver: FrameReceiver | null = null;
  let resolveChannel: (dc: RTCDataChannel) => void = () => {};
  const dcUp = new Promise<RTCDataChannel>((resolve) => {
    resolveChannel = resolve;
  });

  const ws = new WebSocket(ep.signalUrl, { headers });
  ws.on('error', () => {}); // reported through 'close' / the connect promise below; never an unhandled 'error'
  const conn = new ReceiverConnection<RTCDataChannel>(
    {
      socket: ws,
      createPeer: () =>
        new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], maxMessageSize: 262144 } as never),
      beforeAnswer: async () => {
        const d = await decoders();
        receiver ??= new FrameReceiver({ decoders: d, decoderSource: 'the models folder', video: nodeVideoDecoders, videoName: 'FFmpeg' });
        return !end;
      },
    },
    {
      accepted: () => {
        connectedAt = Date.now();
        void decoders();
      },
      // The sender's messages are checked like the sender checks ours: a malformed one is reported
      // and dropped before werift sees it; an unusable offer ends the run (no channel can come of it).
      malformed: (err, text) => {
        if (err.code === 'bad-json') errors.push(`signalling: not JSON (${text.length} characters)`);
        else errors.push(`signalling: malformed message from the sender (${err.code}): ${err.message}`);
      },
      senderError: (code, message) => {
        if (code === 'busy') finish({ kind: 'busy', message });
        else errors.push(`signalling: ${code}: ${message}`);
      },
      negotiationFailed: (step, e) => errors.push(`signalling: ${step}: ${e.message}`),
      open: (dc) => {
        channelAt ??= Date.now();
        resolveChannel(dc);
      },
      message: (bytes, now) => onData(bytes, now),
      ended: (e) => {
        if (e.kind === 'bad-offer') finish({ kind: 'fatal', error: new CliError(`the sender's offer is unusable: ${e.error.message}`, 1) });
        else if (e.kind === 'peer') disconnected(`peer connection ${e.state}`);
        else if (e.kind === 'channel-closed') disconnected('data channel closed');
        else if (e.accepted) {
          // (A failed connect is reported by the promise below.) 1013 "try again later" is how the
          // sender says it is full, even without the error message first.
          if (e.code === 1013) finish({ kind: 'busy', message: e.reason || 'try again later (1013)' });
          disconnected(`signalling closed (${e.code}${e.reason ? ` ${e.reason}` : ''})`);
        }
      },
    },
  );

  let hello: HelloMessage | null = null;
  let grounding: ProbeResult['grounding'] = null;
  const frames: CollectedFrame[] = [];
  const latencies: number[] = [];
  const decodeMs: number[] = [];
  let refreshes = 0;
  let work = Promise.resolve();
  const handle = async (f: FinishedFrame) => {
    frames.push(f.frame);
    latencies.push(f.frame.lastReceiveTs - f.frame.captureTs);
    const stats = await (receiver as FrameReceiver).decode(f);
    if (stats) decodeMs.push(stats.decodeMs);
    if (stats && stats.decoded > 0 && !stats.refresh) {
      const shownAt = Date.now();
      firstPictureAt ??= shownAt;
      const pic = (receiver as FrameReceiver).picture?.picture;
      if (pic && o.onPicture) o.onPicture({ image: pic.image, width: pic.width, height: pic.height }, f.frame, shownAt);
    }
    // An h264 picture that could not be decoded: ask for a keyframe (the picture holds meanwhile).
    if (stats?.refresh) {
      refreshes++;
      send(encodeMessage({ type: 'refresh', reason: stats.refresh }));
    }
  };
  let t0 = 0;
  // Goodput: every byte the data channel delivered (frames, relevance maps, reports) from the first
  // frame's arrival to the last message's, so connection setup does not count as link time.
  let firstFrameAt = 0;
  let lastAt = 0;
  let bytesSinceFirst = 0;
  const send = (bytes: Uint8Array) => conn.channel?.send(Buffer.from(bytes));
  const onData = (bytes: Uint8Array, now: number) => {
    // The answer (hence this channel) waited for the decoders: the receiver exists.
    if (end || !receiver) return;
    o.onBytes?.(bytes.byteLength, now);
    if (firstFrameAt) {
      bytesSinceFirst += bytes.byteLength;
      lastAt = now;
    }
    const r = receiver.receive(bytes, now);
    if (r.type === 'invalid') errors.push(`protocol: ${r.error.message}`);
    else if (r.type === 'hello') {
      if (r.previous && r.previous.sessionId !== r.message.sessionId) {
        errors.push(`session changed from ${r.previous.sessionId} to ${r.message.sessionId} (sender restarted?)`);
        finish({ kind: 'disconnected' });
        return;
      }
      if (r.refused) {
        finish({ kind: 'fatal', error: new CliError(`cannot decode this sender's frames: ${r.refused.message}`, 1) });
        return;
      }
      hello = r.message;
      send(encodeMessage({ type: 'query', queryId: 'probe-1', text: query }));
      t0 = now;
      log(`connected: session ${hello.sessionId}, ${hello.width}×${hello.height}, ${hello.levels.length} levels`);
    } else if (r.type === 'frame') {
      if (!firstFrameAt) {
        firstFrameAt = now;
        lastAt = now;
      }
      // Frames made before our query took effect still count: they are what the link carried.
      for (const f of r.frames) {
        // Feedback goes out at once (rate control measures the link, not our decoder).
        send(encodeMessage(f.feedback));
        work = work
          .then(() => handle(f))
          .catch((e: unknown) => {
            errors.push(`decode: frame ${f.frame.frameId}: ${(e as Error).message}`);
          });
      }
    } else if (r.type === 'other') {
      const msg = r.message;
      if (msg.type === 'grounding') {
        const { type: _t, ...g } = msg;
        if (msg.queryId === 'probe-1') grounding = g;
      } else if (msg.type === 'error') errors.push(`sender: ${msg.code}: ${msg.message}`);
    }
  };

  const connected = new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      reject(signal?.reason);
      ws.terminate();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (f: () => void) => {
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    ws.once('open', () => settle(resolve));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      settle(() => reject(refusal(res.statusCode ?? 0, ep.signalUrl)));
      ws.terminate();
    });
    ws.once('error', (e) => {
      const status = /Unexpected server response: (\d+)/.exec(e.message);
      settle(() =>
        reject(status ? refusal(Number(status[1]), ep.signalUrl) : new CliError(`cannot reach ${ep.signalUrl}: ${e.message}`, 1)),
      );
    });
  });
  try {
    await connected;
  } catch (e) {
    await conn.close();
    throw e;
  }
  const onAbort = () => finish({ kind: 'aborted' });
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });

  const dcTimer = setTimeout(
    () => finish({ kind: 'fatal', error: new CliError(`no data channel within ${connectTimeoutMs / 1000} s (ICE failed?)`, 1) }),
    connectTimeoutMs,
  );
  let runTimer: NodeJS.Timeout | undefined;
  const dc = await Promise.race([dcUp, ended.then(() => null)]);
  clearTimeout(dcTimer); // the channel is up (or the run ended): the run's own length applies now
  if (dc && !end) {
    runTimer = setTimeout(() => finish({ kind: 'done' }), seconds * 1000);
    await ended;
  }
  clearTimeout(dcTimer);
  clearTimeout(runTimer);
  signal?.removeEventListener('abort', onAbort);
  await work;
  const elapsed = (Date.now() - t0) / 1000;
  let estimatedRateBps: number | null = null;
  const finalEnd = end as End | null;
  if (finalEnd?.kind === 'done' && hello) {
    try {
      const res = await fetch(ep.statsUrl, { headers, signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const stats = (await res.json()) as { receivers: { id: string; rate: { rateBps: number } }[] };
      const sid = (hello as HelloMessage).sessionId;
      estimatedRateBps = stats.receivers.find((r) => r.id === sid)?.rate.rateBps ?? null;
    } catch (e) {
      errors.push(`stats: ${(e as Error).message}`);
    }
  }
  await conn.close();
  await (decodersP as Promise<PatchCodecs> | null)?.then((d) => d.release()).catch(() => undefined);
  if (finalEnd?.kind === 'busy') throw new ProbeRefusedError('busy', `sender busy: ${finalEnd.message}`, EXIT_BUSY);
  if (finalEnd?.kind === 'fatal') throw finalEnd.error;

  const counted = (receiver as FrameReceiver | null)?.stats;
  const sorted = [...latencies].sort((a, b) => a - b);
  const bytes = frames.reduce((s, f) => s + f.bytesReceived, 0);
  // Frame rate in steady state: arrivals per second between the first and the last frame, so the
  // connection set-up and the first frame's start-up do not count as stream time.
  const span =
    frames.length > 1 ? ((frames.at(-1) as CollectedFrame).lastReceiveTs - (frames[0] as CollectedFrame).lastReceiveTs) / 1000 : 0;
  return {
    frames: frames.length,
    fps: span > 0 ? Number(((frames.length - 1) / span).toFixed(2)) : t0 ? Number((frames.length / Math.max(1e-3, elapsed)).toFixed(2)) : 0,
    meanFrameBytes: Math.round(bytes / Math.max(1, frames.length)),
    budgetViolations: counted?.overBudget ?? 0,
    latencyMsP50: Math.round(median(latencies)),
    latencyMsP95: Math.round(sorted[Math.floor(sorted.length * 0.95)] ?? Number.NaN),
    estimatedRateBps: estimatedRateBps === null ? null : Math.round(estimatedRateBps),
    goodputBps: Math.round((bytesSinceFirst * 8) / Math.max(1e-3, (lastAt - firstFrameAt) / 1000)),
    incompleteFrames: counted?.incompleteFrames ?? 0,
    decodeMsP50: Number(median(decodeMs).toFixed(1)),
    engine: (hello as HelloMessage | null)?.engine ?? null,
    refreshes,
    channelMs: channelAt === null ? null : channelAt - startedAt,
    firstPictureMs: firstPictureAt === null ? null : firstPictureAt - startedAt,
    grounding,
    errors,
  };
}

export function probeCommand(): Command {
  return new Command('probe')
    .description(
      'connect to a sender like the browser does, decode every frame headlessly, and report fps, bytes, latency and rate\n' +
        'exit status: 0 clean run; 1 sender unreachable, token or Origin refused, or errors during the run (the report is printed first); 2 bad options; 3 sender busy',
    )
    .option(
      '--url <url>',
      'sender URL (as the sender prints it; a ?token=… in it is used when --token is not given)',
      'http://127.0.0.1:8080',
    )
    .addOption(new Option('--token <token>', 'access token the sender printed (sent as Authorization: Bearer)').env('MMSC_TOKEN'))
    .option('--query <text>', 'query to send', 'dog and bicycle')
    .option('--seconds <n>', 'how long to receive', '10')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--json', 'print one JSON object')
    .action(async (opts: { url: string; token?: string; query: string; seconds: string; models: string; json?: boolean }, cmd: Command) => {
      const seconds = Number(opts.seconds);
      if (!(seconds > 0)) throw new CliError('--seconds must be positive', 2);
      const ep = senderEndpoints(opts.url);
      // --token beats a token in the URL, which beats MMSC_TOKEN.
      const fromEnv = cmd.getOptionValueSource('token') === 'env';
      const token = (fromEnv && ep.token) || opts.token || undefined;
      const started = Date.now();
      const r = await probe({
        url: opts.url,
        query: opts.query,
        seconds,
        modelsDir: opts.models,
        token,
        log: opts.json ? () => {} : (s) => console.error(s),
      });
      if (opts.json) console.log(JSON.stringify(r));
      else {
        const took = (Date.now() - started) / 1000;
        const span = r.errors.length > 0 && took < seconds ? `${took.toFixed(1)} s (stopped early)` : `${opts.seconds} s`;
        console.log(
          `${r.frames} frames in ${span} (${r.fps} fps), ${r.meanFrameBytes} B/frame, goodput ${(r.goodputBps / 1e6).toFixed(2)} Mbit/s`,
        );
        console.log(
          `latency p50 ${r.latencyMsP50} ms, p95 ${r.latencyMsP95} ms; budget violations ${r.budgetViolations}; sender estimate ${r.estimatedRateBps ?? '?'} bit/s`,
        );
        console.log(`data channel after ${r.channelMs ?? '–'} ms, first picture after ${r.firstPictureMs ?? '–'} ms`);
        if (r.grounding)
          console.log(
            `grounding: ${r.grounding.words.map((w) => `${w.word} → ${w.classes.map((c) => c.name).join('/')}`).join('; ')}${r.grounding.ungrounded.length ? `; not grounded: ${r.grounding.ungrounded.join(', ')}` : ''}`,
          );
        for (const e of r.errors) console.log(`error: ${e}`);
      }
      process.exit(r.errors.length > 0 ? 1 : 0);
    });
}
