import type { EngineName } from '@mmsc/protocol';
import { LocalDecoding, ReceivingSession, type SessionError } from '@mmsc/receiver';
import { ConfiguredPeerConnection } from '@mmsc/sender';
import { startTestSender, type TestSender } from '@mmsc/sender/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { RTCDataChannel } from 'werift';
import WebSocket from 'ws';
import { probe } from '../commands/probe.js';
import { nodeVideoDecoders } from './node-decoders.js';
import { receiveVideoTrack, VIDEO_TRACK_CONFIG } from './video-track.js';

// The real sender with a codec engine on the RTP video track, and the Node receiver (werift).
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});
async function sender(engine: EngineName, transport: 'auto' | 'rtp' = 'rtp'): Promise<TestSender> {
  const s = await startTestSender({ engine, transport });
  cleanup.push(() => s.close());
  return s;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sender's signalling socket, with the operator token. */
function signalSocket(s: TestSender): WebSocket {
  const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/signal`, { headers: { authorization: `Bearer ${s.token}` } });
  ws.on('error', () => undefined);
  return ws;
}

/** A receiving session whose peer loses `lossPercent` % of what arrives (werift's own test hook: DTLS and SRTP alike). */
function lossyReceiver(s: TestSender, lossPercent: number) {
  const peers: ConfiguredPeerConnection[] = [];
  const session = new ReceivingSession<RTCDataChannel>({
    transport: {
      openSocket: () => signalSocket(s),
      createPeer: (servers, media) => {
        // werift drops an inbound datagram when inboundPacketLoss / 100 < Math.random(): 100 − loss.
        const pc = new ConfiguredPeerConnection(servers, {
          ...VIDEO_TRACK_CONFIG,
          iceAdditionalHostAddresses: ['127.0.0.1'],
          debug: { inboundPacketLoss: 100 - lossPercent },
        });
        receiveVideoTrack(pc, media);
        peers.push(pc);
        return pc;
      },
      send: (channel, bytes) => channel.send(Buffer.from(bytes)),
    },
    decoding: new LocalDecoding(() => ({ video: nodeVideoDecoders, videoName: 'FFmpeg' })),
  });
  cleanup.push(() => session.close());
  return { session, peers };
}

/**
 * A receiving session in Node whose peer takes the offer's video track, or declines it (`decline`:
 * its transceiver inactive, which werift answers with the video m-line at port 0).
 */
function nodeReceiver(s: TestSender, decline: boolean) {
  const session = new ReceivingSession<RTCDataChannel>({
    transport: {
      openSocket: () => signalSocket(s),
      createPeer: (servers, media) => {
        const pc = new ConfiguredPeerConnection(servers, { ...VIDEO_TRACK_CONFIG, iceAdditionalHostAddresses: ['127.0.0.1'] });
        if (decline) pc.onRemoteTransceiverAdded.subscribe((t) => t.setDirection('inactive'));
        receiveVideoTrack(pc, media);
        return pc;
      },
      send: (channel, bytes) => channel.send(Buffer.from(bytes)),
    },
    decoding: new LocalDecoding(() => ({ video: nodeVideoDecoders, videoName: 'FFmpeg' })),
  });
  cleanup.push(() => session.close());
  const seen = { hellos: [] as { transport: string }[], frames: 0, shown: 0, media: 0, errors: [] as SessionError[] };
  session.on('hello', (h) => seen.hellos.push({ transport: h.transport ?? 'channel' }));
  session.on('frame', (_f, live) => {
    if (live) seen.frames++;
  });
  session.on('picture', () => seen.shown++);
  session.on('media', () => seen.media++);
  session.on('error', (e) => seen.errors.push(e));
  session.start();
  return { session, seen };
}

async function receiverStats(s: TestSender) {
  return (await s.app.inject({ url: '/stats', headers: { authorization: `Bearer ${s.token}` } })).json().receivers as {
    transport: string;
    track: unknown;
  }[];
}

describe('a receiver that declines the video track', () => {
  it('is served on the data channel (its hello says so) and shows pictures; one that takes the track stays on it', async () => {
    const s = await sender('h264', 'auto');
    const declining = nodeReceiver(s, true);
    const taking = nodeReceiver(s, false);
    await sleep(4000);
    expect(declining.seen.hellos).toEqual([{ transport: 'channel' }]);
    expect(declining.seen.media).toBe(0);
    expect(declining.seen.frames).toBeGreaterThan(10);
    expect(declining.seen.shown).toBeGreaterThanOrEqual(declining.seen.frames * 0.8);
    expect(declining.seen.errors).toEqual([]);
    expect(taking.seen.hellos).toEqual([{ transport: 'rtp' }]);
    expect(taking.seen.media).toBeGreaterThan(0);
    expect(taking.seen.shown).toBeGreaterThan(10);
    const links = await receiverStats(s);
    expect(links.map((l) => l.transport).sort()).toEqual(['channel', 'rtp']);
    expect(links.find((l) => l.transport === 'channel')?.track).toBeNull();
    const said = s.logs.filter((l) => /takes no video track/.test(l.msg));
    expect(said).toHaveLength(1);
    expect(said[0]?.msg).toMatch(/port 0/);
  });

  it('is refused with track-declined by a sender that sends only on the track (--transport rtp)', async () => {
    const s = await sender('h264', 'rtp');
    const { seen } = nodeReceiver(s, true);
    await sleep(1500);
    expect(seen.hellos).toEqual([]);
    expect(seen.errors).toContainEqual(expect.objectContaining({ kind: 'signalling', code: 'track-declined' }));
  });
});

describe('the video track in Node', () => {
  it.each(['h264', 'vp8'] as const)('%s: the probe decodes every picture of the track, each announced in its trailer', async (engine) => {
    const s = await sender(engine);
    const r = await probe({ url: s.url, token: s.token ?? undefined, query: 'dog', seconds: 3 });
    expect(r.errors).toEqual([]);
    expect(r.engine).toBe(engine);
    expect(r.frames).toBeGreaterThan(10);
    expect(r.incompleteFrames).toBe(0);
    expect(r.refreshes).toBe(0);
    expect(r.goodputBps).toBeGreaterThan(0);
    expect(r.track).toMatchObject({ dropped: 0, undecodable: 0, badTrailer: 0, stale: 0, skipped: 0, plis: 0 });
    expect(r.track?.frames).toBe(r.frames);
    expect(r.firstPictureMs).toBeGreaterThan(0);
  });

  it('repairs losses with its own NACKs and sends its own transport-wide feedback (werift’s stay silent); the pictures are shown', async () => {
    const s = await sender('h264');
    const { session, peers } = lossyReceiver(s, 5);
    let frames = 0;
    let shown = 0;
    session.on('frame', (_f, live) => {
      if (live) frames++;
    });
    session.on('picture', () => shown++);
    session.start();
    await sleep(6000);
    const track = session.receiver.trackStats;
    const stats = (await s.app.inject({ url: '/stats', headers: { authorization: `Bearer ${s.token}` } })).json();
    const sent = stats.receivers[0]?.track;
    expect(frames).toBeGreaterThan(20);
    // 5 % of ~40 packets a second for 5 s: losses enough to need repair; nearly every picture is shown.
    expect(sent.nacks).toBeGreaterThan(0);
    expect(shown).toBeGreaterThanOrEqual(frames * 0.8);
    expect((track?.dropped ?? 0) + (track?.badTrailer ?? 0)).toBeLessThanOrEqual(3);
    // The NACKs were ours: werift's NackHandler (which counts each one it sends) sent none.
    const receiver = peers[0]?.getTransceivers().find((t) => t.kind === 'video')?.receiver;
    expect(receiver).toBeDefined();
    expect(Object.values((receiver as unknown as { nackCountBySsrc: Record<number, number> }).nackCountBySsrc)).toEqual([]);
    // werift's ReceiverTWCC (made on the first packet when nothing stops it) was never made.
    expect((receiver as unknown as { receiverTWCC?: unknown }).receiverTWCC).toBeUndefined();
  });
});
