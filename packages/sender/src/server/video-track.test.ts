import type { SignalMessage } from '@mmsc/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { RTCPeerConnection, type RtpPacket } from 'werift';
import type { RtpVideoFormat } from '../engines/link-encoder.js';
import { defaultLimits } from './limits.js';
import { Peer } from './peer.js';
import { videoPeerConfig } from './video-track.js';

// The sender's Peer with a video track, and a plain werift peer answering it on loopback: what the
// track puts on the wire, and what comes back.
const VP8: RtpVideoFormat = { mimeType: 'video/VP8', payloadType: 96, fmtp: null };
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function connect(format: RtpVideoFormat) {
  const remote = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], ...videoPeerConfig(format) });
  for (const t of remote.iceTransports) t.connection.stunServer = undefined;
  const packets: RtpPacket[] = [];
  const tracks: { ssrc: number }[] = [];
  remote.onTransceiverAdded.subscribe((t) =>
    t.onTrack.subscribe((track) => {
      tracks.push({ ssrc: track.ssrc as number });
      track.onReceiveRtp.subscribe((rtp) => packets.push(rtp));
    }),
  );
  let peer: Peer | null = null;
  const toRemote = async (m: SignalMessage) => {
    if (m.type === 'offer') {
      await remote.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      for (const t of remote.iceTransports) t.connection.stunServer = undefined;
      await remote.setLocalDescription(await remote.createAnswer());
      await peer?.onSignal(JSON.stringify({ type: 'answer', sdp: remote.localDescription?.sdp }));
    } else if (m.type === 'candidate' && m.candidate) await remote.addIceCandidate(m.candidate as never);
  };
  peer = new Peer((m) => void toRemote(m), defaultLimits(), [], format);
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

describe('VideoTrack', () => {
  it('sends a picture as consecutive packets with one timestamp and the marker on the last', async () => {
    const { peer, packets } = await connect(VP8);
    await new Promise((r) => setTimeout(r, 200)); // the track's transport is up once DTLS is
    const payloads = [Uint8Array.of(0x10, 1, 2), Uint8Array.of(0, 3, 4), Uint8Array.of(0, 5)];
    peer.sendRtp(payloads, 123_456);
    peer.sendRtp([Uint8Array.of(0x10, 9)], 132_456);
    // Each picture's last packet (small: a trailer) comes a second time, a few ms later, with the same number.
    await until(() => packets.length >= 6);
    await new Promise((r) => setTimeout(r, 50));
    expect(packets.map((p) => p.header.timestamp)).toEqual([123_456, 123_456, 123_456, 132_456, 123_456, 132_456]);
    expect(packets.map((p) => p.header.marker)).toEqual([false, false, true, true, true, true]);
    const seqs = packets.map((p) => p.header.sequenceNumber);
    expect(seqs.map((s) => (s - (seqs[0] as number) + 0x10000) & 0xffff)).toEqual([0, 1, 2, 3, 2, 3]);
    expect(packets.map((p) => [...p.payload])).toEqual(
      [...payloads, Uint8Array.of(0x10, 9), payloads[2], Uint8Array.of(0x10, 9)].map((p) => [...(p as Uint8Array)]),
    );
    expect(peer.trackCounters()).toMatchObject({ packetsSent: 4, plis: 0, tailCopies: 2 });
  }, 15_000);

  it('does not send a large last packet twice', async () => {
    const { peer, packets } = await connect(VP8);
    await new Promise((r) => setTimeout(r, 200));
    peer.sendRtp([Uint8Array.of(0x10, 1), new Uint8Array(1000)], 5000);
    await until(() => packets.length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(packets).toHaveLength(2);
    expect(peer.trackCounters()).toMatchObject({ packetsSent: 2, tailCopies: 0 });
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

  it('a peer without a track sends nothing and has no counters', () => {
    const p = new Peer(() => undefined);
    closers.push(() => p.close('test over'));
    p.sendRtp([Uint8Array.of(1)], 0);
    expect(p.trackCounters()).toBeNull();
  });
});
