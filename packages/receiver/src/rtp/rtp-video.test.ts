import { depacketizeVp8, isVp8Keyframe, vp8StartsFrame } from '@mmsc/codec';
import { type PictureMessage, withPictureTrailer } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import type { RtpPacketIn } from './rtp-assembler.js';
import { EARLY_KEY_SHARE, type RtpDepacketizer, RtpVideo, type RtpVideoOutput } from './rtp-video.js';

const VP8: RtpDepacketizer = { depacketize: depacketizeVp8, isKey: isVp8Keyframe, startsPicture: vp8StartsFrame, trailer: 'appended' };

// VP8 frames: a key frame's tag byte has bit 0 clear, a delta frame's set.
const KEY = [0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02];
const DELTA = [0x31, 0x02, 0x00, 0x11, 0x22, 0x33];

/** Frame `id`'s announcement: rtpTs = 90·id, captured at `captureTs` (default `id` ms). */
const announce = (id: number, key: boolean, captureTs = id): Omit<PictureMessage, 'type'> => ({
  frameId: id,
  captureTs,
  budget: 5000,
  key,
  rtpTs: 90 * id,
  bytes: 100 + id,
});

/** Frame `id` with its trailer (or `trailer`: the bytes after the descriptors) split in `n` packets from `seq` (descriptor 0x10 first, 0x00 after). */
function frame(id: number, seq: number, key: boolean, n = 2, trailer: Uint8Array | null = null, captureTs = id): RtpPacketIn[] {
  const bytes = trailer ?? withPictureTrailer(Uint8Array.from(key ? KEY : DELTA), announce(id, key, captureTs));
  const cut = Math.ceil(bytes.length / n);
  return Array.from({ length: n }, (_, i) => ({
    seq: (seq + i) & 0xffff,
    timestamp: 90 * id,
    marker: i === n - 1,
    payload: Uint8Array.of(i === 0 ? 0x10 : 0x00, ...bytes.subarray(i * cut, (i + 1) * cut)),
  }));
}

function run(v: RtpVideo, packets: RtpPacketIn[], at: number, skip: number[] = []): RtpVideoOutput {
  const outs = packets.filter((_, i) => !skip.includes(i)).map((p) => v.packet(p, at));
  return { frames: outs.flatMap((o) => o.frames), keyframe: outs.some((o) => o.keyframe) };
}
/** The frames to decode. */
const ids = (o: RtpVideoOutput) => o.frames.filter((f) => f.complete).map((f) => f.frameId);
/** The frames that came whole but cannot be decoded. */
const held = (o: RtpVideoOutput) => o.frames.filter((f) => !f.complete).map((f) => f.frameId);

describe('RtpVideo', () => {
  it('turns whole pictures into frames the decoding path takes, their announcement read from the trailer and cut off', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 4 });
    const a = run(v, frame(1, 100, true), 5);
    expect(ids(a)).toEqual([1]);
    expect(a.frames[0]).toEqual({
      frameId: 1,
      captureTs: 1,
      budget: 5000,
      parts: 1,
      partsReceived: 1,
      bytesReceived: 101, // what the picture cost on the track, as its trailer says
      lastReceiveTs: 5,
      complete: true,
      levels: new Uint8Array(4),
      received: [],
      video: { key: true, chunks: [Uint8Array.from(KEY)] },
      base: null,
    });
    expect(ids(run(v, frame(2, 102, false, 5), 33))).toEqual([2]); // the trailer spread over packets
    expect(a.keyframe).toBe(false);
    expect(v.stats).toMatchObject({ frames: 2, keyframeRequests: 0, packets: 7, badTrailer: 0, stale: 0 });
  });

  it('lets nothing but a keyframe start the chain, and asks for one (again every keyRetryMs) until it comes', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1, keyRetryMs: 500 });
    const first = run(v, frame(1, 100, false), 0); // the keyframe before it never came
    expect([ids(first), held(first), first.keyframe]).toEqual([[], [1], true]);
    expect(first.frames[0]?.levels.every((l) => l === 255)).toBe(true);
    expect(v.nextDeadline(0)).toBe(500);
    expect(v.poll(499).keyframe).toBe(false);
    expect(v.poll(500).keyframe).toBe(true);
    expect(ids(run(v, frame(2, 102, true), 600))).toEqual([2]);
    expect(v.poll(2000).keyframe).toBe(false);
    expect(v.stats).toMatchObject({ skipped: 1, keyframeRequests: 2 });
  });

  it('after a loss not repaired in time: asks at once, holds the deltas back, goes on from the keyframe', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1, deadlineMs: 100 });
    run(v, frame(1, 100, true), 0);
    expect(run(v, frame(2, 102, false, 3), 10, [1]).frames).toEqual([]); // packet 103 lost
    expect(run(v, frame(3, 105, false), 20).frames).toEqual([]);
    const late = v.poll(110);
    expect([ids(late), held(late), late.keyframe]).toEqual([[], [3], true]); // 2 dropped, 3 follows the gap
    expect(held(run(v, frame(4, 107, false), 150))).toEqual([4]);
    expect(ids(run(v, frame(5, 109, true), 200))).toEqual([5]);
    expect(v.stats).toMatchObject({ dropped: 1, skipped: 2 });
  });

  it('a repaired loss costs nothing', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1, deadlineMs: 100 });
    run(v, frame(1, 100, true), 0);
    const f2 = frame(2, 102, false, 3);
    run(v, f2, 10, [1]);
    expect(ids(run(v, frame(3, 105, false), 20))).toEqual([]);
    const repaired = v.packet(f2[1] as RtpPacketIn, 60);
    expect(ids(repaired)).toEqual([2, 3]);
    expect(repaired.keyframe).toBe(false);
  });

  it('a loss unrepaired after half the deadline asks for a keyframe early; a repair after that still passes, and the ask is not repeated', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1, deadlineMs: 100, keyRetryMs: 500 });
    run(v, frame(1, 100, true), 0);
    const f2 = frame(2, 102, false, 3);
    expect(run(v, f2, 10, [1]).keyframe).toBe(false); // packet 103 lost: the gap shows at 10
    expect(v.nextDeadline(20)).toBe(10 + EARLY_KEY_SHARE * 100);
    expect(v.poll(10 + EARLY_KEY_SHARE * 100 - 1).keyframe).toBe(false);
    expect(v.poll(10 + EARLY_KEY_SHARE * 100).keyframe).toBe(true);
    const repaired = v.packet(f2[1] as RtpPacketIn, 80);
    expect(ids(repaired)).toEqual([2]);
    expect(v.poll(700).keyframe).toBe(false);
    expect(ids(run(v, frame(3, 105, false), 710))).toEqual([3]);
    expect(v.stats).toMatchObject({ dropped: 0, keyframeRequests: 1 });
  });

  it('payloads that make no picture are a loss too', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1 });
    run(v, frame(1, 100, true), 0);
    const broken = frame(2, 102, false).map((p, i) => (i === 0 ? { ...p, payload: Uint8Array.of(0x00, 0x31) } : p));
    expect(run(v, broken, 10)).toEqual({ frames: [], keyframe: true });
    expect(held(run(v, frame(3, 104, false), 20))).toEqual([3]);
    expect(v.stats).toMatchObject({ undecodable: 1, skipped: 1 });
  });

  it('drops a picture without a valid trailer (none, garbled, or naming another picture) as lost', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1, keyRetryMs: 1000 });
    run(v, frame(1, 100, true), 0);
    const none = run(v, frame(2, 102, false, 2, Uint8Array.from(DELTA)), 10);
    expect([none.frames, none.keyframe]).toEqual([[], true]);
    const garbled = withPictureTrailer(Uint8Array.from(DELTA), announce(3, false));
    garbled[DELTA.length] = 0xc1; // never used in msgpack
    expect(run(v, frame(3, 104, false, 2, garbled), 20).frames).toEqual([]);
    const other = withPictureTrailer(Uint8Array.from(DELTA), announce(9, false)); // rtpTs 810 on a picture at 360
    expect(run(v, frame(4, 106, false, 2, other), 30).frames).toEqual([]);
    expect(held(run(v, frame(5, 108, false), 40))).toEqual([5]);
    expect(ids(run(v, frame(6, 110, true), 50))).toEqual([6]);
    expect(v.stats).toMatchObject({ badTrailer: 3, skipped: 1, frames: 2, keyframeRequests: 1 });
  });

  it('marks a stale picture (more than staleMs above the lowest one-way delay) and lets it and the deltas after it through', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1, staleMs: 1000 });
    // Captured at `at` on the sender's clock, 5 s ahead of ours, arriving `delay` ms later here.
    const at = (id: number, seq: number, key: boolean, captureTs: number, delay: number) =>
      run(v, frame(id, seq, key, 2, null, captureTs + 5000), captureTs + delay);
    const stale = (o: RtpVideoOutput) => o.frames.filter((f) => f.stale).map((f) => f.frameId);
    expect(ids(at(1, 100, true, 0, 50))).toEqual([1]); // the floor: 50 ms, less the clocks' 5 s
    const late = at(2, 102, false, 100, 700); // 650 ms above: late, not stale
    expect([ids(late), stale(late)]).toEqual([[2], []]);
    // An outage: frames 3–6 sat in a queue and arrive together, 3 s, 1.05 s, 0.98 s and 0.4 s above the floor.
    const out = [at(3, 104, false, 200, 3050), at(4, 106, false, 2150, 1100), at(5, 108, false, 2220, 1030), at(6, 110, false, 2800, 450)];
    expect(out.map(ids)).toEqual([[3], [4], [5], [6]]); // decoded: each refers to the one before
    // 5 and 6 are under 1 s, but the rest of the queue: stale until a picture within 300 ms of the floor.
    expect(out.map(stale)).toEqual([[3], [4], [5], [6]]);
    const fresh = at(7, 112, false, 3000, 300);
    expect([ids(fresh), stale(fresh)]).toEqual([[7], []]);
    const lateAgain = at(8, 114, false, 3100, 700); // late again, but no queue drains: not stale
    expect(stale(lateAgain)).toEqual([]);
    // No keyframe is needed for any of them.
    expect([...out, fresh, lateAgain].some((o) => o.keyframe)).toBe(false);
    expect(v.stats).toMatchObject({ stale: 4, skipped: 0, frames: 8, keyframeRequests: 0 });
  });

  it('takes whole pictures from the platform’s jitter buffer (the page), their trailer cut there', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1 });
    const pic = (id: number, key: boolean, picture: PictureMessage | null = { type: 'picture', ...announce(id, key) }) => ({
      rtpTs: 90 * id,
      data: Uint8Array.from(key ? KEY : DELTA),
      key,
      receiveTs: id + 20,
      picture,
    });
    const first = v.picture(pic(1, true), 21);
    expect(ids(first)).toEqual([1]);
    expect(first.frames[0]).toMatchObject({ bytesReceived: 101, lastReceiveTs: 21, video: { chunks: [Uint8Array.from(KEY)] } });
    const lost = v.picture(pic(2, false, null), 22);
    expect([lost.frames, lost.keyframe]).toEqual([[], true]);
    expect(held(v.picture(pic(3, false), 23))).toEqual([3]);
    expect(v.stats).toMatchObject({ badTrailer: 1, skipped: 1 });
  });

  it('clear() starts afresh: a keyframe first', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1 });
    run(v, frame(1, 100, true), 0);
    v.clear();
    expect(ids(run(v, frame(2, 102, false), 10))).toEqual([]);
    expect(ids(run(v, frame(3, 104, true), 20))).toEqual([3]);
  });
});
