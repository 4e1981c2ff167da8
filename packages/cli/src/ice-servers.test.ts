import { createSocket } from 'node:dgram';
import type { IceServer, SignalMessage } from '@mmsc/protocol';
import { ReceivingSession } from '@mmsc/receiver';
import type { ConfiguredPeerConnection } from '@mmsc/sender';
import { fakeStunServer, localAddresses, startTestSender, type TestSender, watchUdp } from '@mmsc/sender/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { RTCDataChannel } from 'werift';
import WebSocket from 'ws';
import { nodeTransport } from './receive/node-transport.js';

// The real sender and the Node receiver (the probe's transport) on 127.0.0.1, every UDP datagram watched.
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
});
async function sender(o: Parameters<typeof startTestSender>[0] = {}): Promise<TestSender> {
  const s = await startTestSender(o);
  cleanup.push(() => s.close());
  return s;
}

/** A Node receiver session; resolves once its data channel is open, with the offer, its peer and the time it took. */
async function connect(s: TestSender) {
  const node = nodeTransport({
    signalUrl: `${s.url.replace(/^http/, 'ws')}/signal`,
    headers: { authorization: `Bearer ${s.token}` },
    refused: (status) => new Error(`HTTP ${status}`),
    unreachable: (e) => e,
  });
  const given: (readonly IceServer[])[] = [];
  let peer: ConfiguredPeerConnection | null = null;
  const session = new ReceivingSession<RTCDataChannel>({
    transport: {
      ...node.transport,
      createPeer: (servers, media) => {
        given.push(servers);
        peer = node.transport.createPeer(servers, media) as ConfiguredPeerConnection;
        return peer;
      },
    },
    openTimeoutMs: 15_000,
  });
  cleanup.push(() => session.close());
  let offer: SignalMessage | null = null;
  session.on('signal', (m) => {
    if (m.type === 'offer') offer = m;
  });
  const t0 = performance.now();
  const opened = new Promise<void>((resolve, reject) => {
    session.on('open', () => resolve());
    session.on('closed', (reason) => reject(new Error(reason)));
  });
  session.start();
  await opened;
  return { ms: performance.now() - t0, offer: offer as SignalMessage | null, given, peer: peer as ConfiguredPeerConnection | null };
}

describe('ICE servers, end to end on loopback', () => {
  it('without any configured, no datagram leaves for an address that is not this machine’s, and the channel opens at once', async () => {
    const s = await sender();
    const w = watchUdp();
    cleanup.push(() => w.stop());
    const r = await connect(s);
    await new Promise((res) => setTimeout(res, 300)); // checks and keepalives after the open, too
    const local = localAddresses();
    expect(w.sent.length).toBeGreaterThan(0); // the watcher sees the session's own traffic
    expect(w.sent.filter((d) => !local.has(d.address))).toEqual([]);
    expect(w.lookups).toEqual([]); // not even a DNS question for a server nobody named
    expect(r.offer).not.toHaveProperty('iceServers');
    expect(r.given).toEqual([[]]);
    // No STUN wait on either side (werift's default server cost ~5 s where DNS answers slowly or not at all).
    expect(r.ms).toBeLessThan(3000);
    console.log(`loopback connect (signalling → data channel open): ${Math.round(r.ms)} ms`);
  });

  it('hands the configured STUN server to the receiver, and both peers ask it and nothing else', async () => {
    const stun = await fakeStunServer();
    cleanup.push(() => stun.close());
    const iceServers = [{ urls: `stun:127.0.0.1:${stun.port}` }];
    const s = await sender({ iceServers });
    const w = watchUdp();
    cleanup.push(() => w.stop());
    const r = await connect(s);
    expect(r.offer).toMatchObject({ type: 'offer', iceServers });
    expect(r.given).toEqual([iceServers]);
    // The sender gathered before its offer, the receiver before its answer: each has a candidate from the server.
    expect(r.offer?.type === 'offer' && r.offer.sdp).toMatch(/typ srflx/);
    expect(r.peer?.localDescription?.sdp).toMatch(/typ srflx/);
    const local = localAddresses();
    expect(w.sent.filter((d) => !local.has(d.address))).toEqual([]);
    expect(w.lookups).toEqual([]);
    expect(stun.requests()).toBeGreaterThanOrEqual(2);
  });

  it('counts the handshake deadline from the offer: a sender slow to offer (its STUN server silent) still gets the whole span', async () => {
    // A STUN server that never answers: werift waits 5 s for it before the offer goes out.
    const hole = createSocket('udp4');
    await new Promise<void>((res) => hole.bind(0, '127.0.0.1', res));
    cleanup.push(() => new Promise<void>((res) => hole.close(() => res())));
    const s = await sender({
      iceServers: [{ urls: `stun:127.0.0.1:${hole.address().port}` }],
      limits: { handshakeTimeoutMs: 6000 },
    });
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/signal`, { headers: { authorization: `Bearer ${s.token}` } });
    cleanup.push(() => ws.terminate());
    const t0 = performance.now();
    const times: Record<string, number> = {};
    const got: { type: string; code?: string; message?: string }[] = [];
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString());
      got.push(m);
      times[m.type] ??= performance.now() - t0;
    });
    await new Promise((res) => ws.once('close', res));
    const timeout = got.find((m) => m.type === 'error');
    expect(timeout).toMatchObject({ code: 'handshake-timeout', message: expect.stringMatching(/within 6 s of the offer/) });
    expect(times.offer).toBeGreaterThan(4000);
    expect((times.error ?? 0) - (times.offer ?? 0)).toBeGreaterThan(5900);
  }, 30_000);
});
