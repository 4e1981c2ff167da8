/**
 * The page's side of the receiver's link (src/session/signal-link.ts): the browser's WebSocket and
 * RTCPeerConnection (with the sender's video track, video-track.ts), the media-permission request
 * loopback needs, and why a refused upgrade was refused. Timing, backoff and what the operator is
 * told are the link's.
 */
import { adoptEarlySignal, type EarlySignal, type LinkTransport } from '../src/index.js';
import { ENCODED_STREAMS, receiveVideoTrack } from './video-track.js';

/** Chromium offers no usable host candidate on pure loopback unless the page holds media permission. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}

export function pageTransport(signalUrl: string, explainRefusal: () => Promise<string | null>): LinkTransport<RTCDataChannel> {
  let mediaAsked = false;
  return {
    // Named in the connection's tooltip and events: the token stays off the screen.
    target: signalUrl.replace(/([?&]token=)[^&#]*/, '$1…'),
    // The first attempt takes the socket index.html opened while the app loaded, if it has one.
    openSocket: () =>
      adoptEarlySignal((globalThis as { mmscEarlySignal?: EarlySignal }).mmscEarlySignal, signalUrl) ?? new WebSocket(signalUrl),
    // The sender's offer names the STUN/TURN servers to use; none named, none asked. A video track
    // in the offer hands its pictures to the session.
    createPeer: (iceServers, media) => {
      const pc = new RTCPeerConnection({ ...ENCODED_STREAMS, iceServers: iceServers.map((s) => ({ ...s })) });
      pc.ontrack = (e) => {
        if (e.track.kind === 'video') receiveVideoTrack(e.receiver, media);
      };
      return pc;
    },
    send: (channel, bytes) => channel.send(bytes as Uint8Array<ArrayBuffer>),
    explainRefusal,
    async prepare() {
      if (mediaAsked || !isLoopback(location.hostname)) return;
      mediaAsked = true;
      // Loopback only: with media permission Chromium offers a 127.0.0.1 host candidate. The fake or
      // real microphone is released at once; nothing is recorded or sent.
      try {
        const stream = await navigator.mediaDevices?.getUserMedia({ audio: true });
        for (const t of stream?.getTracks() ?? []) t.stop();
      } catch {
        // Without it loopback ICE may fail; other networks use mDNS host candidates.
      }
    },
  };
}
