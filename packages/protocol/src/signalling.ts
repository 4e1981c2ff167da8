import { isBase64 } from './base64.js';
import { utf8Length } from './check.js';
import { type IceServer, toIceServers } from './ice-servers.js';

/**
 * Signalling over the /signal WebSocket: JSON text messages. The sender offers (it owns the data
 * channel); candidates trickle both ways; either side may send an error. One schema, checked by
 * the sender, the page and `mmsc probe` alike. Pure and isomorphic: no Node or DOM imports.
 */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

export type SignalMessage =
  /** `iceServers`: the STUN/TURN servers the sender uses, for the receiver's peer (absent: none). */
  | { type: 'offer'; sdp: string; iceServers?: IceServer[] }
  | { type: 'answer'; sdp: string }
  | { type: 'candidate'; candidate: IceCandidate | null }
  /**
   * The session's `hello` protocol message (`wire`: its msgpack bytes, base64), sent by the sender
   * as soon as the answer is applied, ahead of the same hello on the data channel: a session whose
   * pictures come on the video track can show its first picture before the channel is open.
   */
  | { type: 'hello'; wire: string }
  | { type: 'error'; code: string; message: string };

/** Why a signalling message was refused; the codes are session error codes (PROTOCOL.md § Session errors). */
export type SignalErrorCode = 'bad-json' | 'bad-signal' | 'bad-sdp' | 'too-large';

export class SignalError extends Error {
  override readonly name = 'SignalError';
  constructor(
    readonly code: SignalErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const MAX_SIGNAL_BYTES = 64 * 1024;
/** The longest `wire` of a signalled hello, in base64 characters (a hello is well under 1 KiB). */
export const MAX_HELLO_WIRE = 8 * 1024;

/** Parses one signalling message from the peer; throws SignalError with a reason the peer can be told. */
export function parseSignal(text: string, maxBytes = MAX_SIGNAL_BYTES): SignalMessage {
  if (utf8Length(text) > maxBytes) throw new SignalError('too-large', `signalling message over ${maxBytes} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new SignalError('bad-json', 'signalling message is not JSON');
  }
  const m = v as Record<string, unknown> | null;
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw new SignalError('bad-signal', 'signalling message must be a JSON object');
  switch (m.type) {
    case 'offer':
    case 'answer':
      if (typeof m.sdp !== 'string' || !m.sdp.startsWith('v=0')) throw new SignalError('bad-signal', `${m.type} needs an SDP string`);
      if (m.type === 'answer' || m.iceServers === undefined) return { type: m.type, sdp: m.sdp };
      try {
        return { type: 'offer', sdp: m.sdp, iceServers: toIceServers(m.iceServers) };
      } catch (e) {
        throw new SignalError('bad-signal', `offer: ${(e as Error).message}`);
      }
    case 'candidate': {
      const c = m.candidate as Record<string, unknown> | null | undefined;
      if (c === null || c === undefined) return { type: 'candidate', candidate: null };
      if (typeof c !== 'object' || typeof c.candidate !== 'string')
        throw new SignalError('bad-signal', 'candidate needs {candidate: string}');
      const mid = c.sdpMid;
      const idx = c.sdpMLineIndex;
      return {
        type: 'candidate',
        candidate: {
          candidate: c.candidate,
          sdpMid: typeof mid === 'string' ? mid : null,
          sdpMLineIndex: typeof idx === 'number' ? idx : null,
        },
      };
    }
    case 'hello':
      if (typeof m.wire !== 'string' || !isBase64(m.wire) || m.wire.length === 0)
        throw new SignalError('bad-signal', 'hello needs its message bytes as padded base64 in `wire`');
      if (m.wire.length > MAX_HELLO_WIRE) throw new SignalError('too-large', `a hello's wire is at most ${MAX_HELLO_WIRE} characters`);
      return { type: 'hello', wire: m.wire };
    case 'error':
      // Lenient on purpose: an error is shown, never acted on, so a sloppy one still says something.
      return { type: 'error', code: String(m.code ?? 'unknown'), message: String(m.message ?? '') };
    default:
      throw new SignalError('bad-signal', `unknown signalling message type ${JSON.stringify(m.type)}`);
  }
}

/**
 * Checks that an offer or answer describes a WebRTC data channel: an SCTP application media line,
 * ICE credentials and a DTLS fingerprint. werift accepts a bare `v=0` and only fails the connection
 * later, with nothing said to the peer; this says why at once.
 */
export function checkSdp(sdp: string, kind: 'offer' | 'answer'): void {
  const lines = sdp.split(/\r?\n/);
  if (lines.length > 1000) throw new SignalError('bad-sdp', `${kind} SDP has ${lines.length} lines (at most 1000)`);
  const has = (prefix: string) => lines.some((l) => l.startsWith(prefix));
  if (!lines.some((l) => /^m=application \d+ [\w/]*SCTP/.test(l)))
    throw new SignalError('bad-sdp', `${kind} SDP has no data-channel media line (m=application … SCTP)`);
  for (const [prefix, what] of [
    ['a=ice-ufrag:', 'ICE username fragment'],
    ['a=ice-pwd:', 'ICE password'],
    ['a=fingerprint:', 'DTLS fingerprint'],
  ] as const) {
    if (!has(prefix)) throw new SignalError('bad-sdp', `${kind} SDP has no ${what} (${prefix.slice(0, -1)})`);
  }
}

/** The sender's check on the receiver's answer. */
export function checkAnswerSdp(sdp: string): void {
  checkSdp(sdp, 'answer');
}
