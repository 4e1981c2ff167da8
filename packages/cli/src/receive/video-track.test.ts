import type { EngineName } from '@mmsc/protocol';
import { LocalDecoding, ReceivingSession } from '@mmsc/receiver';
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
async function sender(engine: EngineName): Promise<TestSender> {
  const s = await startTestSender({ engine, transport: 'rtp' });
  cleanup.push(() => s.close());
  return s;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A receiving session whose peer loses `lossPercent` % of what arrives (werift's own test hook: DTLS and SRTP alike). */
function lossyReceiver(s: TestSender, lossPercent: number) {
  const peers: ConfiguredPeerConnection[] = [];
  const session = new ReceivingSession<RTCDataChannel>({
    transport: {
      openSocket: () => {
        const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/signal`, { headers: { authorization: `Bearer ${s.token}` } });
        ws.on('error', () => undefined);
        return ws;
      },
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
