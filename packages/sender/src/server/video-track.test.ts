import { encodeTwcc } from '@mmsc/codec';
import type { SignalMessage } from '@mmsc/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { GenericNack, RTCPeerConnection, type RTCRtpReceiver, type RtcpPacket, RtcpTransportLayerFeedback, type RtpPacket } from 'werift';
import type { RtpVideoFormat } from '../engines/link-encoder.js';
import { defaultLimits, type Limits } from './limits.js';
import { Peer, type TrackDeclined } from './peer.js';
import { trackDeclined, videoPeerConfig } from './video-track.js';

// The sender's Peer with a video track, and a plain werift peer answering it on loopback: what the
// track puts on the wire, and what comes back.
const VP8: RtpVideoFormat = { mimeType: 'video/VP8', payloadType: 96, fmtp: null };
const H264: RtpVideoFormat = {
  mimeType: 'video/H264',
  payloadType: 102,
  fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f',
};
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** How the remote peer answers: `before` runs on it before its answer, `munge` edits the answer it sends. */
interface Answering {
  before?: (remote: RTCPeerConnection) => void;
  munge?: (sdp: string) => string;
  onDecline?: TrackDeclined;
  /** The sender's limits (default: `defaultLimits()`). */
  limits?: Limits;
  /** The remote sends no transport-wide feedback of its own (its ReceiverTWCC is never made), so a test's are the only ones. */
  quiet?: boolean;
}

/** The sender's Peer offering `format` to a werift peer on loopback; resolves once the offer went out. */
async function offer(format: RtpVideoFormat, a: Answering = {}) {
  const remote = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], ...videoPeerConfig(format) });
  for (const t of remote.iceTransports) t.connection.stunServer = undefined;
  const packets: RtpPacket[] = [];
  const tracks: { ssrc: number }[] = [];
  remote.onTransceiverAdded.subscribe((t) => {
    if (a.quiet) (t.receiver as unknown as { setupTWCC: () => void }).setupTWCC = () => undefined;
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
      a.before?.(remote);
      await remote.setLocalDescription(await remote.createAnswer());
      const sdp = remote.localDescription?.sdp ?? '';
      await peer?.onSignal(JSON.stringify({ type: 'answer', sdp: a.munge ? a.munge(sdp) : sdp }));
    } else if (m.type === 'candidate' && m.candidate) await remote.addIceCandidate(m.candidate as never);
    else if (m.type === 'error') told.push(m);
    else if (m.type === 'hello') hellos.push(m.wire);
  };
  const hellos: string[] = [];
  const told: Extract<SignalMessage, { type: 'error' }>[] = [];
  const declined: string[] = [];
  const channel: number[][] = [];
  remote.onDataChannel.subscribe((dc) => dc.onMessage.subscribe((d) => channel.push([...(d as Buffer)])));
  peer = new Peer((m) => void toRemote(m), a.limits ?? defaultLimits(), [], format, a.onDecline ?? 'channel');
  peer.on('trackDeclined', (why) => declined.push(why));
  remote.onIceCandidate.subscribe((c) => {
    if (c) void peer?.onSignal(JSON.stringify({ type: 'candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null } }));
  });
  const open = new Promise<void>((resolve) => peer?.on('open', () => resolve()));
  closers.push(
    () => peer?.close('test over'),
    () => remote.close(),
  );
  await peer.start();
  return { peer, remote, packets, tracks, open, declined, told, channel, hellos };
}

/** `offer`, once the data channel is open. */
async function connect(format: RtpVideoFormat, a: Answering = {}) {
  const c = await offer(format, a);
  await c.open;
  return c;
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
  peer.sendRtp([Uint8Array.of(0x10, ...new Uint8Array(400))], 1000); // over 300 bytes: no copy of it
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
    // Each picture's last packet (small: a trailer) goes a second time, right after it, with the same number.
    await until(() => packets.length >= 6);
    await new Promise((r) => setTimeout(r, 50));
    expect(packets.map((p) => p.header.timestamp)).toEqual([123_456, 123_456, 123_456, 123_456, 132_456, 132_456]);
    expect(packets.map((p) => p.header.marker)).toEqual([false, false, true, true, true, true]);
    const seqs = packets.map((p) => p.header.sequenceNumber);
    expect(seqs.map((s) => (s - (seqs[0] as number) + 0x10000) & 0xffff)).toEqual([0, 1, 2, 2, 3, 3]);
    expect(packets.map((p) => [...p.payload])).toEqual(
      [...payloads, payloads[2], Uint8Array.of(0x10, 9), Uint8Array.of(0x10, 9)].map((p) => [...(p as Uint8Array)]),
    );
    expect(peer.trackCounters()).toMatchObject({ packetsSent: 4, plis: 0, tailCopies: 2, misnumbered: 0 });
  }, 15_000);

  it('paces the packets at the rate it is given, and foretells each packet’s transport-wide number', async () => {
    const { peer, packets } = await connect(VP8);
    await new Promise((r) => setTimeout(r, 200));
    const arrivals: number[] = [];
    const start = packets.length;
    peer.setPacingRate(1_000_000); // 125 bytes per ms
    const numbered = peer.sendRtp(
      Array.from({ length: 10 }, (_, i) => Uint8Array.of(i === 0 ? 0x10 : 0, ...new Uint8Array(1000))),
      7000,
      50,
    );
    const t0 = performance.now();
    await until(() => {
      while (arrivals.length < packets.length - start) arrivals.push(performance.now() - t0);
      return packets.length - start >= 10;
    }, 3000);
    // A burst of three, then 1,051 bytes per 8.4 ms: the last about 59 ms after the first.
    expect(arrivals.at(-1) as number).toBeGreaterThan(45);
    expect(arrivals.at(-1) as number).toBeLessThan(400);
    // What `sendRtp` said each packet's number would be is what it carries (werift's transport-wide extension).
    const tseqs = packets.slice(start).map((p) => {
      const ext = p.header.extensions.find((e) => e.payload.length === 2);
      return ext ? ext.payload.readUInt16BE(0) : null;
    });
    expect(numbered?.map((n) => n.tseq)).toEqual(tseqs);
    expect(numbered?.every((n) => n.bytes === 1051)).toBe(true);
    expect(peer.trackCounters()).toMatchObject({ misnumbered: 0 });
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
    // spent: 100 packets of 1000 bytes and one of 401, so no packet twice. (A burst of 100 kB on
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

  it('says when the answer is applied and when the track can carry pictures, before the channel opens; what is sent then arrives', async () => {
    const c = await offer(VP8);
    const order: string[] = [];
    c.peer.on('answered', () => {
      order.push('answered');
      c.peer.signalHello(Uint8Array.of(1, 2, 3));
    });
    c.peer.on('open', () => order.push('open'));
    await new Promise<void>((resolve) =>
      c.peer.on('mediaReady', () => {
        order.push('mediaReady');
        expect(c.peer.open).toBe(false);
        expect(c.peer.mediaReady).toBe(true);
        // A picture on the track and a message for the channel, both before the channel is open.
        c.peer.sendRtp([Uint8Array.of(0x10, ...new Uint8Array(400))], 1000);
        c.peer.send(Uint8Array.of(7, 7, 7));
        resolve();
      }),
    );
    await c.open;
    await until(() => c.packets.length >= 1 && c.channel.length >= 1);
    expect(order).toEqual(['answered', 'mediaReady', 'open']);
    expect(c.hellos).toEqual(['AQID']); // the bytes 1, 2, 3 in base64
    expect(c.packets[0]?.header.timestamp).toBe(1000);
    expect(c.channel).toEqual([[7, 7, 7]]);
  });

  it('a peer without a track sends nothing and has no counters', () => {
    const p = new Peer(() => undefined);
    closers.push(() => p.close('test over'));
    p.sendRtp([Uint8Array.of(1)], 0);
    expect(p.trackCounters()).toBeNull();
  });
});

/** The sender's offer for `format` and a werift peer's answer that takes its track. */
async function answerTo(format: RtpVideoFormat): Promise<string> {
  let sdp = '';
  const p = new Peer(
    (m) => {
      if (m.type === 'offer') sdp = m.sdp;
    },
    defaultLimits(),
    [],
    format,
  );
  const remote = new RTCPeerConnection({ iceServers: [], ...videoPeerConfig(format) });
  closers.push(
    () => p.close('test over'),
    () => remote.close(),
  );
  await p.start();
  await remote.setRemoteDescription({ type: 'offer', sdp });
  return (await remote.createAnswer()).sdp;
}

/** `sdp` with its video m-section changed by `edit`. */
function editVideo(sdp: string, edit: (section: string) => string): string {
  const start = sdp.indexOf('m=video');
  const end = sdp.indexOf('m=', start + 1);
  return sdp.slice(0, start) + edit(sdp.slice(start, end < 0 ? undefined : end)) + (end < 0 ? '' : sdp.slice(end));
}

describe('trackDeclined: whether an answer takes the offered track', () => {
  it('a werift peer’s plain answer takes it (H.264 and VP8)', async () => {
    expect(trackDeclined(await answerTo(H264), H264)).toBeNull();
    expect(trackDeclined(await answerTo(VP8), VP8)).toBeNull();
  });

  it.each([
    ['no video m-line', (_v: string) => '', /no video m-line/],
    ['port 0', (v: string) => v.replace(/^m=video \d+/, 'm=video 0'), /port 0/],
    ['inactive', (v: string) => v.replace(/a=(sendrecv|recvonly)/, 'a=inactive'), /is inactive/],
    ['sendonly', (v: string) => v.replace(/a=(sendrecv|recvonly)/, 'a=sendonly'), /is sendonly/],
    ['another codec', (v: string) => v.replace('H264/90000', 'VP8/90000'), /no video\/H264 f4001f codec/],
    ['another H.264 profile', (v: string) => v.replaceAll('profile-level-id=f4001f', 'profile-level-id=42e01f'), /no video\/H264 f4001f/],
    ['packetization mode 0', (v: string) => v.replace('packetization-mode=1', 'packetization-mode=0'), /no video\/H264/],
  ])('%s: declined, and the reason says so', async (_, edit, why) => {
    const answer = await answerTo(H264);
    expect(answer).toMatch(/a=(sendrecv|recvonly)/);
    expect(trackDeclined(editVideo(answer, edit), H264)).toMatch(why);
  });

  it('another H.264 level, or no direction (sendrecv), still takes it', async () => {
    const answer = await answerTo(H264);
    expect(
      trackDeclined(
        editVideo(answer, (v) => v.replace('profile-level-id=f4001f', 'profile-level-id=f40028')),
        H264,
      ),
    ).toBeNull();
    expect(
      trackDeclined(
        editVideo(answer, (v) => v.replace(/a=(sendrecv|recvonly)\r\n/, '')),
        H264,
      ),
    ).toBeNull();
  });
});

describe('Peer: an answer that declines the video track', () => {
  const inactive = (remote: RTCPeerConnection) => {
    for (const t of remote.getTransceivers()) t.setDirection('inactive');
  };

  it.each([
    // werift answers an inactive transceiver with port 0.
    ['a werift peer sets its transceiver inactive', { before: inactive }, /port 0/],
    [
      'the answer says inactive',
      { munge: (sdp: string) => editVideo(sdp, (v) => v.replace(/a=(sendrecv|recvonly)/, 'a=inactive')) },
      /inactive/,
    ],
    [
      'the answer rejects the m-line (port 0)',
      { munge: (sdp: string) => editVideo(sdp, (v) => v.replace(/^m=video \d+/, 'm=video 0')) },
      /port 0/,
    ],
    [
      'the answer lists no offered codec',
      { munge: (sdp: string) => editVideo(sdp, (v) => v.replace('H264/90000', 'VP8/90000')) },
      /no video\/H264/,
    ],
  ])(
    '%s: the data channel opens, the track is dropped, and `trackDeclined` says why',
    async (_, answering, why) => {
      const { peer, declined, told, channel } = await connect(H264, answering);
      expect(declined).toHaveLength(1);
      expect(declined[0]).toMatch(why);
      expect(told).toEqual([]);
      expect(peer.open).toBe(true);
      expect(peer.trackCounters()).toBeNull();
      expect(peer.sendRtp([Uint8Array.of(0x10, 1)], 0)).toBeNull();
      // The data channel carries what the session sends.
      peer.send(Uint8Array.of(7, 8, 9));
      await until(() => channel.length > 0);
      expect(channel).toEqual([[7, 8, 9]]);
    },
    15_000,
  );

  it('an answer that takes it keeps the track', async () => {
    const { peer, declined } = await connect(H264);
    expect(declined).toEqual([]);
    expect(peer.trackCounters()).toMatchObject({ packetsSent: 0 });
  }, 15_000);

  it('a sender that sends only on the track refuses the session with track-declined', async () => {
    const { peer, told, declined } = await offer(H264, { before: inactive, onDecline: 'refuse' });
    await until(() => peer.isClosed);
    expect(told).toEqual([{ type: 'error', code: 'track-declined', message: expect.stringMatching(/port 0.*only on the video track/) }]);
    expect(declined).toEqual([]);
    expect(peer.isClosed).toBe(true);
  }, 15_000);
});
