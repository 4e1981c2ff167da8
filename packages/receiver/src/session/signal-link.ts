/**
 * The receiver's link to the sender: one ReceiverConnection attempt at a time (WebSocket signalling
 * at /signal, the sender offers and owns the data channel), an open deadline (counted from the
 * offer), a grace period for a
 * 'disconnected' peer, and — with a retry policy (the page) — reconnection with exponential backoff
 * whenever signalling, ICE or the data channel goes away. Without one (the probe, tests) the first
 * end is final. Socket, peer and channel sends are the platform's (injected); the timers are this
 * file's, and so is what the operator is told.
 */
import type { IceServer, SignalError, SignalMessage } from '@mmsc/protocol';
import {
  type ChannelLike,
  type ConnectionEnd,
  type MediaSink,
  type PeerLike,
  ReceiverConnection,
  type SignalSocket,
  type TrackControl,
} from '../receive/receiver-connection.js';
import type { RtpPacketIn } from '../rtp/rtp-assembler.js';
import type { EncodedPictureIn } from '../rtp/rtp-video.js';
import { Emitter } from './emitter.js';
import type { LinkState } from './reconnect.js';

/** What the link needs of its platform (the browser's WebSocket and RTCPeerConnection, or `ws` and werift). */
export interface LinkTransport<C extends ChannelLike> {
  /** The sender's signalling URL, for the operator. */
  readonly target?: string;
  /** A new socket to the sender's /signal, not yet open. */
  openSocket(): SignalSocket;
  /**
   * A peer asking only `iceServers` (the sender's offer names them; none: no server at all). A
   * platform that can receive the sender's video track delivers it to `media`.
   */
  createPeer(iceServers: readonly IceServer[], media: MediaSink): PeerLike<C>;
  /** Sends bytes on the data channel (each platform's channel has its own send). */
  send(channel: C, bytes: Uint8Array): void;
  /** Run before each attempt (the page asks once for media permission so that Chromium offers loopback candidates). */
  prepare?(): Promise<void>;
  /** Waited for before the offer is answered (ConnectionOptions.beforeAnswer). */
  beforeAnswer?(): Promise<boolean>;
  /** Why signalling closed before any message (a refused upgrade: 401/403), when it can be found out. */
  explainRefusal?(): Promise<string | null>;
}

/** Reconnection with backoff: delays double from `firstMs` up to `maxMs`, jittered by ±15 %. */
export interface RetryPolicy {
  firstMs: number;
  maxMs: number;
  /** At least this long after the sender said it is full. */
  busyMs: number;
  /** [0, 1): the jitter's randomness. */
  random(): number;
}

export const PAGE_RETRY: RetryPolicy = { firstMs: 500, maxMs: 10_000, busyMs: 5_000, random: Math.random };

/** Why the link went. */
export type LinkEnd =
  | ConnectionEnd
  | { kind: 'open-timeout' }
  | { kind: 'lost' }
  | { kind: 'sender-error'; code: string; message: string }
  | { kind: 'negotiation'; step: 'offer' | 'candidate'; error: Error };

export interface LinkEvents<C extends ChannelLike> {
  state: [state: LinkState, detail: string];
  /** The sender accepted the signalling upgrade. */
  accepted: [];
  /** The session's hello, signalled ahead of the data channel (ConnectionEvents.hello). */
  hello: [bytes: Uint8Array, receiveTs: number];
  /** The data channel opened: a session starts (its first message is the sender's hello). */
  open: [channel: C];
  message: [bytes: Uint8Array, receiveTs: number];
  /** The sender's video track appeared (a new one with each attempt). */
  track: [control: TrackControl];
  /** A packet of the video track, with its arrival. */
  rtp: [packet: RtpPacketIn, receiveTs: number];
  /** A whole picture of the video track, assembled by the platform. */
  trackPicture: [picture: EncodedPictureIn];
  /** The track's round trip as the platform measured it (ms). */
  trackRtt: [ms: number];
  /** Every well-formed signalling message from the sender. */
  signal: [message: SignalMessage];
  /** A malformed signalling message from the sender, dropped. */
  malformed: [error: SignalError, text: string];
  /** The sender's signalling error (a refusal such as busy, or a complaint). */
  senderError: [code: string, message: string];
  /** Applying the sender's offer or a candidate failed (ends the attempt when retrying). */
  negotiationFailed: [step: 'offer' | 'candidate', error: Error];
  /** Something worth telling the operator that changes nothing. */
  notice: [text: string];
  /** The link went (after the channel opened or not), with the operator's reason; a retry follows if there is a policy. */
  closed: [reason: string, end: LinkEnd];
}

export interface LinkOptions<C extends ChannelLike> {
  transport: LinkTransport<C>;
  /** Reconnect after a drop (the page); null or absent: one attempt. */
  retry?: RetryPolicy | null;
  /** How long the data channel may take to open after the offer, and the offer to come (default 15 s each). */
  openTimeoutMs?: number;
  /** How long a 'disconnected' peer may take to recover (default 4 s). */
  disconnectedGraceMs?: number;
  now?: () => number;
}

export class SignalLink<C extends ChannelLike> extends Emitter<LinkEvents<C>> {
  /** Next retry time (ms epoch), for the countdown shown to the operator. */
  retryAt = 0;
  private conn: ReceiverConnection<C> | null = null;
  private attempt = 0;
  private failures = 0;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private readonly now: () => number;

  constructor(private readonly options: LinkOptions<C>) {
    super();
    this.now = options.now ?? Date.now;
  }

  get isOpen(): boolean {
    return this.conn?.isOpen ?? false;
  }

  get channel(): C | null {
    return this.conn?.channel ?? null;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  /** Closes the link and stops retrying; resolves once the peer has closed. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const closing = this.teardown();
    this.emit('state', 'idle', 'stopped');
    return closing;
  }

  /** Reconnects now (e.g. the operator pressed "reconnect"), skipping any pending backoff. */
  reconnectNow(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.failures = 0;
    void this.teardown();
    this.stopped = false;
    void this.connect();
  }

  /** Sends on the open data channel; false when there is none. */
  send(bytes: Uint8Array): boolean {
    const ch = this.conn?.channel;
    if (ch?.readyState !== 'open') return false;
    this.options.transport.send(ch as C, bytes);
    return true;
  }

  /** Marks the session as healthy (data arrived): the next failure retries quickly again. */
  healthy(): void {
    this.failures = 0;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const attempt = ++this.attempt;
    const live = () => attempt === this.attempt && !this.stopped;
    const { transport, openTimeoutMs = 15_000, disconnectedGraceMs = 4_000 } = this.options;
    this.emit('state', 'connecting', transport.target ? `signalling ${transport.target}` : 'signalling');
    await transport.prepare?.();
    if (!live()) return;
    const drop = (reason: string, end: LinkEnd, backoff?: number) => {
      if (live()) this.drop(reason, end, backoff);
    };
    // The open deadline counts from the offer; before it, the same span bounds signalling.
    const timeout = `no data channel within ${openTimeoutMs / 1000} s (ICE failed?)`;
    const arm = () => setTimeout(() => drop(timeout, { kind: 'open-timeout' }), openTimeoutMs);
    let openTimer = arm();
    this.timers.push(openTimer);
    let disconnectedTimer: ReturnType<typeof setTimeout> | null = null;
    const retrying = !!this.options.retry;
    this.conn = new ReceiverConnection<C>(
      {
        socket: transport.openSocket(),
        createPeer: (iceServers, media) => transport.createPeer(iceServers, media),
        ...(transport.beforeAnswer ? { beforeAnswer: () => (transport.beforeAnswer as () => Promise<boolean>)() } : {}),
        now: this.now,
      },
      {
        accepted: () => {
          if (!live()) return;
          this.emit('accepted');
          this.emit('state', 'negotiating', 'waiting for the offer');
        },
        signal: (m) => {
          if (m.type === 'offer' && live() && !this.isOpen) {
            clearTimeout(openTimer);
            openTimer = arm();
            this.timers.push(openTimer);
          }
          this.emit('signal', m);
        },
        answered: () => {
          if (live()) this.emit('state', 'negotiating', 'answer sent, ICE checking');
        },
        peerState: (s) => {
          if (!live()) return;
          if (disconnectedTimer) clearTimeout(disconnectedTimer);
          disconnectedTimer = null;
          // 'failed' ends the attempt (ended below); 'disconnected' may still recover.
          if (s === 'disconnected') {
            disconnectedTimer = setTimeout(() => drop('the WebRTC connection was lost', { kind: 'lost' }), disconnectedGraceMs);
            this.timers.push(disconnectedTimer);
          } else if (s === 'connecting' && !this.isOpen) this.emit('state', 'negotiating', 'ICE: checking');
        },
        open: (ch) => {
          if (!live()) return;
          for (const t of this.timers.splice(0)) clearTimeout(t);
          this.emit('state', 'open', `data channel "${ch.label}" open`);
          this.emit('open', ch);
        },
        hello: (bytes, receiveTs) => {
          if (live()) this.emit('hello', bytes, receiveTs);
        },
        message: (bytes, receiveTs) => {
          if (live()) this.emit('message', bytes, receiveTs);
        },
        track: (control) => {
          if (live()) this.emit('track', control);
        },
        rtp: (packet, receiveTs) => {
          if (live()) this.emit('rtp', packet, receiveTs);
        },
        trackPicture: (picture) => {
          if (live()) this.emit('trackPicture', picture);
        },
        trackRtt: (ms) => {
          if (live()) this.emit('trackRtt', ms);
        },
        extraChannel: (ch) => this.emit('notice', `the sender opened another data channel "${ch.label}"; replies stay on the first`),
        malformed: (err, text) => this.emit('malformed', err, text),
        // Busy ends the attempt; so does any other sender error when retrying (the next attempt starts clean).
        senderError: (code, message) => {
          this.emit('senderError', code, message);
          if (code === 'busy' || retrying)
            drop(
              `sender: ${message} (${code})`,
              { kind: 'sender-error', code, message },
              code === 'busy' ? this.options.retry?.busyMs : undefined,
            );
        },
        negotiationFailed: (step, error) => {
          this.emit('negotiationFailed', step, error);
          if (retrying) drop(`negotiation failed: ${error.message}`, { kind: 'negotiation', step, error });
        },
        ended: (end) => void this.ended(end, live, drop),
      },
    );
  }

  /** Why the attempt ended, in the operator's words; a refused upgrade is asked about (it shows no status). */
  private async ended(
    end: ConnectionEnd,
    live: () => boolean,
    drop: (reason: string, end: LinkEnd, backoff?: number) => void,
  ): Promise<void> {
    if (!live()) return;
    switch (end.kind) {
      case 'bad-offer':
        return drop(`the sender's offer is unusable: ${end.error.code}: ${end.error.message}`, end);
      case 'peer':
        return drop(end.state === 'failed' ? 'the WebRTC connection failed' : 'the WebRTC connection closed', end);
      case 'channel-closed':
        return drop('the data channel closed', end);
      case 'signalling-closed': {
        // The sender closes signalling when it ends our session; before the channel opened it means refusal.
        if (end.channelOpen) return drop('the sender ended the session', end);
        const explain = this.options.transport.explainRefusal;
        const why = !end.signalled && explain ? await explain() : null;
        if (why) return drop(why, end, this.options.retry?.maxMs);
        return drop(end.signalled ? `signalling closed${end.reason ? `: ${end.reason}` : ''}` : 'cannot reach the sender', end);
      }
    }
  }

  private drop(reason: string, end: LinkEnd, minBackoff = 0): void {
    const wasOpen = this.isOpen;
    void this.teardown();
    this.attempt++;
    this.emit('closed', reason, end);
    const retry = this.options.retry;
    if (this.stopped || !retry) {
      this.stopped = true;
      this.emit('state', 'idle', reason);
      return;
    }
    const delay = Math.max(minBackoff, Math.min(retry.maxMs, retry.firstMs * 2 ** this.failures));
    const jittered = Math.round(delay * (0.85 + 0.3 * retry.random()));
    this.failures = wasOpen ? 1 : this.failures + 1;
    this.retryAt = this.now() + jittered;
    this.emit('state', 'waiting', reason);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, jittered);
  }

  private teardown(): Promise<void> {
    for (const t of this.timers.splice(0)) clearTimeout(t);
    const conn = this.conn;
    this.conn = null;
    return conn?.close() ?? Promise.resolve();
  }
}
