import { contextFromHello } from '@mmsc/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { FakePeer } from '../testing/fake-peer.js';
import { startTestSender, type TestSender } from '../testing/test-sender.js';
import { ReceiverSession } from './session.js';

// The frame clock with the real models and fake peers, driven tick by tick.
const senders: TestSender[] = [];
afterAll(async () => {
  for (const s of senders) await s.close();
});

async function setup(n: number) {
  const t = await startTestSender({ listen: false });
  senders.push(t);
  const ctx = contextFromHello(t.streamer.hello);
  const rx = Array.from({ length: n }, (_, i) => {
    const peer = new FakePeer(ctx);
    const session = new ReceiverSession(`r${i}`, peer, { ...t.streamer.hello, sessionId: `r${i}` }, 'dog', 10, undefined, {
      log: t.logger,
    });
    t.streamer.add(session);
    peer.emit('open');
    return { peer, session };
  });
  const errors = () => t.logs.filter((l) => l.level >= 50);
  return { t, rx, errors };
}
const frames = (p: FakePeer) => p.sent.filter((m) => m.type === 'frame').length;

describe('Streamer', () => {
  it('a receiver that closes while another one’s frame is being made is skipped quietly', async () => {
    const { t, rx, errors } = await setup(2);
    const [a, b] = rx as [(typeof rx)[0], (typeof rx)[0]];
    a.peer.onSend = () => b.peer.close('signalling closed'); // b goes away mid-tick
    await t.streamer.step();
    expect(frames(a.peer)).toBeGreaterThan(0);
    expect(frames(b.peer)).toBe(0);
    expect(errors()).toEqual([]);
    expect(t.streamer.sessions.has('r1')).toBe(false);
  });

  it('one receiver’s failure closes that session only; the others keep getting frames', async () => {
    const { t, rx } = await setup(2);
    const [a, b] = rx as [(typeof rx)[0], (typeof rx)[0]];
    let sends = 0;
    a.peer.onSend = () => {
      if (++sends > 3) throw new Error('werift: send on a broken association');
    };
    for (let i = 0; i < 3; i++) await t.streamer.step();
    expect(a.peer.closedWith).toMatch(/internal error in frame/);
    expect(a.session.snapshot().refusals).toMatchObject({ internal: 1 });
    expect(b.peer.closedWith).toBeNull();
    expect(frames(b.peer)).toBe(3);
    expect(t.logs.some((l) => l.level >= 50 && /session r0: frame failed/.test(l.msg))).toBe(true);
  });

  it('stop() tells every receiver and closes their peers, which releases the sessions', async () => {
    const { t, rx } = await setup(3);
    t.streamer.stop();
    for (const r of rx) {
      expect(r.peer.sent.at(-1)).toMatchObject({ type: 'error', code: 'shutting-down' });
      expect(r.peer.closedWith).toBe('sender stopped');
    }
    expect(t.streamer.sessions.size).toBe(0);
  });
});
