import { decodeMessage, encodeMessage, type HelloMessage } from '@mmsc/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../engines/link-encoder.js';
import { patchesEngine } from '../engines/patches.js';
import { groundText } from '../relevance/grounder.js';
import { loadLexicon } from '../relevance/load-relevance.js';
import { fakeEngine, trackPicture } from '../testing/fake-engine.js';
import { FakePeer } from '../testing/fake-peer.js';
import { FakePipeline, ungroundedQuery } from '../testing/fake-pipeline.js';
import { patchesHello } from '../testing/video-hello.js';
import { type LinkOptions, PACE_GAIN, ReceiverLink } from './receiver-link.js';

const hello: HelloMessage = patchesHello();

/** A grounding without a lexicon: every query grounds to nothing in particular. */
const plain = ungroundedQuery;

function link(id = 'a', o: Partial<LinkOptions> = {}) {
  const peer = new FakePeer();
  const fake = fakeEngine();
  const ground = o.ground ?? plain;
  const l = new ReceiverLink(peer, {
    hello: { ...hello, sessionId: id },
    engine: fake.engine,
    engineOptions: { allocator: 'rd', curves: [], chroma: '444' },
    initialQuery: ground('dog'),
    ground,
    fps: 10,
    relevanceEvery: 10,
    ...o,
  });
  const refused: string[] = [];
  l.on('refused', (code) => refused.push(code));
  peer.emit('open');
  return { l, peer, refused, engine: fake.log };
}

/** One frame of the fake pipeline through the link. */
async function sendOne(l: ReceiverLink) {
  const frame = await new FakePipeline().next([]);
  return l.send(frame, Date.now(), performance.now());
}

describe('ReceiverLink', () => {
  it('greets with hello and the grounding of the initial query', () => {
    const { peer, l } = link();
    expect(peer.sent.map((m) => m.type)).toEqual(['hello', 'grounding']);
    expect(l.open).toBe(true);
  });

  it('a query takes effect and is answered with its grounding', () => {
    const { l, peer } = link();
    peer.emit('message', encodeMessage({ type: 'query', queryId: 'q7', text: 'car' }));
    expect(l.snapshot().query).toEqual({ id: 'q7', text: 'car' });
    expect(l.currentQuery.text).toBe('car');
    expect(peer.sent.at(-1)).toMatchObject({ type: 'grounding', queryId: 'q7', text: 'car' });
  });

  it('malformed input gets an error message back, counted sender-wide too, and other sessions are untouched', () => {
    const a = link('a');
    const b = link('b');
    a.peer.emit('message', Uint8Array.from([0x93, 0x09, 0x10, 0xc1]));
    a.peer.emit('message', new Uint8Array(0));
    a.peer.emit('message', encodeMessage(hello)); // a receiver may not send hello
    const errors = a.peer.sent.filter((m) => m.type === 'error');
    expect(errors.map((e) => (e as { code: string }).code)).toEqual(['bad-version', 'truncated', 'unexpected-message']);
    expect(a.l.snapshot().protocolErrors).toBe(3);
    expect(a.refused).toEqual(['bad-version', 'truncated', 'unexpected-message']);
    expect(b.peer.sent.map((m) => m.type)).toEqual(['hello', 'grounding']);
    expect(b.l.snapshot().protocolErrors).toBe(0);
    // The session still works after bad input.
    a.peer.emit('message', encodeMessage({ type: 'query', queryId: 'q2', text: 'bike' }));
    expect(a.l.currentQuery.text).toBe('bike');
  });

  it('a refresh reaches an engine with keyframes; the patches engine refuses it', () => {
    const patches = link('p', { engine: patchesEngine });
    patches.peer.emit('message', encodeMessage({ type: 'refresh', reason: 'decode-error' }));
    expect(patches.peer.sent.at(-1)).toMatchObject({ type: 'error', code: 'unexpected-message' });
    expect(patches.refused).toEqual(['unexpected-message']);

    const logs: { msg: string }[] = [];
    const log = pino({ level: 'info', base: null }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const keyed = fakeEngine({ keyframes: true, note: 'restarts in 4:2:0' });
    const { peer } = link('k', { engine: keyed.engine, log });
    const before = peer.sent.length;
    peer.emit('message', encodeMessage({ type: 'refresh', reason: 'no-reference' }));
    expect(keyed.log.refreshes).toEqual(['no-reference']);
    expect(peer.sent.length).toBe(before);
    expect(logs.map((l) => l.msg)).toContain('receiver k restarts in 4:2:0');
  });

  it('counts keyframe requests, refreshes and PLIs alike, and those the engine ignores', () => {
    const keyed = fakeEngine({ keyframes: true, taken: 1 });
    const { l, peer, refused } = link('k', { engine: keyed.engine });
    for (let i = 0; i < 5; i++) peer.emit('pictureLoss');
    peer.emit('message', encodeMessage({ type: 'refresh', reason: 'decode-error' }));
    expect(keyed.log.refreshes).toEqual([...Array.from({ length: 5 }, () => 'picture loss (PLI)'), 'decode-error']);
    expect(l.snapshot()).toMatchObject({ keyframeRequests: 6, keyframeRequestsIgnored: 5 });
    expect(refused).toEqual([]); // ignored is not refused: the keyframe on its way answers them
  });

  it('a query the lexicon refuses is answered with an error and the previous query stays', async () => {
    const { l, peer } = await lexiconLink();
    peer.emit('message', encodeMessage({ type: 'query', queryId: 'long', text: 'cat '.repeat(100) }));
    expect(peer.sent.at(-1)).toMatchObject({ type: 'error', code: 'bad-query', ref: 'long' });
    expect(l.currentQuery.text).toBe('dog');
    peer.emit('message', encodeMessage({ type: 'query', queryId: 'ok', text: 'puppy' }));
    expect(peer.sent.at(-1)).toMatchObject({ type: 'grounding', queryId: 'ok', words: [{ word: 'puppy' }] });
  });

  it('sends a frame within its budget, and feedback drives the rate controller', async () => {
    const { l, peer, engine } = link();
    expect(await sendOne(l)).toBe('sent');
    const sent = l.snapshot();
    expect(sent.framesSent).toBe(1);
    expect(engine.frames[0]?.frameId).toBe(0);
    expect(sent.bytesSent).toBeLessThanOrEqual(sent.lastBudget);
    expect(sent.rate.backlogBytes).toBe(sent.bytesSent);
    peer.emit(
      'message',
      encodeMessage({ type: 'feedback', frameId: 0, bytesReceived: sent.bytesSent, partsReceived: 1, receiveTs: Date.now() }),
    );
    expect(l.snapshot().rate.backlogBytes).toBe(0);
  });

  it('tells the receiver again when the query’s objects leave the view for 3 frames, and when they come back', async () => {
    const { l, peer } = await lexiconLink();
    l.setQuery('q9', 'stop sign');
    const groundings = () => peer.sent.filter((m) => m.type === 'grounding' && m.queryId === 'q9');
    const absent = new FakePipeline();
    absent.best.fill(0);
    const present = new FakePipeline();
    const through = async (p: FakePipeline) => expect(await l.send(await p.next([]), Date.now(), performance.now())).toBe('sent');
    await through(absent);
    await through(absent);
    expect(groundings()).toHaveLength(1);
    await through(absent);
    expect(groundings()).toHaveLength(2);
    expect(groundings().at(-1)).toMatchObject({ words: [{ word: 'stop sign', notInView: true }] });
    for (let k = 0; k < 3; k++) await through(present);
    expect(groundings()).toHaveLength(3);
    expect(groundings().at(-1)).not.toHaveProperty('words.0.notInView');
  });

  it('sends the relevance map on its first frame, then with the frame after a query change', async () => {
    const { l, peer } = link();
    const maps = () => peer.sent.filter((m) => m.type === 'relevance').length;
    await sendOne(l);
    expect(maps()).toBe(1);
    await sendOne(l);
    expect(maps()).toBe(1);
    l.setQuery('q2', 'cat');
    await sendOne(l);
    expect(maps()).toBe(2);
  });

  it('a view with maps sends a map with every frame, each named by its frame; without, they go back to about once a second', async () => {
    const { l, peer } = link();
    const maps = () => peer.sent.filter((m) => m.type === 'relevance');
    await sendOne(l);
    peer.emit('message', encodeMessage({ type: 'view', maps: true, maxBps: 0 }));
    for (let k = 0; k < 3; k++) await sendOne(l);
    expect(maps().map((m) => (m as { frameId: number }).frameId)).toEqual([0, 1, 2, 3]);
    peer.emit('message', encodeMessage({ type: 'view', maps: false, maxBps: 0 }));
    for (let k = 0; k < 3; k++) await sendOne(l);
    expect(maps()).toHaveLength(4);
  });

  it('a view with a rate cap brings this link’s rate and budgets under it at once; 0 lifts it', async () => {
    const { l, peer } = link('a', { maxBps: 20e6 });
    const before = l.snapshot().rate.rateBps;
    expect(before).toBeGreaterThan(300_000);
    peer.emit('message', encodeMessage({ type: 'view', maps: false, maxBps: 300_000 }));
    expect(l.snapshot().rate.rateBps).toBe(300_000);
    await sendOne(l);
    expect(l.snapshot().lastBudget).toBeLessThanOrEqual(300_000 / 8 / 10);
    peer.emit('message', encodeMessage({ type: 'view', maps: false, maxBps: 0 }));
    expect(l.snapshot().rate.rateBps).toBe(300_000); // lifted: it grows again from there as it probes
  });

  it('closing cascades: the receiver is told, the peer closes, the encoder is released, `closed` fires once', async () => {
    const { l, peer, engine } = link();
    const closed: string[] = [];
    l.on('closed', (reason) => closed.push(reason));
    l.close('sender stopped');
    expect(peer.sent.at(-1)).toMatchObject({ type: 'error', code: 'shutting-down' });
    expect(peer.closedWith).toBe('sender stopped');
    expect(closed).toEqual(['sender stopped']);
    expect(engine.closed).toBe(1);
    expect(l.open).toBe(false);
    expect(await sendOne(l)).toBe('gone');
    peer.emit('closed', 'again');
    expect(closed).toHaveLength(1);
  });
});

/** A link whose queries are grounded with the real lexicon, as `mmsc serve` makes it. */
async function lexiconLink(id = 'l') {
  const lexicon = await loadLexicon();
  return link(id, { ground: (text) => groundText(text, lexicon) });
}

describe('ReceiverLink under hostile input', () => {
  it.each([
    ['a 65-byte word', 'a'.repeat(65)],
    ['a 23-character Chinese phrase', '猫'.repeat(23)],
    ['a 64-byte word of emoji and a normal word', `${'🐶'.repeat(17)} dog`],
  ])('%s is grounded with the echoed word cut to 64 UTF-8 bytes', async (_, text) => {
    const { l, peer } = await lexiconLink();
    expect(() => peer.emit('message', encodeMessage({ type: 'query', queryId: 'q', text }))).not.toThrow();
    const g = peer.sent.at(-1);
    expect(g).toMatchObject({ type: 'grounding', queryId: 'q', text });
    for (const w of [...(g as { ungrounded: string[] }).ungrounded, ...(g as { words: { word: string }[] }).words.map((x) => x.word)])
      expect(Buffer.byteLength(w)).toBeLessThanOrEqual(64);
    expect(l.currentQuery.text).toBe(text);
    expect(peer.closedWith).toBeNull();
  });

  it('an unexpected failure closes that session with an internal error, and no other', async () => {
    const a = link('a');
    const b = link('b');
    a.peer.onSend = () => {
      throw new Error('channel broke');
    };
    expect(() => a.peer.emit('message', encodeMessage({ type: 'query', queryId: 'q', text: 'cat' }))).not.toThrow();
    expect(a.peer.closedWith).toMatch(/internal error/);
    expect(a.l.snapshot().refusals).toMatchObject({ internal: 1 });
    expect(a.refused).toEqual(['internal']);
    expect(b.peer.closedWith).toBeNull();
    b.peer.emit('message', encodeMessage({ type: 'query', queryId: 'q', text: 'cat' }));
    expect(b.peer.sent.at(-1)).toMatchObject({ type: 'grounding', text: 'cat' });
  });

  it('queries beyond the per-second budget are refused as rate-limited and the previous query stays', () => {
    const { l, peer } = link();
    for (let i = 0; i < 30; i++) peer.emit('message', encodeMessage({ type: 'query', queryId: `q${i}`, text: i < 10 ? 'cat' : 'car' }));
    expect(l.currentQuery.text).toBe('cat');
    expect(l.snapshot().refusals['rate-limited']).toBe(20);
    // Told once (not 20 times): a flood is not answered by a flood.
    expect(peer.sent.filter((m) => m.type === 'error' && m.code === 'rate-limited')).toHaveLength(1);
  });

  it('impossible feedback is refused, counted and does not move the estimate', async () => {
    const { l, peer } = link();
    await sendOne(l);
    const first = l.snapshot().bytesSent;
    peer.emit('message', encodeMessage({ type: 'feedback', frameId: 0, bytesReceived: first, partsReceived: 1, receiveTs: Date.now() }));
    expect(await sendOne(l)).toBe('sent');
    const before = l.snapshot().rate.rateBps;
    peer.emit(
      'message',
      encodeMessage({ type: 'feedback', frameId: 1, bytesReceived: 9_000_000, partsReceived: 1, receiveTs: Date.now() }),
    );
    peer.emit(
      'message',
      encodeMessage({ type: 'feedback', frameId: 1, bytesReceived: 1_000, partsReceived: 1, receiveTs: Number.MAX_SAFE_INTEGER }),
    );
    expect(l.snapshot().refusals['feedback-rejected']).toBe(2);
    expect(l.snapshot().rate.rateBps).toBe(before);
    expect(peer.sent.some((m) => m.type === 'error' && m.code === 'feedback-rejected')).toBe(true);
  });
});

describe('ReceiverLink on transport rtp', () => {
  /** An engine whose pictures go on the track: 3 payloads of 1000 bytes each. */
  const trackEngine = (): Engine => ({
    ...fakeEngine().engine,
    createLinkEncoder: () => ({
      encode: async (_frame, f) => trackPicture(f, 3, 1000),
      refresh: () => ({ ok: true }),
      close: () => undefined,
    }),
  });

  /** A peer whose track numbers each packet (transport-wide sequence numbers from 0). */
  function trackPeer() {
    const peer = new FakePeer();
    let tseq = 0;
    const sentRtp: number[][] = [];
    const pacing: number[] = [];
    Object.assign(peer, {
      setPacingRate: (bps: number) => pacing.push(bps),
      sendRtp: (payloads: readonly Uint8Array[], _ts: number, overhead: number) => {
        const out = payloads.map((p) => ({ tseq: tseq++, bytes: p.length + overhead }));
        sentRtp.push(out.map((p) => p.tseq));
        return out;
      },
    });
    return { peer, sentRtp, pacing };
  }

  /** A link on transport `rtp` over `peer`, coding with `trackEngine`. */
  const trackLink = (peer: FakePeer) =>
    new ReceiverLink(peer, {
      hello: { ...hello, sessionId: 't', transport: 'rtp' },
      engine: trackEngine(),
      engineOptions: { allocator: 'rd', curves: [], chroma: '444' },
      initialQuery: plain('dog'),
      ground: plain,
      fps: 10,
      relevanceEvery: 1000,
    });

  /**
   * An engine that codes for the hello it was given: on the track for `transport: 'rtp'`, else one
   * `base` message on the data channel; it records each encoder's hello and closing.
   */
  function helloEngine() {
    const made: { transport: string; closed: boolean }[] = [];
    const engine: Engine = {
      ...fakeEngine().engine,
      createLinkEncoder: (h, ctx) => {
        const mine = { transport: h.transport ?? 'channel', closed: false };
        made.push(mine);
        return {
          encode: async (_frame, f) => {
            if (h.transport === 'rtp') return trackPicture(f, 1, 1000);
            const part = encodeMessage({ type: 'base', frameId: f.frameId, data: new Uint8Array(100) }, ctx);
            return { parts: [part], wireBytes: part.length, stated: f.budget, ms: { allocate: 0, encode: 0, pack: 0 }, debug: {} };
          },
          refresh: () => ({ ok: true }),
          close: () => {
            mine.closed = true;
          },
        };
      },
    };
    return { engine, made };
  }

  function rtpLink(log?: pino.Logger) {
    const { peer, sentRtp } = trackPeer();
    const { engine, made } = helloEngine();
    const l = new ReceiverLink(peer, {
      // A codec engine's hello: the wire carries `transport` only after a named engine.
      hello: { ...hello, engine: 'h264', sessionId: 't', transport: 'rtp' },
      engine,
      engineOptions: { allocator: 'rd', curves: [], chroma: '444' },
      initialQuery: plain('dog'),
      ground: plain,
      fps: 10,
      relevanceEvery: 1000,
      ...(log ? { log } : {}),
    });
    return { l, peer, sentRtp, made };
  }

  it('a receiver that declines the track is served on the data channel, and its hello says so', async () => {
    const logs: { msg: string; why?: string }[] = [];
    const log = pino({ level: 'info', base: null }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const { l, peer, sentRtp, made } = rtpLink(log);
    peer.emit('trackDeclined', 'the answer’s video m-line is inactive');
    peer.emit('open');
    expect(peer.sent[0]).toMatchObject({ type: 'hello', sessionId: 't' });
    expect(peer.sent[0]).not.toHaveProperty('transport');
    // The encoder made for the track was released; the one now coding was made for the channel.
    expect(made).toEqual([
      { transport: 'rtp', closed: true },
      { transport: 'channel', closed: false },
    ]);
    expect(await sendOne(l)).toBe('sent');
    expect(sentRtp).toEqual([]);
    expect(peer.sent.at(-1)).toMatchObject({ type: 'base', frameId: 0 });
    expect(l.snapshot().transport).toBe('channel');
    const said = logs.filter((m) => m.why !== undefined);
    expect(said).toHaveLength(1);
    expect(said[0]?.msg).toMatch(/^receiver t takes no video track \(the answer’s video m-line is inactive\)/);
  });

  it('a receiver that takes the track stays on it', async () => {
    const { l, peer, sentRtp, made } = rtpLink();
    peer.emit('open');
    expect(peer.sent[0]).toMatchObject({ type: 'hello', transport: 'rtp' });
    expect(await sendOne(l)).toBe('sent');
    expect(sentRtp).toHaveLength(1);
    expect(made).toEqual([{ transport: 'rtp', closed: false }]);
    expect(l.snapshot().transport).toBe('rtp');
  });

  it('starts once the track can carry pictures: hello queued, one picture, the rest after the channel opens', async () => {
    const { l, peer, sentRtp } = rtpLink();
    peer.open = false;
    expect(await sendOne(l)).toBe('gone'); // nothing before the track is ready
    Object.assign(peer, { mediaReady: true });
    peer.emit('mediaReady');
    expect(l.open).toBe(true);
    expect(l.wantsFrames).toBe(true);
    expect(peer.sent.map((m) => m.type)).toEqual(['hello', 'grounding']);
    expect(await sendOne(l)).toBe('sent');
    expect(sentRtp).toHaveLength(1);
    // Until the channel is open the link is left to SCTP's handshake.
    expect(l.wantsFrames).toBe(false);
    expect(await sendOne(l)).toBe('skipped');
    expect(sentRtp).toHaveLength(1);
    peer.open = true;
    peer.emit('open');
    expect(l.wantsFrames).toBe(true);
    expect(peer.sent.filter((m) => m.type === 'hello')).toHaveLength(1); // greeted once
    expect(await sendOne(l)).toBe('sent');
    expect(sentRtp).toHaveLength(2);
  });

  it('signals its hello once the answer is applied, the same bytes the channel then carries first', async () => {
    const { l, peer } = rtpLink();
    peer.open = false;
    peer.emit('answered');
    expect(peer.signalled).toHaveLength(1);
    expect(decodeMessage(peer.signalled[0] as Uint8Array)).toMatchObject({ type: 'hello', sessionId: 't', transport: 'rtp' });
    expect(l.open).toBe(false); // the session itself starts with the track
    Object.assign(peer, { mediaReady: true });
    peer.emit('mediaReady');
    expect([...(peer.sentBytes[0] ?? [])]).toEqual([...(peer.signalled[0] ?? [])]);
    // Once greeted, a late or repeated answer event signals nothing more.
    peer.emit('answered');
    expect(peer.signalled).toHaveLength(1);
  });

  it('signals no hello for a session the answer moved to the data channel', () => {
    const { peer } = rtpLink();
    peer.open = false;
    peer.emit('trackDeclined', 'no H.264 in the answer');
    peer.emit('answered');
    expect(peer.signalled).toEqual([]);
  });

  it('a session on the data channel waits for the channel even when a track was ready', async () => {
    const { l, peer } = rtpLink();
    peer.open = false;
    peer.emit('trackDeclined', 'no H.264 in the answer');
    Object.assign(peer, { mediaReady: true });
    peer.emit('mediaReady');
    expect(l.open).toBe(false);
    expect(peer.sent).toEqual([]);
    peer.open = true;
    peer.emit('open');
    expect(peer.sent[0]).toMatchObject({ type: 'hello' });
    expect(await sendOne(l)).toBe('sent');
  });

  it('judges the link by transport-wide feedback, and holds the receiver’s own reports back', async () => {
    const { peer, sentRtp } = trackPeer();
    const l = trackLink(peer);
    peer.emit('open');
    expect(await sendOne(l)).toBe('sent');
    expect(sentRtp).toEqual([[0, 1, 2]]);
    expect(l.snapshot().rate.backlogBytes).toBe(3 * 1034);
    // The receiver's own report for the picture is not used while transport-wide feedback is due.
    peer.emit('message', encodeMessage({ type: 'feedback', frameId: 0, bytesReceived: 3 * 1034, partsReceived: 1, receiveTs: Date.now() }));
    expect(l.snapshot().rate.backlogBytes).toBe(3 * 1034);
    // Transport-wide feedback accounts for all three packets, one of them lost: the picture is in.
    peer.emit('transportFeedback', 0, [100, null, 103]);
    const rate = l.snapshot().rate;
    expect(rate.backlogBytes).toBe(0);
    expect(rate.lossFraction).toBeCloseTo(1 / 3);
    expect(l.snapshot().refusals).toEqual({});
  });

  it('paces the track at PACE_GAIN × the bottleneck rate once its packets have measured it, not before', async () => {
    const { peer, pacing } = trackPeer();
    const l = trackLink(peer);
    peer.emit('open');
    // Each picture's three 1,034-byte packets come out of a 2 Mbit/s bottleneck 4.136 ms apart.
    for (let k = 0; k < 6; k++) {
      expect(await sendOne(l)).toBe('sent');
      const t0 = 1000 + 100 * k;
      peer.emit('transportFeedback', 3 * k, [t0, t0 + 4.136, t0 + 8.272]);
    }
    expect(Number.isFinite(pacing[0] as number)).toBe(false);
    const bottleneck = l.snapshot().rate.bottleneckBps as number;
    expect(bottleneck).toBeCloseTo(2e6, -4);
    expect(await sendOne(l)).toBe('sent');
    expect(pacing.at(-1)).toBeCloseTo(PACE_GAIN * bottleneck, -3);
  });
});
