import { EventEmitter } from 'node:events';
import {
  contextFromHello,
  decodeMessage,
  encodeMessage,
  type FeedbackMessage,
  type HelloMessage,
  LIMITS,
  type Message,
  type ProtocolContext,
  ProtocolError,
  type SessionErrorCode,
  truncateUtf8,
} from '@mmsc/protocol';
import type { Engine, EngineOptions, LinkEncoder, LinkPicture } from '../engines/link-encoder.js';
import { type Log, silentLog } from '../log.js';
import { RTP_PACKET_OVERHEAD } from '../pipeline/encode-video.js';
import { PipelineError, type PipelineFrame } from '../pipeline/frame-pipeline.js';
import { DEFAULT_RATE, RateController } from '../rate/rate-controller.js';
import { TrackArrivals } from '../rate/track-arrivals.js';
import { type GroundedQuery, groundingMessage } from '../relevance/grounder.js';
import { ViewTracker, wordsNotInView } from '../relevance/in-view.js';
import { defaultLimits, type Limits, RefusalCounter, TokenBucket } from './limits.js';
import { type LinkCounters, type LinkStats, newCounters, round } from './link-stats.js';
import type { PeerEvents } from './peer.js';
import type { TrackCounters } from './video-track.js';

/** The peer a link drives (werift's in production, a fake in tests). */
export interface LinkPeer {
  readonly open: boolean;
  /** Transport `rtp`: the video track can carry pictures before the data channel is open. */
  readonly mediaReady?: boolean;
  readonly bytesSent: number;
  send(bytes: Uint8Array): void;
  /** Transport `rtp`: the session's hello bytes on signalling, ahead of the data channel. */
  signalHello?(bytes: Uint8Array): void;
  /** Transport `rtp`: one picture's payloads on the video track; their transport-wide numbers and bytes, if numbered. */
  sendRtp?(payloads: readonly Uint8Array[], rtpTs: number, overhead: number): { tseq: number; bytes: number }[] | null;
  /** Transport `rtp`: the track's packets and repairs. */
  trackCounters?(): TrackCounters | null;
  /** Transport `rtp`: the track's pacing rate (bits/s; not finite: none). */
  setPacingRate?(bps: number): void;
  srtt(): number | null;
  close(reason: string): void;
  on<K extends keyof PeerEvents>(event: K, listener: (...args: PeerEvents[K]) => void): unknown;
}

export interface LinkOptions {
  /** This receiver's hello (its `sessionId` is the link's id). */
  hello: HelloMessage;
  /** The engine the hello names, and the sender's engine settings. */
  engine: Engine;
  engineOptions: EngineOptions;
  /** The query a new receiver starts with (grounded by the sender at start-up). */
  initialQuery: GroundedQuery;
  /** Grounds a receiver's query text (throws for a query the lexicon refuses). */
  ground: (text: string) => GroundedQuery;
  fps: number;
  /** Upper bound on this receiver's rate, bits per second. */
  maxBps?: number;
  /** Send the low-resolution relevance map every this many frames (and after a query change). */
  relevanceEvery: number;
  limits?: Pick<Limits, 'queriesPerSecond' | 'queryBurst'>;
  log?: Log;
}

export interface LinkEvents {
  /** The hello went out: the receiver is served from the next frame. */
  open: [];
  /** The link is over (its peer closed: the receiver left, failed, or the sender stopped). */
  closed: [reason: string];
  /** Something the peer did was refused (counted sender-wide too). */
  refused: [code: string];
}

/** What became of one frame on one link. */
export type LinkOutcome = 'sent' | 'skipped' | 'gone';

/** MMSC_DEBUG_RATE=1 logs, at debug level, the rate controller on every feedback and each frame's budget, bytes and skips. */
const DEBUG_RATE = process.env.MMSC_DEBUG_RATE === '1';
/**
 * How long the receiver's own reports are held back after the track's first numbered packet, waiting
 * for transport-wide feedback (s); a receiver that never sends any is then judged by its reports.
 */
const TRANSPORT_WIDE_WAIT_S = 2;
/** Transport `rtp`: the track is paced at this multiple of the measured bottleneck rate. */
export const PACE_GAIN = 2;
/** The same refusal is told to the peer at most this often (seconds): no amplification. */
const TELL_EVERY_S = 1;

/**
 * One receiver on the sender, whole: its peer, query, rate control, engine encoder (with the
 * engine's per-receiver state), counters and refusals, all private. In: the peer's messages (a
 * query, feedback, a refresh), and `close`. Out: `send(frame)` from the frame clock, and events.
 * Bad messages from the peer are answered with an `error` and otherwise ignored; an unexpected
 * failure inside the link closes this link (with an `internal` error and a log line) and no other.
 * Closing cascades: the peer closes, the encoder is released, `closed` tells the link's owner.
 */
export class ReceiverLink extends EventEmitter<LinkEvents> {
  readonly id: string;
  /** This receiver's hello: the options' until the answer declines the video track, then without `transport`. */
  private hello: HelloMessage;
  private readonly ctx: ProtocolContext;
  private readonly rate: RateController;
  private encoder: LinkEncoder;
  private query: { id: string; grounded: GroundedQuery };
  /** What the receiver was told of the query's words in view (`in-view.ts`). */
  private view = new ViewTracker();
  /** The query changed since the last relevance map went out. */
  private mapDue = true;
  /** The operator's overlay is on (`view`): a map goes with every frame it fits. */
  private mapsEveryFrame = false;
  private nextFrameId = 0;
  private helloSent = false;
  /** The hello's bytes, made once: the signalled copy and the channel's are the same bytes. */
  private helloBytes: Uint8Array | null = null;
  private closed = false;
  private readonly counters: LinkCounters = newCounters();
  private readonly refusals = new RefusalCounter();
  private readonly queries: TokenBucket;
  /** When each refusal code was last told to the peer (seconds). */
  private readonly told = new Map<string, number>();
  private readonly log: Log;
  /**
   * Transport `rtp`: the track's packets awaiting transport-wide feedback; when the first numbered
   * packet went out (s), or `heard` once feedback came; null while nothing was numbered.
   */
  private readonly arrivals = new TrackArrivals();
  private transportWide: number | 'heard' | null = null;

  constructor(
    private readonly peer: LinkPeer,
    private readonly o: LinkOptions,
  ) {
    super();
    const limits = o.limits ?? defaultLimits();
    this.id = o.hello.sessionId;
    this.log = o.log ?? silentLog;
    this.hello = o.hello;
    this.ctx = contextFromHello(o.hello);
    this.rate = new RateController({ ...DEFAULT_RATE, fps: o.fps, maxBps: o.maxBps ?? DEFAULT_RATE.maxBps });
    this.encoder = o.engine.createLinkEncoder(o.hello, this.ctx, o.engineOptions);
    this.query = { id: 'initial', grounded: o.initialQuery };
    this.queries = new TokenBucket(limits.queriesPerSecond, limits.queryBurst);
    // A session on the video track starts as soon as the track can carry pictures: its hello and
    // first messages queue behind the channel's opening, its first picture goes out meanwhile.
    // Its hello goes on signalling as soon as the answer has settled the track, so the receiver can
    // decode the first picture without waiting for SCTP's handshake (2–3 round trips after DTLS's).
    peer.on('answered', () => this.guard('signalled hello', () => this.hello.transport === 'rtp' && this.signalHello()));
    peer.on('mediaReady', () => this.guard('greeting', () => this.hello.transport === 'rtp' && this.greet()));
    peer.on('open', () => this.guard('greeting', () => this.greet()));
    peer.on('trackDeclined', (why) => this.guard('track declined', () => this.toChannel(why)));
    peer.on('message', (bytes) => this.guard('message', () => this.onMessage(bytes)));
    peer.on('transportFeedback', (base, arrivals) => this.guard('transport feedback', () => this.transportFeedback(base, arrivals)));
    // A PLI on the video track asks what a `refresh` asks: a keyframe.
    peer.on('pictureLoss', () => this.guard('picture loss', () => this.refresh('picture loss (PLI)')));
    peer.on('closed', (reason) => {
      if (this.closed) return;
      this.closed = true;
      this.encoder.close();
      this.emit('closed', reason);
    });
  }

  /** Serving: the hello went out and the peer is open (or, transport `rtp`, its track can carry pictures). */
  get open(): boolean {
    return !this.closed && this.helloSent && (this.peer.open || this.trackFirst);
  }

  /**
   * Serving, and would send a frame if its rate allows: false for a session the track started whose
   * first picture went out and whose channel is not open yet (it waits for SCTP's handshake).
   */
  get wantsFrames(): boolean {
    return this.open && (this.peer.open || this.counters.framesSent === 0);
  }

  /** The data channel is open (the handshake is over). */
  get connected(): boolean {
    return this.peer.open;
  }

  /** The query this receiver's frames are made for now. */
  get currentQuery(): GroundedQuery {
    return this.query.grounded;
  }

  // ---------------------------------------------------------------------------------------- inbound

  /** A new query from the receiver (rate-limited; grounded and answered with its grounding). */
  setQuery(queryId: string, text: string): void {
    if (!this.queries.take(performance.now() / 1000)) {
      this.refuse('rate-limited', 'too many queries: the previous query stays', queryId);
      return;
    }
    let grounded: GroundedQuery;
    try {
      grounded = this.o.ground(text);
    } catch (e) {
      // A query the lexicon refuses (e.g. over 64 words) is reported; the previous one stays.
      this.count('bad-query');
      this.sendMessage({ type: 'error', code: 'bad-query', message: truncateUtf8((e as Error).message, LIMITS.textBytes), ref: queryId });
      return;
    }
    if (grounded.text !== this.query.grounded.text) this.mapDue = true;
    this.query = { id: queryId, grounded };
    this.view = new ViewTracker();
    this.sendMessage(groundingMessage(queryId, grounded));
  }

  /**
   * Transport-wide feedback on the video track: each picture it completes drives the rate
   * controller (per packet, first transmissions: a repaired loss is a loss, not a slow link). From
   * the first such report on, the receiver's own `feedback` messages no longer do.
   */
  transportFeedback(baseSeq: number, arrivalsMs: readonly (number | null)[]): void {
    // Its times are on another clock than the receiver's own reports.
    if (this.transportWide !== 'heard') this.rate.clockChanged();
    this.transportWide = 'heard';
    const now = performance.now() / 1000;
    const done = this.arrivals.feedback(baseSeq, arrivalsMs);
    if (DEBUG_RATE)
      this.log.debug(
        {
          session: this.id,
          base: baseSeq,
          n: arrivalsMs.length,
          lost: arrivalsMs.filter((a) => a === null).length,
          done: done.length,
          ...this.arrivals.historyLength(),
        },
        'rate: transport feedback',
      );
    for (const a of done) {
      const rejected = this.rate.onTrackArrival(a, now);
      if (rejected) this.count('feedback-rejected');
      if (DEBUG_RATE)
        this.log.debug(
          {
            session: this.id,
            frame: a.frameId,
            bytes: a.bytes,
            lost: a.lost,
            packets: a.packets,
            owdFirst: a.firstAtMs === null ? null : Math.round(a.firstAtMs - a.sentAt * 1000),
            owdLast: a.lastAtMs === null ? null : Math.round(a.lastAtMs - a.sentAt * 1000),
            ...this.rate.state(),
          },
          'rate: track feedback',
        );
    }
    this.keyframeIfResumed();
  }

  /** The receiver's report of a frame: drives the rate controller (unless transport-wide feedback does). */
  feedback(msg: Pick<FeedbackMessage, 'frameId' | 'bytesReceived' | 'receiveTs'>): void {
    // Transport-wide feedback decides once heard; while it is awaited (the packets are numbered, for
    // up to TRANSPORT_WIDE_WAIT_S) the receiver's reports wait too, so that one clock starts.
    const tw = this.transportWide;
    if (tw === 'heard' || (typeof tw === 'number' && performance.now() / 1000 - tw < TRANSPORT_WIDE_WAIT_S)) return;
    // SCTP's smoothed RTT says how long the data channel's messages wait; on transport `rtp` the
    // channel carries a few small messages a second, each acknowledged late (a delayed SACK), so
    // its RTT is the ack delay, not the queue: the pictures' own delays decide there.
    if (this.hello.transport !== 'rtp') this.rate.onSrtt(this.peer.srtt() ?? Number.NaN);
    const rejected = this.rate.onFeedback(msg.frameId, msg.bytesReceived, msg.receiveTs, performance.now() / 1000);
    if (rejected) this.refuse('feedback-rejected', `feedback for frame ${msg.frameId} ignored: ${rejected}`, String(msg.frameId));
    this.keyframeIfResumed();
    if (DEBUG_RATE)
      this.log.debug({ session: this.id, frame: msg.frameId, bytes: msg.bytesReceived, ...this.rate.state() }, 'rate: feedback');
  }

  /**
   * Back from an outage: the next picture is one the receiver can start from, so the first it shows
   * is fresh (what was in flight when the link went was written off).
   */
  private keyframeIfResumed(): void {
    if (this.rate.takeResumed()) this.encoder.refresh('the link returned after an outage');
  }

  /**
   * The receiver's answer declined the video track (before the hello): this link's pictures travel
   * on the data channel, its hello says so (no `transport`), and a new encoder codes for it.
   */
  private toChannel(why: string): void {
    if (this.hello.transport !== 'rtp' || this.helloSent) return;
    const { transport: _, ...hello } = this.hello;
    this.hello = hello;
    this.helloBytes = null;
    this.encoder.close();
    this.encoder = this.o.engine.createLinkEncoder(hello, this.ctx, this.o.engineOptions);
    this.log.info({ session: this.id, why }, `receiver ${this.id} takes no video track (${why}): its pictures travel on the data channel`);
  }

  /**
   * The receiver asks for a keyframe (engines with keyframes; the others refuse it). The engine
   * bounds how often one is made; a request it ignores is counted.
   */
  refresh(reason: string): void {
    this.counters.keyframeRequests++;
    const answer = this.encoder.refresh(reason);
    if (!answer.ok) this.refuse('unexpected-message', answer.why, null);
    else if (answer.note) this.log.info({ session: this.id }, `receiver ${this.id} ${answer.note}`);
    else if (answer.ignored) this.counters.keyframeRequestsIgnored++;
  }

  /** Tells the receiver the sender is stopping and closes its peer (which closes the link). */
  close(reason: string): void {
    try {
      this.sendMessage({ type: 'error', code: 'shutting-down', message: 'the sender is stopping', ref: null });
    } catch {
      // closing anyway
    }
    this.peer.close(reason);
  }

  /** No frames can be made (the source or the models failed): the receiver is told why. */
  noFrames(reason: string): void {
    if (this.open) this.guard('no-frames notice', () => this.refuse('no-frames', reason));
  }

  /** Closes this link after an unexpected error (logged with its stack; the peer gets `internal`). */
  fail(where: string, e: unknown): void {
    if (this.closed) return;
    this.log.error({ session: this.id, where, err: e }, `session ${this.id}: ${where} failed, closing it: ${(e as Error)?.message ?? e}`);
    this.count('internal');
    try {
      this.sendMessage({ type: 'error', code: 'internal', message: `internal error in ${where}; the session is closed`, ref: null });
    } catch {
      // the channel may be what failed
    }
    this.peer.close(`internal error in ${where}`);
  }

  // --------------------------------------------------------------------------------------- outbound

  /**
   * This receiver's frame from a shared one, if its rate lets it send now. Never throws: a pipeline
   * failure skips the frame, any other failure closes this link alone.
   */
  async send(frame: PipelineFrame, captureTs: number, t0: number): Promise<LinkOutcome> {
    try {
      return await this.sendFrame(frame, captureTs, t0);
    } catch (e) {
      // The pipeline's trouble, not this receiver's: the frame is skipped, the link goes on
      // (health and the no-frames notice say what is wrong when it lasts).
      if (e instanceof PipelineError) {
        this.counters.framesSkipped++;
        return 'skipped';
      }
      this.fail('frame', e);
      return 'gone';
    }
  }

  private async sendFrame(frame: PipelineFrame, captureTs: number, t0: number): Promise<LinkOutcome> {
    if (!this.open) return 'gone';
    // Before the channel is open only the first picture goes out: the rest would queue ahead of
    // SCTP's handshake at the bottleneck and delay the hello the first picture waits for.
    if (!this.wantsFrames) {
      this.counters.framesSkipped++;
      return 'skipped';
    }
    if (!this.rate.canSend(performance.now() / 1000)) {
      this.counters.framesSkipped++;
      if (DEBUG_RATE) this.log.debug({ session: this.id, ev: 'skip', backlog: this.rate.backlog }, 'rate: skip');
      return 'skipped';
    }
    const t1 = performance.now();
    const query = this.query;
    const r = await frame.relevance(query.grounded);
    if (!this.open) return 'gone';
    // Whether the words' objects are in view; the grounding goes again when that changes.
    if (query === this.query && this.view.update(wordsNotInView(query.grounded, r.best)))
      this.sendMessage(groundingMessage(query.id, query.grounded, this.view.notInView));
    const tRel = performance.now() - t1;
    const budgetAt = performance.now() / 1000;
    let budget = this.rate.budget(budgetAt);
    const frameId = this.nextFrameId;
    // The low-resolution map for display, about once a second, after a query change and, while the
    // operator's overlay is on, with every frame; only when it takes at most a quarter of the
    // frame's budget (it counts against it).
    const mapBytes = r.patchScores.length + 32;
    if ((this.mapsEveryFrame || frameId % this.o.relevanceEvery === 0 || this.mapDue) && mapBytes * 4 <= budget) {
      const map = Uint8Array.from(r.patchScores, (v) => Math.round(v * 255));
      budget -= this.sendRelevance(frameId, frame.image.width / this.hello.patchSize, map);
      this.mapDue = false;
    }
    budget = Math.max(0, budget);
    const out = await this.encoder.encode(frame, { frameId, captureTs, budget }, r.patchScores);
    if (!out) {
      this.counters.framesSkipped++;
      return 'skipped';
    }
    if (!this.open) return 'gone'; // closed while encoding: nothing to send it to
    this.deliver(frame, out, { frameId, budget, budgetAt, t0, tRel });
    return 'sent';
  }

  /** A coded frame goes out: its parts, the rate controller's record, this receiver's counters. */
  private deliver(
    frame: PipelineFrame,
    out: LinkPicture,
    f: { frameId: number; budget: number; budgetAt: number; t0: number; tRel: number },
  ): void {
    for (const part of out.parts) this.peer.send(part);
    if (out.track) {
      // Paced at PACE_GAIN × the measured bottleneck rate (none before it is measured): the
      // bottleneck's queue stays short, so a NACK's repair (sent at once, outside the pacer) does not
      // wait behind a whole picture. Faster than the bottleneck, so the packets' dispersion there still
      // measures it, and a link that grows shows up to PACE_GAIN × what was measured.
      this.peer.setPacingRate?.(PACE_GAIN * (this.rate.state().bottleneckBps ?? Number.NaN));
      const numbered = this.peer.sendRtp?.(out.track.payloads, out.track.rtpTs, RTP_PACKET_OVERHEAD) ?? null;
      if (numbered) {
        const now = performance.now() / 1000;
        this.arrivals.sent(f.frameId, numbered, now);
        this.transportWide ??= now;
      }
    }
    this.nextFrameId = (f.frameId + 1) >>> 0;
    // The rate controller hears the nominal budget (what it offered), not an engine's credit.
    this.rate.onSent(f.frameId, out.wireBytes, performance.now() / 1000, f.budget, f.budgetAt);
    if (DEBUG_RATE)
      this.log.debug(
        {
          session: this.id,
          ev: 'send',
          frameId: f.frameId,
          budget: f.budget,
          bytes: out.wireBytes,
          budgetAt: Math.round(f.budgetAt * 1000),
          t0: Math.round(f.t0),
          captureTs: frame.captureTs,
          sentAt: Date.now(),
          doneAt: Math.round(performance.now()),
          ms: { relevance: Math.round(f.tRel), allocate: round(out.ms.allocate), encode: round(out.ms.encode), pack: round(out.ms.pack) },
          ...out.debug,
        },
        'rate: send',
      );
    const c = this.counters;
    c.framesSent++;
    c.bytesSent += out.wireBytes;
    c.lastBudget = out.stated;
    c.lastFrameBytes = out.wireBytes;
    if (out.wireBytes > out.stated) c.budgetViolations++;
    c.lastFrameMs = {
      shared: round(frame.ms),
      relevance: round(f.tRel + frame.analysisMs),
      allocate: round(out.ms.allocate),
      encode: round(out.ms.encode),
      pack: round(out.ms.pack),
      total: round(performance.now() - f.t0),
    };
  }

  private sendRelevance(frameId: number, cols: number, map: Uint8Array): number {
    const before = this.peer.bytesSent;
    this.sendMessage({ type: 'relevance', frameId, width: cols, height: map.length / cols, values: map });
    return Math.max(0, this.peer.bytesSent - before);
  }

  // ------------------------------------------------------------------------------ the peer's messages

  /** The hello's bytes (the same each time). */
  private helloWire(): Uint8Array {
    this.helloBytes ??= encodeMessage(this.hello, this.ctx);
    return this.helloBytes;
  }

  private signalHello(): void {
    if (this.helloSent || this.closed) return;
    this.peer.signalHello?.(this.helloWire());
  }

  private greet(): void {
    if (this.helloSent) return;
    this.sendBytes(this.helloWire());
    this.helloSent = true;
    this.sendMessage(groundingMessage(this.query.id, this.query.grounded, this.view.notInView));
    this.emit('open');
  }

  private onMessage(bytes: Uint8Array): void {
    let msg: Message;
    try {
      msg = decodeMessage(bytes, this.ctx);
    } catch (e) {
      this.counters.protocolErrors++;
      const err = e instanceof ProtocolError ? e : new ProtocolError('not-msgpack', String(e));
      this.count(err.code);
      this.sendMessage({ type: 'error', code: err.code, message: truncateUtf8(err.message, LIMITS.textBytes), ref: null });
      return;
    }
    switch (msg.type) {
      case 'query':
        this.setQuery(msg.queryId, msg.text);
        break;
      case 'feedback':
        this.feedback(msg);
        break;
      case 'refresh':
        this.refresh(msg.reason);
        break;
      case 'view':
        // The operator's view: maps with every frame while the overlay is on; a cap on the rate.
        this.mapsEveryFrame = msg.maps;
        if (msg.maps) this.mapDue = true;
        this.rate.setCap(msg.maxBps);
        this.log.info(
          { session: this.id, maps: msg.maps, maxBps: msg.maxBps },
          `view: maps ${msg.maps ? 'every frame' : 'about once a second'}, rate cap ${msg.maxBps > 0 ? `${msg.maxBps / 1e6} Mbit/s` : 'none'}`,
        );
        break;
      case 'error':
        break;
      default:
        this.counters.protocolErrors++;
        this.count('unexpected-message');
        this.sendMessage({
          type: 'error',
          code: 'unexpected-message',
          message: `a receiver does not send ${msg.type} messages`,
          ref: null,
        });
    }
  }

  /** Runs `fn`; an exception is a bug on our side for this one link: the peer is told, the log says where, and the link closes. */
  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(where, e);
    }
  }

  /** On the data channel; before it is open only in a session the track started (queued behind the channel's opening). */
  private sendMessage(msg: Message): void {
    this.sendBytes(encodeMessage(msg, this.ctx));
  }

  /** Bytes on the data channel, under the same rule as `sendMessage`. */
  private sendBytes(bytes: Uint8Array): void {
    if (this.peer.open || this.trackFirst) this.peer.send(bytes);
  }

  /** Transport `rtp` whose track can carry pictures: the session may start before the channel is open. */
  private get trackFirst(): boolean {
    return this.hello.transport === 'rtp' && this.peer.mediaReady === true;
  }

  private count(code: string): void {
    this.refusals.count(code);
    this.emit('refused', code);
  }

  /** Refuses something the peer did, counting it and telling the peer (each code at most once a second). */
  private refuse(code: SessionErrorCode, message: string, ref: string | null = null): void {
    this.count(code);
    const now = performance.now() / 1000;
    const last = this.told.get(code);
    if (last !== undefined && now - last < TELL_EVERY_S) return;
    this.told.set(code, now);
    this.log.info({ session: this.id, code }, `session ${this.id}: refused ${code}: ${message}`);
    this.sendMessage({
      type: 'error',
      code,
      message: truncateUtf8(message, LIMITS.textBytes),
      ref: ref === null ? null : truncateUtf8(ref, LIMITS.idBytes),
    });
  }

  /** This link for /stats. */
  snapshot(): LinkStats {
    return {
      id: this.id,
      open: this.open,
      query: { id: this.query.id, text: this.query.grounded.text },
      rate: this.rate.state(),
      refusals: this.refusals.snapshot(),
      transport: this.hello.transport ?? 'channel',
      track: this.peer.trackCounters?.() ?? null,
      ...this.counters,
      lastFrameMs: { ...this.counters.lastFrameMs },
    };
  }
}
