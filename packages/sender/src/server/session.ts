import {
  contextFromHello,
  decodeMessage,
  encodeMessage,
  type GroundingMessage,
  type HelloMessage,
  type Message,
  type ProtocolContext,
  ProtocolError,
} from '@mmsc/protocol';
import { KeepState } from '../pipeline/keep-state.js';
import { DEFAULT_RATE, RateController } from '../rate/rate-controller.js';
import type { Peer } from './peer.js';

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
  rate: ReturnType<RateController['state']>;
  lastFrameMs: Record<string, number>;
}

/** MMSC_DEBUG_RATE=1 logs the rate controller's state on every feedback (stderr, one JSON per line). */
const DEBUG_RATE = process.env.MMSC_DEBUG_RATE === '1';

/**
 * One receiver: its query, rate control, temporal-reuse state and counters. Bad messages from the
 * peer are answered with a protocol `error` and otherwise ignored, so one peer cannot disturb others.
 */
export class ReceiverSession {
  readonly ctx: ProtocolContext;
  readonly rate: RateController;
  readonly keep: KeepState;
  query: { id: string; text: string };
  nextFrameId = 0;
  private helloSent = false;
  readonly stats: Omit<SessionStats, 'id' | 'open' | 'query' | 'rate'>;
  /** Called when the query changes, to produce the grounding report. */
  onQuery: ((s: ReceiverSession) => GroundingMessage | null) | null = null;

  constructor(
    readonly id: string,
    readonly peer: Peer,
    readonly hello: HelloMessage,
    initialQuery: string,
    fps: number,
    maxBps = DEFAULT_RATE.maxBps,
  ) {
    this.ctx = contextFromHello(hello);
    this.rate = new RateController({ ...DEFAULT_RATE, fps, maxBps });
    this.keep = new KeepState(this.ctx.patchCount);
    this.query = { id: 'initial', text: initialQuery };
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
    peer.on('open', () => this.greet());
    peer.on('message', (bytes) => this.onMessage(bytes));
  }

  get open(): boolean {
    return this.peer.open && this.helloSent;
  }

  send(msg: Message): void {
    if (this.peer.open) this.peer.send(encodeMessage(msg, this.ctx));
  }

  private greet(): void {
    this.send(this.hello);
    this.helloSent = true;
    const g = this.onQuery?.(this);
    if (g) this.send(g);
  }

  onMessage(bytes: Uint8Array): void {
    let msg: Message;
    try {
      msg = decodeMessage(bytes, this.ctx);
    } catch (e) {
      this.stats.protocolErrors++;
      const err = e instanceof ProtocolError ? e : new ProtocolError('not-msgpack', String(e));
      this.send({ type: 'error', code: err.code, message: err.message.slice(0, 1000), ref: null });
      return;
    }
    switch (msg.type) {
      case 'query': {
        const previous = this.query;
        this.query = { id: msg.queryId, text: msg.text };
        let g: GroundingMessage | null | undefined;
        try {
          g = this.onQuery?.(this);
        } catch (e) {
          // A query the lexicon refuses (e.g. over 64 words) is reported; the previous one stays.
          this.query = previous;
          this.send({ type: 'error', code: 'bad-query', message: (e as Error).message.slice(0, 1000), ref: msg.queryId });
          break;
        }
        if (g) this.send(g);
        break;
      }
      case 'feedback':
        this.rate.onSrtt(this.peer.srtt() ?? Number.NaN);
        this.rate.onFeedback(msg.frameId, msg.bytesReceived, msg.receiveTs, performance.now() / 1000);
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
      case 'error':
        break;
      default:
        this.stats.protocolErrors++;
        this.send({ type: 'error', code: 'unexpected-message', message: `a receiver does not send ${msg.type} messages`, ref: null });
    }
  }

  snapshot(): SessionStats {
    return { id: this.id, open: this.open, query: this.query, rate: this.rate.state(), ...this.stats };
  }
}
