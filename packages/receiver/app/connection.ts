/**
 * The receiver's link to the sender: WebSocket signalling at /signal (JSON; the sender offers and
 * owns the one data channel "mmsc"), an RTCPeerConnection, and automatic reconnection with
 * exponential backoff whenever signalling, ICE or the data channel goes away.
 */

import { checkSdp, type IceCandidate, parseSignal, SignalError, type SignalMessage } from '@mmsc/protocol';

export type ConnectionState = 'idle' | 'connecting' | 'negotiating' | 'open' | 'waiting';

export interface ConnectionHandlers {
  state(state: ConnectionState, detail: string): void;
  /** The data channel opened: a new session starts (its first message is the sender's hello). */
  open(): void;
  message(data: ArrayBuffer, receiveTs: number): void;
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
  private ws: WebSocket | null = null;
  private pc: RTCPeerConnection | null = null;
  private dc: RTCDataChannel | null = null;
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
    return this.dc?.readyState === 'open';
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
    const dc = this.dc;
    if (dc?.readyState !== 'open') return false;
    dc.send(bytes as Uint8Array<ArrayBuffer>);
    return true;
  }

  /** The data channel's bytes waiting to go out (queries, feedback). */
  get bufferedAmount(): number {
    return this.dc?.bufferedAmount ?? 0;
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
    const ws = new WebSocket(this.signalUrl);
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.ws = ws;
    this.pc = pc;
    const pending: IceCandidate[] = [];
    let remoteSet = false;
    const sendSignal = (m: SignalMessage) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
    };
    const drop = (reason: string, backoff?: number) => {
      if (live()) this.drop(reason, backoff);
    };
    this.timers.push(setTimeout(() => drop(`no data channel within ${OPEN_TIMEOUT_MS / 1000} s (ICE failed?)`), OPEN_TIMEOUT_MS));

    pc.onicecandidate = (e) => {
      const c = e.candidate;
      if (c) sendSignal({ type: 'candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } });
    };
    let disconnectedTimer: ReturnType<typeof setTimeout> | null = null;
    pc.onconnectionstatechange = () => {
      if (!live()) return;
      const s = pc.connectionState;
      if (disconnectedTimer) clearTimeout(disconnectedTimer);
      disconnectedTimer = null;
      if (s === 'failed') drop('the WebRTC connection failed');
      else if (s === 'disconnected') {
        disconnectedTimer = setTimeout(() => drop('the WebRTC connection was lost'), DISCONNECTED_GRACE_MS);
        this.timers.push(disconnectedTimer);
      } else if (s === 'connecting' && !this.isOpen) this.on.state('negotiating', 'ICE: checking');
    };
    pc.ondatachannel = (e) => {
      const dc = e.channel;
      dc.binaryType = 'arraybuffer';
      if (this.dc) {
        // The sender opens exactly one channel; a second is only listened to, never sent on.
        this.on.notice(`the sender opened another data channel "${dc.label}" (id ${dc.id}); replies stay on the first`);
        dc.onmessage = (m: MessageEvent) => {
          if (live() && m.data instanceof ArrayBuffer) this.on.message(m.data, Date.now());
        };
        return;
      }
      this.dc = dc;
      dc.onopen = () => {
        if (!live()) return;
        for (const t of this.timers.splice(0)) clearTimeout(t);
        this.on.state('open', `data channel "${dc.label}" open`);
        this.on.open();
      };
      dc.onmessage = (m: MessageEvent) => {
        if (live() && m.data instanceof ArrayBuffer) this.on.message(m.data, Date.now());
      };
      dc.onclose = () => drop('the data channel closed');
    };

    ws.onopen = () => {
      if (live()) this.on.state('negotiating', 'waiting for the offer');
    };
    // An unreachable sender or a refused upgrade fires error, then always close: close says why.
    ws.onerror = () => {};
    let signalled = false;
    ws.onclose = async (e) => {
      if (!live()) return;
      // The sender closes signalling when it ends our session; before the channel opened it means refusal.
      if (this.isOpen) return drop('the sender ended the session');
      const why = !signalled && this.on.explainRefusal ? await this.on.explainRefusal() : null;
      if (why) return drop(why, BACKOFF_MS.max);
      drop(signalled ? `signalling closed${e.reason ? `: ${e.reason}` : ''}` : 'cannot reach the sender');
    };
    ws.onmessage = async (e) => {
      if (!live() || typeof e.data !== 'string') return;
      signalled = true;
      // Checked like the sender checks ours: a malformed message is reported and dropped before the
      // browser sees it; an unusable offer ends this attempt at once (no channel can come of it).
      let m: SignalMessage;
      try {
        m = parseSignal(e.data);
        if (m.type === 'offer') checkSdp(m.sdp, 'offer');
      } catch (err) {
        const why = err instanceof SignalError ? `${err.code}: ${err.message}` : String(err);
        if (err instanceof SignalError && err.code === 'bad-sdp') return drop(`the sender's offer is unusable: ${why}`);
        return this.on.notice(`ignored a malformed signalling message from the sender (${why})`);
      }
      try {
        if (m.type === 'offer') {
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          remoteSet = true;
          for (const c of pending.splice(0)) await pc.addIceCandidate(c);
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          sendSignal({ type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
          if (live()) this.on.state('negotiating', 'answer sent, ICE checking');
        } else if (m.type === 'candidate' && m.candidate) {
          if (remoteSet) await pc.addIceCandidate(m.candidate);
          else pending.push(m.candidate);
        } else if (m.type === 'error') {
          drop(`sender: ${m.message} (${m.code})`, m.code === 'busy' ? BACKOFF_MS.busy : undefined);
        }
      } catch (err) {
        drop(`negotiation failed: ${(err as Error).message}`);
      }
    };
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
    const { ws, pc, dc } = this;
    this.ws = null;
    this.pc = null;
    this.dc = null;
    if (dc) {
      dc.onclose = null;
      dc.onmessage = null;
      dc.close();
    }
    if (ws) {
      ws.onclose = null;
      ws.onerror = null;
      ws.onmessage = null;
      ws.close();
    }
    if (pc) {
      pc.onconnectionstatechange = null;
      pc.close();
    }
  }
}
