import { type YuvPicture, yuvToRgb } from '@mmsc/codec';
import { type ProtocolContext, REFRESH_UNSUPPORTED_FORMAT } from '@mmsc/protocol';
import type { CollectedFrame } from './collect-frame.js';
import type { ApplyStats } from './reassemble.js';

/** Anything that decodes a video engine's access units in order (WebCodecs in the page, node-av in Node). */
export interface VideoDecoderPort {
  decode(data: Uint8Array, key: boolean): Promise<YuvPicture>;
  close(): void;
}

export type VideoDecoderFactory = () => Promise<VideoDecoderPort>;

/** A decoder port's refusal of the stream's format itself (not of one picture): no keyframe in that format will decode. */
export class UnsupportedVideoFormatError extends Error {
  constructor(readonly codec: string) {
    super(`this decoder cannot decode ${codec}`);
    this.name = 'UnsupportedVideoFormatError';
  }
}

/**
 * The picture of a video engine's session (h264): each whole access unit is decoded and converted with the
 * shared YUV conversion, so every receiver shows the same pixels. A picture that cannot be decoded —
 * incomplete, a predicted frame before any keyframe, or rejected by the decoder — leaves the last
 * picture on screen (a whole earlier frame, never a mix) and asks the sender for a keyframe.
 */
export class VideoPicture {
  readonly width: number;
  readonly height: number;
  readonly image: Uint8Array;
  /** Per patch: 1 once a picture has been decoded (the picture then covers every patch). */
  readonly have: Uint8Array;
  readonly shownLevel: Uint8Array;
  private decoder: Promise<VideoDecoderPort> | null = null;
  private needKey = true;

  constructor(
    readonly ctx: ProtocolContext,
    private readonly factory: VideoDecoderFactory,
    /** The codec's name in `ApplyStats.format`: `H.264`. */
    private readonly label = 'H.264',
  ) {
    this.width = ctx.width;
    this.height = ctx.height;
    this.image = new Uint8Array(ctx.width * ctx.height * 3).fill(128);
    this.have = new Uint8Array(ctx.patchCount);
    this.shownLevel = new Uint8Array(ctx.patchCount);
  }

  async apply(frame: CollectedFrame): Promise<ApplyStats> {
    const t0 = performance.now();
    const n = this.ctx.patchCount;
    const held = (refresh: string): ApplyStats => {
      this.needKey = true;
      return { decoded: 0, reused: this.have[0] ? n : 0, interpolated: 0, decodeMs: performance.now() - t0, refresh };
    };
    const v = frame.video;
    if (!v) throw new Error(`frame ${frame.frameId} carries patches, but this session is coded by ${this.label}`);
    if (!frame.complete) return held('incomplete-picture');
    if (this.needKey && !v.key) return held('no-reference');
    const data = concat(v.chunks);
    this.decoder ??= this.factory();
    let pic: YuvPicture;
    try {
      pic = await (await this.decoder).decode(data, v.key);
    } catch (e) {
      // The sender answers this reason by restarting the stream in a format every H.264 decoder has.
      return held(e instanceof UnsupportedVideoFormatError ? REFRESH_UNSUPPORTED_FORMAT : 'decode-error');
    }
    if (pic.width !== this.width || pic.height !== this.height) return held('wrong-size');
    yuvToRgb(pic, this.image);
    this.have.fill(1);
    this.needKey = false;
    return {
      decoded: n,
      reused: 0,
      interpolated: 0,
      decodeMs: performance.now() - t0,
      format: `${this.label} ${pic.chroma === '444' ? '4:4:4' : '4:2:0'}`,
    };
  }

  close(): void {
    void this.decoder?.then((d) => d.close()).catch(() => undefined);
    this.decoder = null;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
