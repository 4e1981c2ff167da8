import { type PatchCodecs, patchify } from '@mmsc/codec';
import { contextFromHello, DEFAULT_MAX_MESSAGE_BYTES, type EngineName, encodeMessage, type HelloMessage } from '@mmsc/protocol';
import { FrameReceiver } from '@mmsc/receiver';
import {
  type DetectorOutput,
  type DetectorRelevance,
  engineFor,
  engines,
  FrameEncoder,
  type OnnxTextImageRelevance,
  patchVariances,
  type RgbImage,
} from '@mmsc/sender';
import { maskedMse, meanAbsDiff, psnr, sumSquaredError } from '../metrics.js';
import { nodeVideoDecoders } from '../receive/node-decoders.js';
import { avifAt, grey, jpegAt, webpAt, x264At } from './peers.js';
import { roiRects } from './roi.js';

/**
 * The oracles are not systems: they allocate with the GT query mask (`oracle`) or the GT instances'
 * boxes (`oracle-box`) as the relevance map, with the same allocator, codecs and framing — the
 * ceilings for a mask-precise and for a perfect box-level relevance extractor. Off by default, as are
 * the peers beyond JPEG (slower; x264 needs ffmpeg). `x264-roi` takes its boxes from mmsc's relevance.
 */
/** The video engines of the sender's registry that code a still (`Engine.still`), each a method under its name. */
export const STILL_ENGINES: readonly EngineName[] = engines()
  .filter((e) => e.still)
  .map((e) => e.name);
const OTHER_METHODS = [
  'mmsc',
  'baseline',
  'uniform',
  'jpeg',
  'webp',
  'avif',
  'x264',
  'x264-444',
  'x264-roi',
  'oracle',
  'oracle-box',
] as const;
export type Method = EngineName | (typeof OTHER_METHODS)[number];
export const METHODS: readonly Method[] = [...STILL_ENGINES, ...OTHER_METHODS];
/** Standard codecs at the same bytes (peers.ts); x264 and x264-roi need ffmpeg with libx264. */
export const PEERS: readonly Method[] = ['jpeg', 'webp', 'avif', 'x264', 'x264-444', 'x264-roi'];
export const DEFAULT_METHODS: readonly Method[] = ['h264', 'mmsc', 'baseline', 'uniform', 'jpeg'];

export interface PairResult {
  imageId: number;
  query: string;
  method: Method;
  rate: number;
  budget: number;
  /** Wire bytes actually used (peers: file or bitstream size). */
  bytes: number;
  maskedMse: number;
  l1Relevance: number;
  semantic: number;
  psnr: number;
}

/**
 * Runs the live system's own code paths offline for one image–query pair: relevance, allocation,
 * patch encoders, protocol framing (budget in wire bytes), decoders and reassembly with
 * concealment — plus JPEG at the same bytes. Metrics follow the paper's Figs 4–6.
 */
export class Evaluator {
  private encoder: FrameEncoder;
  /** The session's hello at the frame being evaluated (each image keeps its own aspect: its own geometry). */
  hello: HelloMessage;

  constructor(
    readonly relevance: DetectorRelevance,
    readonly encoders: PatchCodecs,
    readonly decoders: PatchCodecs,
    hello: HelloMessage,
    readonly allocator: 'rd' | 'paper',
    readonly curves: ConstructorParameters<typeof FrameEncoder>[4],
    /**
     * An open-vocabulary model (`--relevance onnx:<file>`) whose map mmsc's methods allocate by, and
     * whose map the relevance L1 compares; the baseline, the oracles and the semantic score stay the
     * detector's.
     */
    readonly open: OnnxTextImageRelevance | null = null,
  ) {
    this.hello = { ...hello, sessionId: 'eval', maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES };
    this.encoder = new FrameEncoder(this.hello, contextFromHello(this.hello), encoders, allocator, curves);
  }

  async evaluate(
    frame: RgbImage,
    pair: { imageId: number; query: string; categories: string[] },
    mask: Uint8Array,
    rates: number[],
    methods: readonly Method[],
    boxMask?: Uint8Array,
  ) {
    if (methods.includes('oracle-box') && !boxMask) throw new Error('method oracle-box needs the GT box mask');
    this.atGeometry(frame.width, frame.height);
    const patches = patchify(frame.data, frame.width, frame.height);
    const variances = patchVariances(patches);
    const person = this.relevance.analyseOptions(pair.query);
    const a = await this.relevance.analyse(frame, person);
    const query = this.open ? await this.open.relevance(frame, pair.query) : this.relevance.fromAnalysis(a, pair.query);
    const baseline = this.relevance.baselineFromAnalysis(a);
    const classes = pair.categories.map((c) => this.relevance.detector.classes.indexOf(c)).filter((c) => c >= 0);
    const origScore = peakScore(a.out, classes);
    // Relevance per allocating method (uniform and the peers ignore it; x264-roi takes mmsc's).
    const scoresOf: Partial<Record<Method, Float32Array>> = {
      ...Object.fromEntries(STILL_ENGINES.map((e) => [e, query.patchScores])),
      mmsc: query.patchScores,
      'x264-roi': query.patchScores,
      baseline: baseline.patchScores,
      ...(methods.includes('oracle') ? { oracle: maskPatchScores(mask, frame.width, frame.height) } : {}),
      ...(boxMask ? { 'oracle-box': maskPatchScores(boxMask, frame.width, frame.height) } : {}),
    };
    const results: PairResult[] = [];
    for (const rate of rates) {
      const budget = Math.floor(rate * frame.width * frame.height * 3);
      for (const method of methods) {
        const { image, bytes } = await this.reconstruct(
          method,
          frame,
          patches,
          variances,
          scoresOf[method] ?? baseline.patchScores,
          budget,
        );
        const shown = { width: frame.width, height: frame.height, data: image };
        const ra = await this.relevance.analyse(shown, person);
        const rq = this.open ? await this.open.relevance(shown, pair.query) : this.relevance.fromAnalysis(ra, pair.query);
        results.push({
          imageId: pair.imageId,
          query: pair.query,
          method,
          rate,
          budget,
          bytes,
          maskedMse: maskedMse(frame.data, image, mask),
          l1Relevance: meanAbsDiff(query.map, rq.map),
          semantic: origScore > 0.01 ? peakScore(ra.out, classes) / origScore : Number.NaN,
          psnr: psnr(sumSquaredError(frame.data, image) / image.length),
        });
      }
    }
    return results;
  }

  /** The hello and encoder for a width×height frame (the same objects while the geometry stays). */
  private atGeometry(width: number, height: number) {
    if (width === this.hello.width && height === this.hello.height) return;
    this.hello = { ...this.hello, width, height };
    this.encoder = new FrameEncoder(this.hello, contextFromHello(this.hello), this.encoders, this.allocator, this.curves);
  }

  /**
   * A video engine on a still (`h264`: mmsc serve's default): one keyframe with the engine's
   * settings and quantizer map, its quality knob searched to fit the wire budget (`Engine.still`),
   * replayed into the receivers' FrameReceiver and decoded by node-av as probe and eval-video do.
   */
  private async still(engine: EngineName, frame: RgbImage, scores: Float32Array, budget: number) {
    const e = engineFor(engine);
    const hello: HelloMessage = e.hello({ ...this.hello, engine });
    const coded = e.still ? await e.still(frame, scores, budget, hello) : null;
    if (!coded) return grey(frame);
    const receiver = new FrameReceiver({ video: nodeVideoDecoders });
    const h = receiver.receive(encodeMessage(hello), 0);
    if (h.type === 'hello' && h.refused) throw h.refused;
    for (const part of coded.parts) {
      const r = receiver.receive(part, 0);
      if (r.type !== 'frame') throw new Error(`the engine made a ${r.type} receipt, not a frame`);
      for (const f of r.frames) {
        const stats = await receiver.decode(f);
        if (stats?.refresh) throw new Error(`the still did not decode: ${stats.refresh}`);
      }
    }
    const image = receiver.picture?.picture.image;
    receiver.close();
    if (!image) throw new Error('the receiver showed no picture for a decoded still');
    return { image: Uint8Array.from(image), bytes: coded.wireBytes };
  }

  private async reconstruct(
    method: Method,
    frame: RgbImage,
    patches: Uint8Array,
    variances: Float32Array,
    scores: Float32Array,
    budget: number,
  ) {
    if ((STILL_ENGINES as readonly string[]).includes(method)) return this.still(method as EngineName, frame, scores, budget);
    if (method === 'jpeg') return jpegAt(frame, budget);
    if (method === 'webp') return webpAt(frame, budget);
    if (method === 'avif') return avifAt(frame, budget);
    if (method === 'x264') return x264At(frame, budget);
    if (method === 'x264-444') return x264At(frame, budget, [], -0.2, '444');
    if (method === 'x264-roi') {
      const p = this.hello.patchSize;
      return x264At(frame, budget, roiRects(scores, frame.width / p, frame.height / p, p));
    }
    let parts: Uint8Array[] | null = null;
    if (method === 'uniform') {
      // The single highest level whose whole frame fits the budget (skip always fits).
      for (let k = this.encoder.levels.length - 1; k >= 0 && !parts; k--) {
        if (this.encoder.ctx.patchCount * (this.encoder.levels[k]?.bytes ?? 0) > budget) continue;
        const choice = new Uint8Array(this.encoder.ctx.patchCount).fill(k);
        const p = await this.encoder.encodeChoice({ frameId: 0, captureTs: 0, budget }, patches, choice);
        if (p.reduce((s, b) => s + b.length, 0) <= budget) parts = p;
      }
    } else {
      // A fresh encoder per reconstruction: the live one learns its framing reserve from the previous
      // frame, which here would make a result depend on which methods and rates ran before it.
      const encoder = new FrameEncoder(this.hello, this.encoder.ctx, this.encoders, this.allocator, this.curves);
      parts = (await encoder.encode({ frameId: 0, captureTs: 0, budget }, patches, variances, scores))?.parts ?? [];
    }
    // The receiver's own session, fed the messages a link would carry (no network here): the
    // hello (its decoders checked against ours), then the frame's parts.
    const receiver = new FrameReceiver({ decoders: this.decoders, decoderSource: 'the evaluation decoders' });
    const hello = receiver.receive(encodeMessage(this.hello), 0);
    if (hello.type === 'hello' && hello.refused) throw hello.refused;
    const frames = (parts ?? []).flatMap((b) => {
      const r = receiver.receive(b, 0);
      if (r.type === 'invalid') throw r.error;
      if (r.type !== 'frame') throw new Error(`the encoder made a ${r.message.type} message, not a frame part`);
      return r.frames;
    });
    for (const f of [...frames, ...receiver.close()]) await receiver.decode(f);
    const image = receiver.picture?.picture.image ?? new Uint8Array(this.hello.width * this.hello.height * 3);
    if (frames.length === 0 && (parts ?? []).length === 0) image.fill(128); // nothing fits: a grey frame
    return { image, bytes: (parts ?? []).reduce((s, b) => s + b.length, 0) };
  }
}

/** Share of each 8×8 patch inside a 0/1 mask, patches row-major. */
export function maskPatchScores(mask: Uint8Array, width: number, height: number, patch = 8): Float32Array {
  const pw = width / patch;
  const out = new Float32Array(pw * (height / patch));
  for (let y = 0; y < height; y++) {
    const row = ((y / patch) | 0) * pw;
    for (let x = 0; x < width; x++) {
      const p = row + ((x / patch) | 0);
      if (mask[y * width + x]) out[p] = (out[p] as number) + 1 / (patch * patch);
    }
  }
  return out;
}

/** Semantic score of an image for a query: the detector's strongest heatmap peak among its classes. */
export function peakScore(out: DetectorOutput, classes: number[]): number {
  let best = 0;
  for (let i = 0; i < out.gridW * out.gridH; i++) {
    for (const c of classes) {
      const v = out.keypoints[i * out.classes + c] as number;
      if (v > best) best = v;
    }
  }
  return best;
}
