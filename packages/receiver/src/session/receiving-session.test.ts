import {
  contextFromHello,
  decodeMessage,
  encodeMessage,
  type HelloMessage,
  type Message,
  type SignalMessage,
  splitFrame,
  toBase64,
  withPictureTrailer,
} from '@mmsc/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelLike, MediaSink, PeerLike, SignalSocket } from '../receive/receiver-connection.js';
import { DecoderMismatchError } from '../receive/verify-decoders.js';
import { LocalDecoding, type PictureDecoding } from './decoding.js';
import { ReceivingSession } from './receiving-session.js';
import type { RetryPolicy } from './signal-link.js';
import { STALE_HOLD_MS } from './stale-hold.js';

// A 32×16 picture = 4×2 patches, levels skip and raw (no learned decoder needed).
const HELLO: HelloMessage = {
  type: 'hello',
  sessionId: 's1',
  width: 32,
  height: 16,
  patchSize: 8,
  levels: [
    { id: 0, bytes: 0, kind: 'skip', model: null },
    { id: 4, bytes: 192, kind: 'raw', model: null },
  ],
  maxMessageBytes: 1024,
  fps: 10,
  engine: 'patches',
};
const ctx = contextFromHello(HELLO);
const OFFER = [
  'v=0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:x',
  'a=fingerprint:sha-256 AA',
].join('\r\n');
/** A frame of raw patches whose pixels are all `value`, in 1 KiB parts (two of them). */
const frame = (frameId: number, value: number) =>
  splitFrame(
    { frameId, captureTs: 1000 + frameId, budget: 2000, levels: new Uint8Array(8).fill(4), payload: new Uint8Array(8 * 192).fill(value) },
    { ctx, maxMessageBytes: 1024 },
  );
const NO_DECODERS = { levels: [], entry: () => ({ id: '', bytes: 0, decoder: { sha256: '' } }), decode: async () => new Uint8Array() };
const settle = () => new Promise((r) => setTimeout(r, 0));

class FakeSocket implements SignalSocket {
  readyState = 0;
  sent: SignalMessage[] = [];
  onopen: SignalSocket['onopen'] = null;
  onmessage: SignalSocket['onmessage'] = null;
  onclose: SignalSocket['onclose'] = null;
  onerror: SignalSocket['onerror'] = null;
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(m: unknown) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
  drop(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

class FakeChannel implements ChannelLike {
  readonly label = 'mmsc';
  readyState = 'open';
  onmessage: ChannelLike['onmessage'] = null;
  onclose: ChannelLike['onclose'] = null;
  close() {
    this.readyState = 'closed';
  }
  deliver(bytes: Uint8Array) {
    this.onmessage?.({ data: bytes });
  }
  remoteClose() {
    this.readyState = 'closed';
    this.onclose?.({});
  }
}

class FakePeer implements PeerLike<FakeChannel> {
  /** Where this platform delivers the video track. */
  media: MediaSink | null = null;
  connectionState = 'new';
  localDescription: { sdp: string } | null = null;
  onicecandidate: PeerLike<FakeChannel>['onicecandidate'] = null;
  onconnectionstatechange: PeerLike<FakeChannel>['onconnectionstatechange'] = null;
  ondatachannel: PeerLike<FakeChannel>['ondatachannel'] = null;
  async setRemoteDescription() {}
  async addIceCandidate() {}
  async createAnswer() {
    return { sdp: 'v=0' };
  }
  async setLocalDescription(a: { sdp: string }) {
    this.localDescription = { sdp: a.sdp };
  }
  close() {}
}

/** A session over fake sockets and peers; `connect()` runs the sender's side of one attempt up to the open channel. */
function harness(o: { decoding?: PictureDecoding | null; retry?: RetryPolicy; openTimeoutMs?: number } = {}) {
  const sockets: FakeSocket[] = [];
  const peers: FakePeer[] = [];
  const sent: Message[] = [];
  let now = 10_000;
  const session = new ReceivingSession<FakeChannel>({
    transport: {
      openSocket: () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      createPeer: (_servers, media) => {
        const p = new FakePeer();
        p.media = media;
        peers.push(p);
        return p;
      },
      send: (_ch, bytes) => sent.push(decodeMessage(bytes, ctx)),
    },
    decoding: o.decoding === undefined ? new LocalDecoding(() => ({ decoders: NO_DECODERS })) : o.decoding,
    retry: o.retry ?? null,
    ...(o.openTimeoutMs ? { openTimeoutMs: o.openTimeoutMs } : {}),
    now: () => now,
  });
  const connect = async () => {
    await settle();
    const socket = sockets.at(-1) as FakeSocket;
    socket.open();
    socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    const channel = new FakeChannel();
    peers.at(-1)?.ondatachannel?.({ channel });
    return { socket, channel };
  };
  return { session, sent, connect, sockets, peers, advance: (ms: number) => (now += ms) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ReceivingSession', () => {
  it('sends the query on the hello, feedback for each frame at once, and shows each decoded picture', async () => {
    const { session, sent, connect } = harness();
    const pictures: number[] = [];
    const states: string[] = [];
    session.on('picture', (p) => pictures.push(p.image[0] as number));
    session.on('state', (s) => states.push(s));
    session.query('  a   dog ');
    session.start();
    const { channel } = await connect();
    expect(states).toEqual(['connecting', 'negotiating', 'negotiating', 'open']);
    expect(sent).toEqual([]); // nothing before the hello
    channel.deliver(encodeMessage(HELLO));
    const query = sent[0];
    expect(query).toMatchObject({ type: 'query', text: 'a dog', queryId: session.machine.query.wanted?.queryId });
    for (const [i, v] of [50, 90].entries()) for (const part of frame(i + 1, v)) channel.deliver(part);
    // Feedback left as each frame completed, before any decode.
    expect(sent.slice(1).map((m) => m.type === 'feedback' && m.frameId)).toEqual([1, 2]);
    await settle();
    expect(pictures).toEqual([50, 90]);
    expect(session.machine.shownFrameId).toBe(2);
    expect(session.stats.framesShown).toBe(2);
    expect(session.machine.stage().text).toBeNull();
  });

  it('matches grounding to the operator’s query id and marks the query applied by the next frame', async () => {
    const { session, connect, advance } = harness();
    const whose: string[] = [];
    const status: string[] = [];
    session.on('grounding', (_g, w) => whose.push(w));
    session.on('query', (s) => status.push(s));
    session.start();
    const { channel } = await connect();
    channel.deliver(encodeMessage(HELLO));
    const g = { type: 'grounding' as const, text: 'dog', fallback: false, words: [], ungrounded: [] };
    channel.deliver(encodeMessage({ ...g, queryId: 'initial' }));
    session.query('dog');
    const id = session.machine.query.wanted?.queryId as string;
    channel.deliver(encodeMessage({ ...g, queryId: 'older' }));
    channel.deliver(encodeMessage({ ...g, queryId: id }));
    advance(50); // only a frame that arrives after the grounding was allocated under the query
    for (const part of frame(1, 10)) channel.deliver(part);
    await settle();
    expect(whose).toEqual(['sender', 'stale', 'operator']);
    expect(session.grounding?.queryId).toBe(id);
    expect(status.at(-1)).toBe('applied');
  });

  it('asks for a keyframe when a picture could not be decoded, and keeps the old one', async () => {
    const decoding: PictureDecoding = {
      begin: async () => ({ models: ['fake'], loadMs: 0 }),
      decode: async (_e, f) => ({
        frameId: f.frameId,
        stats: { decoded: 0, reused: 4, interpolated: 0, decodeMs: 1, refresh: 'no-reference' },
        queued: 0,
        image: null,
      }),
      close: () => undefined,
    };
    const { session, sent, connect } = harness({ decoding });
    const refreshes: [number | null, string][] = [];
    session.on('refresh', (id, why) => refreshes.push([id, why]));
    session.start();
    const { channel } = await connect();
    channel.deliver(encodeMessage(HELLO));
    for (const part of frame(7, 10)) channel.deliver(part);
    await settle();
    expect(refreshes).toEqual([[7, 'no-reference']]);
    expect(sent.filter((m) => m.type === 'refresh')).toEqual([{ type: 'refresh', reason: 'no-reference' }]);
    expect(session.refreshes).toBe(1);
    expect(session.stats.framesShown).toBe(0);
  });

  it('reports decoders that cannot decode the hello, and the stage says so', async () => {
    const refused = new DecoderMismatchError('decoder-missing', 12, { id: 'x', sha256: 'y' }, null, 'no decoder for x');
    const decoding: PictureDecoding = { begin: () => Promise.reject(refused), decode: async () => null, close: () => undefined };
    const { session, connect } = harness({ decoding });
    const errors: unknown[] = [];
    session.on('error', (e) => errors.push(e));
    session.start();
    const { channel } = await connect();
    channel.deliver(encodeMessage(HELLO));
    await settle();
    expect(errors).toEqual([{ kind: 'decoder', message: 'no decoder for x', cause: refused }]);
    expect(session.machine.stage()).toMatchObject({ text: 'Cannot decode: no decoder for x', error: true });
  });

  it('without decoding, only collects and acknowledges; every valid message is reported', async () => {
    const { session, sent, connect } = harness({ decoding: null });
    const types: string[] = [];
    session.on('message', (m) => types.push(m.type));
    session.start();
    const { channel } = await connect();
    channel.deliver(encodeMessage(HELLO));
    for (const part of frame(1, 10)) channel.deliver(part);
    channel.deliver(Uint8Array.of(1, 2, 3));
    expect(types).toEqual(['hello', 'frame', 'frame']);
    expect(sent.map((m) => m.type)).toEqual(['feedback']);
    expect(session.stats.protocolErrors).toBe(1);
  });

  it('gives the frame in progress up when the link goes (no feedback), and reconnects with backoff, re-sending the query', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { session, sent, connect, sockets } = harness({ retry: { firstMs: 500, maxMs: 10_000, busyMs: 5000, random: () => 0.5 } });
    const frames: [number, boolean][] = [];
    const closed: string[] = [];
    session.on('frame', (f, live) => frames.push([f.frame.frameId, live]));
    session.on('closed', (reason) => closed.push(reason));
    session.query('dog');
    session.start();
    const pending = connect();
    await vi.advanceTimersByTimeAsync(1);
    const { channel } = await pending;
    channel.deliver(encodeMessage(HELLO));
    const id = session.machine.query.wanted?.queryId;
    channel.deliver(frame(1, 10)[0] as Uint8Array);
    channel.remoteClose();
    expect(frames).toEqual([[1, false]]);
    expect(sent.filter((m) => m.type === 'feedback')).toEqual([]);
    expect(closed).toEqual(['the data channel closed']);
    expect(session.machine.link).toBe('waiting');
    await vi.advanceTimersByTimeAsync(600);
    expect(sockets).toHaveLength(2);
    const again = connect();
    await vi.advanceTimersByTimeAsync(1);
    const second = await again;
    second.channel.deliver(encodeMessage({ ...HELLO, sessionId: 's2' }));
    expect(sent.filter((m) => m.type === 'query').map((m) => m.type === 'query' && m.queryId)).toEqual([id, id]);
    expect(session.machine.epoch).toBe(2);
    await session.close();
  });

  it('counts the open deadline from the offer; without an offer the same span ends the attempt', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { session, sockets } = harness({ openTimeoutMs: 1000 });
    const ends: string[] = [];
    session.on('closed', (_r, end) => ends.push(end.kind));
    session.start();
    await vi.advanceTimersByTimeAsync(1);
    const socket = sockets[0] as FakeSocket;
    socket.open();
    await vi.advanceTimersByTimeAsync(900); // a slow offer (the sender gathering)
    socket.deliver({ type: 'offer', sdp: OFFER });
    await vi.advanceTimersByTimeAsync(900);
    expect(ends).toEqual([]); // 1.8 s after connecting, 0.9 s after the offer
    await vi.advanceTimersByTimeAsync(150);
    expect(ends).toEqual(['open-timeout']);

    const other = harness({ openTimeoutMs: 1000 });
    const otherEnds: string[] = [];
    other.session.on('closed', (_r, end) => otherEnds.push(end.kind));
    other.session.start();
    await vi.advanceTimersByTimeAsync(1);
    (other.sockets[0] as FakeSocket).open();
    await vi.advanceTimersByTimeAsync(1000);
    expect(otherEnds).toEqual(['open-timeout']);
  });

  it('without a retry policy a busy sender ends the link; other signalling errors are reported and it goes on', async () => {
    const { session, connect } = harness();
    const errors: string[] = [];
    const ends: string[] = [];
    session.on('error', (e) => errors.push(e.kind === 'signalling' ? e.code : e.kind));
    session.on('closed', (_r, end) => ends.push(end.kind));
    session.start();
    const { socket } = await connect();
    socket.deliver({ type: 'error', code: 'rate-limited', message: 'slow down' });
    expect(ends).toEqual([]);
    socket.deliver({ type: 'error', code: 'busy', message: 'full' });
    expect(errors).toEqual(['rate-limited', 'busy']);
    expect(ends).toEqual(['sender-error']);
    expect(session.machine.link).toBe('idle');
  });
});

describe('ReceivingSession, pictures on the RTP video track', () => {
  // A VP8 session on the track: each picture's bytes and its trailer (its announcement) in two
  // packets (1-byte descriptors: 0x10 first, 0x00 after). Captured at 9 950 + 40·id on the
  // sender's clock: 50 ms before the receiver's 10 000 for the first.
  const RTP_HELLO: HelloMessage = { ...HELLO, sessionId: 'r1', engine: 'vp8', transport: 'rtp' };
  const KEY = [0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02];
  const DELTA = [0x31, 0x02, 0x00, 0x11, 0x22, 0x33];
  const announce = (id: number, key: boolean) => ({
    frameId: id,
    captureTs: 9_910 + 40 * id,
    budget: 4000,
    key,
    rtpTs: 90 * id,
    bytes: 200 + id,
  });
  const packets = (id: number, seq: number, key: boolean, captureTs = announce(id, key).captureTs) => {
    const b = withPictureTrailer(Uint8Array.from(key ? KEY : DELTA), { ...announce(id, key), captureTs });
    const half = Math.ceil(b.length / 2);
    return [0, 1].map((i) => ({
      seq: seq + i,
      timestamp: 90 * id,
      marker: i === 1,
      payload: Uint8Array.of(i === 0 ? 0x10 : 0x00, ...b.subarray(i * half, (i + 1) * half)),
    }));
  };
  const feedbackIds = (sent: Message[]) => sent.flatMap((m) => (m.type === 'feedback' ? [m.frameId] : []));

  /** A decoding that records what it was given (no pictures, or a 1-pixel one whose value is the frame id). */
  const recording = (pictures = false) => {
    const decoded: [number, boolean][] = [];
    const decoding: PictureDecoding = {
      begin: async () => ({ models: ['fake'], loadMs: 0 }),
      decode: async (_e, f) => {
        decoded.push([f.frameId, f.video?.key === true]);
        const image = pictures ? { rgb: Uint8Array.of(f.frameId, 0, 0), width: 1, height: 1 } : null;
        return { frameId: f.frameId, stats: { decoded: 8, reused: 0, interpolated: 0, decodeMs: 1 }, queued: 0, image };
      },
      close: () => undefined,
    };
    return { decoded, decoding };
  };

  /** `plis`: where the platform's PLIs are counted; null: a platform that asks by itself (the page). */
  async function open(o: { plis?: number[] | null; pictures?: boolean } = {}) {
    const { decoded, decoding } = recording(o.pictures);
    const h = harness({ decoding });
    h.session.start();
    const { channel } = await h.connect();
    const media = h.peers.at(-1)?.media as MediaSink;
    media.track(o.plis === null ? {} : { requestKeyframe: () => o.plis?.push(1) });
    channel.deliver(encodeMessage(RTP_HELLO));
    await settle();
    return { ...h, channel, media, decoded };
  }

  /** Fake timers, and a session open on them. */
  async function openFaked(o: { plis?: number[] | null; pictures?: boolean } = {}) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pending = open(o);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(1);
    return pending;
  }

  it('a hello signalled ahead of the channel: the first picture is shown before the channel opens, the channel’s repeat changes nothing, the query goes once it opens', async () => {
    const { decoding } = recording(true);
    const { session, sent, sockets, peers } = harness({ decoding });
    const hellos: number[] = [];
    const data: number[] = [];
    const shown: number[] = [];
    session.on('hello', (_h, _p, epoch) => hellos.push(epoch));
    session.on('data', (b) => data.push(b.length));
    session.on('picture', (p) => shown.push(p.frame.frameId));
    session.query('dog');
    session.start();
    await settle();
    const socket = sockets.at(-1) as FakeSocket;
    socket.open();
    socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    const media = peers.at(-1)?.media as MediaSink;
    media.track({});
    const wire = encodeMessage(RTP_HELLO);
    socket.deliver({ type: 'hello', wire: toBase64(wire) });
    await settle();
    expect(hellos).toEqual([1]);
    expect(session.machine.stage()).toMatchObject({ stale: false });
    for (const p of packets(1, 100, true)) media.packet(p);
    await settle();
    expect(shown).toEqual([1]);
    expect(session.machine.stage()).toEqual({ text: null, error: false, stale: false });
    expect(sent.filter((m) => m.type === 'query')).toEqual([]); // no channel yet to carry it
    const channel = new FakeChannel();
    peers.at(-1)?.ondatachannel?.({ channel });
    expect(sent.filter((m) => m.type === 'query')).toMatchObject([{ text: 'dog' }]);
    channel.deliver(wire); // the channel's first message: the same hello
    for (const p of packets(2, 102, false)) media.packet(p);
    await settle();
    expect(hellos).toEqual([1]);
    expect(data).toEqual([wire.length]);
    expect(shown).toEqual([1, 2]);
    expect(session.stats.protocolErrors).toBe(0);
  });

  it('refuses a second signalled hello, and a signalled message that is not a hello', async () => {
    const attempt = async (...messages: Message[]) => {
      const { session, sockets } = harness({ decoding: null });
      const errors: string[] = [];
      const hellos: string[] = [];
      session.on('error', (e) => errors.push(e.kind === 'malformed-signal' ? e.error.message : e.kind === 'protocol' ? e.message : e.kind));
      session.on('hello', (h) => hellos.push(h.sessionId));
      session.start();
      await settle();
      const socket = sockets.at(-1) as FakeSocket;
      socket.open();
      for (const m of messages) socket.deliver({ type: 'hello', wire: toBase64(encodeMessage(m)) });
      return { errors, hellos };
    };
    expect(await attempt(RTP_HELLO, { ...RTP_HELLO, sessionId: 'r2' })).toEqual({
      errors: ['a hello on signalling comes once, before the data channel opens: dropped'],
      hellos: ['r1'],
    });
    expect(await attempt({ type: 'refresh', reason: 'x' })).toEqual({
      errors: ['the sender signalled a message that is not a hello: refresh; dropped'],
      hellos: [],
    });
  });

  it('each picture with its trailer is a frame: feedback at once with the bytes the trailer states, frames decoded in order', async () => {
    const { session, sent, media, decoded, advance } = await open();
    const bytes: number[] = [];
    session.on('media', (n) => bytes.push(n));
    const all = [...packets(1, 100, true), ...packets(2, 102, false)];
    for (const p of all.slice(0, 2)) media.packet(p);
    advance(40);
    for (const p of all.slice(2)) media.packet(p);
    expect(sent.filter((m) => m.type === 'feedback')).toEqual([
      { type: 'feedback', frameId: 1, bytesReceived: 201, partsReceived: 1, receiveTs: 10_000 },
      { type: 'feedback', frameId: 2, bytesReceived: 202, partsReceived: 1, receiveTs: 10_040 },
    ]);
    await settle();
    expect(decoded).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(bytes).toEqual(all.map((p) => p.payload.length + 12)); // each packet's payload and RTP header
    expect(session.refreshes).toBe(0);
  });

  it('a loss repaired in time (the NACK’s answer) costs nothing', async () => {
    const { sent, media, decoded, advance } = await open();
    for (const p of packets(1, 100, true)) media.packet(p);
    const [a, b] = packets(2, 102, false);
    media.packet(a!);
    for (const p of packets(3, 104, false)) media.packet(p);
    advance(80);
    media.packet(b!);
    await settle();
    expect(decoded.map(([id]) => id)).toEqual([1, 2, 3]);
    expect(sent.filter((m) => m.type === 'refresh')).toEqual([]);
  });

  it('a loss not repaired in time: a PLI and a refresh, the deltas acknowledged but not decoded, on from the keyframe', async () => {
    const plis: number[] = [];
    const { session, sent, media, decoded, advance } = await openFaked({ plis });
    const refreshes: [number | null, string][] = [];
    session.on('refresh', (id, why) => refreshes.push([id, why]));
    for (const p of packets(1, 100, true)) media.packet(p);
    media.packet(packets(2, 102, false)[0]!); // its second packet is lost for good
    for (const p of packets(3, 104, false)) media.packet(p);
    advance(300);
    await vi.advanceTimersByTimeAsync(300); // the assembler's deadline
    expect(refreshes).toEqual([[null, 'picture-lost']]);
    expect(plis).toHaveLength(1);
    expect(session.plis).toBe(1);
    expect(sent.filter((m) => m.type === 'refresh')).toEqual([{ type: 'refresh', reason: 'picture-lost' }]);
    expect(feedbackIds(sent)).toEqual([1, 3]);
    for (const p of packets(4, 106, true)) media.packet(p);
    await vi.advanceTimersByTimeAsync(1);
    expect(decoded.map(([id]) => id)).toEqual([1, 4]);
    expect(session.receiver.trackStats).toMatchObject({ dropped: 1, skipped: 1, keyframeRequests: 1 });
    // The operator's stats: the lost picture, and the one held for the keyframe as incomplete.
    expect(session.summary().frames).toMatchObject({ received: 3, incomplete: 1, lost: 1, stale: 0 });
    await session.close();
  });

  it('waits for repair as long as the round trip the platform measured asks (repairDeadline)', async () => {
    const { session, sent, media, advance } = await openFaked();
    media.rtt(150); // 700 ms to repair a loss
    for (const p of packets(1, 100, true)) media.packet(p);
    media.packet(packets(2, 102, false)[0]!);
    for (const p of packets(3, 104, false)) media.packet(p);
    // Half the deadline on, the loss is still open: a keyframe is asked for, the repair still awaited.
    advance(349);
    await vi.advanceTimersByTimeAsync(349);
    expect(sent.filter((m) => m.type === 'refresh')).toEqual([]);
    advance(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.filter((m) => m.type === 'refresh')).toHaveLength(1);
    advance(349);
    await vi.advanceTimersByTimeAsync(349);
    expect(session.receiver.trackStats).toMatchObject({ dropped: 0 });
    // At the deadline the picture is given up.
    advance(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(session.receiver.trackStats).toMatchObject({ dropped: 1 });
    await session.close();
  });

  it('after an outage: the pictures a queue held are decoded, not shown when a fresh one follows, and no keyframe is asked for', async () => {
    const { session, sent, media, decoded, advance } = await openFaked({ pictures: true });
    const shown: number[] = [];
    session.on('picture', (p) => shown.push(p.image[0] as number));
    for (const p of packets(1, 100, true)) media.packet(p); // 50 ms on the way: the floor
    await vi.advanceTimersByTimeAsync(1);
    advance(5000);
    // Frames 2 and 3 were captured before the outage; 3 s later the link is back and they arrive.
    for (const p of [...packets(2, 102, false), ...packets(3, 104, false)]) media.packet(p);
    expect(feedbackIds(sent)).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(1);
    expect(decoded.map(([id]) => id)).toEqual([1, 2, 3]);
    // The sender's next picture, captured just now, 60 ms on the way, within the hold.
    advance(300);
    for (const p of packets(4, 106, false, 15_240)) media.packet(p);
    await vi.advanceTimersByTimeAsync(STALE_HOLD_MS);
    expect(shown).toEqual([1, 4]);
    expect(sent.filter((m) => m.type === 'refresh')).toEqual([]);
    expect(session.receiver.trackStats).toMatchObject({ stale: 2, frames: 4 });
    expect(session.summary().frames).toMatchObject({ received: 4, incomplete: 0, stale: 2, lost: 0 });
    await session.close();
  });

  it('on a link that stays slow behind a long queue, the newest stale picture is shown after the hold', async () => {
    const { session, media, advance } = await openFaked({ pictures: true });
    const shown: number[] = [];
    session.on('picture', (p) => shown.push(p.image[0] as number));
    for (const p of packets(1, 100, true)) media.packet(p);
    await vi.advanceTimersByTimeAsync(1);
    advance(3000);
    for (const p of packets(2, 102, false)) media.packet(p); // 3 s in a queue
    await vi.advanceTimersByTimeAsync(STALE_HOLD_MS - 10);
    expect(shown).toEqual([1]);
    await vi.advanceTimersByTimeAsync(10);
    expect(shown).toEqual([1, 2]);
    await session.close();
  });

  it('takes whole pictures from a platform that assembles them (the page), and drops one without a trailer', async () => {
    const { session, sent, media, decoded } = await openFaked({ plis: null });
    media.picture({
      rtpTs: 90,
      data: Uint8Array.from(KEY),
      key: true,
      receiveTs: 9_990,
      picture: { type: 'picture', ...announce(1, true) },
    });
    media.picture({ rtpTs: 180, data: Uint8Array.from(DELTA), key: false, receiveTs: 10_000, picture: null });
    await vi.advanceTimersByTimeAsync(1);
    expect(decoded.map(([id]) => id)).toEqual([1]);
    expect(sent.filter((m) => m.type === 'feedback')).toEqual([
      { type: 'feedback', frameId: 1, bytesReceived: 201, partsReceived: 1, receiveTs: 9_990 },
    ]);
    expect(sent.filter((m) => m.type === 'refresh')).toHaveLength(1);
    expect(session.plis).toBe(0); // this platform's track asks by itself
    expect(session.summary().frames).toMatchObject({ lost: 1 });
    await session.close();
  });

  it('a picture message on the data channel is not read, and no notice is raised for it', async () => {
    const { session, channel, decoded } = await open();
    const notices: string[] = [];
    session.on('notice', (t) => notices.push(t));
    channel.deliver(encodeMessage({ type: 'picture', ...announce(1, true) }));
    await settle();
    expect([decoded, notices, session.receiver.stats.unexpected]).toEqual([[], [], 1]);
  });

  it('a session without the track ignores packets', async () => {
    const { decoded, decoding } = recording();
    const h = harness({ decoding });
    h.session.start();
    const { channel } = await h.connect();
    channel.deliver(encodeMessage({ ...RTP_HELLO, transport: undefined, sessionId: 'plain' }));
    const media = h.peers.at(-1)?.media as MediaSink;
    for (const p of packets(1, 100, true)) media.packet(p);
    await settle();
    expect(decoded).toEqual([]);
    expect(h.session.receiver.trackStats).toBeNull();
  });
});
