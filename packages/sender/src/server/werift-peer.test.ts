import { afterEach, describe, expect, it } from 'vitest';
import { RTCPeerConnection } from 'werift';
import { fakeStunServer, localAddresses, type SentDatagram, watchUdp } from '../testing/udp-watch.js';
import { ConfiguredPeerConnection } from './werift-peer.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
function watch(): { sent: SentDatagram[]; lookups: string[] } {
  const w = watchUdp();
  cleanup.push(() => w.stop());
  return w;
}
function track<T extends RTCPeerConnection>(pc: T): T {
  cleanup.push(() => pc.close());
  return pc;
}
/** Offers a data channel; resolves with how long gathering (setLocalDescription) took, ms. */
async function offer(pc: RTCPeerConnection): Promise<number> {
  pc.createDataChannel('x');
  const t0 = performance.now();
  await pc.setLocalDescription(await pc.createOffer());
  return performance.now() - t0;
}

describe('ConfiguredPeerConnection', () => {
  it('werift alone, given no ICE servers, still asks stun.l.google.com (what this class removes)', async () => {
    const { lookups } = watch();
    const pc = track(new RTCPeerConnection({ iceServers: [] }));
    pc.createDataChannel('x');
    void pc.setLocalDescription(await pc.createOffer()).catch(() => undefined);
    // It resolves the name first (then sends a Binding request there, where DNS answers).
    const until = Date.now() + 3000;
    while (!lookups.includes('stun.l.google.com') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(lookups).toContain('stun.l.google.com');
  });

  it('without ICE servers an offerer gathers host candidates only, sends no datagram and waits for no server', async () => {
    const { sent, lookups } = watch();
    const pc = track(new ConfiguredPeerConnection([], { iceAdditionalHostAddresses: ['127.0.0.1'] }));
    const ms = await offer(pc);
    expect(sent).toEqual([]);
    expect(lookups).toEqual([]);
    expect(ms).toBeLessThan(1000);
    const sdp = pc.localDescription?.sdp ?? '';
    expect(sdp).toMatch(/typ host/);
    expect(sdp).not.toMatch(/typ (srflx|relay)/);
    for (const t of pc.iceTransports) expect(t.connection.stunServer).toBeUndefined();
  });

  it('an answerer (the Node receiver) likewise sends nothing while it gathers', async () => {
    const offerer = track(new ConfiguredPeerConnection([], { iceAdditionalHostAddresses: ['127.0.0.1'] }));
    await offer(offerer);
    const { sent, lookups } = watch();
    const answerer = track(new ConfiguredPeerConnection([], { iceAdditionalHostAddresses: ['127.0.0.1'] }));
    await answerer.setRemoteDescription({ type: 'offer', sdp: offerer.localDescription?.sdp ?? '' });
    const t0 = performance.now();
    await answerer.setLocalDescription(await answerer.createAnswer());
    expect(performance.now() - t0).toBeLessThan(1000);
    // Connectivity checks go to the offerer's host candidates (this machine) and nowhere else.
    await new Promise((r) => setTimeout(r, 300));
    const local = localAddresses();
    expect(sent.filter((d) => !local.has(d.address))).toEqual([]);
    expect(lookups).toEqual([]);
  });

  it('asks the configured STUN server and only it, and gets a server-reflexive candidate from it', async () => {
    const stun = await fakeStunServer();
    cleanup.push(() => stun.close());
    const { sent, lookups } = watch();
    const url = `stun:127.0.0.1:${stun.port}`;
    const pc = track(new ConfiguredPeerConnection([{ urls: url }]));
    const ms = await offer(pc);
    expect(ms).toBeLessThan(2000);
    expect(stun.requests()).toBeGreaterThan(0);
    const fromPeer = sent.filter((d) => d.fromPort !== stun.port); // not the fake server's own answers
    expect(new Set(fromPeer.map((d) => `${d.address}:${d.port}`))).toEqual(new Set([`127.0.0.1:${stun.port}`]));
    expect(lookups).toEqual([]);
    expect(pc.localDescription?.sdp).toMatch(/typ srflx/);
    expect(pc.iceServers).toEqual([{ urls: url }]);
  });
});
