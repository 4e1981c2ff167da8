import { withoutSei } from './annexb.js';
import { type Chroma, chromaSize, type YuvPicture } from './yuv.js';

// Node only: libx264 and FFmpeg's h264 decoder through npm node-av (FFmpeg 8.1 built with
// --enable-gpl; see the README's licences). Loaded on first use, so that importing the codec
// package costs nothing for the patch engine and the browser bundle never sees it.

type NodeAvLib = typeof import('node-av/lib');
type NodeAvConstants = typeof import('node-av/constants');
let loaded: Promise<{ lib: NodeAvLib; k: NodeAvConstants }> | null = null;

function nodeAv() {
  loaded ??= (async () => {
    const lib = await import('node-av/lib');
    const k = await import('node-av/constants');
    // FFmpeg's info lines (x264's summary at close) would flood the sender's log.
    lib.Log.setLevel(k.AV_LOG_ERROR);
    return { lib, k };
  })();
  return loaded;
}

/** A rectangle of the picture (pixels, right/bottom exclusive) whose quantizer moves by `qpDelta`. */
export interface QpRegion {
  left: number;
  top: number;
  right: number;
  bottom: number;
  /** H.264 QP steps, negative = finer; FFmpeg clips to ±51. */
  qpDelta: number;
}

export interface H264EncoderOptions {
  width: number;
  height: number;
  fps: number;
  /** Target and maximum rate, bits per second. */
  bitrate: number;
  /** The rate controller's bucket (x264's VBV buffer), bits. */
  bufferBits: number;
  /**
   * Constant quality instead of CBR (x264's crf, 0–51; `bitrate` and `bufferBits` are then
   * ignored): the stills evaluation searches it for the best picture that fits a budget.
   */
  crf?: number;
  /** Pixel format coded: 4:2:0 (default; High profile) or 4:4:4 (High 4:4:4 Predictive). */
  chroma?: Chroma;
  /**
   * Another FFmpeg encoder and its private options, for the peers `mmsc eval-video` compares with
   * (VP8 through libvpx). Default: libx264 as the h264 engine runs it.
   */
  codec?: { encoder: string; settings: readonly (readonly [string, string])[]; minRate?: boolean };
}

/**
 * The h264 engine's libx264 settings (see H264Encoder). `psy=0`: psychovisual tuning trades MSE
 * for perceived sharpness; the engine is judged by PSNR (measured on the pan and tour clips: +0.9–1.1 dB
 * inside the query's boxes, +0.3–0.8 dB full frame). The eval's x264 peer gets the same.
 */
export const X264_ENGINE_SETTINGS: readonly (readonly [string, string])[] = [
  ['preset', 'veryfast'],
  ['tune', 'zerolatency'],
  ['forced-idr', '1'],
  ['threads', '1'],
  ['x264-params', 'keyint=infinite:scenecut=0:repeat-headers=1:psy=0'],
];

export interface EncodedPicture {
  /** Annex B access unit. */
  data: Uint8Array;
  key: boolean;
  /** Microseconds spent in the encoder (conversion excluded). */
  us: number;
}

/** Bytes of one AVRegionOfInterest: self_size, top, bottom, left, right, qoffset {num, den}. */
const ROI_BYTES = 28;
/** FFmpeg scales an ROI's qoffset by the QP range (51 at 8 bits): num / 51 is a whole QP step. */
const QP_RANGE = 51;

/**
 * One libx264 stream: `veryfast` + `zerolatency` (no lookahead, one packet per frame), an
 * unbounded GOP (a keyframe only when asked: a join, a decoder's refresh), CBR with the VBV set
 * from the caller's bucket, and a per-frame quantizer map from regions (needs adaptive
 * quantization, which `veryfast` keeps on). Synchronous: a 480×320 frame takes ~3–5 ms.
 */
export class H264Encoder {
  private closed = false;
  private rate: { bitrate: number; bufferBits: number };
  /** Frames carrying libvpx's per-frame flags as metadata, by value (see `encode`'s `vp8Flags`). */
  private readonly carriers = new Map<number, InstanceType<NodeAvLib['Frame']>>();

  private constructor(
    private readonly lib: NodeAvLib,
    private readonly k: NodeAvConstants,
    private readonly ctx: InstanceType<NodeAvLib['CodecContext']>,
    private readonly frame: InstanceType<NodeAvLib['Frame']>,
    private readonly packet: InstanceType<NodeAvLib['Packet']>,
    readonly options: H264EncoderOptions,
  ) {
    this.rate = { bitrate: options.bitrate, bufferBits: options.bufferBits };
  }

  static async create(o: H264EncoderOptions): Promise<H264Encoder> {
    const { lib, k } = await nodeAv();
    const name = o.codec?.encoder ?? k.FF_ENCODER_LIBX264;
    const codec = lib.Codec.findEncoderByName(name as unknown as typeof k.FF_ENCODER_LIBX264);
    if (!codec) throw new Error(`this node-av build has no ${name} encoder`);
    const ctx = new lib.CodecContext();
    ctx.allocContext3(codec);
    ctx.width = o.width;
    ctx.height = o.height;
    const pixelFormat = o.chroma === '444' ? k.AV_PIX_FMT_YUV444P : k.AV_PIX_FMT_YUV420P;
    ctx.pixelFormat = pixelFormat;
    ctx.colorRange = k.AVCOL_RANGE_JPEG;
    ctx.timeBase = new lib.Rational(1, 1000);
    ctx.framerate = new lib.Rational(Math.round(o.fps), 1);
    if (o.crf === undefined) setRate(ctx, o.bitrate, o.bufferBits);
    ctx.gopSize = 1 << 30; // one keyframe, then only when asked
    ctx.maxBFrames = 0;
    if (o.codec?.minRate) ctx.rcMinRate = BigInt(Math.round(o.bitrate)); // libvpx: min = max = target is CBR
    // Options one by one: a Dictionary handed to open2 is freed twice by node-av 6.1.1 (a crash at exit).
    for (const [option, value] of o.codec?.settings ?? X264_ENGINE_SETTINGS) {
      if (ctx.setOption(option, value) < 0) throw new Error(`${name} has no option ${option}`);
    }
    if (o.crf !== undefined && ctx.setOption('crf', String(o.crf)) < 0) throw new Error(`${name} has no option crf`);
    const ret = ctx.open2Sync(codec, null);
    if (ret < 0) throw new Error(`${name} did not open: ${new lib.FFmpegError(ret).message}`);
    const frame = new lib.Frame();
    frame.alloc();
    frame.format = pixelFormat;
    frame.width = o.width;
    frame.height = o.height;
    frame.colorRange = k.AVCOL_RANGE_JPEG;
    if (frame.allocBuffer() < 0) throw new Error('could not allocate a frame buffer');
    const packet = new lib.Packet();
    packet.alloc();
    return new H264Encoder(lib, k, ctx, frame, packet, o);
  }

  /** New target rate and bucket; x264 reconfigures in place (no keyframe). */
  setRate(bitrate: number, bufferBits: number): void {
    if (this.options.crf !== undefined) return;
    const b = Math.max(10_000, Math.round(bitrate));
    const v = Math.max(b / 50, Math.round(bufferBits));
    // Reconfiguring costs a little inside x264: only for a change that matters. A smaller buffer
    // always counts: x264's VBV must never be larger than the caller's bucket, or a frame may
    // exceed the credit stated on the wire (one frame in 149 did in a 4 Mbit/s run; this slack is one way).
    const shrinks = v < this.rate.bufferBits;
    if (!shrinks && Math.abs(b - this.rate.bitrate) < 0.03 * this.rate.bitrate && v - this.rate.bufferBits < 0.1 * this.rate.bufferBits)
      return;
    this.rate = { bitrate: b, bufferBits: v };
    setRate(this.ctx, b, v);
  }

  /**
   * Codes one picture at `ptsMs`; `key` forces an IDR frame. `vp8Flags` (libvpx only): libvpx's
   * per-frame encode flags (VP8_EFLAG_*), handed over as FFmpeg's `vp8-flags` frame metadata.
   */
  encode(pic: YuvPicture, regions: readonly QpRegion[], ptsMs: number, key: boolean, vp8Flags?: number): EncodedPicture {
    if (this.closed) throw new Error('the encoder is closed');
    const chroma = this.options.chroma ?? '420';
    if (pic.chroma !== chroma) throw new Error(`this encoder codes ${chroma} pictures, not ${pic.chroma}`);
    const { k, frame, ctx, packet } = this;
    if (frame.makeWritable() < 0) throw new Error('could not make the frame writable');
    // Metadata stays on the reused frame: once flags were given, every frame carries a value (0 = none).
    if (vp8Flags !== undefined || this.carriers.size) frame.copyProps(this.carrier(vp8Flags ?? 0));
    copyPlanes(pic, frame.data as Buffer[], frame.linesize);
    frame.colorRange = k.AVCOL_RANGE_JPEG;
    frame.pts = BigInt(Math.round(ptsMs));
    frame.pictType = key ? k.AV_PICTURE_TYPE_I : k.AV_PICTURE_TYPE_NONE;
    frame.removeSideData(k.AV_FRAME_DATA_REGIONS_OF_INTEREST);
    if (regions.length) {
      const sd = frame.newSideData(k.AV_FRAME_DATA_REGIONS_OF_INTEREST, regions.length * ROI_BYTES);
      // FFmpeg applies the list back to front, so the first region wins where they overlap.
      regions.forEach((r, i) => {
        const o = i * ROI_BYTES;
        sd.writeUInt32LE(ROI_BYTES, o);
        sd.writeInt32LE(r.top, o + 4);
        sd.writeInt32LE(r.bottom, o + 8);
        sd.writeInt32LE(r.left, o + 12);
        sd.writeInt32LE(r.right, o + 16);
        sd.writeInt32LE(Math.round(r.qpDelta), o + 20);
        sd.writeInt32LE(QP_RANGE, o + 24);
      });
    }
    const t0 = performance.now();
    const sent = ctx.sendFrameSync(frame);
    if (sent < 0) throw new Error(`libx264 refused the frame: ${new this.lib.FFmpegError(sent).message}`);
    const chunks: Buffer[] = [];
    let isKey = false;
    for (;;) {
      const r = ctx.receivePacketSync(packet);
      if (r < 0) break;
      const d = packet.data;
      if (d) chunks.push(Buffer.from(d));
      isKey ||= packet.isKeyframe;
      packet.unref();
    }
    const us = Math.round((performance.now() - t0) * 1000);
    // zerolatency x264 returns one packet per frame; libvpx's rate control may drop a frame (empty).
    if (chunks.length === 0 && !this.options.codec)
      throw new Error('libx264 returned no packet for a frame (zerolatency always returns one)');
    const data = new Uint8Array(Buffer.concat(chunks));
    // x264's settings SEI is stripped for the engine and for the eval's x264 peer alike.
    return { data: (this.options.codec?.encoder ?? 'libx264') === 'libx264' ? withoutSei(data) : data, key: isKey, us };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.frame.free();
    this.packet.free();
    this.ctx.freeContext();
    for (const c of this.carriers.values()) c.free();
    this.carriers.clear();
  }

  /**
   * A frame whose metadata is `vp8-flags=value`, made once per value. node-av's `getMetadata`
   * returns a copy, so the metadata comes from FFmpeg's `metadata` filter and is copied over with
   * the frame's properties (`av_frame_copy_props` overwrites the key).
   */
  private carrier(value: number): InstanceType<NodeAvLib['Frame']> {
    let c = this.carriers.get(value);
    if (c) return c;
    const { lib } = this;
    const graph = new lib.FilterGraph();
    graph.alloc();
    const src = new lib.Frame();
    src.alloc();
    try {
      const filter = (name: string, label: string, args: string | null) => {
        const f = lib.Filter.getByName(name);
        const ctx = f && graph.createFilter(f, label, args);
        if (!ctx) throw new Error(`FFmpeg's ${name} filter did not open`);
        return ctx;
      };
      const input = filter('buffer', 'in', 'video_size=16x16:pix_fmt=0:time_base=1/1000:pixel_aspect=1/1');
      const meta = filter('metadata', 'meta', `mode=add:key=vp8-flags:value=${value}`);
      const sink = filter('buffersink', 'out', null);
      if (input.link(0, meta, 0) < 0 || meta.link(0, sink, 0) < 0 || graph.configSync() < 0)
        throw new Error('the vp8-flags filter graph did not configure');
      src.format = this.k.AV_PIX_FMT_YUV420P;
      src.width = 16;
      src.height = 16;
      src.pts = 0n;
      if (src.allocBuffer() < 0 || input.buffersrcAddFrameSync(src) < 0) throw new Error('the vp8-flags filter took no frame');
      c = new lib.Frame();
      c.alloc();
      if (sink.buffersinkGetFrameSync(c) < 0) throw new Error('the vp8-flags filter returned no frame');
    } finally {
      src.free();
      graph.free();
    }
    this.carriers.set(value, c);
    return c;
  }
}

function setRate(ctx: InstanceType<NodeAvLib['CodecContext']>, bitrate: number, bufferBits: number) {
  ctx.bitRate = BigInt(Math.round(bitrate));
  ctx.rcMaxRate = BigInt(Math.round(bitrate));
  ctx.rcBufferSize = Math.round(bufferBits);
}

function copyPlanes(pic: YuvPicture, planes: Buffer[], linesize: number[]) {
  const { cw, ch } = chromaSize(pic.width, pic.height, pic.chroma);
  const rows = [pic.height, ch, ch];
  const widths = [pic.width, cw, cw];
  const src = [pic.y, pic.u, pic.v];
  const strides = [pic.yStride, pic.uvStride, pic.uvStride];
  for (let p = 0; p < 3; p++) {
    const dst = planes[p] as Buffer;
    const s = src[p] as Uint8Array;
    const ls = linesize[p] as number;
    const w = widths[p] as number;
    const st = strides[p] as number;
    for (let r = 0; r < (rows[p] as number); r++) dst.set(s.subarray(r * st, r * st + w), r * ls);
  }
}

/** FFmpeg's h264 decoder, one frame out per access unit (low delay, one thread). */
export class H264Decoder {
  private closed = false;

  private constructor(
    private readonly lib: NodeAvLib,
    private readonly k: NodeAvConstants,
    private readonly ctx: InstanceType<NodeAvLib['CodecContext']>,
    private readonly frame: InstanceType<NodeAvLib['Frame']>,
    private readonly packet: InstanceType<NodeAvLib['Packet']>,
  ) {}

  /** @param name an FFmpeg decoder (`vp8` for the eval's VP8 peer); default h264 */
  static async create(name = 'h264'): Promise<H264Decoder> {
    const { lib, k } = await nodeAv();
    const codec = lib.Codec.findDecoderByName(name as unknown as typeof k.FF_DECODER_H264);
    if (!codec) throw new Error(`this node-av build has no ${name} decoder`);
    const ctx = new lib.CodecContext();
    ctx.allocContext3(codec);
    ctx.threadCount = 1;
    ctx.flags = k.AV_CODEC_FLAG_LOW_DELAY;
    const ret = ctx.open2Sync(codec, null);
    if (ret < 0) throw new Error(`the ${name} decoder did not open: ${new lib.FFmpegError(ret).message}`);
    const frame = new lib.Frame();
    frame.alloc();
    const packet = new lib.Packet();
    packet.alloc();
    return new H264Decoder(lib, k, ctx, frame, packet);
  }

  /** Decodes one access unit into tight planes; throws when the decoder rejects it or returns nothing. */
  decode(data: Uint8Array): YuvPicture {
    if (this.closed) throw new Error('the decoder is closed');
    const { ctx, frame, packet } = this;
    packet.unref();
    packet.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const sent = ctx.sendPacketSync(packet);
    if (sent < 0) throw new Error(`decode failed: ${new this.lib.FFmpegError(sent).message}`);
    let out: YuvPicture | null = null;
    while (ctx.receiveFrameSync(frame) >= 0) {
      const w = frame.width;
      const h = frame.height;
      const planes = frame.data as Buffer[];
      const ls = frame.linesize;
      const take = (p: number, pw: number, ph: number) => {
        const dst = new Uint8Array(pw * ph);
        const src = planes[p] as Buffer;
        const s = ls[p] as number;
        for (let r = 0; r < ph; r++) dst.set(src.subarray(r * s, r * s + pw), r * pw);
        return dst;
      };
      const chroma = pixelChroma(this.k, frame.format);
      const { cw, ch } = chromaSize(w, h, chroma);
      out = { width: w, height: h, chroma, y: take(0, w, h), u: take(1, cw, ch), v: take(2, cw, ch), yStride: w, uvStride: cw };
      frame.unref();
    }
    if (!out) throw new Error('the decoder gave no picture for an access unit');
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.frame.free();
    this.packet.free();
    this.ctx.freeContext();
  }
}

/** The chroma layout of a decoded frame's pixel format (planar 8-bit 4:2:0 or 4:4:4 only). */
function pixelChroma(k: NodeAvConstants, format: number): Chroma {
  if (format === k.AV_PIX_FMT_YUV420P || format === k.AV_PIX_FMT_YUVJ420P) return '420';
  if (format === k.AV_PIX_FMT_YUV444P || format === k.AV_PIX_FMT_YUVJ444P) return '444';
  throw new Error(`the decoder gave pixel format ${format}; only planar 8-bit 4:2:0 and 4:4:4 are read`);
}

/** True when node-av loads and has libx264 (it is a dependency, but its binary may be missing). */
export async function h264Available(): Promise<boolean> {
  try {
    const { lib, k } = await nodeAv();
    return lib.Codec.findEncoderByName(k.FF_ENCODER_LIBX264) !== null && lib.Codec.findDecoderByName(k.FF_DECODER_H264) !== null;
  } catch {
    return false;
  }
}

/** An H264Decoder behind the receivers' asynchronous decoder port (VideoDecoderPort in @mmsc/receiver). */
export async function h264DecoderPort(): Promise<{ decode(data: Uint8Array, key: boolean): Promise<YuvPicture>; close(): void }> {
  const d = await H264Decoder.create();
  return { decode: async (data) => d.decode(data), close: () => d.close() };
}
