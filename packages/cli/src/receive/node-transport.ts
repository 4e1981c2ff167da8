import type { LinkTransport } from '@mmsc/receiver';
import { ConfiguredPeerConnection } from '@mmsc/sender';
import type { RTCDataChannel } from 'werift';
import WebSocket from 'ws';
import { receiveVideoTrack, VIDEO_TRACK_CONFIG } from './video-track.js';

/** A receiver's link in Node: `ws` signalling (headers allowed, unlike a browser's) and a werift peer asking only the ICE servers the offer names. */
export interface NodeTransport {
  transport: LinkTransport<RTCDataChannel>;
  /** Resolves when the first signalling socket opens; rejects with `refused(status)` or `unreachable(error)`. */
  connected: Promise<void>;
  /** The current signalling socket (null before the link opens one). */
  readonly socket: WebSocket | null;
}

export interface NodeTransportOptions {
  signalUrl: string;
  headers?: Record<string, string>;
  /** werift's SCTP maximum message size (the probe raises it for whole frames). */
  maxMessageSize?: number;
  /** The error for a refused upgrade (HTTP `status`). */
  refused(status: number): Error;
  /** The error for a sender that cannot be reached. */
  unreachable(error: Error): Error;
}

export function nodeTransport(o: NodeTransportOptions): NodeTransport {
  let socket: WebSocket | null = null;
  let settle: { resolve(): void; reject(e: Error): void } | null = null;
  const connected = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  connected.catch(() => undefined); // the caller awaits it; a link without a caller must not crash the process
  const once = (f: (s: { resolve(): void; reject(e: Error): void }) => void) => {
    const s = settle;
    settle = null;
    if (s) f(s);
  };
  const transport: LinkTransport<RTCDataChannel> = {
    target: o.signalUrl,
    openSocket: () => {
      const ws = new WebSocket(o.signalUrl, { headers: o.headers ?? {} });
      socket = ws;
      ws.on('error', () => {}); // reported through 'close' and `connected`; never an unhandled 'error'
      ws.once('open', () => once((s) => s.resolve()));
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        once((s) => s.reject(o.refused(res.statusCode ?? 0)));
        ws.terminate();
      });
      ws.once('error', (e) => {
        const status = /Unexpected server response: (\d+)/.exec(e.message);
        once((s) => s.reject(status ? o.refused(Number(status[1])) : o.unreachable(e)));
      });
      return ws;
    },
    // Only the ICE servers the sender's offer names (werift's default STUN server removed; werift
    // uses the first STUN and the first TURN server of them). The sender's video track, when its
    // offer has one, goes packet by packet to the session.
    createPeer: (iceServers, media) => {
      const pc = new ConfiguredPeerConnection(iceServers, {
        ...VIDEO_TRACK_CONFIG,
        iceAdditionalHostAddresses: ['127.0.0.1'],
        ...(o.maxMessageSize ? { maxMessageSize: o.maxMessageSize } : {}),
      });
      receiveVideoTrack(pc, media);
      return pc;
    },
    send: (channel, bytes) => channel.send(Buffer.from(bytes)),
  };
  return {
    transport,
    connected,
    get socket() {
      return socket;
    },
  };
}
