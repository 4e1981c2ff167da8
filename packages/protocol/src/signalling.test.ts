import { describe, expect, it } from 'vitest';
import {
  checkAnswerSdp,
  checkSdp,
  encodeMessage,
  exampleMessages,
  MAX_HELLO_WIRE,
  MAX_SIGNAL_BYTES,
  type Message,
  parseSignal,
  SignalError,
  type SignalErrorCode,
  toBase64,
} from './index.js';

function refused(f: () => unknown): SignalErrorCode {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SignalError);
    return (e as SignalError).code;
  }
  throw new Error('expected a SignalError');
}

// A data-channel description as werift offers it (trimmed to the lines that matter).
const SDP = [
  'v=0',
  'o=- 1 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdef012345',
  'a=fingerprint:sha-256 00:11:22',
  'a=sctp-port:5000',
  '',
].join('\r\n');

describe('parseSignal: messages the sender receives', () => {
  it('accepts answers and candidates', () => {
    expect(parseSignal(JSON.stringify({ type: 'answer', sdp: 'v=0\r\n' }))).toEqual({ type: 'answer', sdp: 'v=0\r\n' });
    expect(
      parseSignal(
        JSON.stringify({ type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0' } }),
      ),
    ).toMatchObject({ type: 'candidate', candidate: { sdpMid: '0', sdpMLineIndex: null } });
    expect(parseSignal(JSON.stringify({ type: 'candidate', candidate: null }))).toEqual({ type: 'candidate', candidate: null });
  });

  it.each([
    ['not JSON', '{', 'bad-json'],
    ['not an object', '42', 'bad-signal'],
    ['an array', '[1,2]', 'bad-signal'],
    ['an unknown type', '{"type":"hack"}', 'bad-signal'],
    ['an answer without SDP', '{"type":"answer","sdp":3}', 'bad-signal'],
    ['a huge message', JSON.stringify({ type: 'answer', sdp: `v=0${'x'.repeat(70_000)}` }), 'too-large'],
  ])('rejects %s', (_, text, code) => {
    expect(refused(() => parseSignal(text))).toBe(code);
  });

  it('counts the size limit in UTF-8 bytes and takes it as a parameter', () => {
    const text = JSON.stringify({ type: 'answer', sdp: `v=0${'é'.repeat(40)}` }); // 2 bytes each
    expect(refused(() => parseSignal(text, text.length + 10))).toBe('too-large');
    expect(parseSignal(text, text.length + 40).type).toBe('answer');
    expect(MAX_SIGNAL_BYTES).toBe(64 * 1024);
  });
});

describe('parseSignal: messages a receiver gets from the sender', () => {
  it('accepts an offer, a full candidate and an error', () => {
    expect(parseSignal(JSON.stringify({ type: 'offer', sdp: SDP }))).toEqual({ type: 'offer', sdp: SDP });
    const candidate = { candidate: 'candidate:2 1 udp 2 10.0.0.1 6000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    expect(parseSignal(JSON.stringify({ type: 'candidate', candidate }))).toEqual({ type: 'candidate', candidate });
    expect(parseSignal('{"type":"error","code":"busy","message":"full"}')).toEqual({ type: 'error', code: 'busy', message: 'full' });
  });

  it('reads the ICE servers an offer may carry, and keeps an offer without them as it was', () => {
    const iceServers = [{ urls: 'stun:10.0.0.1:3478' }, { urls: 'turn:10.0.0.1?transport=tcp', username: 'u', credential: 'c' }];
    expect(parseSignal(JSON.stringify({ type: 'offer', sdp: SDP, iceServers }))).toEqual({ type: 'offer', sdp: SDP, iceServers });
    expect(parseSignal(JSON.stringify({ type: 'offer', sdp: SDP, iceServers: [] }))).toEqual({ type: 'offer', sdp: SDP, iceServers: [] });
    expect(parseSignal(JSON.stringify({ type: 'offer', sdp: SDP }))).not.toHaveProperty('iceServers');
    // Only offers carry them: an answer's are dropped, not used.
    expect(parseSignal(JSON.stringify({ type: 'answer', sdp: SDP, iceServers }))).toEqual({ type: 'answer', sdp: SDP });
  });

  it.each([
    ['not a list', { urls: 'stun:x' }, /^offer: iceServers must be an array$/],
    ['a bad URL', [{ urls: 'http://x' }], /^offer: "http:\/\/x" is not a stun:, turn: or turns: URL$/],
    ['TURN without credentials', [{ urls: 'turn:x' }], /^offer: turn:x needs a username and a credential$/],
  ])('refuses an offer whose ICE servers are %s (bad-signal)', (_, iceServers, why) => {
    const text = JSON.stringify({ type: 'offer', sdp: SDP, iceServers });
    expect(refused(() => parseSignal(text))).toBe('bad-signal');
    expect(() => parseSignal(text)).toThrow(why);
  });

  it('drops unknown candidate fields and mistyped optional ones', () => {
    const c = { candidate: 'candidate:3', sdpMid: 5, sdpMLineIndex: '0', usernameFragment: 'u' };
    expect(parseSignal(JSON.stringify({ type: 'candidate', candidate: c }))).toEqual({
      type: 'candidate',
      candidate: { candidate: 'candidate:3', sdpMid: null, sdpMLineIndex: null },
    });
  });

  it("reads a signalled hello's wire bytes, and refuses one that is not base64 or too long", () => {
    const wire = toBase64(encodeMessage(exampleMessages().find((m) => m.type === 'hello') as Message));
    expect(parseSignal(JSON.stringify({ type: 'hello', wire, extra: 1 }))).toEqual({ type: 'hello', wire });
    for (const bad of [{}, { wire: 7 }, { wire: '' }, { wire: 'not base64!' }])
      expect(refused(() => parseSignal(JSON.stringify({ type: 'hello', ...bad })))).toBe('bad-signal');
    expect(refused(() => parseSignal(JSON.stringify({ type: 'hello', wire: 'AAAA'.repeat(MAX_HELLO_WIRE / 4 + 1) })))).toBe('too-large');
  });

  it('reads a sloppy error as far as it goes (it is only shown)', () => {
    expect(parseSignal('{"type":"error"}')).toEqual({ type: 'error', code: 'unknown', message: '' });
    expect(parseSignal('{"type":"error","code":7,"message":null}')).toEqual({ type: 'error', code: '7', message: '' });
  });

  it.each([
    ['null', 'null'],
    ['a string', '"offer"'],
    ['no type', '{"sdp":"v=0"}'],
    ['an offer without SDP', '{"type":"offer"}'],
    ['an offer that is not SDP', '{"type":"offer","sdp":"hello"}'],
    ['a candidate that is a string', '{"type":"candidate","candidate":"candidate:1"}'],
    ['a candidate without its line', '{"type":"candidate","candidate":{"sdpMid":"0"}}'],
    ['a candidate array', '{"type":"candidate","candidate":["candidate:1"]}'],
  ])('rejects %s with bad-signal', (_, text) => {
    expect(refused(() => parseSignal(text))).toBe('bad-signal');
  });
});

describe('checkSdp', () => {
  it('accepts a data-channel description either way', () => {
    checkSdp(SDP, 'offer');
    checkSdp(SDP.replaceAll('\r\n', '\n'), 'answer');
    checkAnswerSdp(SDP);
  });

  it.each([
    ['v=0 alone', 'v=0', /offer SDP has no data-channel media line/],
    ['audio only', SDP.replace('m=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'm=audio 9 UDP/TLS/RTP/SAVPF 111'), /media line/],
    ['no ICE password', SDP.replace(/a=ice-pwd:.*\r\n/, ''), /offer SDP has no ICE password \(a=ice-pwd\)/],
    ['no fingerprint', SDP.replace(/a=fingerprint:.*\r\n/, ''), /DTLS fingerprint/],
    ['too many lines', `${SDP}${'a=x\r\n'.repeat(1000)}`, /lines \(at most 1000\)/],
  ])('refuses an offer with %s (bad-sdp)', (_, sdp, why) => {
    expect(refused(() => checkSdp(sdp, 'offer'))).toBe('bad-sdp');
    expect(() => checkSdp(sdp, 'offer')).toThrow(why);
  });

  it('names the side in the reason', () => {
    expect(() => checkAnswerSdp('v=0')).toThrow(/^answer SDP has no/);
  });
});
