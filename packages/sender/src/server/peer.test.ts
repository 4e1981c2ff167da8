import type { IceServer, SignalMessage } from '@mmsc/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { RtpVideoFormat } from '../engines/link-encoder.js';
import { defaultLimits } from './limits.js';
import { Peer, SCTP_FIRST_RTO_S } from './peer.js';

// A real werift peer fed signalling text by hand: what it tells the remote side and when it closes.
const peers: Peer[] = [];
function peer(limits = defaultLimits(), iceServers: IceServer[] = [], video: RtpVideoFormat | null = null) {
  const told: SignalMessage[] = [];
  const p = new Peer((m) => told.push(m), limits, iceServers, video);
  const closed: string[] = [];
  p.on('closed', (r) => closed.push(r));
  peers.push(p);
  return { p, told, closed, errors: () => told.filter((m) => m.type === 'error') as Extract<SignalMessage, { type: 'error' }>[] };
}
afterEach(() => {
  for (const p of peers.splice(0)) p.close('test over');
});

const candidate = (i: number, pad = 0) =>
  JSON.stringify({
    type: 'candidate',
    candidate: { candidate: `candidate:${i} 1 udp 2122260223 127.0.0.1 ${10000 + (i % 50000)} typ host${' '.repeat(pad)}`, sdpMid: '0' },
  });

describe('Peer: the offer', () => {
  it('offers a send-only video track in exactly the engine’s format on transport rtp, and none otherwise', async () => {
    const h264 = { mimeType: 'video/H264', payloadType: 102, fmtp: 'packetization-mode=1;profile-level-id=f4001f' };
    const sdp = async (video: RtpVideoFormat | null) => {
      const { p, told } = peer(defaultLimits(), [], video);
      await p.start();
      return (told.find((m) => m.type === 'offer') as { sdp: string }).sdp;
    };
    const withTrack = await sdp(h264);
    const video = withTrack.slice(withTrack.indexOf('m=video'), withTrack.indexOf('m=application'));
    expect(video).toMatch(/^m=video 9 UDP\/TLS\/RTP\/SAVPF 102\r\n/);
    expect(video).toContain('a=sendonly');
    expect(video.match(/a=rtpmap:\d+ [^\r]+/g)).toEqual(['a=rtpmap:102 H264/90000']);
    expect(video.match(/a=rtcp-fb:102 [^\r]+/g)).toEqual(['a=rtcp-fb:102 nack', 'a=rtcp-fb:102 nack pli', 'a=rtcp-fb:102 transport-cc']);
    expect(video).toContain('a=fmtp:102 packetization-mode=1;profile-level-id=f4001f');
    expect(withTrack).toContain('m=application');
    const without = await sdp(null);
    expect(without).not.toContain('m=video');
    expect(without).toContain('m=application');
  });

  it('times its SCTP handshake out after 1 s, not werift’s 3 s', () => {
    const { p } = peer();
    const sctp = (p.pc.sctpTransport as unknown as { sctp: { rto: number } }).sctp;
    expect(sctp.rto).toBe(SCTP_FIRST_RTO_S);
    expect(SCTP_FIRST_RTO_S).toBe(1);
  });

  it('names no ICE server when none is configured, and says when it went out', async () => {
    const { p, told } = peer();
    const offered: SignalMessage[] = [];
    p.on('offered', () => offered.push(...told.filter((m) => m.type === 'offer')));
    await p.start();
    // werift trickles its host candidates while it gathers, before the offer.
    expect(told.filter((m) => m.type !== 'candidate')).toEqual([{ type: 'offer', sdp: expect.stringMatching(/^v=0/) }]);
    expect(offered).toHaveLength(1);
  });

  it('hands the configured ICE servers to the receiver in the offer', async () => {
    // A TURN server nobody listens on: werift's allocation fails and the offer still goes out.
    const servers = [{ urls: 'turn:127.0.0.1:9?transport=tcp', username: 'u', credential: 'c' }];
    const { p, told } = peer(defaultLimits(), servers);
    await p.start();
    expect(told.find((m) => m.type === 'offer')).toEqual({ type: 'offer', sdp: expect.stringMatching(/^v=0/), iceServers: servers });
  });
});

describe('Peer: ICE candidates', () => {
  it('holds at most maxPendingCandidates before the answer, then refuses and closes', async () => {
    const { p, errors, closed } = peer();
    await p.start();
    for (let i = 0; i < 2000; i++) await p.onSignal(candidate(i));
    expect(errors().map((e) => e.code)).toEqual(['too-many-candidates']);
    expect(closed[0]).toMatch(/too-many-candidates/);
    expect((p as unknown as { pendingCandidates: unknown[] }).pendingCandidates.length).toBe(0);
  });

  it('refuses a candidate over maxCandidateBytes without holding it', async () => {
    const { p, errors, closed } = peer();
    await p.start();
    await p.onSignal(candidate(1, 60_000));
    expect(errors().map((e) => e.code)).toEqual(['too-large']);
    expect((p as unknown as { pendingCandidates: unknown[] }).pendingCandidates.length).toBe(0);
    expect(closed).toEqual([]);
  });

  it('counts candidates over the session, not only the pending ones', async () => {
    const { p, errors, closed } = peer({ ...defaultLimits(), maxPendingCandidates: 1000, maxCandidates: 10 });
    await p.start();
    for (let i = 0; i < 50; i++) await p.onSignal(candidate(i));
    expect(errors().map((e) => e.code)).toEqual(['too-many-candidates']);
    expect(closed).toHaveLength(1);
  });
});

describe('Peer: answer SDP', () => {
  it.each([
    ['v=0 alone', 'v=0'],
    ['no media line', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'],
    ['no ICE credentials', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n'],
  ])('%s: the peer is told bad-sdp with the reason, then the session closes', async (_, sdp) => {
    const { p, errors, closed } = peer();
    await p.start();
    await p.onSignal(JSON.stringify({ type: 'answer', sdp }));
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({ code: 'bad-sdp' });
    expect(errors()[0]?.message).toMatch(/answer SDP has no/);
    expect(closed[0]).toMatch(/^bad-sdp/);
  });

  it('bad JSON and unknown types are answered, not fatal', async () => {
    const { p, errors, closed } = peer();
    await p.start();
    await p.onSignal('{');
    await p.onSignal('{"type":"hack"}');
    await p.onSignal('[1,2]');
    await p.onSignal('{"type":"hello","wire":"AAAA"}'); // only the sender sends one
    expect(errors().map((e) => e.code)).toEqual(['bad-json', 'bad-signal', 'bad-signal', 'bad-signal']);
    expect(errors()[3]?.message).toMatch(/^the sender sends the hello/);
    expect(closed).toEqual([]);
  });
});
