import { allocYuv, patchify, rgbToYuv, yuvToRgb } from '@mmsc/codec';
import { H264Decoder, H264Encoder } from '@mmsc/codec/h264-node';
import { contextFromHello, type EngineName, encodeMessage, type HelloMessage } from '@mmsc/protocol';
import { FrameReceiver, type ReceiverDecoders } from '@mmsc/receiver';
import {
  DEFAULT_CHROMA,
  DEFAULT_ENGINE,
  type DistortionCurve,
  engineFor,
  engines,
  FrameEncoder,
  KeepState,
  PatchCodeCache,
  type PatchEncoder,
  type PipelineFrame,
  patchVariances,
  type RgbImage,
} from '@mmsc/sender';
import { nodeVideoDecoders } from '../../receive/node-decoders.js';
import type { Clip } from './clips.js';
import { type Box, boxesMask, maskPsnr } from './regions.js';

export type { Box };

/** What the sender's relevance made of one frame: patch scores (for mmsc) and the query's boxes (for the metric). */
export interface FrameRelevance {
  scores: Float32Array;
  boxes: Box[];
}

export interface MethodRun {
  /** Bytes per frame as sent (0 for a frame not sent or dropped). */
  bytes: number[];
  psnr: number[];
  /** PSNR inside the detector's own boxes of the query (what set the quantizer); null for a frame without one. */
  detectorBoxPsnr: (number | null)[];
  /** PSNR inside the clip's detector-independent region (its `region`: truth or moving pixels); null where it is empty or the clip has none. */
  regionPsnr: (number | null)[];
  /** Milliseconds of encoding per frame. */
  encodeMs: number[];
}

/**
 * mmsc's engines, from the sender's registry: `mmsc` is the default engine (what `mmsc serve` runs
 * without `--engine`), `mmsc-<name>` each other one. A new engine is a new method here by itself.
 */
export function engineMethods(): Map<string, EngineName> {
  const out = new Map<string, EngineName>([['mmsc', DEFAULT_ENGINE]]);
  for (const e of engines()) if (e.name !== DEFAULT_ENGINE) out.set(`mmsc-${e.name}`, e.name);
  return out;
}

/** The WebRTC-like peers (`runPeer`) and the paper engine by its own allocator loop (`runPatches`). */
export const PEER_METHODS = ['patches', 'vp8', 'x264', 'x264-444'] as const;
export type VideoMethod = string;
export const VIDEO_METHODS: readonly VideoMethod[] = [...engineMethods().keys(), ...PEER_METHODS];
export const DEFAULT_VIDEO_METHODS: readonly VideoMethod[] = ['mmsc', 'vp8', 'x264'];

/** PSNR of `b` against `a` (RGB), over the whole frame or only inside `boxes`; null when the boxes cover nothing. */
export function psnr(a: Uint8Array, b: Uint8Array, width: number, boxes?: readonly Box[]): number | null {
  if (boxes) return maskPsnr(a, b, boxesMask(boxes, width, a.length / 3 / width));
  let se = 0;
  for (let i = 0; i < a.length; i++) se += ((a[i] as number) - (b[i] as number)) ** 2;
  return se === 0 ? 99 : 10 * Math.log10((255 * 255 * a.length) / se);
}

/**
 * One of mmsc's engines as `mmsc serve` runs it, offline: the engine's own LinkEncoder from the
 * sender's registry (for a video engine: its bucket and QP map from the relevance) given
 * `bitrate / 8 / fps` wire bytes a frame, the messages replayed into the receivers' FrameReceiver
 * and decoded there (node-av; the learned decoders for `patches`, which needs `codecs`). Bytes are
 * the wire bytes each frame actually took (framing included; 0 for a frame not sent).
 */
export async function runEngine(
  engine: EngineName,
  clip: Clip,
  rel: readonly FrameRelevance[],
  bitrate: number,
  hello: HelloMessage,
  codecs?: { encoders: PatchEncoder; decoders: ReceiverDecoders; curves: readonly DistortionCurve[] },
): Promise<MethodRun> {
  const e = engineFor(engine);
  const h = e.hello({ ...hello, engine });
  const enc = e.createLinkEncoder(h, contextFromHello(h), { allocator: 'rd', curves: codecs?.curves ?? [], chroma: DEFAULT_CHROMA });
  const rx = new FrameReceiver({ video: nodeVideoDecoders, decoders: codecs?.decoders ?? null, decoderSource: 'the models folder' });
  const run: MethodRun = { bytes: [], psnr: [], detectorBoxPsnr: [], regionPsnr: [], encodeMs: [] };
  const hr = rx.receive(encodeMessage(h), 0);
  if (hr.type !== 'hello' || hr.refused) throw hr.type === 'hello' && hr.refused ? hr.refused : new Error('no hello');
  const budget = Math.floor(bitrate / 8 / clip.fps);
  const noEncoders: PatchEncoder = {
    encode: () => Promise.reject(new Error(`engine ${engine} asked for patch codes: load the codecs`)),
  };
  let shown: Uint8Array = new Uint8Array(clip.frames[0]?.data.length ?? 0).fill(128);
  for (const [k, image] of clip.frames.entries()) {
    const captureTs = (k * 1000) / clip.fps;
    const t0 = performance.now();
    const patches = patchify(image.data, image.width, image.height);
    const frame: PipelineFrame = {
      image,
      captureTs,
      patches,
      variances: patchVariances(patches),
      analysisMs: 0,
      codes: new PatchCodeCache(patches, codecs?.encoders ?? noEncoders),
      ms: 0,
      relevance: () => Promise.reject(new Error('offline frames carry their relevance')),
    };
    const out = await enc.encode(frame, { frameId: k, captureTs, budget }, (rel[k] as FrameRelevance).scores);
    run.encodeMs.push(performance.now() - t0);
    run.bytes.push(out?.wireBytes ?? 0);
    for (const part of out?.parts ?? []) {
      const r = rx.receive(part, 0);
      if (r.type !== 'frame') throw new Error(`unexpected receipt ${r.type}`);
      for (const f of r.frames) {
        const stats = await rx.decode(f);
        if (stats?.refresh) throw new Error(`frame ${k} did not decode: ${stats.refresh}`);
        shown = Uint8Array.from(rx.picture?.picture.image ?? shown);
      }
    }
    score(run, frame.image, shown, rel[k] as FrameRelevance, clip.region?.masks[k]);
  }
  enc.close();
  rx.close();
  return run;
}

/** The default engine (`mmsc`). */
export function runMmsc(clip: Clip, rel: readonly FrameRelevance[], bitrate: number, hello: HelloMessage): Promise<MethodRun> {
  return runEngine(DEFAULT_ENGINE, clip, rel, bitrate, hello);
}

/**
 * The WebRTC-like peers at the same bitrate, through the same FFmpeg build (node-av): VP8 as
 * WebRTC runs it (libvpx realtime, cpu-used −6, CBR, error resilient, one keyframe) and x264
 * veryfast + zerolatency CBR, psy off as the engine has it (4:2:0 as WebRTC sends H.264; `x264-444`:
 * 4:4:4 like the engine, without its quantizer map, to show what the map alone adds). All with a
 * 1 s rate-control buffer; bytes are bitstream bytes (x264's settings SEI stripped, as the engine's).
 */
export async function runPeer(
  method: 'vp8' | 'x264' | 'x264-444',
  clip: Clip,
  rel: readonly FrameRelevance[],
  bitrate: number,
): Promise<MethodRun> {
  const first = clip.frames[0] as RgbImage;
  const codec =
    method === 'vp8'
      ? {
          encoder: 'libvpx',
          minRate: true,
          settings: [
            ['deadline', 'realtime'],
            ['cpu-used', '-6'],
            ['lag-in-frames', '0'],
            ['error-resilient', 'default'],
            ['threads', '1'],
          ] as const,
        }
      : {
          encoder: 'libx264',
          settings: [
            ['preset', 'veryfast'],
            ['tune', 'zerolatency'],
            ['threads', '1'],
            ['x264-params', 'keyint=infinite:scenecut=0:psy=0'],
          ] as const,
        };
  const chroma = method === 'x264-444' ? '444' : '420';
  const enc = await H264Encoder.create({
    width: first.width,
    height: first.height,
    fps: clip.fps,
    bitrate,
    bufferBits: bitrate,
    codec,
    chroma,
  });
  const dec = await H264Decoder.create(method === 'vp8' ? 'vp8' : 'h264');
  const run: MethodRun = { bytes: [], psnr: [], detectorBoxPsnr: [], regionPsnr: [], encodeMs: [] };
  const planes = allocYuv(first.width, first.height, chroma);
  let shown: Uint8Array = new Uint8Array(first.data.length).fill(128);
  for (const [k, frame] of clip.frames.entries()) {
    const t0 = performance.now();
    const out = enc.encode(rgbToYuv(frame.data, planes), [], (k * 1000) / clip.fps, false);
    run.encodeMs.push(performance.now() - t0);
    run.bytes.push(out.data.length);
    // A frame the encoder dropped (empty) leaves the previous picture up.
    if (out.data.length > 0) shown = yuvToRgb(dec.decode(out.data), new Uint8Array(frame.data.length));
    score(run, frame, shown, rel[k] as FrameRelevance, clip.region?.masks[k]);
  }
  enc.close();
  dec.close();
  return run;
}

/**
 * The paper engine (`--engine patches`) as a link runs it: the base layer, the rd allocator within
 * `bitrate / 8 / fps` wire bytes, temporal reuse ("keep") from the link's KeepState, the learned
 * encoders; the receivers' FrameReceiver and Reassembler with the learned decoders.
 */
export async function runPatches(
  clip: Clip,
  rel: readonly FrameRelevance[],
  bitrate: number,
  hello: HelloMessage,
  codecs: { encoders: PatchEncoder; decoders: ReceiverDecoders; curves: readonly DistortionCurve[] },
): Promise<MethodRun> {
  const h: HelloMessage = { ...hello, engine: 'patches' };
  const ctx = contextFromHello(h);
  const enc = new FrameEncoder(h, ctx, codecs.encoders, 'rd', codecs.curves, { base: true });
  const keep = new KeepState(ctx.patchCount);
  const rx = new FrameReceiver({ decoders: codecs.decoders, decoderSource: 'the models folder' });
  const hr = rx.receive(encodeMessage(h), 0);
  if (hr.type !== 'hello' || hr.refused) throw hr.type === 'hello' && hr.refused ? hr.refused : new Error('no hello');
  const budget = Math.floor(bitrate / 8 / clip.fps);
  const run: MethodRun = { bytes: [], psnr: [], detectorBoxPsnr: [], regionPsnr: [], encodeMs: [] };
  let shown: Uint8Array = new Uint8Array(clip.frames[0]?.data.length ?? 0).fill(128);
  for (const [k, frame] of clip.frames.entries()) {
    const t0 = performance.now();
    const patches = patchify(frame.data, frame.width, frame.height);
    const out = await enc.encode(
      { frameId: k, captureTs: (k * 1000) / clip.fps, budget },
      patches,
      patchVariances(patches),
      (rel[k] as FrameRelevance).scores,
      keep,
    );
    run.encodeMs.push(performance.now() - t0);
    run.bytes.push(out?.wireBytes ?? 0);
    if (out) {
      keep.commit(patches, out.choice, out.kept, out.base);
      for (const part of out.parts) {
        const r = rx.receive(part, 0);
        if (r.type !== 'frame') throw new Error(`unexpected receipt ${r.type}`);
        for (const f of r.frames) await rx.decode(f);
      }
      shown = Uint8Array.from(rx.picture?.picture.image ?? shown);
    }
    score(run, frame, shown, rel[k] as FrameRelevance, clip.region?.masks[k]);
  }
  keep.release();
  return run;
}

function score(run: MethodRun, frame: RgbImage, shown: Uint8Array, rel: FrameRelevance, region: Uint8Array | null | undefined) {
  run.psnr.push(psnr(frame.data, shown, frame.width) as number);
  run.detectorBoxPsnr.push(rel.boxes.length ? psnr(frame.data, shown, frame.width, rel.boxes) : null);
  run.regionPsnr.push(region ? maskPsnr(frame.data, shown, region) : null);
}

/** The detector's boxes of the query's classes that count as the query's objects: ≥ max(0.1, half the best). */
export function queryBoxes(detections: readonly { score: number; x0: number; y0: number; x1: number; y1: number }[]): Box[] {
  const top = Math.max(0, ...detections.map((d) => d.score));
  if (top < 0.1) return [];
  return detections.filter((d) => d.score >= 0.5 * top).map(({ x0, y0, x1, y1 }) => ({ x0, y0, x1, y1 }));
}
