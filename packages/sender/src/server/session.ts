import {
  contextFromHello,
  decodeMessage,
  encodeMessage,
  type GroundingMessage,
  type HelloMessage,
  LIMITS,
  type Message,
  type ProtocolContext,
  ProtocolError,
  type SessionErrorCode,
  truncateUtf8,
} from '@mmsc/protocol';
import { KeepState } from '../pipeline/keep-state.js';
import { DEFAULT_RATE, RateController } from '../rate/rate-controller.js';
import { defaultLimits, type Limits, RefusalCounter, TokenBucket } from './limits.js';
import { type Log, silentLog } from './log.js';
import type { PeerEvents } from './peer.js';

export interface SessionStats {
  id: string;
  connectedAt: string;
  open: boolean;
  query: { id: string; text: string };
  framesSent: number;
  framesSkipped: number;
  bytesSent: number;
  lastBudget: number;
  lastFrameBytes: number;
  budgetViolations: number;
  protocolErrors: number;
  refusals: Record<string, number>;
  rate: ReturnType<RateController['state']>;
  lastFrameMs: Record<string, number>;
}

export interface SessionOptions {
  limits?: Pick<Limits, 'queriesPerSecond' | 'queryBurst'>;
  log?: Log;
  /** Called with each refusal's code (the app's sender-wide count). */
  onRefusal?: (code: string) => void;
}

/** The peer a session drives (werift's in production, a fake in tests). */
export interface SessionPeer {
  readonly open: boolean;
  readonly bytesSent: number;
  send(bytes: Uint8Array): void;
  srtt(): number | null;
  close(reason: string): void;
  on<K extends keyof PeerEvents>(event: K, listener: (...args: PeerEvents[K]) => void): unknown;
}

/** MMSC_DEBUG_RATE=1 logs the rate controller's state on every feedback (stderr, one JSON per line). */
const DEBUG_RATE = process.env.MMSC_DEBUG_RATE === '1';
/** The same refusal is told to the peer at most this often (seconds): no amplification. */
const TELL_EVERY_S = 1;

/** A grounding report whose echoed strings fit the protocol's limits (the query's words are the peer's). */
export function fitGrounding(g: GroundingMessage): GroundingMessage {
  const word = (w: string) => truncateUtf8(w, LIMITS.wordBytes);
  return {
    ...g,
    queryId: truncateUtf8(g.queryId, LIMITS.idBytes),
    text: truncateUtf8(g.text, LIMITS.textBytes),
    words: g.words.slice(0, LIMITS.words).map((w) => ({
      word: word(w.word),
      classes: w.classes.slice(0, LIMITS.classesPerWord).map((c) => ({ name: word(c.name), weight: c.weight })),
    })),
    ungrounded: g.ungrounded.slice(0, LIMITS.words).map(word),
  };
}

/**
 * One receiver: its query, rate control, temporal-reuse state and counters. Bad messages from the
 * peer are answered with an `error` and otherwise ignored; an unexpected failure inside the session
 * closes this session (with an `internal` error and a log line) and no other.
 */
export class ReceiverSession {
  readonly ctx: ProtocolContext;
  readonly rate: RateController;
  readonly keep: KeepState;
  query: { id: string; text: string };
  nextFrameId = 0;
  private helloSent = false;
  private closed = false;
  readonly stats: Omit<SessionStats, 'id' | 'open' | 'query' | 'rate' | 'refusals'>;
  readonly refusals = new RefusalCounter();
  private readonly queries: TokenBucket;
  private readonly told = new Map<string, number>();
  private readonly log: Log;
  /** Engine `h264`: called when the receiver asks for a keyframe. */
  onRefresh: ((reason: string) => void) | null = null;
  /** Called when the query changes, to produce the grounding report. */
  onQuery: ((s: ReceiverSession) => GroundingMessage | null) | null = null;

  constructor(
    readonly id: string,
    readonly peer: SessionPeer,
    readonly hello: HelloMessage,
    initialQuery: string,
    fps: number,
    maxBps = DEFAULT_RATE.maxBps,
    private readonly opts: SessionOptions = {},
  ) {
    const limits = opts.limits ?? defaultLimits();
    this.log = opts.log ?? silentLog;
    this.ctx = contextFromHello(hello);
    this.rate = new RateController({ ...DEFAULT_RATE, fps, maxBps });
    this.keep = new KeepState(this.ctx.patchCount);
    this.query = { id: 'initial', text: initialQuery };
    this.queries = new TokenBucket(limits.queriesPerSecond, limits.queryBurst);
    this.stats = {
      connectedAt: new Date().toISOString(),
      framesSent: 0,
      framesSkipped: 0,
      bytesSent: 0,
      lastBudget: 0,
      lastFrameBytes: 0,
      budgetViolations: 0,
      protocolErrors: 0,
      lastFrameMs: {},
    };
    peer.on('open', () => this.guard('greeting', () => this.greet()));
    peer.on('message', (bytes) => this.guard('message', () => this.onMessage(bytes)));
    peer.on('closed', () => {
      this.closed = true;
      this.keep.release();
    });
  }

  get open(): boolean {
    return !this.closed && this.peer.open && this.helloSent;
  }

  send(msg: Message): void {
    if (this.peer.open) this.peer.send(encodeMessage(msg, this.ctx));
  }

  /**
   * Runs `fn`; an exception is a bug on our side for this one session: the peer is told, the log
   * says where, and the session closes.
   */
  guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(where, e);
    }
  }

  /** Closes this session after an unexpected error (logged with its stack; the peer gets `internal`). */
  fail(where: string, e: unknown): void {
    if (this.closed) return;
    this.log.error({ session: this.id, where, err: e }, `session ${this.id}: ${where} failed, closing it: ${(e as Error)?.message ?? e}`);
    this.refusals.count('internal');
    this.opts.onRefusal?.('internal');
    try {
      this.send({ type: 'error', code: 'internal', message: `internal error in ${where}; the session is closed`, ref: null });
    } catch {
      // the channel may be what failed
    }
    this.peer.close(`internal error in ${where}`);
  }

  /** Refuses something the peer did, counting it and telling the peer (each code at most once a second). */
  refuse(code: SessionErrorCode, message: string, ref: string | null = null): void {
    this.refusals.count(code);
    this.opts.onRefusal?.(code);
    const now = performance.now() / 1000;
    const last = this.told.get(code);
    if (last !== undefined && now - last < TELL_EVERY_S) return;
    this.told.set(code, now);
    this.log.info({ session: this.id, code }, `session ${this.id}: refused ${code}: ${message}`);
    this.send({
      type: 'error',
      code,
      message: truncateUtf8(message, LIMITS.textBytes),
      ref: ref === null ? null : truncateUtf8(ref, LIMITS.idBytes),
    });
  }

  private greet(): void {
    this.send(this.hello);
    this.helloSent = true;
    const g = this.onQuery?.(this);
    if (g) this.send(fitGrounding(g));
  }

  onMessage(bytes: Uint8Array): void {
    let msg: Message;
    try {
      msg = decodeMessage(bytes, this.ctx);
    } catch (e) {
      this.stats.protocolErrors++;
      const err = e instanceof ProtocolError ? e : new ProtocolError('not-msgpack', String(e));
      this.refusals.count(err.code);
      this.opts.onRefusal?.(err.code);
      this.send({ type: 'error', code: err.code, message: truncateUtf8(err.message, LIMITS.textBytes), ref: null });
      return;
    }
    switch (msg.type) {
      case 'query':
        this.onQueryMessage(msg.queryId, msg.text);
        break;
      case 'feedback': {
        this.rate.onSrtt(this.peer.srtt() ?? Number.NaN);
        const rejected = this.rate.onFeedback(msg.frameId, msg.bytesReceived, msg.receiveTs, performance.now() / 1000);
        if (rejected) this.refuse('feedback-rejected', `feedback for frame ${msg.frameId} ignored: ${rejected}`, String(msg.frameId));
        if (DEBUG_RATE)
          console.error(
            JSON.stringify({
              t: Math.round(performance.now()),
              session: this.id,
              frame: msg.frameId,
              bytes: msg.bytesReceived,
              ...this.rate.state(),
            }),
          );
        break;
      }
      case 'refresh':
        if (this.onRefresh) this.onRefresh(msg.reason);
        else this.refuse('unexpected-message', 'refresh asks for a keyframe, and this session sends patches', null);
        break;
      case 'error':
        break;
      default:
        this.stats.protocolErrors++;
        this.refusals.count('unexpected-message');
        this.opts.onRefusal?.('unexpected-message');
        this.send({ type: 'error', code: 'unexpected-message', message: `a receiver does not send ${msg.type} messages`, ref: null });
    }
  }

  private onQueryMessage(queryId: string, text: string): void {
    if (!this.queries.take(performance.now() / 1000)) {
      this.refuse('rate-limited', 'too many queries: the previous query stays', queryId);
      return;
    }
    const previous = this.query;
    this.query = { id: queryId, text };
    let g: GroundingMessage | null | undefined;
    try {
      g = this.onQuery?.(this);
    } catch (e) {
      // A query the lexicon refuses (e.g. over 64 words) is reported; the previous one stays.
      this.query = previous;
      this.refusals.count('bad-query');
      this.opts.onRefusal?.('bad-query');
      this.send({ type: 'error', code: 'bad-query', message: truncateUtf8((e as Error).message, LIMITS.textBytes), ref: queryId });
      return;
    }
    if (g) this.send(fitGrounding(g));
  }

  snapshot(): SessionStats {
    return {
      id: this.id,
      open: this.open,
      query: this.query,
      rate: this.rate.state(),
      refusals: this.refusals.snapshot(),
      ...this.stats,
    };
  }
}
