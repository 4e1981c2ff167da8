/**
 * The receiver's link to the sender, with automatic reconnection and exponential backoff whenever
 * signalling, ICE or the data channel goes away. Each attempt is the receiver's ReceiverConnection
 * (src/receive: WebSocket signalling at /signal, the sender offers and owns the one data channel
 * "mmsc") over the browser's WebSocket and RTCPeerConnection; timing, backoff and what the operator
 * is told are this file's.
 */

import { type ConnectionEnd, ReceiverConnection } from '../src/index.js';

export type ConnectionState = 'idle' | 'connecting' | 'negotiating' | 'open' | 'waiting';

export interface ConnectionHandlers {
  state(state: ConnectionState, detail: string): void;
  /** The data channel opened: a new session starts (its first message is the sender's hello). */
  open(): void;
  message(data: Uint8Array, receiveTs: number): void;
  closed(reason: string): void;
  /** Something worth telling the operator that changes nothing. */
  notice(text: string): void;
  /** Why signalling closed before any message (a refused upgrade: 401/403), when it can be found out. */
  explainRefusal?(): Promise<string | null>;
}

const OPEN_TIMEOUT_MS = 15_000;
const DISCONNECTED_GRACE_MS = 4_000;
const BACKOFF_MS = { first: 500, max: 10_000, busy: 5_000 };

/** Chromium offers no usable host candidate on pure loopback unless the page holds media permission. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}

export class Connection {
  private link: ReceiverConnection<RTCDataChannel> | null = null;
  private attempt = 0;
  private failures = 0;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private mediaAsked = false;
  private stopped = false;
  /** Next retry time (ms epoch), for the countdown shown to the operator. */
  retryAt = 0;

  constructor(
    private readonly signalUrl: string,
    private readonly on: ConnectionHandlers,
  ) {}

  get isOpen(): boolean {
    return this.link?.isOpen ?? false;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.teardown();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.on.state('idle', 'stopped');
  }

  /** Reconnects now (e.g. the operator pressed "reconnect"), skipping any pending backoff. */
  reconnectNow(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.failures = 0;
    this.teardown();
    void this.connect();
  }

  send(bytes: Uint8Array): boolean {
    const dc = this.link?.channel;
    if (dc?.readyState !== 'open') return false;
    dc.send(bytes as Uint8Array<ArrayBuffer>);
    return true;
  }

  /** The data channel's bytes waiting to go out (queries, feedback). */
  get bufferedAmount(): number {
    return this.link?.channel?.bufferedAmount ?? 0;
  }

  /** Marks the session as healthy (data arrived): the next failure retries quickly again. */
  healthy(): void {
    this.failures = 0;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const attempt = ++this.attempt;
    const live = () => attempt === this.attempt && !this.stopped;
    this.on.state('connecting', `signalling ${this.signalUrl}`);
    if (!this.mediaAsked && isLoopback(location.hostname)) {
      this.mediaAsked = true;
      // Loopback only: with media permission Chromium offers a 127.0.0.1 host candidate. The fake or
      // real microphone is released at once; nothing is recorded or sent.
      try {
        const stream = await navigator.mediaDevices?.getUserMedia({ audio: true });
        for (const t of stream?.getTracks() ?? []) t.stop();
      } catch {
        // Without it loopback ICE may fail; other networks use mDNS host candidates.
      }
      if (!live()) return;
    }
    const drop = (reason: string, backoff?: number) => {
      if (live()) this.drop(reason, backoff);
    };
    this.timers.push(setTimeout(() => drop(`no data channel within ${OPEN_TIMEOUT_MS / 1000} s (ICE failed?)`), OPEN_TIMEOUT_MS));
    let disconnectedTimer: ReturnType<typeof setTimeout> | null = null;
    this.link = new ReceiverConnection<RTCDataChannel>(
      { socket: new WebSocket(this.signalUrl), createPeer: () => new RTCPeerConnection({ iceServers: [] }) },
      {
        accepted: () => {
          if (live()) this.on.state('negotiating', 'waiting for the offer');
        },
        answered: () => {
          if (live()) this.on.state('negotiating', 'answer sent, ICE checking');
        },
        peerState: (s) => {
          if (!live()) return;
          if (disconnectedTimer) clearTimeout(disconnectedTimer);
          disconnectedTimer = null;
          // 'failed' ends the attempt (ended below); 'disconnected' may still recover.
          if (s === 'disconnected') {
            disconnectedTimer = setTimeout(() => drop('the WebRTC connection was lost'), DISCONNECTED_GRACE_MS);
            this.timers.push(disconnectedTimer);
          } else if (s === 'connecting' && !this.isOpen) this.on.state('negotiating', 'ICE: checking');
        },
        open: (dc) => {
          if (!live()) return;
          for (const t of this.timers.splice(0)) clearTimeout(t);
          this.on.state('open', `data channel "${dc.label}" open`);
          this.on.open();
        },
        message: (data, receiveTs) => {
          if (live()) this.on.message(data, receiveTs);
        },
        extraChannel: (dc) =>
          this.on.notice(`the sender opened another data channel "${dc.label}" (id ${dc.id}); replies stay on the first`),
        malformed: (err) => this.on.notice(`ignored a malformed signalling message from the sender (${err.code}: ${err.message})`),
        senderError: (code, message) => drop(`sender: ${message} (${code})`, code === 'busy' ? BACKOFF_MS.busy : undefined),
        negotiationFailed: (_step, err) => drop(`negotiation failed: ${err.message}`),
        ended: (end) => void this.ended(end, live, drop),
      },
    );
  }

  /** Why the attempt ended, in the operator's words; a refused upgrade is asked about (it shows the page no status). */
  private async ended(end: ConnectionEnd, live: () => boolean, drop: (reason: string, backoff?: number) => void): Promise<void> {
    if (!live()) return;
    switch (end.kind) {
      case 'bad-offer':
        return drop(`the sender's offer is unusable: ${end.error.code}: ${end.error.message}`);
      case 'peer':
        return drop(end.state === 'failed' ? 'the WebRTC connection failed' : 'the WebRTC connection closed');
      case 'channel-closed':
        return drop('the data channel closed');
      case 'signalling-closed': {
        // The sender closes signalling when it ends our session; before the channel opened it means refusal.
        if (end.channelOpen) return drop('the sender ended the session');
        const why = !end.signalled && this.on.explainRefusal ? await this.on.explainRefusal() : null;
        if (why) return drop(why, BACKOFF_MS.max);
        return drop(end.signalled ? `signalling closed${end.reason ? `: ${end.reason}` : ''}` : 'cannot reach the sender');
      }
    }
  }

  private drop(reason: string, minBackoff = 0): void {
    const wasOpen = this.isOpen;
    this.teardown();
    this.attempt++;
    this.on.closed(reason);
    if (this.stopped) return;
    const delay = Math.max(minBackoff, Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** this.failures));
    const jittered = Math.round(delay * (0.85 + 0.3 * Math.random()));
    this.failures = wasOpen ? 1 : this.failures + 1;
    this.retryAt = Date.now() + jittered;
    this.on.state('waiting', reason);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, jittered);
  }

  private teardown(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
    const link = this.link;
    this.link = null;
    void link?.close();
  }
}
