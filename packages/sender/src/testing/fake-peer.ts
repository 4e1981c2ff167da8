import { EventEmitter } from 'node:events';
import { DEFAULT_CONTEXT, decodeMessage, type Message, type ProtocolContext } from '@mmsc/protocol';
import type { PeerEvents } from '../server/peer.js';

/** A stand-in for the werift peer: records what a session sends, closes like the real one. */
export class FakePeer extends EventEmitter<PeerEvents> {
  sent: Message[] = [];
  open = true;
  bytesSent = 0;
  closedWith: string | null = null;
  /** Called on each send (tests make things happen mid-frame with it). */
  onSend: (() => void) | null = null;

  constructor(private readonly ctx: ProtocolContext = DEFAULT_CONTEXT) {
    super();
  }

  send(bytes: Uint8Array) {
    this.bytesSent += bytes.length;
    this.sent.push(decodeMessage(bytes, this.ctx));
    this.onSend?.();
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
