import { packetizeVp8, type YuvPicture } from '@mmsc/codec';
import { type EncodedPicture, H264Encoder } from '@mmsc/codec/h264-node';
import { VP8_ENGINE_SETTINGS, VP8_TRIAL_FLAGS, vp8Available } from '@mmsc/codec/vp8-node';
import { type HelloMessage, splitVideo } from '@mmsc/protocol';
import { fitQuality } from '../allocate/fit-quality.js';
import { DEFAULT_CONFIDENCE, macroblockOffsets, type QpTiers, qpRegions } from '../allocate/qp-regions.js';
import type { RgbImage } from '../images.js';
import { planesOf } from '../pipeline/encode-video.js';
import { concat, type VideoBackend, type VideoStream, type VideoStreamOptions } from '../pipeline/video-backend.js';
import type { Engine, StillPicture } from './link-encoder.js';
import { VideoEngineEncoder } from './video.js';
import {
  coarsen,
  lumaChange,
  MAX_OFFSET,
  MAX_PICTURE_OFFSET,
  MAX_TRIALS,
  MIN_OFFSET,
  nextTrial,
  pick,
  sizeAim,
  type Trial,
  VP8_BASE_Q,
  Vp8RateModel,
} from './vp8-rate.js';

/**
 * The vp8 engine's tiers, in libvpx quantizer steps (0–63), added to each picture's offset.
 * Three distinct values: VP8 has 4 segments and FFmpeg keeps segment 0 for blocks outside every region.
 * Chosen on the pan clip (60 frames, query "dog") against the VP8 peer, query-box / frame PSNR:
 * at 0.5 Mbit/s −8/−4/+3 +0.5 / −0.7 dB, −12/−6/+5 +1.1 / −0.9, −16/−8/+6 +1.7 / −1.2,
 * −20/−10/+8 +2.2 / −1.6; at 1 Mbit/s −12/−6/+5 +1.8 / −1.4, −16/−8/+6 +1.9 / −1.7.
 */
export const VP8_TIERS: QpTiers = { focus: -16, near: -8, background: 6, nearFraction: 0.2, minTop: 0.05, confidence: DEFAULT_CONFIDENCE };

/** FFmpeg scales a region's offset by 63/51 onto libvpx's scale: quantizer steps → the regions' H.264 units. */
const toRegionUnits = (steps: number) => Math.round((steps * 51) / 63);

/**
 * One VP8 stream: libvpx (realtime, as WebRTC runs it) at a fixed quantizer, each picture's size
 * set by an offset on all its blocks, the relevance's tiers on top. The offset is searched per
 * picture: `Vp8RateModel` guesses it, the picture is coded as a trial that updates no reference
 * (VP8_TRIAL_FLAGS) and the offset corrected from its size (`nextTrial`), then the picture is
 * coded for real at the offset `pick` takes. A picture that fits the credit at no offset is not
 * coded (data empty): the references are untouched and the next picture predicts from the last
 * one sent. Should the real coding still exceed the credit, it is not sent and the next picture is
 * a keyframe (libvpx's references already moved past it); so is a skipped keyframe.
 */
export class Vp8Stream implements VideoStream {
  private readonly model: Vp8RateModel;
  private target = 0;
  private credit = 0;
  private prev: Uint8Array | null = null;
  private owesKey = false;

  private constructor(
    private readonly enc: H264Encoder,
    private readonly fps: number,
    o: VideoStreamOptions,
  ) {
    this.model = new Vp8RateModel(o.width * o.height);
    this.setRate(o.bitrate, o.bufferBits);
  }

  static async open(o: VideoStreamOptions): Promise<Vp8Stream> {
    return new Vp8Stream(await openAtQuantizer(o, VP8_BASE_Q), o.fps, o);
  }

  setRate(bitrate: number, bufferBits: number): void {
    this.target = bitrate / 8 / this.fps;
    this.credit = bufferBits / 8;
  }

  encode(pic: YuvPicture, offsets: Int8Array, ptsMs: number, key: boolean): EncodedPicture {
    const asKey = key || this.owesKey;
    const motion = asKey || !this.prev ? 0 : lumaChange(pic.y, this.prev, pic.width, pic.height, pic.yStride);
    this.prev = Uint8Array.from(pic.y);
    const aim = sizeAim(asKey, this.target, this.credit);
    const code = (p: YuvPicture, o: number, flags: number) => {
      const shifted = new Int8Array(offsets.length);
      for (let m = 0; m < offsets.length; m++)
        shifted[m] = toRegionUnits(Math.min(MAX_OFFSET, Math.max(MIN_OFFSET, o + (offsets[m] as number))));
      return this.enc.encode(p, qpRegions(shifted, p.width, p.height), ptsMs, asKey, flags);
    };
    let us = 0;
    const search = (p: YuvPicture, first: number) => {
      const trials: Trial[] = [];
      for (let o: number | null = first; o !== null && trials.length < MAX_TRIALS; ) {
        const t = code(p, o, VP8_TRIAL_FLAGS);
        us += t.us;
        trials.push({ offset: o, bytes: t.data.length });
        o = nextTrial(trials, aim);
      }
      return pick(trials, aim);
    };
    let coded = pic;
    let take = search(pic, this.model.choose(asKey, aim.target, motion));
    // Nothing fits even at quantizer 63: the picture is coded flatter, coarsest offset first.
    for (const f of COARSEN) {
      if (take) break;
      coded = coarsen(pic, f);
      take = search(coded, MAX_PICTURE_OFFSET);
    }
    if (!take) {
      // A trial keyframe refreshed libvpx's references: only another keyframe follows it.
      if (asKey) this.owesKey = true;
      return { data: new Uint8Array(0), key: false, us };
    }
    const out = code(coded, take.offset, 0);
    this.model.coded(take.offset, out.key, out.data.length);
    if (out.data.length > this.credit) {
      this.owesKey = true;
      return { data: new Uint8Array(0), key: false, us: us + out.us };
    }
    if (out.key) this.owesKey = false;
    return { ...out, us: us + out.us };
  }

  close(): void {
    this.enc.close();
  }
}

/** libvpx with the engine's settings at one fixed quantizer (min = max). */
function openAtQuantizer(o: VideoStreamOptions, q: number): Promise<H264Encoder> {
  const settings = [...VP8_ENGINE_SETTINGS, ['qmin', String(q)] as const, ['qmax', String(q)] as const];
  return H264Encoder.create({ ...o, chroma: '420', codec: { encoder: 'libvpx', settings, minRate: true } });
}

/**
 * The vp8 engine's picture of one still within `budget` wire bytes: one keyframe with the engine's
 * settings and tiers, at the finest quantizer whose messages fit (searched as the h264 engine's
 * stills coder searches crf). Null when even quantizer 63 does not fit.
 */
export async function encodeVp8Still(
  image: RgbImage,
  scores: Float32Array,
  budget: number,
  hello: HelloMessage,
): Promise<StillPicture | null> {
  const { width, height } = image;
  const tiers = macroblockOffsets(scores, width / hello.patchSize, hello.patchSize, width, height, VP8_TIERS);
  const pic = planesOf(image, '420');
  const wire = (parts: Uint8Array[]) => parts.reduce((n, p) => n + p.length, 0);
  const code = async (fine: number) => {
    const q = 63 - fine;
    const enc = await openAtQuantizer({ width, height, fps: hello.fps ?? 10, bitrate: 1e6, bufferBits: 1e6, chroma: '420' }, q);
    try {
      const shifted = tiers.map((t) => toRegionUnits(Math.min(63 - q, Math.max(-q, t))));
      const out = enc.encode(pic, qpRegions(shifted, width, height), 0, true);
      return splitVideo({ frameId: 0, captureTs: 0, budget, key: true, data: out.data }, hello.maxMessageBytes);
    } finally {
      enc.close();
    }
  };
  const fit = await fitQuality(0, 63, budget, code, wire);
  return fit ? { parts: fit.coded, wireBytes: wire(fit.coded) } : null;
}

/** The block sizes a picture that fits at no offset is flattened to, in turn (`coarsen`). */
const COARSEN = [2, 4, 8];

export const VP8_BACKEND: VideoBackend = {
  chromas: ['420'],
  open: (o) => Vp8Stream.open(o),
  rtpFormat: () => ({ mimeType: 'video/VP8', payloadType: 96, fmtp: null }),
  // The trailer follows the frame's bytes, in a packet of its own (a continuation: descriptor 0x00),
  // so the picture's last packet is small and the track can send it twice.
  packetize: (data, trailer, max) => [...packetizeVp8(data, max), concat(Uint8Array.of(0x00), trailer)],
};

/** Engine `vp8`: libvpx's VP8 (4:2:0), a quantizer per block from the relevance through its segments. */
export const vp8Engine: Engine = {
  name: 'vp8',
  summary: 'libvpx VP8 with a quantizer per block (its segments) from the relevance',
  temporal: true,
  unavailable: async () => ((await vp8Available()) ? null : 'node-av’s libvpx (VP8) did not load on this machine'),
  hello: (common) => ({ ...common, engine: 'vp8' }),
  describe: () => '420',
  createLinkEncoder: (hello) => new VideoEngineEncoder(hello, '420', VP8_TIERS, VP8_BACKEND),
  rtpFormat: () => VP8_BACKEND.rtpFormat('420'),
  still: encodeVp8Still,
};
