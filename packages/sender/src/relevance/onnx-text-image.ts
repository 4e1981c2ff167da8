import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadModel, ModelError, type ModelFile, type ModelReader, type OrtSession, sha256Hex } from '@mmsc/codec';
import sharp from 'sharp';
import { ORT_SESSION_OPTIONS, ort } from '../models.js';
import { type Frame, patchMeansOf, type RelevanceModel, type RelevanceResult } from './relevance-model.js';

/**
 * Manifest entry of an open-vocabulary text–image relevance model (kind "text-image-relevance").
 * The contract a CLIP / MAFT+ export must satisfy to replace the default extractor:
 * - input `image`: float32 [1, H, W, 3], RGB 0–255, the frame stretched to `inputSize` [H, W];
 * - input `text`: uint8 [1, L], the query as UTF-8 bytes (L ≤ 1,024, dynamic). Tokenisation
 *   happens inside the graph (e.g. a byte-level text encoder, or a BPE tokenizer op);
 * - output `relevance`: float32 [1, h, w], any resolution, higher = more relevant.
 * The adapter min–max normalises the output to [0,1], upsamples it bilinearly to the frame and
 * averages it per patch. An empty query gives the query-agnostic map (every pixel 1): the model is
 * not run. No such model can be obtained on this platform: the contract is tested with a tiny
 * generated fixture (models/fixtures/text-image-fixture.onnx) for plumbing only.
 */
export interface TextImageEntry extends ModelFile {
  id: string;
  kind: 'text-image-relevance';
  inputSize: [number, number];
}

/** A frame made ready for the model once, for every query asked of it. */
export interface TextImageInput {
  frame: Frame;
  image: Float32Array;
  /** Time of the resize, ms. */
  ms: number;
}

/** Longest query the model is given, in UTF-8 bytes. */
export const TEXT_IMAGE_MAX_TEXT_BYTES = 1024;

export class OnnxTextImageRelevance implements RelevanceModel {
  readonly name: string;
  private constructor(
    private readonly session: OrtSession,
    readonly entry: TextImageEntry,
  ) {
    this.name = `onnx text-image (${entry.id})`;
  }

  static async load(entry: TextImageEntry, read: ModelReader): Promise<OnnxTextImageRelevance> {
    const [h, w] = entry.inputSize ?? [];
    if (!(Number.isInteger(h) && Number.isInteger(w) && (h as number) > 0 && (w as number) > 0))
      throw new ModelError('manifest-invalid', `${entry.id}: inputSize must be [H, W]`, entry.file);
    return new OnnxTextImageRelevance(await loadModel(ort, entry, read, ORT_SESSION_OPTIONS), entry);
  }

  /**
   * An export named by its path (`--relevance onnx:<file>`): the operator's file is trusted as it is
   * (its sha256 is reported, not checked against a manifest); the image input's shape must be static,
   * [1, H, W, 3], which gives `inputSize`.
   */
  static async fromFile(path: string): Promise<OnnxTextImageRelevance> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (e) {
      throw new ModelError('model-missing', `cannot read ${path}: ${(e as Error).message}`, path);
    }
    const file = basename(path);
    let session: OrtSession;
    try {
      session = await ort.InferenceSession.create(bytes, ORT_SESSION_OPTIONS);
    } catch (e) {
      throw new ModelError('model-load-failed', `onnxruntime cannot load ${path}: ${(e as Error).message}`, file);
    }
    const inputs = [...session.inputNames].sort().join(',');
    if (inputs !== 'image,text' || !session.outputNames.includes('relevance'))
      throw new ModelError(
        'model-contract',
        `${path} has inputs [${session.inputNames}] and outputs [${session.outputNames}]; a text-image relevance model takes image and text and gives relevance`,
        file,
      );
    const meta = (session as { inputMetadata?: readonly { name: string; isTensor: boolean; shape?: readonly (number | string)[] }[] })
      .inputMetadata;
    const shape = meta?.find((m) => m.name === 'image')?.shape ?? [];
    const [n, h, w, c] = shape;
    if (shape.length !== 4 || n !== 1 || c !== 3 || typeof h !== 'number' || typeof w !== 'number' || !(h > 0 && w > 0))
      throw new ModelError('model-contract', `${path}: input image must have the static shape [1, H, W, 3]; it has [${shape}]`, file);
    const entry: TextImageEntry = {
      id: file.replace(/\.onnx$/i, ''),
      kind: 'text-image-relevance',
      file,
      sha256: await sha256Hex(bytes),
      inputSize: [h, w],
      inputs: [
        { name: 'image', dtype: 'float32', shape: [1, h, w, 3] },
        { name: 'text', dtype: 'uint8', shape: [1, 'L'] },
      ],
      outputs: [{ name: 'relevance', dtype: 'float32', shape: [1, 'h', 'w'] }],
    };
    return new OnnxTextImageRelevance(session, entry);
  }

  /** The frame stretched to the model's input (once per frame). */
  async prepare(frame: Frame): Promise<TextImageInput> {
    const t0 = performance.now();
    const [H, W] = this.entry.inputSize;
    const resized = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
      .resize(W, H, { fit: 'fill' })
      .raw()
      .toBuffer();
    return { frame, image: Float32Array.from(resized), ms: performance.now() - t0 };
  }

  /** The map for `query` on a prepared frame; an empty query → the query-agnostic map (all 1, `fallback`). */
  async score(input: TextImageInput, query: string): Promise<RelevanceResult> {
    const t0 = performance.now();
    const { frame } = input;
    const text = new TextEncoder().encode(query.trim()).subarray(0, TEXT_IMAGE_MAX_TEXT_BYTES);
    let map: Float32Array;
    if (text.length === 0) map = new Float32Array(frame.width * frame.height).fill(1);
    else {
      const [H, W] = this.entry.inputSize;
      const out = await this.session.run({
        image: new ort.Tensor('float32', input.image, [1, H, W, 3]),
        text: new ort.Tensor('uint8', text, [1, text.length]),
      });
      const r = out.relevance;
      if (!r || !(r.data instanceof Float32Array) || r.dims.length !== 3 || r.dims[0] !== 1) {
        throw new ModelError('model-contract', `${this.entry.file} must output relevance float32 [1,h,w]`, this.entry.file);
      }
      const [, h, w] = r.dims as [number, number, number];
      map = upsampleNormalised(r.data, w, h, frame.width, frame.height);
    }
    return {
      width: frame.width,
      height: frame.height,
      map,
      patchScores: patchMeansOf(map, frame.width, frame.height, 8),
      peak: 1,
      grounding: [],
      ungrounded: [],
      fallback: text.length === 0,
      detections: [],
      ms: input.ms + performance.now() - t0,
    };
  }

  async relevance(frame: Frame, query: string): Promise<RelevanceResult> {
    return this.score(await this.prepare(frame), query);
  }

  async release(): Promise<void> {
    await this.session.release?.();
  }
}

/** Min–max normalise a w×h grid to [0,1] and resample it bilinearly (pixel centres) to W×H. */
export function upsampleNormalised(src: Float32Array, w: number, h: number, W: number, H: number): Float32Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of src) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi > lo ? hi - lo : 1;
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / H - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(h - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < W; x++) {
      const sx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / W - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(w - 1, x0 + 1);
      const fx = sx - x0;
      const v =
        (src[y0 * w + x0] as number) * (1 - fx) * (1 - fy) +
        (src[y0 * w + x1] as number) * fx * (1 - fy) +
        (src[y1 * w + x0] as number) * (1 - fx) * fy +
        (src[y1 * w + x1] as number) * fx * fy;
      out[y * W + x] = (v - lo) / span;
    }
  }
  return out;
}
