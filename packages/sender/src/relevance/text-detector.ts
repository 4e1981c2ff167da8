import { loadModel, ModelError, type ModelFile, type OrtSession } from '@mmsc/codec';
import type { RgbImage } from '../images.js';
import { DEFAULT_MODELS_DIR, fileReader, ORT_SESSION_OPTIONS, ort, readManifest } from '../models.js';
import { resizeBilinear } from './person-mask.js';

/** The manifest entry of the text detector (PP-OCRv4's DB detector; models/text/README.md). */
export interface TextDetectorEntry extends ModelFile {
  id: string;
  kind: 'text-detector';
  /** Input sides must be multiples of this (32). */
  inputMultiple: number;
}

export interface TextMapResult {
  /** width × height text probabilities (0–1), row-major, one per frame pixel. */
  map: Float32Array;
  /** Wall time of the whole call: resize in, model pass, resize back. */
  ms: number;
}

// PaddleOCR's NormalizeImage, applied to its cv2 (BGR) image: channel k of the input is
// (value/255 − MEAN[k]) / STD[k] with k = 0 blue, 1 green, 2 red.
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/**
 * Text regions of a frame: PP-OCRv4's detector gives a probability per pixel that it is part of a
 * text line (signs, labels, plates, captions). The frame is stretched to the nearest multiples of 32
 * (at most `maxSide` on its long side) and the map stretched back.
 */
export class TextDetector {
  private constructor(
    private readonly session: OrtSession,
    readonly entry: TextDetectorEntry,
    readonly maxSide: number,
    /** Radius of the widening, as a share of the input's long side. */
    readonly grow = 1 / 48,
  ) {}

  static async load(dir = DEFAULT_MODELS_DIR, maxSide = 288): Promise<TextDetector> {
    const manifest = await readManifest(dir);
    const entry = manifest.models.find((m) => m.kind === 'text-detector') as TextDetectorEntry | undefined;
    if (!entry) throw new ModelError('manifest-invalid', 'models/manifest.json lists no text detector (kind "text-detector")');
    if (!Number.isInteger(entry.inputMultiple) || !(entry.inputMultiple > 0)) {
      throw new ModelError('manifest-invalid', `text detector entry ${entry.id} needs a positive inputMultiple`, entry.file);
    }
    const session = await loadModel(ort, entry, fileReader(dir), ORT_SESSION_OPTIONS);
    return new TextDetector(session, entry, maxSide);
  }

  /** The model input for a frame: its size scaled to at most `maxSide`, rounded to the multiple (≥ one multiple). */
  inputSize(width: number, height: number): [number, number] {
    const m = this.entry.inputMultiple;
    const s = Math.min(1, this.maxSide / Math.max(width, height));
    return [Math.max(m, Math.round((width * s) / m) * m), Math.max(m, Math.round((height * s) / m) * m)];
  }

  async run(frame: Pick<RgbImage, 'width' | 'height' | 'data'>): Promise<TextMapResult> {
    const t0 = performance.now();
    const { width, height, data } = frame;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || data.length !== width * height * 3) {
      throw new RangeError(`text detector needs an RGB frame (width·height·3 bytes); got ${width}×${height} with ${data.length} bytes`);
    }
    const [iw, ih] = this.inputSize(width, height);
    const rgb = resizeBilinear(data, width, height, 3, iw, ih, 1 / 255);
    const n = iw * ih;
    const input = new Float32Array(3 * n);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < 3; k++) input[k * n + i] = ((rgb[i * 3 + (2 - k)] as number) - (MEAN[k] as number)) / (STD[k] as number);
    const inName = this.entry.inputs[0]?.name as string;
    const outName = this.entry.outputs[0]?.name as string;
    const out = await this.session.run({ [inName]: new ort.Tensor('float32', input, [1, 3, ih, iw]) });
    const raw = out[outName]?.data;
    if (!(raw instanceof Float32Array) || raw.length !== n) {
      throw new ModelError('model-contract', `${this.entry.file} did not return ${outName} [1,1,${ih},${iw}]`, this.entry.file);
    }
    // The detector marks each line's shrunk core (DB); widened by about half a line's height, the
    // map covers the glyphs and the plate around them. Widened at a quarter of the resolution (the
    // largest value of each 4×4 cell first), then stretched back to the frame.
    const [pw, ph] = [Math.ceil(iw / POOL), Math.ceil(ih / POOL)];
    const pooled = maxPool(raw, iw, ih, POOL);
    const grown = dilate(pooled, pw, ph, Math.max(1, Math.round((Math.max(iw, ih) * this.grow) / POOL)));
    const map = resizeBilinear(grown, pw, ph, 1, width, height);
    return { map, ms: performance.now() - t0 };
  }

  async release(): Promise<void> {
    await this.session.release?.();
  }
}

/** Cells of the text map widened at a lower resolution (pixels per side). */
const POOL = 4;

/** The largest value of each k×k cell of a w×h map (cells cut by the edges included). */
export function maxPool(src: Float32Array, w: number, h: number, k: number): Float32Array {
  const pw = Math.ceil(w / k);
  const out = new Float32Array(pw * Math.ceil(h / k));
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / k) * pw;
    for (let x = 0; x < w; x++) {
      const v = src[y * w + x] as number;
      const i = row + Math.floor(x / k);
      if (v > (out[i] as number)) out[i] = v;
    }
  }
  return out;
}

/**
 * Grey-level dilation of a w×h map by a (2r+1)² square (the largest value within r in x and in y),
 * in O(w·h) per axis: van Herk / Gil–Werman running maxima over blocks of 2r+1.
 */
export function dilate(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const rows = new Float32Array(src.length);
  for (let y = 0; y < h; y++) maxLine(src, rows, y * w, 1, w, r);
  const out = new Float32Array(src.length);
  for (let x = 0; x < w; x++) maxLine(rows, out, x, w, h, r);
  return out;
}

/** `dst[i] = max(src[i − r .. i + r])` along one line of `n` values `stride` apart from `start`. */
function maxLine(src: Float32Array, dst: Float32Array, start: number, stride: number, n: number, r: number): void {
  const k = 2 * r + 1;
  const g = new Float32Array(n); // running max from each block's start
  const hh = new Float32Array(n); // running max to each block's end
  for (let i = 0; i < n; i++) {
    const v = src[start + i * stride] as number;
    g[i] = i % k === 0 ? v : Math.max(g[i - 1] as number, v);
  }
  for (let i = n - 1; i >= 0; i--) {
    const v = src[start + i * stride] as number;
    hh[i] = i === n - 1 || (i + 1) % k === 0 ? v : Math.max(hh[i + 1] as number, v);
  }
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - r);
    const hi = Math.min(n - 1, i + r);
    if (Math.floor(lo / k) !== Math.floor(hi / k) || hi - lo === k - 1) {
      dst[start + i * stride] = Math.max(hh[lo] as number, g[hi] as number);
      continue;
    }
    // A window cut by the line's end inside one block: read it whole.
    let m = Number.NEGATIVE_INFINITY;
    for (let j = lo; j <= hi; j++) m = Math.max(m, src[start + j * stride] as number);
    dst[start + i * stride] = m;
  }
}
