import type { PatchCodecs } from '@mmsc/codec';
import type { GroundingMessage } from '@mmsc/protocol';
import {
  type CollectedFrame,
  DecoderMismatchError,
  type LinkEnd,
  LocalDecoding,
  ReceivingSession,
  type RtpVideoCounters,
} from '@mmsc/receiver';
import { DEFAULT_MODELS_DIR, loadCodecs, setOrtSpinning } from '@mmsc/sender';
import type { RTCDataChannel } from 'werift';
import { CliError } from '../errors.js';
import { median } from '../metrics.js';
import { nodeVideoDecoders } from './node-decoders.js';
import { nodeTransport } from './node-transport.js';
import { refusal } from './sender-endpoints.js';

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
  /** Keyframes asked for (video engines: pictures that could not be decoded, or lost on the video track). */
  refreshes: number;
  /** A session whose pictures came on the RTP video track: what the track lost and repaired (plis: PLIs sent); null otherwise. */
  track: (RtpVideoCounters & { plis: number }) | null;
  /** From the start of the connection (the signalling socket) to the data channel open, ms; null if it never opened. */
  channelMs: number | null;
  /** From the start of the connection to the first picture decoded (what an operator waits for), ms; null if none. */
  firstPictureMs: number | null;
  grounding: Omit<GroundingMessage, 'type'> | null;
  /** Everything that went wrong during the run (signalling errors, disconnects, protocol errors); empty = clean run. */
  errors: string[];
}

export type ProbeEnd =
  | { kind: 'done' }
  | { kind: 'aborted' }
  | { kind: 'disconnected' }
  | { kind: 'busy'; message: string }
  | { kind: 'fatal'; error: Error };

export interface ProbeRunOptions {
  signalUrl: string;
  headers: Record<string, string>;
  query: string;
  seconds: number;
  modelsDir?: string | undefined;
  connectTimeoutMs: number;
  log: (s: string) => void;
  onPicture?: ((picture: { image: Uint8Array; width: number; height: number }, frame: CollectedFrame, shownAt: number) => void) | undefined;
  onBytes?: ((bytes: number, at: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * One `mmsc probe` run over the receiver's ReceivingSession in Node (`ws` + werift, decoding in
 * this thread): what ends it, and what it measured. The patch decoders load once the sender has
 * accepted us (a refused probe loads nothing), in parallel with the offer/answer exchange; the
 * answer waits for them, so no frame can come first.
 */
export class ProbeRun {
  readonly errors: string[] = [];
  end: ProbeEnd | null = null;
  readonly session: ReceivingSession<RTCDataChannel>;
  private readonly node;
  private readonly decoding: LocalDecoding;
  private decodersP: Promise<PatchCodecs> | null = null;
  private wake = () => {};
  private readonly ended = new Promise<void>((r) => {
    this.wake = r;
  });
  private readonly startedAt = Date.now();
  private connectedAt = 0;
  private channelAt: number | null = null;
  private firstPictureAt: number | null = null;
  private t0 = 0;
  // Goodput: every byte the data channel delivered from the first frame's arrival to the last message's.
  private firstFrameAt = 0;
  private lastAt = 0;
  private bytesSinceFirst = 0;
  private readonly frames: CollectedFrame[] = [];
  private trackAtEnd: ProbeResult['track'] = null;
  private readonly latencies: number[] = [];
  private readonly decodeMs: number[] = [];
  private grounding: ProbeResult['grounding'] = null;

  constructor(private readonly o: ProbeRunOptions) {
    this.node = nodeTransport({
      signalUrl: o.signalUrl,
      headers: o.headers,
      maxMessageSize: 262144,
      refused: (status) => refusal(status, o.signalUrl),
      unreachable: (e) => new CliError(`cannot reach ${o.signalUrl}: ${e.message}`, 1),
    });
    this.decoding = new LocalDecoding(async (needsPatchDecoders) => ({
      decoders: needsPatchDecoders ? await this.decoders() : null,
      decoderSource: 'the models folder',
      video: nodeVideoDecoders,
      videoName: 'FFmpeg',
    }));
    const beforeAnswer = async () => {
      await this.decoders();
      return !this.end;
    };
    const transport = { ...this.node.transport, beforeAnswer };
    const s = new ReceivingSession<RTCDataChannel>({ transport, decoding: this.decoding, openTimeoutMs: o.connectTimeoutMs });
    this.session = s;
    s.on('state', (state) => {
      if (state === 'negotiating' && !this.connectedAt) {
        this.connectedAt = Date.now();
        void this.decoders();
      }
    });
    s.on('open', () => {
      this.channelAt ??= Date.now();
    });
    s.on('data', (bytes, now) => this.onData(bytes.byteLength, now));
    // The video track's packets are link bytes too (a session whose pictures come on it); its
    // first packet in a session starts the count as a frame part does on the data channel.
    s.on('media', (bytes, now) => {
      this.onData(bytes, now);
      if (this.session.hello) this.startCount(now);
    });
    s.on('message', (m) => {
      const part = m.type === 'frame' || m.type === 'video' || m.type === 'base';
      if (this.session.hello && part) this.startCount(Date.now());
    });
    s.on('hello', (h, previous, _epoch) => {
      if (previous && previous.sessionId !== h.sessionId) {
        this.errors.push(`session changed from ${previous.sessionId} to ${h.sessionId} (sender restarted?)`);
        return this.finish({ kind: 'disconnected' });
      }
      this.t0 = Date.now();
      o.log(`connected: session ${h.sessionId}, ${h.width}×${h.height}, ${h.levels.length} levels`);
    });
    s.on('frame', ({ frame }, live) => {
      // Frames made before our query took effect still count: they are what the link carried.
      if (!live || this.end) return;
      this.frames.push(frame);
      this.latencies.push(frame.lastReceiveTs - frame.captureTs);
    });
    s.on('decoded', (p) => this.decodeMs.push(p.stats.decodeMs));
    s.on('picture', (p) => {
      this.firstPictureAt ??= p.shownAt;
      o.onPicture?.({ image: p.image, width: p.width, height: p.height }, p.frame, p.shownAt);
    });
    s.on('grounding', ({ type: _t, ...g }, whose) => {
      if (whose === 'operator') this.grounding = g;
    });
    s.on('error', (e) => {
      if (e.kind === 'malformed-signal')
        this.errors.push(
          e.error.code === 'bad-json'
            ? `signalling: not JSON (${e.text.length} characters)`
            : `signalling: malformed message from the sender (${e.error.code}): ${e.error.message}`,
        );
      else if (e.kind === 'signalling') {
        if (e.code === 'busy') this.finish({ kind: 'busy', message: e.message });
        else this.errors.push(`signalling: ${e.code}: ${e.message}`);
      } else if (e.kind === 'negotiation') this.errors.push(`signalling: ${e.step}: ${e.error.message}`);
      else if (e.kind === 'protocol') this.errors.push(`protocol: ${e.message}`);
      else if (e.kind === 'sender') this.errors.push(`sender: ${e.code}: ${e.message}`);
      else if (e.kind === 'decode') this.errors.push(`decode: frame ${e.frameId}: ${e.message}`);
      else if (e.cause instanceof DecoderMismatchError)
        this.finish({ kind: 'fatal', error: new CliError(`cannot decode this sender's frames: ${e.message}`, 1) });
      else this.finish({ kind: 'fatal', error: e.cause instanceof Error ? e.cause : new Error(e.message) });
    });
    s.on('closed', (_reason, end) => this.closed(end));
  }

  /** Runs to the end; rejects when it cannot connect (refused, unreachable, aborted first). */
  async run(): Promise<ProbeEnd> {
    const { signal, seconds } = this.o;
    this.session.query(this.o.query);
    this.session.start();
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.node.connected.then(resolve, reject).finally(() => signal?.removeEventListener('abort', onAbort));
      });
    } catch (e) {
      this.node.socket?.terminate();
      await this.close();
      throw e;
    }
    const onAbort = () => this.finish({ kind: 'aborted' });
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const opened = new Promise<boolean>((r) => this.session.on('open', () => r(true)));
    let runTimer: NodeJS.Timeout | undefined;
    // The connection deadline is the link's; once the channel is up the run's own length applies.
    if (await Promise.race([opened, this.ended.then(() => false)]))
      runTimer = setTimeout(() => this.finish({ kind: 'done' }), seconds * 1000);
    await this.ended;
    clearTimeout(runTimer);
    signal?.removeEventListener('abort', onAbort);
    await this.decoding.drained();
    return this.end as ProbeEnd;
  }

  async close(): Promise<void> {
    await this.session.close();
    await this.decodersP?.then((d) => d.release()).catch(() => undefined);
  }

  result(estimatedRateBps: number | null): ProbeResult {
    const { frames, latencies } = this;
    const counted = this.session.receiver.stats;
    const sorted = [...latencies].sort((a, b) => a - b);
    const bytes = frames.reduce((s, f) => s + f.bytesReceived, 0);
    // Frame rate in steady state: arrivals per second between the first and the last frame.
    const span = frames.length > 1 ? ((frames.at(-1)?.lastReceiveTs ?? 0) - (frames[0]?.lastReceiveTs ?? 0)) / 1000 : 0;
    const elapsed = (Date.now() - this.t0) / 1000;
    return {
      frames: frames.length,
      fps:
        span > 0
          ? Number(((frames.length - 1) / span).toFixed(2))
          : this.t0
            ? Number((frames.length / Math.max(1e-3, elapsed)).toFixed(2))
            : 0,
      meanFrameBytes: Math.round(bytes / Math.max(1, frames.length)),
      budgetViolations: counted.overBudget,
      latencyMsP50: Math.round(median(latencies)),
      latencyMsP95: Math.round(sorted[Math.floor(sorted.length * 0.95)] ?? Number.NaN),
      estimatedRateBps: estimatedRateBps === null ? null : Math.round(estimatedRateBps),
      goodputBps: Math.round((this.bytesSinceFirst * 8) / Math.max(1e-3, (this.lastAt - this.firstFrameAt) / 1000)),
      incompleteFrames: counted.incompleteFrames,
      decodeMsP50: Number(median(this.decodeMs).toFixed(1)),
      engine: this.session.hello?.engine ?? null,
      refreshes: this.session.refreshes,
      track: this.trackAtEnd ?? this.trackCounters(),
      channelMs: this.channelAt === null ? null : this.channelAt - this.startedAt,
      firstPictureMs: this.firstPictureAt === null ? null : this.firstPictureAt - this.startedAt,
      grounding: this.grounding,
      errors: this.errors,
    };
  }

  private trackCounters(): ProbeResult['track'] {
    const t = this.session.receiver.trackStats;
    return t ? { ...t, plis: this.session.plis } : null;
  }

  private decoders(): Promise<PatchCodecs> {
    if (!this.decodersP) {
      // The probe measures a link, often beside the sender it measures: its decoders' threads must
      // not spin on the cores the sender needs.
      setOrtSpinning(false);
      this.decodersP = loadCodecs('decoder', this.o.modelsDir ?? DEFAULT_MODELS_DIR);
      this.decodersP.catch((e: unknown) => this.finish({ kind: 'fatal', error: e as Error }));
    }
    return this.decodersP;
  }

  /** Goodput counts from the first frame part's (or track packet's) arrival on: set-up is not link time. */
  private startCount(at: number): void {
    if (this.firstFrameAt) return;
    this.firstFrameAt = at;
    this.lastAt = at;
  }

  private onData(bytes: number, now: number): void {
    if (this.end) return;
    this.o.onBytes?.(bytes, now);
    if (!this.firstFrameAt) return; // counting starts after the first frame part: connection set-up is not link time
    this.bytesSinceFirst += bytes;
    this.lastAt = now;
  }

  private closed(end: LinkEnd): void {
    const disconnected = (what: string) => {
      if (this.end) return;
      this.errors.push(`disconnected after ${((Date.now() - this.connectedAt) / 1000).toFixed(1)} s: ${what}`);
      this.finish({ kind: 'disconnected' });
    };
    if (end.kind === 'bad-offer')
      this.finish({ kind: 'fatal', error: new CliError(`the sender's offer is unusable: ${end.error.message}`, 1) });
    else if (end.kind === 'open-timeout')
      this.finish({ kind: 'fatal', error: new CliError(`no data channel within ${this.o.connectTimeoutMs / 1000} s (ICE failed?)`, 1) });
    else if (end.kind === 'peer') disconnected(`peer connection ${end.state}`);
    else if (end.kind === 'lost') disconnected('peer connection disconnected');
    else if (end.kind === 'channel-closed') disconnected('data channel closed');
    else if (end.kind === 'signalling-closed' && end.accepted) {
      // 1013 "try again later" is how the sender says it is full, even without the error message first.
      if (end.code === 1013) this.finish({ kind: 'busy', message: end.reason || 'try again later (1013)' });
      disconnected(`signalling closed (${end.code}${end.reason ? ` ${end.reason}` : ''})`);
    } else if (end.kind !== 'signalling-closed') this.finish({ kind: 'disconnected' }); // busy is reported as its error came
  }

  private finish(e: ProbeEnd): void {
    if (this.end) return;
    this.end = e;
    // The track's counters as the run ends, like the frames: a picture still arriving is not counted.
    this.trackAtEnd = this.trackCounters();
    this.wake();
  }
}
