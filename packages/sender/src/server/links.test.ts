import { encodeMessage, type HelloMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { fakeEngine } from '../testing/fake-engine.js';
import { FakePeer } from '../testing/fake-peer.js';
import { ungroundedQuery } from '../testing/fake-pipeline.js';
import { patchesHello } from '../testing/video-hello.js';
import { Links } from './links.js';

const hello: HelloMessage = patchesHello('pending');
const plain = ungroundedQuery;

function service() {
  const fake = fakeEngine();
  const links = new Links({
    hello,
    engine: fake.engine,
    engineOptions: { allocator: 'rd', curves: [], chroma: '444' },
    initialQuery: plain('dog'),
    ground: plain,
    fps: 10,
    maxBps: 20e6,
    relevanceEvery: 10,
  });
  const removed: [string, string][] = [];
  const refused: string[] = [];
  links.on('removed', (id, reason) => removed.push([id, reason]));
  links.on('refused', (code) => refused.push(code));
  return { links, removed, refused, encoders: fake.log };
}

describe('Links', () => {
  it('makes a link per receiver with its own session id, pending until its channel opens', () => {
    const { links } = service();
    const pa = new FakePeer();
    pa.open = false;
    const pb = new FakePeer();
    const a = links.create('a', pa);
    links.create('b', pb);
    expect(a.id).toBe('a');
    expect(links.size).toBe(2);
    expect(links.pending).toBe(1);
    expect(links.serving()).toEqual([]); // neither has sent its hello yet
    pb.emit('open');
    expect(links.serving().map((l) => l.id)).toEqual(['b']);
    expect(links.snapshots().map((s) => [s.id, s.open])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });

  it('a peer that closes takes its link out of the service', () => {
    const { links, removed } = service();
    const peer = new FakePeer();
    links.create('a', peer);
    links.create('b', new FakePeer());
    peer.close('signalling closed');
    expect(links.has('a')).toBe(false);
    expect(links.size).toBe(1);
    expect(removed).toEqual([['a', 'signalling closed']]);
  });

  it('close() cascades: every receiver is told, every peer and encoder closes, the service empties', () => {
    const { links, removed, encoders } = service();
    const peers = [new FakePeer(), new FakePeer(), new FakePeer()];
    peers.forEach((p, i) => {
      links.create(`r${i}`, p);
      p.emit('open');
    });
    links.close('sender stopped');
    for (const p of peers) {
      expect(p.sent.at(-1)).toMatchObject({ type: 'error', code: 'shutting-down' });
      expect(p.closedWith).toBe('sender stopped');
    }
    expect(links.size).toBe(0);
    expect(removed.map(([id]) => id)).toEqual(['r0', 'r1', 'r2']);
    expect(encoders.closed).toBe(3);
  });

  it('counts every link’s refusals sender-wide', () => {
    const { links, refused } = service();
    const peer = new FakePeer();
    links.create('a', peer);
    peer.emit('open');
    peer.emit('message', new Uint8Array(0));
    peer.emit('message', encodeMessage(hello));
    expect(refused).toEqual(['truncated', 'unexpected-message']);
  });
});
