import { EventEmitter } from 'node:events';
import { DEFAULT_CONTEXT, decodeMessage, encodeMessage, type Message, type ProtocolContext } from '@mmsc/protocol';
import type { PeerEvents } from '../server/peer.js';

/** A stand-in for the werift peer: records what a session sends, closes like the real one. */
export class FakePeer extends EventEmitter<PeerEvents> {
  sent: Message[] = [];
  /** Every message's bytes as sent on the channel, in order. */
  sentBytes: Uint8Array[] = [];
  /** Hellos sent on signalling (their bytes). */
  signalled: Uint8Array[] = [];
  open = true;
  bytesSent = 0;
  closedWith: string | null = null;
  /** Called on each send (tests make things happen mid-frame with it). */
  onSend: (() => void) | null = null;
  /** Answer each whole frame with the feedback a receiver on a fast link would send (keeps the rate open). */
  autoAck = false;
  private frameBytes = 0;

  constructor(private readonly ctx: ProtocolContext = DEFAULT_CONTEXT) {
    super();
  }

  send(bytes: Uint8Array) {
    this.bytesSent += bytes.length;
    this.sentBytes.push(Uint8Array.from(bytes));
    const m = decodeMessage(bytes, this.ctx);
    this.sent.push(m);
    if (m.type === 'frame') this.frameBytes += bytes.length;
    this.onSend?.();
    if (this.autoAck && m.type === 'frame' && m.part === m.parts - 1) {
      const ack: Message = {
        type: 'feedback',
        frameId: m.frameId,
        bytesReceived: this.frameBytes,
        partsReceived: m.parts,
        receiveTs: Date.now(),
      };
      this.frameBytes = 0;
      // After the sender's send returns, as a real channel would deliver it.
      queueMicrotask(() => this.open && this.emit('message', encodeMessage(ack, this.ctx)));
    }
  }

  signalHello(bytes: Uint8Array) {
    this.signalled.push(Uint8Array.from(bytes));
  }

  srtt() {
    return 0.02;
  }

  close(reason: string) {
    if (this.closedWith !== null) return;
    this.closedWith = reason;
    this.open = false;
    this.emit('closed', reason);
  }
}
