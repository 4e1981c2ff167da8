import { depacketizeVp8, isVp8Keyframe, vp8StartsFrame } from '@mmsc/codec';
import type { PictureMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import type { RtpPacketIn } from './rtp-assembler.js';
import { type RtpDepacketizer, RtpVideo, type RtpVideoOutput } from './rtp-video.js';

const VP8: RtpDepacketizer = { depacketize: depacketizeVp8, isKey: isVp8Keyframe, startsPicture: vp8StartsFrame };

// VP8 frames: a key frame's tag byte has bit 0 clear, a delta frame's set.
const KEY = [0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02];
const DELTA = [0x31, 0x02, 0x00, 0x11, 0x22, 0x33];

/** Frame `id` (rtpTs = 90·id) split in `n` packets from `seq` (descriptor 0x10 first, 0x00 after), and its announcement. */
function frame(id: number, seq: number, key: boolean, n = 2): { packets: RtpPacketIn[]; m: PictureMessage } {
  const bytes = key ? KEY : DELTA;
  const cut = Math.ceil(bytes.length / n);
  const packets = Array.from({ length: n }, (_, i) => ({
    seq: (seq + i) & 0xffff,
    timestamp: 90 * id,
    marker: i === n - 1,
    payload: Uint8Array.of(i === 0 ? 0x10 : 0x00, ...bytes.slice(i * cut, (i + 1) * cut)),
  }));
  return { packets, m: { type: 'picture', frameId: id, captureTs: id, budget: 5000, key, rtpTs: 90 * id, bytes: 100 + id } };
}

function run(v: RtpVideo, f: { packets: RtpPacketIn[]; m: PictureMessage }, at: number, skip: number[] = []): RtpVideoOutput {
  const outs = [v.announce(f.m, at), ...f.packets.filter((_, i) => !skip.includes(i)).map((p) => v.packet(p, at))];
  return { frames: outs.flatMap((o) => o.frames), keyframe: outs.some((o) => o.keyframe) };
}
/** The frames to decode. */
const ids = (o: RtpVideoOutput) => o.frames.filter((f) => f.complete).map((f) => f.frameId);
/** The frames that came whole but cannot be decoded. */
const held = (o: RtpVideoOutput) => o.frames.filter((f) => !f.complete).map((f) => f.frameId);

describe('RtpVideo', () => {
  it('turns announced, whole pictures into frames the decoding path takes', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 4 });
    const a = run(v, frame(1, 100, true), 0);
    expect(ids(a)).toEqual([1]);
    expect(a.frames[0]).toMatchObject({
      complete: true,
      parts: 1,
      bytesReceived: 101,
      video: { key: true, chunks: [Uint8Array.from(KEY)] },
    });
    expect(ids(run(v, frame(2, 102, false), 33))).toEqual([2]);
    expect(a.keyframe).toBe(false);
    expect(v.stats).toMatchObject({ frames: 2, keyframeRequests: 0, packets: 4 });
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
    expect(v.stats).toMatchObject({ dropped: 1, skipped: 2, unmatched: 1 });
  });

  it('a repaired loss costs nothing', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1, deadlineMs: 100 });
    run(v, frame(1, 100, true), 0);
    const f2 = frame(2, 102, false, 3);
    run(v, f2, 10, [1]);
    expect(ids(run(v, frame(3, 105, false), 20))).toEqual([]);
    const repaired = v.packet(f2.packets[1] as RtpPacketIn, 60);
    expect(ids(repaired)).toEqual([2, 3]);
    expect(repaired.keyframe).toBe(false);
  });

  it('payloads that make no picture are a loss too', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1 });
    run(v, frame(1, 100, true), 0);
    const bad = frame(2, 102, false);
    const broken = { ...bad, packets: bad.packets.map((p, i) => (i === 0 ? { ...p, payload: Uint8Array.of(0x00, 0x31) } : p)) };
    expect(run(v, broken, 10)).toEqual({ frames: [], keyframe: true });
    expect(held(run(v, frame(3, 104, false), 20))).toEqual([3]);
    expect(v.stats).toMatchObject({ undecodable: 1, skipped: 1 });
  });

  it('takes whole pictures from the platform’s jitter buffer (the page), joined the same way', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1, announceWaitMs: 100 });
    const pic = (id: number, key: boolean) => ({ rtpTs: 90 * id, data: Uint8Array.from(key ? KEY : DELTA), key, receiveTs: id });
    expect(ids(v.picture(pic(1, true), 1))).toEqual([]);
    expect(ids(v.announce(frame(1, 0, true).m, 2))).toEqual([1]);
    v.picture(pic(2, false), 10); // its announcement never comes
    v.announce(frame(3, 0, false).m, 12);
    v.picture(pic(3, false), 13);
    expect(v.nextDeadline(20)).toBe(110);
    const late = v.poll(110);
    expect([ids(late), held(late), late.keyframe]).toEqual([[], [3], true]);
    expect(v.stats).toMatchObject({ unannounced: 1, skipped: 1 });
  });

  it('clear() starts afresh: a keyframe first', () => {
    const v = new RtpVideo({ depacketizer: VP8, patchCount: 1 });
    run(v, frame(1, 100, true), 0);
    v.clear();
    expect(ids(run(v, frame(2, 102, false), 10))).toEqual([]);
    expect(ids(run(v, frame(3, 104, true), 20))).toEqual([3]);
  });
});
