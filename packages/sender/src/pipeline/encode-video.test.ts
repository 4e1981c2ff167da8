import { avcCodecString, depacketizeH264, RTP_MAX_PAYLOAD } from '@mmsc/codec';
import { h264Available } from '@mmsc/codec/h264-node';
import {
  decodeMessage,
  PICTURE_TRAILER_BOUND,
  REFRESH_UNSUPPORTED_FORMAT,
  splitPictureTrailer,
  TRAILER_NAL_HEADER,
  type VideoMessage,
} from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_QP_TIERS } from '../allocate/qp-regions.js';
import type { RgbImage } from '../images.js';
import { videoHello } from '../testing/video-hello.js';
import { BUCKET_FRAMES, RTP_PACKET_OVERHEAD, rtpOverheadBound, rtpTimestamp, VideoLinkEncoder } from './encode-video.js';

const available = await h264Available();
const W = 160;
const H = 96;
const hello = videoHello(W, H);

/** A textured picture moving right by 3 px a frame. */
function image(t: number): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const v = 128 + 50 * Math.sin((x + 3 * t) / 4) * Math.cos(y / 5) + 40 * Math.sin((x * y + 7 * t) / 90);
      data.set([v, 255 - v, (v * 3) & 255], (y * W + x) * 3);
    }
  return { width: W, height: H, data };
}

const scores = new Float32Array((W / 8) * (H / 8)).fill(0.01);
scores.fill(0.9, 0, 20); // the top rows matter

describe.skipIf(!available)('VideoLinkEncoder (node-av libx264; skipped when its binary does not load)', () => {
  it('starts with a keyframe, then predicted frames, each within the bucket’s credit', async () => {
    const enc = new VideoLinkEncoder(hello, 10);
    const budget = 1500;
    const keys: boolean[] = [];
    let total = 0;
    for (let t = 0; t < 20; t++) {
      const out = await enc.encode({ frameId: t, captureTs: t * 100, budget }, image(t), scores);
      if (!out) continue;
      keys.push(out.key);
      total += out.wireBytes;
      expect(out.budget).toBeLessThanOrEqual(budget * BUCKET_FRAMES);
      expect(out.wireBytes).toBeLessThanOrEqual(out.budget);
      for (const p of out.parts) expect(p.length).toBeLessThanOrEqual(1024);
      const msgs = out.parts.map((p) => decodeMessage(p) as VideoMessage);
      expect(msgs.every((m) => m.type === 'video' && m.frameId === t && m.key === out.key)).toBe(true);
    }
    enc.close();
    expect(keys[0]).toBe(true);
    expect(keys.slice(1).filter(Boolean)).toEqual([]);
    // Over the run the stream stays within the budgets given plus the bucket it started with.
    expect(total).toBeLessThanOrEqual(20 * budget + budget * BUCKET_FRAMES);
    expect(total).toBeGreaterThan(0.5 * 20 * budget);
  });

  it('skips a frame before coding when the credit is spent, and keeps predicting after it', async () => {
    const enc = new VideoLinkEncoder(hello, 10);
    expect(await enc.encode({ frameId: 0, captureTs: 0, budget: 1500 }, image(0), scores)).not.toBeNull();
    expect(await enc.encode({ frameId: 1, captureTs: 100, budget: 0 }, image(1), scores)).toBeNull();
    const next = await enc.encode({ frameId: 1, captureTs: 200, budget: 1500 }, image(2), scores);
    expect(next?.key).toBe(false);
    enc.close();
  });

  it('answers a refresh with a keyframe, at most one per 500 ms', async () => {
    const enc = new VideoLinkEncoder(hello, 10);
    const frame = async (t: number) => (await enc.encode({ frameId: t, captureTs: t * 100, budget: 4000 }, image(t), scores))?.key;
    expect(enc.requestKeyframe('decode-error')).toBe(false); // before the first frame: it is a keyframe anyway
    expect(await frame(0)).toBe(true);
    expect(enc.requestKeyframe('decode-error')).toBe(false); // right after the first keyframe: already answered
    expect(await frame(1)).toBe(false);
    await new Promise((r) => setTimeout(r, 550));
    expect(enc.requestKeyframe('decode-error')).toBe(true);
    expect(enc.requestKeyframe('picture loss (PLI)')).toBe(false); // one is asked for already
    expect(await frame(2)).toBe(true);
    expect(await frame(3)).toBe(false);
    enc.close();
  });

  it('codes 4:4:4 (High 4:4:4 Predictive) by default and 4:2:0 when asked', async () => {
    const profile = async (enc: VideoLinkEncoder) => {
      const out = await enc.encode({ frameId: 0, captureTs: 0, budget: 4000 }, image(0), scores);
      enc.close();
      const data = Uint8Array.from((out?.parts ?? []).flatMap((p) => [...(decodeMessage(p) as VideoMessage).data]));
      return avcCodecString(data)?.slice(0, 7);
    };
    expect(await profile(new VideoLinkEncoder(hello, 10))).toBe('avc1.f4');
    expect(await profile(new VideoLinkEncoder(hello, 10, DEFAULT_QP_TIERS, '420'))).toBe('avc1.64');
  });

  it('restarts the stream in 4:2:0 with a keyframe when the receiver cannot decode 4:4:4, at once and only once', async () => {
    const enc = new VideoLinkEncoder(hello, 10);
    const code = async (t: number) => {
      const out = await enc.encode({ frameId: t, captureTs: t * 100, budget: 4000 }, image(t), scores);
      const data = Uint8Array.from((out?.parts ?? []).flatMap((p) => [...(decodeMessage(p) as VideoMessage).data]));
      return { key: out?.key, codec: avcCodecString(data)?.slice(0, 7) ?? null };
    };
    expect(await code(0)).toEqual({ key: true, codec: 'avc1.f4' });
    // Right after the first keyframe: a plain refresh would be answered by it, this one is not.
    enc.requestKeyframe(REFRESH_UNSUPPORTED_FORMAT);
    expect(enc.format).toBe('420');
    expect(await code(1)).toEqual({ key: true, codec: 'avc1.64' });
    expect(await code(2)).toEqual({ key: false, codec: null });
    enc.requestKeyframe(REFRESH_UNSUPPORTED_FORMAT); // 4:2:0 is the floor: an ordinary refresh now
    expect(enc.format).toBe('420');
    enc.close();
  });
});

describe.skipIf(!available)('VideoLinkEncoder on transport rtp (node-av libx264; skipped when its binary does not load)', () => {
  it('sends nothing on the data channel: each picture’s payloads end in its announcement, within the credit', async () => {
    const enc = new VideoLinkEncoder({ ...hello, transport: 'rtp' }, 10);
    const budget = 3000;
    let pictures = 0;
    for (let t = 0; t < 8; t++) {
      const captureTs = 1_700_000_000_000 + t * 100;
      const out = await enc.encode({ frameId: t, captureTs, budget }, image(t), scores);
      if (!out) continue;
      pictures++;
      expect(out.parts).toEqual([]);
      const track = out.track as { payloads: Uint8Array[]; rtpTs: number };
      expect(track.rtpTs).toBe(rtpTimestamp(captureTs));
      expect(track.payloads.every((p) => p.length <= RTP_MAX_PAYLOAD)).toBe(true);
      // The last payload is the trailer's own NAL unit (type 23); depacketized, the access unit ends in it.
      expect((track.payloads.at(-1) as Uint8Array)[0]).toBe(TRAILER_NAL_HEADER);
      const { data, picture } = splitPictureTrailer(depacketizeH264(track.payloads));
      expect(picture).toMatchObject({ type: 'picture', frameId: t, captureTs, key: out.key, budget: out.budget, rtpTs: track.rtpTs });
      expect([...data.subarray(-5)]).toEqual([0, 0, 0, 1, TRAILER_NAL_HEADER]);
      // What the trailer states is what the picture costs on the track: payloads and packet headers.
      expect(picture.bytes).toBe(track.payloads.reduce((s, p) => s + p.length + RTP_PACKET_OVERHEAD, 0));
      expect(out.wireBytes).toBe(picture.bytes);
      expect(out.wireBytes).toBeLessThanOrEqual(out.budget);
      if (out.key) expect(((track.payloads[0] as Uint8Array)[0] as number) & 0x1f).toBe(7); // SPS first
    }
    expect(pictures).toBeGreaterThanOrEqual(6);
    enc.close();
  });
});

describe('RTP timing and overhead', () => {
  it('the RTP timestamp is the capture time on a 90 kHz clock, modulo 2³²', () => {
    expect(rtpTimestamp(1000)).toBe(90_000);
    expect(rtpTimestamp(1000.5)).toBe(90_045);
    expect(rtpTimestamp(2 ** 32 / 90)).toBe(0);
    expect(rtpTimestamp(1_796_613_647_400)).toBe(Math.round(1_796_613_647_400 * 90) % 2 ** 32);
  });

  it('the overhead bound covers the trailer, a packet per 1,198 bytes of picture and trailer, and three more', () => {
    const T = PICTURE_TRAILER_BOUND;
    expect(rtpOverheadBound(0)).toBe(T + 4 * RTP_PACKET_OVERHEAD);
    expect(rtpOverheadBound(1198 - T)).toBe(T + 4 * RTP_PACKET_OVERHEAD);
    expect(rtpOverheadBound(1199 - T)).toBe(T + 5 * RTP_PACKET_OVERHEAD);
  });
});
