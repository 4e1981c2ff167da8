import { allocYuv } from '@mmsc/codec';
import {
  decodeMessage,
  encodeMessage,
  type FrameMessage,
  type HelloMessage,
  KEEP_LEVEL,
  type LevelSpec,
  makeContext,
  pictureTrailer,
  splitFrame,
} from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { FrameCollector, feedbackFor, MISSING } from '../collect-frame.js';
import { Reassembler } from '../reassemble.js';
import { FrameReceiver, type ReceiverDecoders, SessionPicture } from './frame-receiver.js';
import { DecoderMismatchError } from './verify-decoders.js';

// A 32×32 picture = 4×4 patches; levels: skip, 12 B (a fake learned decoder), raw.
const SHA = 'ab'.repeat(32);
const LEVELS: LevelSpec[] = [
  { id: 0, bytes: 0, kind: 'skip', model: null },
  { id: 1, bytes: 12, kind: 'learned', model: { id: 'fake-L12', sha256: SHA } },
  { id: 4, bytes: 192, kind: 'raw', model: null },
];
const hello = (sessionId: string, levels = LEVELS): HelloMessage => ({
  type: 'hello',
  sessionId,
  width: 32,
  height: 32,
  patchSize: 8,
  levels,
  maxMessageBytes: 1024,
  fps: 10,
  engine: 'patches',
});
const ctx = makeContext(LEVELS, { width: 32, height: 32, patchSize: 8 });

/** Fake learned decoder: every pixel of a patch takes the code's first byte. */
class FakeDecoders implements ReceiverDecoders {
  readonly levels = [12];
  constructor(private readonly sha256 = SHA) {}
  entry(bytes: number) {
    return { id: 'fake-L12', bytes, decoder: { sha256: this.sha256 } };
  }
  async decode(bytes: number, codes: Uint8Array) {
    const n = codes.length / bytes;
    const out = new Uint8Array(n * 192);
    for (let i = 0; i < n; i++) out.fill(codes[i * bytes] as number, i * 192, (i + 1) * 192);
    return out;
  }
}

/** A frame's encoded parts (1 KiB messages, so raw patches make several). */
function parts(frameId: number, levels: number[], seed: number): Uint8Array[] {
  const bytesOf = (l: number) => ctx.levelBytes[l] ?? 0;
  const payload = levels.flatMap((l, p) => Array.from({ length: bytesOf(l) }, (_, i) => (seed * 31 + p * 17 + i * 7) % 256));
  return splitFrame(
    { frameId, captureTs: 1000 + frameId, budget: 2000, levels: Uint8Array.from(levels), payload: Uint8Array.from(payload) },
    { ctx, maxMessageBytes: 1024 },
  );
}

// A recorded session: hello, a grounding report, frame 1 whole, frame 2 losing a part (closed by
// frame 3's first part), frame 3 keeping, skipping and re-coding.
const f1 = parts(1, [4, 4, 1, 1, 4, 1, 4, 1, 4, 4, 1, 0, 0, 1, 4, 4], 1);
const f2 = parts(2, [1, 4, 4, 4, 1, 4, 4, 1, 4, 4, 4, 4, 1, 4, 4, 1], 2);
const f3 = parts(3, [KEEP_LEVEL, 0, 1, KEEP_LEVEL, 4, 0, 1, 1, 0, 0, 0, 0, KEEP_LEVEL, 1, 4, 0], 3);
const grounding = encodeMessage({ type: 'grounding', queryId: 'q', text: 'dog', fallback: false, words: [], ungrounded: [] });
const recording: Uint8Array[] = [encodeMessage(hello('s1')), grounding, ...f1, ...f2.filter((_, i) => i !== 1), ...f3];

/** Today's path (probe, eval, the e2e reference before FrameReceiver): FrameCollector → Reassembler by hand. */
async function byHand(messages: Uint8Array[]) {
  const collector = new FrameCollector(ctx);
  const picture = new Reassembler(ctx, new FakeDecoders());
  const feedback = [];
  for (const [i, b] of messages.entries()) {
    const m = decodeMessage(b, ctx);
    if (m.type !== 'frame') continue;
    for (const f of collector.push(m as FrameMessage, b.length, 100 + i)) {
      feedback.push(feedbackFor(f));
      await picture.apply(f);
    }
  }
  for (const f of collector.flush()) await picture.apply(f);
  return { image: picture.image, feedback };
}

describe('FrameReceiver', () => {
  it('makes the same picture and feedback as FrameCollector + Reassembler by hand from a recorded session', async () => {
    expect(f1.length).toBeGreaterThan(1);
    expect(f2.length).toBeGreaterThan(2);
    const rx = new FrameReceiver({ decoders: new FakeDecoders() });
    const feedback = [];
    const types: string[] = [];
    for (const [i, b] of recording.entries()) {
      const r = rx.receive(b, 100 + i);
      types.push(r.type);
      if (r.type !== 'frame') continue;
      for (const f of r.frames) {
        feedback.push(f.feedback);
        await rx.decode(f);
      }
    }
    for (const f of rx.close()) await rx.decode(f);
    const ref = await byHand(recording);
    expect(types.slice(0, 2)).toEqual(['hello', 'other']);
    expect(feedback).toEqual(ref.feedback);
    expect(feedback.map((f) => [f.frameId, f.partsReceived])).toEqual([
      [1, f1.length],
      [2, f2.length - 1],
      [3, f3.length],
    ]);
    expect(rx.picture?.picture.image).toEqual(ref.image);
    expect(rx.stats).toMatchObject({ messages: recording.length, frames: 3, incompleteFrames: 1, protocolErrors: 0 });
  });

  it('applies frames in the order they were handed in, even when nobody awaits between them', async () => {
    const rx = new FrameReceiver({ decoders: new FakeDecoders() });
    const pending: Promise<unknown>[] = [];
    for (const [i, b] of recording.entries()) {
      const r = rx.receive(b, 100 + i);
      if (r.type === 'frame') for (const f of r.frames) pending.push(rx.decode(f));
    }
    for (const f of rx.close()) pending.push(rx.decode(f));
    await Promise.all(pending);
    expect(rx.picture?.picture.image).toEqual((await byHand(recording)).image);
  });

  it('collects and acknowledges without decoders (the page decodes in its worker)', async () => {
    const rx = new FrameReceiver();
    const finished = recording.flatMap((b, i) => {
      const r = rx.receive(b, 100 + i);
      return r.type === 'frame' ? r.frames : [];
    });
    expect(finished.map((f) => f.feedback)).toEqual((await byHand(recording)).feedback);
    expect(rx.picture).toBeNull();
    await expect(rx.decode(finished[0]!)).resolves.toBeNull();
  });

  it('drops frame parts before the hello and reports bytes that are not a message', () => {
    const rx = new FrameReceiver({ decoders: new FakeDecoders() });
    expect(rx.receive(f1[0]!, 0).type).toBe('stray');
    const bad = rx.receive(new Uint8Array([1, 2, 3]), 0);
    expect(bad.type).toBe('invalid');
    expect(rx.stats.protocolErrors).toBe(1);
    expect(rx.receive(encodeMessage(hello('s1')), 0)).toMatchObject({ type: 'hello', previous: null, refused: null });
    expect(rx.receive(f1[0]!, 0).type).toBe('frame');
  });

  it('starts afresh on a new hello, says which session it replaced, and decodes nothing of the old one', async () => {
    const rx = new FrameReceiver({ decoders: new FakeDecoders() });
    rx.receive(encodeMessage(hello('s1')), 0);
    const old = f1.flatMap((b) => {
      const r = rx.receive(b, 0);
      return r.type === 'frame' ? r.frames : [];
    });
    const r = rx.receive(encodeMessage(hello('s2')), 0);
    expect(r).toMatchObject({ type: 'hello', message: { sessionId: 's2' }, previous: { sessionId: 's1' } });
    await expect(rx.decode(old[0]!)).resolves.toBeNull();
    expect(rx.picture?.picture.have.every((h) => h === 0)).toBe(true);
  });

  it('refuses decoders that do not match the hello: frames are still acknowledged, never decoded', async () => {
    const rx = new FrameReceiver({ decoders: new FakeDecoders('cd'.repeat(32)) });
    const h = rx.receive(encodeMessage(hello('s1')), 0);
    expect(h.type === 'hello' && h.refused).toBeInstanceOf(DecoderMismatchError);
    const r = f1.map((b) => rx.receive(b, 0)).at(-1)!;
    expect(r.type === 'frame' && r.frames.length).toBe(1);
    if (r.type === 'frame') await expect(rx.decode(r.frames[0]!)).rejects.toMatchObject({ code: 'decoder-mismatch' });
  });

  it('gives up the frame in progress when the link goes, and ignores parts until the next hello', () => {
    const rx = new FrameReceiver();
    rx.receive(encodeMessage(hello('s1')), 0);
    rx.receive(f2[0]!, 0);
    const [partial] = rx.close();
    expect(partial?.frame).toMatchObject({ frameId: 2, complete: false, partsReceived: 1 });
    expect(rx.receive(f2[1]!, 0).type).toBe('stray');
    expect(rx.hello?.sessionId).toBe('s1');
  });
});

describe('SessionPicture', () => {
  it('throws the mismatch at once', () => {
    expect(() => SessionPicture.open(hello('s1'), { decoders: new FakeDecoders('cd'.repeat(32)) })).toThrow(DecoderMismatchError);
  });

  it('makes no picture where the platform only collects the engine (no patch decoders)', () => {
    expect(SessionPicture.open(hello('s1'), {})).toBeNull();
  });

  it('reports the level of each copy on screen, MISSING where interpolated', async () => {
    const s = SessionPicture.open(hello('s1'), { decoders: new FakeDecoders() }) as SessionPicture;
    const c = new FrameCollector(s.ctx);
    const frame = (bytes: Uint8Array[]) => bytes.flatMap((b) => c.push(decodeMessage(b, s.ctx) as FrameMessage, b.length, 0));
    const M = MISSING;
    for (const f of frame(parts(1, [4, 0, 1, ...Array(13).fill(0)], 1))) await s.apply(f);
    expect([...s.shownLevels()]).toEqual([4, M, 1, ...Array(13).fill(M)]);
    for (const f of frame(parts(2, [KEEP_LEVEL, 1, 0, ...Array(12).fill(0), 4], 2))) await s.apply(f);
    expect([...s.shownLevels()]).toEqual([4, 1, 1, ...Array(12).fill(M), 4]);
  });
});

describe('FrameReceiver with an h264 session', () => {
  const video = async () => ({
    decode: async () => {
      const f = allocYuv(32, 32);
      f.y.fill(77);
      f.u.fill(128);
      f.v.fill(128);
      return f;
    },
    close: () => undefined,
  });
  const part = encodeMessage({
    type: 'video',
    frameId: 0,
    captureTs: 1,
    budget: 500,
    part: 0,
    parts: 1,
    key: true,
    data: Uint8Array.of(0, 0, 1, 0x65),
  });

  it('decodes with a video decoder alone (no patch decoders needed)', async () => {
    const rx = new FrameReceiver({ video });
    expect(rx.receive(encodeMessage({ ...hello('v1'), engine: 'h264' }), 0)).toMatchObject({ type: 'hello', refused: null });
    const r = rx.receive(part, 5);
    expect(r.type === 'frame' && r.frames).toHaveLength(1);
    const stats = r.type === 'frame' ? await rx.decode(r.frames[0]!) : null;
    expect(stats).toMatchObject({ decoded: 16 });
    expect(rx.picture?.picture.image[0]).toBe(77);
  });

  it('refuses an h264 session without a video decoder, and only collects a patches session without patch decoders', async () => {
    const noVideo = new FrameReceiver({ decoders: new FakeDecoders() });
    const h = noVideo.receive(encodeMessage({ ...hello('v2'), engine: 'h264' }), 0);
    expect(h.type === 'hello' && h.refused).toBeInstanceOf(DecoderMismatchError);
    const videoOnly = new FrameReceiver({ video });
    expect(videoOnly.receive(encodeMessage(hello('p1')), 0)).toMatchObject({ type: 'hello', refused: null });
    expect(videoOnly.picture).toBeNull();
  });
});

describe('FrameReceiver, pictures on the RTP video track', () => {
  // An H.264 session on the track: a picture's packets (an SPS and an IDR slice, single NAL units)
  // and its trailer's own unit (type 23) with its announcement, which the marker ends.
  const rtpHello = { ...hello('t1'), engine: 'h264' as const, transport: 'rtp' as const };
  const trailer = (frameId: number, rtpTs: number, key: boolean, seq: number) => ({
    seq,
    timestamp: rtpTs,
    marker: true,
    payload: Uint8Array.of(0x17, ...pictureTrailer({ frameId, captureTs: 1000 + frameId, budget: 900, key, rtpTs, bytes: 321 })),
  });
  const sps = { seq: 10, timestamp: 9000, marker: false, payload: Uint8Array.of(0x67, 0x42, 0xe0, 0x1f) };
  const idr = { seq: 11, timestamp: 9000, marker: false, payload: Uint8Array.of(0x65, 0x88, 0x84) };

  it('makes one whole video frame of the packets and the trailer, acknowledged with the bytes the trailer states', () => {
    const rx = new FrameReceiver();
    rx.receive(encodeMessage(rtpHello), 0);
    expect(rx.rtpPacket(sps, 5)).toEqual({ frames: [], keyframe: false });
    expect(rx.rtpPacket(idr, 7).frames).toEqual([]);
    const [f, ...more] = rx.rtpPacket(trailer(1, 9000, true, 12), 1008).frames;
    expect(more).toEqual([]);
    expect(f?.feedback).toEqual({ type: 'feedback', frameId: 1, bytesReceived: 321, partsReceived: 1, receiveTs: 1008 });
    // No trailer, nor its unit, for the decoder.
    expect([...(f?.frame.video?.chunks[0] ?? [])]).toEqual([0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0, 0, 0, 1, 0x65, 0x88, 0x84]);
    expect(f?.frame.video?.key).toBe(true);
    expect(rx.stats.frames).toBe(1);
    expect(rx.trackStats).toMatchObject({ frames: 1, packets: 3, badTrailer: 0 });
  });

  it('takes the packets that overtake the hello into the session: their frames come with the hello', () => {
    const rx = new FrameReceiver();
    expect(rx.rtpPacket(sps, 1)).toEqual({ frames: [], keyframe: false });
    rx.rtpPacket(idr, 2);
    expect(rx.rtpPacket(trailer(1, 9000, true, 12), 3).frames).toEqual([]);
    const r = rx.receive(encodeMessage(rtpHello), 4);
    expect(r.type === 'hello' && r.track.frames.map((f) => [f.frame.frameId, f.frame.lastReceiveTs, f.frame.complete, f.session])).toEqual([
      [1, 3, true, 1],
    ]);
    // A session on the data channel drops what came early.
    const plain = new FrameReceiver();
    plain.rtpPacket(sps, 1);
    plain.receive(encodeMessage({ ...hello('v'), engine: 'h264' }), 2);
    plain.receive(encodeMessage(rtpHello), 3);
    expect(plain.trackStats?.packets).toBe(0);
  });

  it('a picture without its trailer is lost: no frame, a keyframe asked for', () => {
    const rx = new FrameReceiver();
    rx.receive(encodeMessage(rtpHello), 0);
    rx.rtpPacket(sps, 1);
    expect(rx.rtpPacket({ ...idr, marker: true }, 2)).toEqual({ frames: [], keyframe: true });
    expect(rx.trackStats).toMatchObject({ badTrailer: 1, frames: 0 });
  });

  it('a picture message on the data channel is not read (counted as unexpected); packets outside a track session are ignored', () => {
    const rx = new FrameReceiver();
    const announce = encodeMessage({ type: 'picture', frameId: 1, captureTs: 1, budget: 900, key: true, rtpTs: 9000, bytes: 321 });
    rx.receive(encodeMessage(rtpHello), 0);
    expect(rx.receive(announce, 1).type).toBe('other');
    rx.receive(encodeMessage({ ...hello('v'), engine: 'h264' }), 0);
    expect(rx.receive(announce, 2).type).toBe('other');
    expect(rx.receive(encodeMessage({ type: 'refresh', reason: 'x' }), 3).type).toBe('other');
    expect(rx.stats.unexpected).toBe(3);
    expect(rx.rtpPacket(sps, 1)).toEqual({ frames: [], keyframe: false });
    expect(rx.trackStats).toMatchObject({ packets: 0 }); // the last track's counters
  });

  it('a delta picture first asks for a keyframe; the link going clears what is in flight', async () => {
    const rx = new FrameReceiver();
    rx.receive(encodeMessage(rtpHello), 0);
    // An access unit delimiter, then a non-IDR slice: whole, but nothing to decode it from.
    rx.rtpPacket({ ...sps, payload: Uint8Array.of(0x09, 0xf0) }, 2);
    rx.rtpPacket({ ...idr, payload: Uint8Array.of(0x41, 0x9a) }, 3);
    const r = rx.rtpPacket(trailer(1, 9000, false, 12), 3);
    expect(r.keyframe).toBe(true);
    // Acknowledged (the link carried it), never decoded.
    expect(r.frames.map((f) => [f.feedback.frameId, f.held, f.frame.complete])).toEqual([[1, true, false]]);
    expect(await rx.decode(r.frames[0]!)).toBeNull();
    expect(rx.stats.incompleteFrames).toBe(1);
    rx.rtpPacket({ ...sps, seq: 13, timestamp: 9090 }, 5);
    expect(rx.close()).toEqual([]);
    expect(rx.rtpPacket(idr, 6)).toEqual({ frames: [], keyframe: false });
    expect(rx.trackStats?.skipped).toBe(1);
  });
});
