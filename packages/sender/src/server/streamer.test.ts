import { codecEntries } from '@mmsc/codec';
import { contextFromHello, DEFAULT_MAX_MESSAGE_BYTES, encodeMessage, type HelloMessage, type Message } from '@mmsc/protocol';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DistortionCurve } from '../allocate/distortion.js';
import type { Engine } from '../engines/link-encoder.js';
import { curvesOf, helloFor } from '../hello.js';
import { readManifest } from '../models.js';
import { PipelineError } from '../pipeline/frame-pipeline.js';
import { fakeEngine, trackPicture } from '../testing/fake-engine.js';
import { FakePeer } from '../testing/fake-peer.js';
import { FakePipeline, ungroundedQuery } from '../testing/fake-pipeline.js';
import { Links } from './links.js';
import { Streamer } from './streamer.js';

// The frame clock with a fake pipeline (no models, no source) and fake peers, driven tick by tick.
let hello: HelloMessage;
let curves: DistortionCurve[];
beforeAll(async () => {
  const codecs = codecEntries(await readManifest());
  [hello, curves] = [helloFor(codecs, 10, DEFAULT_MAX_MESSAGE_BYTES), curvesOf(codecs)];
});

function setup(queries: string[], o: { relevanceEvery?: number; fps?: number } = {}) {
  const pipeline = new FakePipeline();
  const logs: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug', base: null }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  // Each text its own key: the fake pipeline's maps depend on the text ("left", "right"), which the lexicon would not ground.
  const ground = ungroundedQuery;
  const links = new Links({
    hello,
    engineOptions: { allocator: 'rd', curves, chroma: '444' },
    initialQuery: ground('dog'),
    ground,
    fps: 10,
    maxBps: 20e6,
    relevanceEvery: o.relevanceEvery ?? 10,
    log,
  });
  const streamer = new Streamer(pipeline, links, { fps: o.fps ?? 10, log });
  const ctx = contextFromHello(hello);
  const rx = queries.map((q, i) => {
    const peer = new FakePeer(ctx);
    peer.autoAck = true;
    const link = links.create(`r${i}`, peer);
    peer.emit('open');
    link.setQuery('initial', q);
    return { peer, link, say: (m: Message) => peer.emit('message', encodeMessage(m, ctx)) };
  });
  const errors = () => logs.filter((l) => l.level >= 50);
  return { pipeline, streamer, links, rx, logs, errors };
}
const frames = (p: FakePeer) => p.sent.filter((m) => m.type === 'frame' && m.part === 0);
const settle = () => new Promise((r) => setImmediate(r));
async function steps(streamer: Streamer, n: number) {
  for (let i = 0; i < n; i++) {
    await streamer.step();
    await settle(); // the fake peers' feedback arrives
  }
}

describe('Streamer', () => {
  it('fans one shared frame out: one pipeline frame per tick, one fusion per distinct query, each patch coded once per level', async () => {
    const { pipeline, streamer, rx } = setup(['left', 'left', 'right']);
    await steps(streamer, 3);
    expect(pipeline.framesMade).toBe(3);
    expect(pipeline.asked[0]).toEqual(['left', 'left', 'right']); // the receivers' queries, made with the frame
    for (const r of rx) expect(frames(r.peer)).toHaveLength(3);
    expect(pipeline.fused).toEqual(['left', 'right', 'left', 'right', 'left', 'right']);
  });

  it('a second receiver with the same query costs the encoders (almost) nothing: codes are shared', async () => {
    const one = setup(['left']);
    const two = setup(['left', 'left']);
    await steps(one.streamer, 3);
    await steps(two.streamer, 3);
    const [c1, c2] = [one.pipeline.encoder.patchesCoded, two.pipeline.encoder.patchesCoded];
    expect(c1).toBeGreaterThan(0);
    expect(c2).toBeLessThan(c1 * 1.1);
  });

  it('gives each receiver the levels of its own query', async () => {
    const { streamer, rx } = setup(['left', 'right']);
    await steps(streamer, 1);
    const cols = hello.width / hello.patchSize;
    const meanLevel = (p: FakePeer, left: boolean) => {
      const f = frames(p)[0] as Extract<Message, { type: 'frame' }>;
      let sum = 0;
      let n = 0;
      f.levels.forEach((l, i) => {
        if (i % cols < cols / 2 === left) {
          sum += l;
          n++;
        }
      });
      return sum / n;
    };
    const [a, b] = rx as [(typeof rx)[0], (typeof rx)[0]];
    expect(meanLevel(a.peer, true)).toBeGreaterThan(meanLevel(a.peer, false));
    expect(meanLevel(b.peer, false)).toBeGreaterThan(meanLevel(b.peer, true));
  });

  it('sends the relevance map every `relevanceEvery` frames and on the frame after a query change', async () => {
    const { streamer, rx } = setup(['left'], { relevanceEvery: 3 });
    const r = rx[0] as (typeof rx)[0];
    const mapsAt = () => r.peer.sent.filter((m) => m.type === 'relevance').map((m) => (m as { frameId: number }).frameId);
    await steps(streamer, 5);
    expect(frames(r.peer)).toHaveLength(5);
    expect(mapsAt()).toEqual([0, 3]);
    r.say({ type: 'query', queryId: 'q2', text: 'right' });
    await steps(streamer, 1);
    expect(mapsAt()).toEqual([0, 3, 5]);
  });

  it('a receiver that closes while another one’s frame is being made is skipped quietly', async () => {
    const { streamer, links, rx, errors } = setup(['left', 'left']);
    const [a, b] = rx as [(typeof rx)[0], (typeof rx)[0]];
    a.peer.onSend = () => b.peer.close('signalling closed'); // b goes away mid-tick
    await steps(streamer, 1);
    expect(frames(a.peer)).toHaveLength(1);
    expect(frames(b.peer)).toHaveLength(0);
    expect(errors()).toEqual([]);
    expect(links.has('r1')).toBe(false);
  });

  it('one receiver’s failure closes that session only; the others keep getting frames', async () => {
    const { streamer, links, rx, logs } = setup(['left', 'left']);
    const [a, b] = rx as [(typeof rx)[0], (typeof rx)[0]];
    let sends = 0;
    a.peer.onSend = () => {
      if (++sends > 3) throw new Error('werift: send on a broken association');
    };
    await steps(streamer, 3);
    expect(a.peer.closedWith).toMatch(/internal error in frame/);
    expect(a.link.snapshot().refusals).toMatchObject({ internal: 1 });
    expect(links.has('r0')).toBe(false);
    expect(b.peer.closedWith).toBeNull();
    expect(frames(b.peer)).toHaveLength(3);
    expect(logs.some((l) => l.level >= 50 && /session r0: frame failed/.test(l.msg))).toBe(true);
  });

  it('a pipeline failure in the middle of a frame skips that frame; the sessions go on', async () => {
    const { pipeline, streamer, rx, errors } = setup(['left', 'right']);
    await steps(streamer, 1);
    pipeline.relevanceFailsWith = new PipelineError('the model worker exited (code 1)');
    await steps(streamer, 2);
    pipeline.relevanceFailsWith = null;
    await steps(streamer, 1);
    for (const r of rx) {
      expect(r.peer.closedWith).toBeNull();
      expect(frames(r.peer)).toHaveLength(2);
      expect(r.link.snapshot().framesSkipped).toBe(2);
    }
    expect(errors()).toEqual([]);
  });

  it('no frame: health says why, each receiver is told once per reason, and frames resume', async () => {
    const { pipeline, streamer, rx } = setup(['left']);
    const r = rx[0] as (typeof rx)[0];
    pipeline.failWith = new Error('camera unplugged');
    await steps(streamer, 3);
    expect(streamer.health()).toEqual({ ok: false, reason: 'camera unplugged' });
    expect(r.peer.sent.filter((m) => m.type === 'error' && m.code === 'no-frames')).toHaveLength(1);
    pipeline.failWith = null;
    await steps(streamer, 1);
    expect(streamer.health()).toEqual({ ok: true });
    expect(frames(r.peer)).toHaveLength(1);
  });

  it('stop() tells every receiver, closes their links, then the pipeline, and the clock stops', async () => {
    const { pipeline, streamer, links, rx } = setup(['left', 'left', 'right']);
    streamer.start();
    await new Promise((res) => setTimeout(res, 250));
    await streamer.stop();
    const made = pipeline.framesMade;
    expect(made).toBeGreaterThan(0);
    for (const r of rx) {
      expect(r.peer.sent.at(-1)).toMatchObject({ type: 'error', code: 'shutting-down' });
      expect(r.peer.closedWith).toBe('sender stopped');
      expect(r.link.open).toBe(false);
    }
    expect(links.size).toBe(0);
    expect(pipeline.closed).toBe(true);
    await new Promise((res) => setTimeout(res, 250));
    expect(pipeline.framesMade).toBe(made);
  });

  it('a receiver that begins while no other is served gets its first frame at once, not at the next slot', async () => {
    // One frame every 2 s: the clock's first slot passes with no receiver, the next is 2 s away.
    const t = setup([], { fps: 0.5 });
    t.streamer.start();
    await new Promise((res) => setTimeout(res, 50));
    /** A receiver whose channel opens now; resolves 300 ms later. */
    const join = async (id: string) => {
      const peer = new FakePeer(contextFromHello(hello));
      peer.autoAck = true;
      t.links.create(id, peer);
      peer.emit('open');
      await new Promise((res) => setTimeout(res, 300));
      return peer;
    };
    const first = await join('a');
    expect(frames(first)).toHaveLength(1);
    // A second one waits for the slot: the first receiver's frames keep their spacing.
    const second = await join('b');
    expect(frames(second)).toHaveLength(0);
    expect(frames(first)).toHaveLength(1);
    expect(t.pipeline.framesMade).toBe(1);
    await t.streamer.stop();
  });

  it('makes no frames while its only receiver waits for its channel after the first picture on the track', async () => {
    const fake = fakeEngine();
    const trackEngine: Engine = {
      ...fake.engine,
      createLinkEncoder: () => ({
        encode: async (_frame, f) => trackPicture(f, 1, 500),
        refresh: () => ({ ok: true }),
        close: () => undefined,
      }),
    };
    const ground = ungroundedQuery;
    const links = new Links({
      hello: { ...hello, engine: 'h264', transport: 'rtp' },
      engine: trackEngine,
      engineOptions: { allocator: 'rd', curves, chroma: '444' },
      initialQuery: ground('dog'),
      ground,
      fps: 10,
      maxBps: 20e6,
      relevanceEvery: 1000,
    });
    const pipeline = new FakePipeline();
    const streamer = new Streamer(pipeline, links, { fps: 10 });
    const peer = new FakePeer();
    const pictures: number[] = [];
    Object.assign(peer, { mediaReady: true, sendRtp: (p: Uint8Array[]) => void pictures.push(p.length) });
    peer.open = false;
    links.create('t', peer);
    peer.emit('mediaReady');
    await steps(streamer, 3);
    expect(pictures).toHaveLength(1);
    expect(pipeline.framesMade).toBe(1);
    peer.open = true;
    peer.emit('open');
    await steps(streamer, 2);
    expect(pipeline.framesMade).toBe(3);
    expect(pictures).toHaveLength(3);
  });
});
