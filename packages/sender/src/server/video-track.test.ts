import { encodeTwcc } from '@mmsc/codec';
import type { SignalMessage } from '@mmsc/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { GenericNack, RTCPeerConnection, type RTCRtpReceiver, type RtcpPacket, RtcpTransportLayerFeedback, type RtpPacket } from 'werift';
import type { RtpVideoFormat } from '../engines/link-encoder.js';
import { defaultLimits, type Limits } from './limits.js';
import { Peer } from './peer.js';
import { videoPeerConfig } from './video-track.js';

// The sender's Peer with a video track, and a plain werift peer answering it on loopback: what the
// track puts on the wire, and what comes back.
const VP8: RtpVideoFormat = { mimeType: 'video/VP8', payloadType: 96, fmtp: null };
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/**
 * The sender's peer (with `limits`) and a werift peer answering it. `quiet`: the remote sends no
 * transport-wide feedback of its own (its ReceiverTWCC is never made), so a test's are the only ones.
 */
async function connect(format: RtpVideoFormat, o: { limits?: Limits; quiet?: boolean } = {}) {
  const remote = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], ...videoPeerConfig(format) });
  for (const t of remote.iceTransports) t.connection.stunServer = undefined;
  const packets: RtpPacket[] = [];
  const tracks: { ssrc: number }[] = [];
  remote.onTransceiverAdded.subscribe((t) => {
    if (o.quiet) (t.receiver as unknown as { setupTWCC: () => void }).setupTWCC = () => undefined;
    t.onTrack.subscribe((track) => {
      tracks.push({ ssrc: track.ssrc as number });
      track.onReceiveRtp.subscribe((rtp) => packets.push(rtp));
    });
  });
  let peer: Peer | null = null;
  const toRemote = async (m: SignalMessage) => {
    if (m.type === 'offer') {
      await remote.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      for (const t of remote.iceTransports) t.connection.stunServer = undefined;
      await remote.setLocalDescription(await remote.createAnswer());
      await peer?.onSignal(JSON.stringify({ type: 'answer', sdp: remote.localDescription?.sdp }));
    } else if (m.type === 'candidate' && m.candidate) await remote.addIceCandidate(m.candidate as never);
  };
  peer = new Peer((m) => void toRemote(m), o.limits ?? defaultLimits(), [], format);
  remote.onIceCandidate.subscribe((c) => {
    if (c) void peer?.onSignal(JSON.stringify({ type: 'candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null } }));
  });
  const open = new Promise<void>((resolve) => peer?.on('open', () => resolve()));
  closers.push(
    () => peer?.close('test over'),
    () => remote.close(),
  );
  await peer.start();
  await open;
  return { peer, remote, packets, tracks };
}

const until = async (ok: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The remote's receiver of the track, and a way to send it raw RTCP bytes (werift encrypts them as they are). */
function remoteRtcp(remote: RTCPeerConnection) {
  const receiver = remote.getTransceivers()[0]?.receiver as RTCRtpReceiver;
  const raw = (bytes: Uint8Array) => ({ serialize: () => Buffer.from(bytes) }) as unknown as RtcpPacket;
  return { receiver, send: (...bytes: Uint8Array[]) => receiver.dtlsTransport.sendRtcp(bytes.map(raw)) };
}

/** Sends one picture of a single packet and waits for it: the sender's SSRC. */
async function firstPacket(peer: Peer, packets: RtpPacket[]): Promise<number> {
  await sleep(200); // the track's transport is up once DTLS is
  peer.sendRtp([Uint8Array.of(0x10, 1)], 1000);
  await until(() => packets.length >= 1);
  return packets[0]?.header.ssrc as number;
}

describe('VideoTrack', () => {
  it('sends a picture as consecutive packets with one timestamp and the marker on the last', async () => {
    const { peer, packets } = await connect(VP8);
    await new Promise((r) => setTimeout(r, 200)); // the track's transport is up once DTLS is
    const payloads = [Uint8Array.of(0x10, 1, 2), Uint8Array.of(0, 3, 4), Uint8Array.of(0, 5)];
    peer.sendRtp(payloads, 123_456);
    peer.sendRtp([Uint8Array.of(0x10, 9)], 132_456);
    await until(() => packets.length >= 4);
    expect(packets.map((p) => p.header.timestamp)).toEqual([123_456, 123_456, 123_456, 132_456]);
    expect(packets.map((p) => p.header.marker)).toEqual([false, false, true, true]);
    const seqs = packets.map((p) => p.header.sequenceNumber);
    expect(seqs.map((s) => (s - (seqs[0] as number) + 0x10000) & 0xffff)).toEqual([0, 1, 2, 3]);
    expect(packets.map((p) => [...p.payload])).toEqual([...payloads, Uint8Array.of(0x10, 9)].map((p) => [...p]));
    expect(peer.trackCounters()).toMatchObject({ packetsSent: 4, plis: 0 });
  }, 15_000);

  it('hands on a picture loss indication from the receiver', async () => {
    const { peer, remote, packets } = await connect(VP8);
    await new Promise((r) => setTimeout(r, 200));
    const losses: number[] = [];
    peer.on('pictureLoss', () => losses.push(Date.now()));
    peer.sendRtp([Uint8Array.of(0x10, 1)], 1000);
    await until(() => packets.length >= 1);
    const receiver = remote.getTransceivers()[0]?.receiver;
    await receiver?.sendRtcpPLI(packets[0]?.header.ssrc as number);
    await until(() => losses.length >= 1);
    expect(losses).toHaveLength(1);
    expect(peer.trackCounters()?.plis).toBe(1);
  }, 15_000);

  it('answers a flood of NACKs with at most one more copy of the bytes it sent', async () => {
    const { peer, remote, packets } = await connect(VP8, { quiet: true });
    const ssrc = await firstPacket(peer, packets);
    for (let i = 0; i < 20; i++) {
      peer.sendRtp(
        Array.from({ length: 5 }, () => new Uint8Array(1000)),
        2000 + i,
      );
      await sleep(10);
    }
    await until(() => packets.length >= 101);
    const seqs = packets.map((p) => p.header.sequenceNumber);
    const { receiver } = remoteRtcp(remote);
    for (let i = 0; i < 100; i++) {
      const feedback = new GenericNack({ senderSsrc: receiver.rtcpSsrc, mediaSourceSsrc: ssrc, lost: seqs });
      await receiver.dtlsTransport.sendRtcp([new RtcpTransportLayerFeedback({ feedback })]);
    }
    await sleep(300);
    const c = peer.trackCounters();
    expect(c?.nacks).toBe(100);
    // Every packet is resent once (the first NACK); past that the credit, the bytes first sent, is
    // spent: 100 packets of 1000 bytes and one of 2, so no packet twice. (A burst of 100 kB on
    // loopback may lose a few of the copies on the way: the sender's count is what it sent.)
    expect(c?.resentPackets).toBe(101);
    const seen = new Set<number>();
    let again = 0;
    for (const p of packets) {
      if (seen.has(p.header.sequenceNumber)) again++;
      seen.add(p.header.sequenceNumber);
    }
    expect(seen.size).toBe(101);
    expect(again).toBeGreaterThan(50);
    expect(again).toBeLessThanOrEqual(101);
  }, 15_000);

  it('reads transport-wide feedback itself: about its SSRC only, malformed ones counted, big ones within the report budget', async () => {
    const { peer, remote, packets } = await connect(VP8, { quiet: true });
    const heard: { base: number; arrivals: (number | null)[] }[] = [];
    peer.on('transportFeedback', (base, arrivals) => heard.push({ base, arrivals }));
    const ssrc = await firstPacket(peer, packets);
    const { send } = remoteRtcp(remote);
    const fb = (mediaSsrc: number, packets: (number | null)[], referenceTime = 10) =>
      encodeTwcc({ senderSsrc: 1, mediaSsrc, baseSeq: 7, referenceTime, fbCount: 0, packets });
    await send(fb(ssrc, [0, null, 2500]));
    await send(fb(ssrc + 1, [0])); // another SSRC
    await send(fb(ssrc, [0], -1)); // a reference time read as 24 bits unsigned, as werift reads it
    const zeroRuns = fb(ssrc, [0]);
    zeroRuns[20] = 0x20; // a run of length 0
    zeroRuns[21] = 0x00;
    await send(zeroRuns);
    // 60,000 packets reported in 40 bytes: the first takes most of the burst, the rest are dropped unread.
    for (let i = 0; i < 10; i++)
      await send(
        fb(
          ssrc,
          Array.from({ length: 60_000 }, () => null),
        ),
      );
    await until(() => (peer.trackCounters()?.feedbackDropped ?? 0) >= 9);
    expect(heard.slice(0, 2)).toEqual([
      { base: 7, arrivals: [640, null, 642.5] },
      { base: 7, arrivals: [0xffffff * 64] },
    ]);
    expect(heard).toHaveLength(3);
    expect(heard[2]?.arrivals).toHaveLength(60_000);
    expect(peer.trackCounters()).toMatchObject({ transportFeedback: 3, badFeedback: 1, feedbackDropped: 9 });
  }, 15_000);

  it('drops RTCP over the byte budget before werift reads it', async () => {
    const limits = { ...defaultLimits(), rtcpBytesPerSecond: 100, rtcpBurstBytes: 240 };
    const { peer, remote, packets } = await connect(VP8, { limits, quiet: true });
    const losses: number[] = [];
    peer.on('pictureLoss', () => losses.push(1));
    const ssrc = await firstPacket(peer, packets);
    const { receiver } = remoteRtcp(remote);
    for (let i = 0; i < 100; i++) await receiver.sendRtcpPLI(ssrc);
    await sleep(300);
    // 12-byte PLIs: 20 in the burst, and a few more as it refills while they are sent.
    expect(losses.length).toBeGreaterThanOrEqual(20);
    expect(losses.length).toBeLessThan(40);
    expect(peer.trackCounters()).toMatchObject({ plis: losses.length, rtcpDropped: 100 - losses.length });
  }, 15_000);

  it('a peer without a track sends nothing and has no counters', () => {
    const p = new Peer(() => undefined);
    closers.push(() => p.close('test over'));
    p.sendRtp([Uint8Array.of(1)], 0);
    expect(p.trackCounters()).toBeNull();
  });
});
