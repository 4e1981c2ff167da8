import { allocYuv, type Chroma, RTP_MAX_PAYLOAD, rgbToYuv, type YuvPicture } from '@mmsc/codec';
import {
  type HelloMessage,
  PICTURE_TRAILER_BOUND,
  pictureTrailer,
  REFRESH_UNSUPPORTED_FORMAT,
  splitVideo,
  videoOverheadBound,
} from '@mmsc/protocol';
import { DEFAULT_QP_TIERS, macroblockOffsets, type QpTiers } from '../allocate/qp-regions.js';
import type { RgbImage } from '../images.js';
import { type VideoBackend, type VideoStream, X264_BACKEND } from './video-backend.js';

/** A source image's planes per chroma format, made once however many receivers code it. */
const PLANES: Record<Chroma, WeakMap<Uint8Array, YuvPicture>> = { '420': new WeakMap(), '444': new WeakMap() };

export function planesOf(image: RgbImage, chroma: Chroma): YuvPicture {
  let p = PLANES[chroma].get(image.data);
  if (!p) {
    p = rgbToYuv(image.data, allocYuv(image.width, image.height, chroma));
    PLANES[chroma].set(image.data, p);
  }
  return p;
}

/**
 * What a picture's RTP packets carry besides its payload, per packet: the RTP header (12 bytes), its
 * header extensions (mid and the transport-wide sequence number, 12 with their padding) and the
 * SRTP authentication tag (10).
 */
export const RTP_PACKET_OVERHEAD = 34;
/** Packets beyond the payload's share: H.264's SPS and PPS, and a NAL unit's last fragment. */
const EXTRA_PACKETS = 3;

/** What transport `rtp` adds to `dataBytes` of picture, at most: its trailer (the `picture` announcement) and its packets' headers. */
export function rtpOverheadBound(dataBytes: number): number {
  const payload = dataBytes + PICTURE_TRAILER_BOUND;
  return PICTURE_TRAILER_BOUND + (Math.ceil(payload / (RTP_MAX_PAYLOAD - 2)) + EXTRA_PACKETS) * RTP_PACKET_OVERHEAD;
}

/** The RTP timestamp of a picture captured at `captureTs` (ms): the 90 kHz clock, modulo 2³². */
export function rtpTimestamp(captureTs: number): number {
  return Math.round(captureTs * 90) >>> 0;
}

/** A picture as it goes out: data-channel messages, and on transport `rtp` its track payloads (`bytes` counted with their headers). */
interface Framed {
  parts: Uint8Array[];
  track: { payloads: Uint8Array[]; rtpTs: number; bytes: number } | null;
}

export interface EncodedVideo {
  /** Messages on the data channel: the picture's `video` parts, or its `picture` message (transport `rtp`). */
  parts: Uint8Array[];
  /** Transport `rtp`: the picture's payloads on the video track and its RTP timestamp. */
  track?: { payloads: Uint8Array[]; rtpTs: number };
  wireBytes: number;
  key: boolean;
  /** The budget stated on the wire: the bucket's credit when the frame was coded. */
  budget: number;
  ms: { convert: number; encode: number; pack: number };
}

/**
 * How many frames' budgets the bucket holds. x264's VBV buffer is set to the same size, so its
 * rate control keeps each picture within the credit; a keyframe may borrow up to this much.
 */
export const BUCKET_FRAMES = 3;
/**
 * On the video track (transport `rtp`) the bucket holds this many frames' budgets instead: a picture
 * goes out as one burst into the link's queue, so each byte it takes above its budget is time every
 * later picture waits. With 3 budgets, pictures of up to 1.7 budgets (x264 aiming above its target
 * while the credit was high) kept 90–175 ms standing in a 2 Mbit/s link's queue (p50 / p95, from
 * transport-wide feedback), and frame age at p95 twice the call's; 1.5 budgets made x264 undershoot
 * (bytes / budget 0.77). A keyframe may still borrow up to
 * BUCKET_FRAMES budgets; the frames after it repay that.
 */
export const TRACK_BUCKET_FRAMES = 2;
/** A frame is coded only with at least this share of a nominal budget in credit (else skipped before coding). */
const MIN_CREDIT = 0.25;
/**
 * On the video track, where the bucket is shallow: x264 cannot keep a picture within much less than
 * half a budget (it overshot a credit of 0.37 budgets by 2× after a keyframe had borrowed).
 */
const TRACK_MIN_CREDIT = 0.5;
/** Share of the credit's distance from half the bucket added to a frame's target (per frame). */
const FILL_GAIN = 0.3;
/**
 * The same on the video track's shallower bucket, where x264 undershoots more: bytes / budget 0.77
 * with a 1.5-budget bucket at 0.3; 0.94 with 2 budgets at 0.6 (2 Mbit/s, 2 % loss, one run each).
 */
const TRACK_FILL_GAIN = 0.6;
/** x264 lands ~1 % under its target on average (bytes/budget 0.989 on a shaped 2 Mbit/s link): aim a little over. */
const OVERSHOOT = 1.02;
/**
 * 4:4:4 by default: on the pan and tour clips it measured 1.1–5.0 dB better than 4:2:0 inside the
 * query's boxes at 0.5–2 Mbit/s, full frame no worse (chroma at full resolution costs little at these QPs).
 * 4:2:0 remains for decoders without High 4:4:4 (`mmsc serve --chroma 420`).
 */
export const DEFAULT_CHROMA: Chroma = '444';
/** Refreshes within this long of the last keyframe are answered by it. */
const KEY_INTERVAL_MS = 500;

/**
 * One receiver's video stream (engines `h264`, `vp8`): the rate controller's per-frame budgets fill
 * a bucket of BUCKET_FRAMES budgets; each frame is coded by the backend's stream (libx264 by
 * default) with its rate and credit set from that bucket and its quantizer per macroblock from the
 * query's relevance, and is charged its wire bytes. When the credit is short the frame is skipped
 * before it reaches the encoder, so no reference is ever lost: the receiver's next picture still
 * predicts from the last one it got.
 */
export class VideoLinkEncoder {
  private encoder: Promise<VideoStream> | null = null;
  private credit: number | null = null;
  private wantKey: string | null = 'first frame';
  private lastKeyAt: number | null = null;

  constructor(
    readonly hello: HelloMessage,
    private readonly fps: number,
    private readonly tiers: QpTiers = DEFAULT_QP_TIERS,
    private chroma: Chroma = DEFAULT_CHROMA,
    private readonly backend: VideoBackend = X264_BACKEND,
  ) {
    if (!backend.chromas.includes(chroma)) this.chroma = backend.chromas[0] ?? '420';
  }

  /** The chroma format this receiver's stream is coded in now. */
  get format(): Chroma {
    return this.chroma;
  }

  /**
   * The next frame is coded as a keyframe (a receiver's refresh), unless one went less than
   * KEY_INTERVAL_MS ago: a receiver asks after every picture it cannot decode, and the keyframe
   * already on its way answers all of those. True when this request asked for a keyframe; false
   * when it changed nothing (one went too recently, or one is asked for already).
   */
  requestKeyframe(reason: string): boolean {
    if (reason === REFRESH_UNSUPPORTED_FORMAT && this.chroma === '444' && this.backend.chromas.includes('420')) {
      // This receiver's decoder has no High 4:4:4: its stream restarts in 4:2:0 (a new encoder,
      // so a new SPS and a keyframe), whatever the keyframe interval. Once: 4:2:0 is the floor.
      this.chroma = '420';
      this.close();
      this.wantKey = reason;
      return true;
    }
    if (this.wantKey !== null || (this.lastKeyAt !== null && performance.now() - this.lastKeyAt < KEY_INTERVAL_MS)) return false;
    this.wantKey = reason;
    return true;
  }

  async encode(
    frame: { frameId: number; captureTs: number; budget: number },
    image: RgbImage,
    scores: Float32Array,
  ): Promise<EncodedVideo | null> {
    const nominal = Math.max(0, frame.budget);
    const rtp = this.hello.transport === 'rtp';
    const depth = nominal * (rtp ? TRACK_BUCKET_FRAMES : BUCKET_FRAMES);
    // A new link starts with a full bucket, so its keyframe has room.
    this.credit = Math.min(depth, (this.credit ?? depth - nominal) + nominal);
    if (this.credit < (rtp ? TRACK_MIN_CREDIT : MIN_CREDIT) * nominal || nominal === 0) return null;
    // A keyframe may borrow up to BUCKET_FRAMES budgets whatever the bucket's depth.
    const usable =
      this.wantKey !== null
        ? Math.max(this.credit, Math.min(nominal * BUCKET_FRAMES, this.credit + nominal * BUCKET_FRAMES - depth))
        : this.credit;
    const t0 = performance.now();
    const pic = planesOf(image, this.chroma);
    const t1 = performance.now();
    const max = this.hello.maxMessageBytes;
    const overhead = (bytes: number) => (rtp ? rtpOverheadBound(bytes) : videoOverheadBound(bytes, max));
    const dataBudget = Math.max(0, usable - overhead(usable));
    this.encoder ??= this.backend.open({
      width: image.width,
      height: image.height,
      fps: this.fps,
      bitrate: nominal * 8 * this.fps,
      bufferBits: dataBudget * 8,
      chroma: this.chroma,
    });
    const enc = await this.encoder;
    // x264 refills its VBV at the target rate per frame time; the bucket refills by one budget.
    // x264's CBR undershoots (measured ~78 % of a 1 Mbit/s link): credit above half the bucket
    // raises the target, credit below lowers it, so the bucket, not x264, sets the mean rate.
    const target = Math.max(0.25 * nominal, OVERSHOOT * nominal + (rtp ? TRACK_FILL_GAIN : FILL_GAIN) * (this.credit - depth / 2));
    enc.setRate((target - overhead(target)) * 8 * this.fps, dataBudget * 8);
    const cols = image.width / this.hello.patchSize;
    const offsets = macroblockOffsets(scores, cols, this.hello.patchSize, image.width, image.height, this.tiers);
    const key = this.wantKey !== null;
    const out = enc.encode(pic, offsets, frame.captureTs, key);
    // A frame the encoder dropped is not sent (libx264 never drops one); a keyframe asked for stays asked for.
    if (out.data.length === 0) return null;
    this.wantKey = null;
    if (out.key) this.lastKeyAt = performance.now();
    const t2 = performance.now();
    const budget = Math.floor(usable);
    const picture = { frameId: frame.frameId, captureTs: frame.captureTs, budget, key: out.key, data: out.data };
    const framed: Framed = rtp ? this.onTrack(picture) : { parts: splitVideo(picture, max), track: null };
    const wireBytes = framed.parts.reduce((s, p) => s + p.length, 0) + (framed.track?.bytes ?? 0);
    this.credit -= wireBytes;
    const ms = { convert: t1 - t0, encode: t2 - t1, pack: performance.now() - t2 };
    if (!framed.track) return { parts: framed.parts, wireBytes, key: out.key, budget, ms };
    const { payloads, rtpTs } = framed.track;
    return { parts: framed.parts, track: { payloads, rtpTs }, wireBytes, key: out.key, budget, ms };
  }

  /**
   * Transport `rtp`: the picture's payloads for the video track, its announcement in its trailer
   * (nothing on the data channel, so no SCTP retransmission holds a picture back). The trailer
   * states the bytes the picture costs with its packet headers, which depend on the trailer's own
   * length: a few rounds find the fixed point, and the count kept is never below the one stated.
   */
  private onTrack(p: { frameId: number; captureTs: number; budget: number; key: boolean; data: Uint8Array }): Framed {
    const rtpTs = rtpTimestamp(p.captureTs);
    const { frameId, captureTs, budget, key } = p;
    let stated = p.data.length;
    for (let round = 0; ; round++) {
      const trailer = pictureTrailer({ frameId, captureTs, budget, key, rtpTs, bytes: stated });
      const payloads = this.backend.packetize(p.data, trailer, RTP_MAX_PAYLOAD);
      const bytes = payloads.reduce((s, x) => s + x.length + RTP_PACKET_OVERHEAD, 0);
      if (bytes === stated || round === 3) return { parts: [], track: { payloads, rtpTs, bytes: Math.max(bytes, stated) } };
      stated = bytes;
    }
  }

  close(): void {
    void this.encoder?.then((e) => e.close()).catch(() => undefined);
    this.encoder = null;
  }
}
