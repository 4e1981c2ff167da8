import { type EncodedPicture, H264Decoder, H264Encoder, type QpRegion } from './h264-node.js';
import type { YuvPicture } from './yuv.js';

// Node only: VP8 through libvpx and FFmpeg's vp8 decoder, both in the same node-av FFmpeg build as
// the h264 engine (H264Encoder/H264Decoder with other codec settings). Why VP8 and not AV1: this
// build's libsvtav1 wrapper ignores FFmpeg's region-of-interest side data and SVT-AV1 3.1.2 takes
// no ROI map through `svtav1-params`, so AV1 has no quantizer per block here; libvpx's VP8 encoder
// maps the same side data onto its segments.

/**
 * libvpx as WebRTC runs VP8: realtime deadline, cpu-used −6, no lookahead (one packet per frame),
 * error resilient, one thread. CBR: FFmpeg picks it when min = max = target rate.
 */
export const VP8_ENGINE_SETTINGS: readonly (readonly [string, string])[] = [
  ['deadline', 'realtime'],
  ['cpu-used', '-6'],
  ['lag-in-frames', '0'],
  ['error-resilient', 'default'],
  ['threads', '1'],
];

/**
 * libvpx's per-frame flags for a trial picture (`H264Encoder.encode`'s `vp8Flags`): it updates no
 * reference (last, golden, altref) and no entropy context, so the same frame can be coded again,
 * and the stream's next picture is coded as if the trial had not happened. VP8_EFLAG_NO_UPD_LAST |
 * NO_UPD_ENTROPY | NO_UPD_GF | NO_UPD_ARF (vp8cx.h). A keyframe refreshes everything whatever the
 * flags (harmless when a keyframe is coded after it).
 */
export const VP8_TRIAL_FLAGS = (1 << 18) | (1 << 20) | (1 << 22) | (1 << 23);

/** WebCodecs' codec string for the stream (VideoDecoder.configure). */
export const VP8_CODEC_STRING = 'vp8';

/**
 * Distinct quantizer offsets one VP8 picture can carry: 4 segments, segment 0 kept for the blocks
 * outside every region. FFmpeg drops the regions of a fourth offset; `snapOffsets` prevents that.
 */
export const VP8_ROI_LEVELS = 3;

/** How far the target may move from the rate libvpx was opened with before it is reopened. */
export const DEFAULT_REOPEN_FACTOR = 1.5;

export interface Vp8EncoderOptions {
  width: number;
  height: number;
  fps: number;
  /** Target (= minimum = maximum) rate, bits per second. */
  bitrate: number;
  /** The rate controller's bucket (libvpx's rc buffer), bits. */
  bufferBits: number;
  /** See `setRate`; default DEFAULT_REOPEN_FACTOR. */
  reopenFactor?: number;
}

/**
 * One VP8 stream for one receiver: 4:2:0 only (VP8 has no other format), a keyframe only when asked
 * (or after a reopen, see `setRate`), and a quantizer map per picture from `QpRegion`s (libvpx
 * segments; `qpDelta` keeps the h264 engine's unit, FFmpeg scales `qpDelta / 51` to libvpx's ±63
 * quantizer-index steps). Synchronous: a 480×320 frame takes ~1 ms.
 */
export class Vp8Encoder {
  private enc: H264Encoder;
  /** The rate the current libvpx instance was opened with. */
  private opened: { bitrate: number; bufferBits: number };
  private next: Promise<H264Encoder> | null = null;
  /** An instance opened at a new rate, taken by the next `encode`. */
  private ready: { enc: H264Encoder; rate: { bitrate: number; bufferBits: number } } | null = null;
  private closed = false;

  private constructor(
    enc: H264Encoder,
    readonly options: Vp8EncoderOptions,
  ) {
    this.enc = enc;
    this.opened = { bitrate: options.bitrate, bufferBits: options.bufferBits };
  }

  static async create(o: Vp8EncoderOptions): Promise<Vp8Encoder> {
    return new Vp8Encoder(await open(o, o.bitrate, o.bufferBits), o);
  }

  /**
   * New target rate and bucket. FFmpeg's libvpx wrapper reads the rate only when it opens (a change
   * on the open context is ignored: measured, the stream keeps its old size), so a target beyond
   * `reopenFactor` either way of the open rate opens a new libvpx instance in the background; the
   * next `encode` after it is ready switches to it with a keyframe. Smaller moves keep the stream.
   * Resolves when the switch is ready (callers on the frame path need not wait).
   */
  setRate(bitrate: number, bufferBits: number): Promise<void> {
    const b = Math.max(10_000, Math.round(bitrate));
    const v = Math.max(b / 50, Math.round(bufferBits));
    const rate = { bitrate: b, bufferBits: v };
    const f = this.options.reopenFactor ?? DEFAULT_REOPEN_FACTOR;
    const base = this.ready?.rate ?? this.opened;
    const ratio = b / base.bitrate;
    if (this.closed || this.next || (ratio < f && ratio > 1 / f)) return this.next?.then(() => {}) ?? Promise.resolve();
    const p = open(this.options, rate.bitrate, rate.bufferBits);
    this.next = p;
    return p.then((enc) => {
      this.next = null;
      if (this.closed) return enc.close();
      this.ready?.enc.close();
      this.ready = { enc, rate };
    });
  }

  /** The rate the stream is coded at now: the open instance's, not a pending target. */
  get rate(): { bitrate: number; bufferBits: number } {
    return this.opened;
  }

  /**
   * Codes one 4:2:0 picture at `ptsMs`; `key` forces a keyframe. `data` is empty when libvpx's rate
   * control drops the frame (nothing to send; the next frame predicts from the one before).
   */
  encode(pic: YuvPicture, regions: readonly QpRegion[], ptsMs: number, key: boolean): EncodedPicture {
    if (this.closed) throw new Error('the encoder is closed');
    let forceKey = key;
    if (this.ready) {
      this.enc.close();
      this.enc = this.ready.enc;
      this.opened = this.ready.rate;
      this.ready = null;
      forceKey = true; // a new libvpx instance starts with a keyframe anyway; say so
    }
    return this.enc.encode(pic, snapOffsets(regions, VP8_ROI_LEVELS), ptsMs, forceKey);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.enc.close();
    this.ready?.enc.close();
    this.ready = null;
  }
}

function open(o: Vp8EncoderOptions, bitrate: number, bufferBits: number): Promise<H264Encoder> {
  return H264Encoder.create({
    width: o.width,
    height: o.height,
    fps: o.fps,
    bitrate,
    bufferBits,
    chroma: '420',
    codec: { encoder: 'libvpx', settings: VP8_ENGINE_SETTINGS, minRate: true },
  });
}

/**
 * At most `levels` distinct offsets: when there are more, each offset moves to the nearest of
 * `levels` values spread evenly from the most negative to the most positive (zero stays zero:
 * outside every region). Pure function; the regions keep their order.
 */
export function snapOffsets(regions: readonly QpRegion[], levels: number): readonly QpRegion[] {
  const distinct = [...new Set(regions.map((r) => Math.round(r.qpDelta)).filter((d) => d !== 0))];
  if (distinct.length <= levels) return regions;
  const lo = Math.min(...distinct);
  const hi = Math.max(...distinct);
  const step = (hi - lo) / (levels - 1);
  return regions.map((r) => {
    const d = Math.round(r.qpDelta);
    if (d === 0) return r;
    return { ...r, qpDelta: Math.round(lo + Math.round((d - lo) / step) * step) };
  });
}

/** FFmpeg's VP8 decoder (bit-exact, as the browsers' are), one picture per frame. */
export function createVp8Decoder(): Promise<H264Decoder> {
  return H264Decoder.create('vp8');
}

/** True when node-av loads and has libvpx's VP8 encoder and FFmpeg's VP8 decoder. */
export async function vp8Available(): Promise<boolean> {
  try {
    const enc = await Vp8Encoder.create({ width: 16, height: 16, fps: 10, bitrate: 100_000, bufferBits: 100_000 });
    enc.close();
    (await createVp8Decoder()).close();
    return true;
  } catch {
    return false;
  }
}

/** A VP8 decoder behind the receivers' asynchronous decoder port (VideoDecoderPort in @mmsc/receiver). */
export async function vp8DecoderPort(): Promise<{ decode(data: Uint8Array, key: boolean): Promise<YuvPicture>; close(): void }> {
  const d = await createVp8Decoder();
  return { decode: async (data) => d.decode(data), close: () => d.close() };
}
