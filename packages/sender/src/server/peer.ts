import { EventEmitter } from 'node:events';
import { type RTCDataChannel, RTCPeerConnection } from 'werift';
import { parseSignal, type SignalError, type SignalMessage } from './signalling.js';

/** What werift exposes of SCTP at run time (typed private; platform notes list the fields). */
interface SctpInternals {
  outboundQueue?: unknown[];
  srtt?: number;
  flightSize?: number;
  cwnd?: number;
}

export interface PeerEvents {
  open: [];
  message: [Uint8Array];
  closed: [string];
}

/**
 * One receiver's WebRTC side: a werift peer that offers one reliable, ordered data channel.
 * Loopback addresses are offered too (werift skips them by default).
 */
export class Peer extends EventEmitter<PeerEvents> {
  readonly pc: RTCPeerConnection;
  readonly dc: RTCDataChannel;
  private remoteSet = false;
  private pendingCandidates: NonNullable<Extract<SignalMessage, { type: 'candidate' }>['candidate']>[] = [];
  private closed = false;

  constructor(private readonly signal: (m: SignalMessage) => void) {
    super();
    this.pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], maxMessageSize: 262144 } as never);
    this.dc = this.pc.createDataChannel('mmsc', { ordered: true });
    this.dc.onopen = () => this.emit('open');
    this.dc.onMessage.subscribe((data) => {
      if (typeof data === 'string') return; // the protocol is binary; text is ignored
      this.emit('message', new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    this.dc.onclose = () => this.close('data channel closed');
    this.pc.onIceCandidate.subscribe((c) => {
      if (c)
        this.signal({
          type: 'candidate',
          candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null },
        });
    });
    this.pc.connectionStateChange.subscribe((s) => {
      if (s === 'failed' || s === 'closed') this.close(`connection ${s}`);
    });
  }

  async start(): Promise<void> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    this.signal({ type: 'offer', sdp: this.pc.localDescription?.sdp ?? offer.sdp });
  }

  /** Handles one signalling text from the receiver; bad input is reported back, not thrown. */
  async onSignal(text: string): Promise<void> {
    let m: SignalMessage;
    try {
      m = parseSignal(text);
    } catch (e) {
      const err = e as SignalError;
      this.signal({ type: 'error', code: err.code, message: err.message });
      return;
    }
    try {
      if (m.type === 'answer') {
        await this.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        this.remoteSet = true;
        for (const c of this.pendingCandidates.splice(0)) await this.pc.addIceCandidate(c as never);
      } else if (m.type === 'candidate' && m.candidate) {
        if (this.remoteSet) await this.pc.addIceCandidate(m.candidate as never);
        else this.pendingCandidates.push(m.candidate);
      } else if (m.type === 'offer') {
        this.signal({ type: 'error', code: 'bad-signal', message: 'the sender makes the offer; send an answer' });
      }
    } catch (e) {
      this.signal({ type: 'error', code: 'bad-signal', message: `rejected: ${(e as Error).message}` });
    }
  }

  get open(): boolean {
    return this.dc.readyState === 'open';
  }

  send(bytes: Uint8Array): void {
    this.dc.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** Bytes waiting in werift's SCTP send queue (chunks of ≤ 1,200 B) plus its data-channel buffer. */
  queuedBytes(): number {
    const q = this.sctp()?.outboundQueue?.length ?? 0;
    return q * 1200;
  }

  /** SCTP smoothed RTT in seconds, when SCTP has measured one. */
  srtt(): number | null {
    const s = this.sctp()?.srtt;
    return typeof s === 'number' && s > 0 ? s : null;
  }

  private sctp(): SctpInternals | undefined {
    return (this.pc.sctpTransport as unknown as { sctp?: SctpInternals } | undefined)?.sctp;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    void this.pc.close().catch(() => undefined);
    this.emit('closed', reason);
  }
}
