import { decodeTwcc, TWCC_REFERENCE_UNIT_US, twccArrivals } from '@mmsc/codec';
import type { MediaSink } from '@mmsc/receiver';
import { ConfiguredPeerConnection } from '@mmsc/sender';
import { afterEach, describe, expect, it } from 'vitest';
import { RTCPeerConnection, type RTCRtpTransceiver, RtcpTransportLayerFeedback, RtpHeader, RtpPacket, TransportWideCC } from 'werift';
import { receiveVideoTrack, VIDEO_TRACK_CONFIG } from './video-track.js';

// A werift peer sending a video track as the sender's Peer does (transport-cc and the
// transport-wide sequence number extension), and the Node receiver on loopback: the feedback
// the sending side hears, read with werift's parse and twccArrivals (which agree with decodeTwcc,
// the sender's reader: codec's twcc tests check).
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (ok: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(20);
};

/** Connects a sending peer to a receiving one; `ours` false leaves the receiver to werift alone. */
async function connect(o: { ours?: boolean; lossPercent?: number } = {}) {
  const sender = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], ...VIDEO_TRACK_CONFIG });
  for (const t of sender.iceTransports) t.connection.stunServer = undefined;
  const receiver = new ConfiguredPeerConnection([], {
    ...VIDEO_TRACK_CONFIG,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    // werift drops an inbound datagram when inboundPacketLoss / 100 < Math.random(): 100 − loss.
    ...(o.lossPercent ? { debug: { inboundPacketLoss: 100 - o.lossPercent } } : {}),
  });
  closers.push(
    () => sender.close(),
    () => receiver.close(),
  );
  const rtpSeqs = new Set<number>();
  const media: MediaSink = { track: () => undefined, packet: (p) => rtpSeqs.add(p.seq), picture: () => undefined, rtt: () => undefined };
  if (o.ours !== false) receiveVideoTrack(receiver, media);
  const transceiver: RTCRtpTransceiver = sender.addTransceiver('video', { direction: 'sendonly' });
  sender.onIceCandidate.subscribe((c) => void (c && receiver.addIceCandidate(c)));
  receiver.onIceCandidate.subscribe((c) => void (c && sender.addIceCandidate(c)));
  await sender.setLocalDescription(await sender.createOffer());
  await receiver.setRemoteDescription(sender.localDescription as never);
  await receiver.setLocalDescription(await receiver.createAnswer());
  await sender.setRemoteDescription(receiver.localDescription as never);
  await until(() => transceiver.sender.dtlsTransport?.state === 'connected', 10_000);
  await sleep(100);
  const feedback: TransportWideCC[] = [];
  transceiver.sender.onRtcp.subscribe((p) => {
    if (p instanceof RtcpTransportLayerFeedback && p.feedback instanceof TransportWideCC) feedback.push(p.feedback);
  });
  // Every transport-wide feedback packet the receiving side puts on the wire, whoever made it.
  const sent: Uint8Array[] = [];
  const dtls = receiver.getTransceivers().find((t) => t.kind === 'video')?.receiver.dtlsTransport;
  if (!dtls) throw new Error('no DTLS transport on the receiver');
  const sendRtcp = dtls.sendRtcp.bind(dtls);
  dtls.sendRtcp = (packets) => {
    for (const p of packets) {
      const b = p.serialize();
      if (b[1] === 205 && ((b[0] as number) & 0x1f) === 15) sent.push(Uint8Array.from(b));
    }
    return sendRtcp(packets);
  };
  return { transceiver, receiver, feedback, sent, rtpSeqs };
}

/** Sends `n` packets in bursts of `burst` (each at once), `gapMs` apart; resolves with the time it took (µs). */
async function send(transceiver: RTCRtpTransceiver, n: number, burst: number, gapMs: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i += burst) {
    const sends: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + burst); j++) {
      const header = new RtpHeader({
        payloadType: 102,
        sequenceNumber: (1000 + j) & 0xffff,
        timestamp: 3000 * i,
        marker: j === i + burst - 1,
      });
      sends.push(transceiver.sender.sendRtp(new RtpPacket(header, Buffer.alloc(200, j & 0xff))));
    }
    await Promise.all(sends);
    if (i + burst < n) await sleep(gapMs);
  }
  return (performance.now() - start) * 1000;
}

/** Every transport-wide sequence number the feedback covers, with its arrival (µs on the receiver's clock) or null. */
function arrivals(feedback: TransportWideCC[]): Map<number, number | null> {
  const out = new Map<number, number | null>();
  for (const f of feedback) {
    twccArrivals(f).forEach((t, i) => {
      const seq = (f.baseSequenceNumber + i) & 0xffff;
      expect(out.has(seq)).toBe(false); // each number once: one feedback stream, no second opinion
      out.set(seq, t === null ? null : t + f.referenceTime * TWCC_REFERENCE_UNIT_US);
    });
  }
  return out;
}

describe('TwccFeedbackSender (the Node receiver’s transport-wide feedback)', () => {
  it('reports every packet, in order, with arrivals as far apart as the sends; werift sends none of its own', async () => {
    const { transceiver, receiver, feedback, sent } = await connect();
    const n = 300;
    const sendUs = await send(transceiver, n, 10, 10);
    await until(() => arrivals(feedback).size >= n);
    const got = arrivals(feedback);
    // werift's sender numbers its packets from 1.
    expect([...got.keys()]).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const times = [...got.values()];
    expect(times.every((t) => t !== null)).toBe(true);
    const ts = times as number[];
    for (let i = 1; i < n; i++) expect(ts[i]).toBeGreaterThanOrEqual(ts[i - 1] as number);
    // The bursts' spacing comes back: the arrivals span about the time the sends took.
    expect(Math.abs((ts[n - 1] as number) - (ts[0] as number) - sendUs)).toBeLessThan(60_000);
    // One feedback 50 ms after the first packet it covers (the next burst starts the next wait),
    // counted from 0; the last after the sends ended.
    expect(feedback.map((f) => f.fbPktCount)).toEqual(feedback.map((_, i) => i));
    expect(feedback.length).toBeGreaterThanOrEqual(Math.floor(sendUs / 80_000));
    expect(feedback.length).toBeLessThanOrEqual(Math.ceil(sendUs / 50_000) + 2);
    // Every feedback packet that left the receiver was ours (werift's made none), and the sender heard each.
    expect(sent.map((b) => decodeTwcc(b).fbCount)).toEqual(feedback.map((f) => f.fbPktCount));
    // werift's ReceiverTWCC was never made.
    const r = receiver.getTransceivers().find((t) => t.kind === 'video')?.receiver;
    expect(r).toBeDefined();
    expect((r as unknown as { receiverTWCC?: unknown }).receiverTWCC).toBeUndefined();
  }, 20_000);

  it('sends at once when 100 packets wait', async () => {
    const { transceiver, feedback, rtpSeqs } = await connect();
    // 300 packets within a few ms, in bursts of 25 (a burst of hundreds overflows the receiving
    // socket's buffer: this process sends and receives).
    await send(transceiver, 300, 25, 2);
    await sleep(200);
    const received = feedback.map((f) => twccArrivals(f).filter((t) => t !== null).length);
    // All the track got is reported (less any repair of a packet the socket dropped).
    const reported = received.reduce((a, b) => a + b, 0);
    expect(reported).toBeLessThanOrEqual(rtpSeqs.size);
    expect(reported).toBeGreaterThan(200);
    // Some feedback went at 100 waiting, before its 50 ms were up; none waited for more.
    expect(Math.max(...received)).toBe(100);
  }, 20_000);

  it('reports lost packets as not received, and their repairs not at all', async () => {
    const { transceiver, feedback, rtpSeqs } = await connect({ lossPercent: 10 });
    const n = 400;
    await send(transceiver, n, 10, 10);
    await sleep(500);
    const got = arrivals(feedback);
    const lost = [...got.values()].filter((t) => t === null).length;
    const reported = [...got.values()].filter((t) => t !== null).length;
    // ~10 % of 400 lost; the feedback says so.
    expect(lost).toBeGreaterThan(10);
    expect(lost).toBeLessThan(100);
    // NACKs repaired most of them: the track got more packets than the feedback reports as arrived.
    expect(rtpSeqs.size).toBeGreaterThan(reported);
  }, 20_000);

  it('without ours, werift’s own feedback goes out (so the first test can tell)', async () => {
    const { transceiver, sent } = await connect({ ours: false });
    await send(transceiver, 100, 10, 10);
    await until(() => sent.length > 0, 2000);
    expect(sent.length).toBeGreaterThan(0);
  }, 20_000);
});
