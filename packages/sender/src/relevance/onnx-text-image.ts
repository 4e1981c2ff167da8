import { loadModel, ModelError, type ModelFile, type ModelReader, type OrtSession } from '@mmsc/codec';
import sharp from 'sharp';
import { ort } from '../models.js';
import type { Frame, RelevanceModel, RelevanceResult } from './relevance-model.js';

/**
 * Manifest entry of an open-vocabulary text–image relevance model (kind "text-image-relevance").
 * The contract a CLIP / MAFT+ export must satisfy to replace the default extractor:
 * - input `image`: float32 [1, H, W, 3], RGB 0–255, the frame stretched to `inputSize` [H, W];
 * - input `text`: uint8 [1, L], the query as UTF-8 bytes (L ≤ 1,024, dynamic). Tokenisation
 *   happens inside the graph (e.g. a byte-level text encoder, or a BPE tokenizer op);
 * - output `relevance`: float32 [1, h, w], any resolution, higher = more relevant.
 * The adapter min–max normalises the output to [0,1], upsamples it bilinearly to the frame and
 * averages it per patch. No such model can be obtained on this platform: the contract is tested with
 * a tiny generated fixture (models/fixtures/text-image-fixture.onnx) for plumbing only.
 */
export interface TextImageEntry extends ModelFile {
  id: string;
  kind: 'text-image-relevance';
  inputSize: [number, number];
}

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
    if (!(Number(h) > 0 && Number(w) > 0)) throw new ModelError('manifest-invalid', `${entry.id}: inputSize must be [H, W]`, entry.file);
    return new OnnxTextImageRelevance(await loadModel(ort, entry, read), entry);
  }

  async relevance(frame: Frame, query: string): Promise<RelevanceResult> {
    const t0 = performance.now();
    const [H, W] = this.entry.inputSize;
    const resized = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
      .resize(W, H, { fit: 'fill' })
      .raw()
      .toBuffer();
    const text = new TextEncoder().encode(query).subarray(0, 1024);
    const out = await this.session.run({
      image: new ort.Tensor('float32', Float32Array.from(resized), [1, H, W, 3]),
      text: new ort.Tensor('uint8', text, [1, text.length]),
    });
    const r = out.relevance;
    if (!r || !(r.data instanceof Float32Array) || r.dims.length !== 3) {
      throw new ModelError('model-contract', `${this.entry.file} must output relevance float32 [1,h,w]`, this.entry.file);
    }
    const [, h, w] = r.dims as [number, number, number];
    const map = upsampleNormalised(r.data, w, h, frame.width, frame.height);
    const ps = 8;
    const cols = frame.width / ps;
    const patchScores = new Float32Array((frame.width / ps) * (frame.height / ps));
    for (let y = 0; y < frame.height; y++)
      for (let x = 0; x < frame.width; x++) {
        const p = ((y / ps) | 0) * cols + ((x / ps) | 0);
        patchScores[p] = (patchScores[p] as number) + (map[y * frame.width + x] as number) / (ps * ps);
      }
    return {
      width: frame.width,
      height: frame.height,
      map,
      patchScores,
      peak: 1,
      grounding: [],
      ungrounded: [],
      fallback: false,
      detections: [],
      ms: performance.now() - t0,
    };
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
