/**
 * Codes of the `error` messages a sender sends to a receiver (on the data channel, or as JSON on the
 * signalling socket), beyond the `ProtocolError` codes of malformed messages. One registry, so the
 * sender, the page and `mmsc probe` agree; PROTOCOL.md § Session errors documents each.
 */
export const SESSION_ERROR_CODES = {
  busy: 'the sender serves its maximum number of receivers (or pending handshakes); try again later',
  'bad-json': 'a signalling message is not JSON',
  'bad-signal': 'a signalling message has the wrong shape or type',
  'bad-sdp': 'the answer SDP is not a usable WebRTC data-channel description',
  'too-large': 'a signalling message exceeds the size limit',
  'too-many-candidates': 'more ICE candidates than a session may send (pending or in total)',
  'rate-limited': 'messages of this kind arrive faster than the session allows (signalling, queries)',
  'handshake-timeout': 'the data channel did not open within the handshake deadline',
  'offer-failed': 'the sender could not create its offer',
  'track-declined': 'the answer declines the video track, and this sender sends pictures only on it (serve --transport rtp)',
  'bad-query': 'the query was refused (e.g. too many words); the previous query stays',
  'unexpected-message': 'a receiver sent a message type only senders send',
  'feedback-rejected': 'feedback with impossible bytes or timestamps was ignored',
  'no-frames': 'the source produces no frames (the message says why)',
  internal: 'an unexpected error inside this session; the session is closed, others go on',
  'shutting-down': 'the sender is stopping',
} as const;

export type SessionErrorCode = keyof typeof SESSION_ERROR_CODES;

export function isSessionErrorCode(code: string): code is SessionErrorCode {
  return Object.hasOwn(SESSION_ERROR_CODES, code);
}
