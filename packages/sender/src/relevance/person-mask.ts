import { loadModel, ModelError, type ModelFile, type OrtSession } from '@mmsc/codec';
import type { RgbImage } from '../images.js';
import { DEFAULT_MODELS_DIR, fileReader, ORT_SESSION_OPTIONS, ort, readManifest } from '../models.js';

/** The manifest entry of the person segmenter (MediaPipe Selfie Segmentation; models/selfie/README.md). */
export interface PersonMaskEntry extends ModelFile {
  id: string;
  kind: 'person-mask';
  /** The network's native square input side (256): frames are stretched to it, as MediaPipe and human do. */
  referenceSize: number;
  /** Input sides the ONNX file accepts must be multiples of this. */
  inputMultiple: number;
}

/** The model input the frame is stretched to; sides must be multiples of the entry's `inputMultiple`. */
export interface PersonMaskInput {
  width: number;
  height: number;
}

export interface PersonMaskResult {
  /** width × height person probabilities (0–1), row-major, one per frame pixel. */
  mask: Float32Array;
  /** Wall time of the whole call: resize in, model pass, resize back. */
  ms: number;
}

/**
 * The model's person probabilities (0–1) at its own input size, row-major: what a frame's mask is
 * made of. `stretchMask` gives the frame-sized mask, `stretchMaskRegion` any rectangle of it, with
 * the same values, so a reader that needs a few boxes need not stretch the whole frame.
 */
export interface PersonMaskGrid {
  width: number;
  height: number;
  data: Float32Array;
}

export interface PersonMaskGridResult {
  grid: PersonMaskGrid;
  /** Wall time of the call: resize in, model pass. */
  ms: number;
}

/** A rectangle of pixels, [x0, x1) × [y0, y1). */
export interface PixelRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The grid stretched to a width × height frame (resizeBilinear's values). */
export function stretchMask(grid: PersonMaskGrid, width: number, height: number): Float32Array {
  return stretchMaskRegion(grid, width, height, { x0: 0, y0: 0, x1: width, y1: height });
}

/**
 * The pixels of `rect` (inside the frame) of the grid stretched to a width × height frame,
 * row-major over the rectangle: the values resizeBilinear gives there, computed for them alone.
 */
export function stretchMaskRegion(grid: PersonMaskGrid, width: number, height: number, rect: PixelRect): Float32Array {
  const { width: sw, height: sh, data: src } = grid;
  const { x0: rx0, y0: ry0, x1: rx1, y1: ry1 } = rect;
  if (!(0 <= rx0 && rx0 <= rx1 && rx1 <= width && 0 <= ry0 && ry0 <= ry1 && ry1 <= height)) {
    throw new RangeError(`mask region [${rx0}, ${rx1}) × [${ry0}, ${ry1}) is not inside ${width}×${height}`);
  }
  const rw = rx1 - rx0;
  const out = new Float32Array(rw * (ry1 - ry0));
  if (sw === width && sh === height) {
    for (let y = ry0; y < ry1; y++) out.set(src.subarray(y * sw + rx0, y * sw + rx1), (y - ry0) * rw);
    return out;
  }
  const { x0s, x1s, wxs } = columnTable(sw, width, 1, rx0, rx1);
  let o = 0;
  for (let y = ry0; y < ry1; y++) {
    const fy = (y * sh) / height;
    const y0 = Math.floor(fy);
    const row0 = y0 * sw;
    const row1 = Math.min(y0 + 1, sh - 1) * sw;
    const wy = fy - y0;
    for (let i = 0; i < rw; i++) {
      const x0 = x0s[i] as number;
      const x1 = x1s[i] as number;
      const wx = wxs[i] as number;
      const a = src[row0 + x0] as number;
      const b = src[row0 + x1] as number;
      const d = src[row1 + x0] as number;
      const e = src[row1 + x1] as number;
      const top = a + (b - a) * wx;
      const bottom = d + (e - d) * wx;
      out[o++] = top + (bottom - top) * wy;
    }
  }
  return out;
}

/**
 * Per destination column x in [from, to): the offsets of its two source columns (× channels) and
 * the weight of the right one, rounded to float32 (the sampling of resizeBilinear).
 */
function columnTable(sw: number, dw: number, channels: number, from: number, to: number) {
  const n = to - from;
  const x0s = new Int32Array(n);
  const x1s = new Int32Array(n);
  const wxs = new Float32Array(n);
  for (let x = from; x < to; x++) {
    const fx = (x * sw) / dw;
    const x0 = Math.floor(fx);
    x0s[x - from] = x0 * channels;
    x1s[x - from] = Math.min(x0 + 1, sw - 1) * channels;
    wxs[x - from] = fx - x0;
  }
  return { x0s, x1s, wxs };
}

/**
 * Bilinear resize with TF's legacy sampling (tf.image.resizeBilinear, align_corners and half_pixel_centers
 * false): source coordinate = destination · (in / out); neighbours floor and min(floor + 1, in − 1). This is
 * what @vladmandic/human's selfie.ts does on both sides of the model; models/selfie/verify.mjs checks the
 * same sampling against tfjs. `scale` multiplies every value (1/255 to normalise bytes). RGB bytes take
 * a loop unrolled over the channels, with the same arithmetic.
 */
export function resizeBilinear(
  src: ArrayLike<number>,
  sw: number,
  sh: number,
  channels: number,
  dw: number,
  dh: number,
  scale = 1,
): Float32Array {
  if (channels === 3 && src instanceof Uint8Array) return resizeRgbBilinear(src, sw, sh, dw, dh, scale);
  const out = new Float32Array(dw * dh * channels);
  const { x0s, x1s, wxs } = columnTable(sw, dw, channels, 0, dw);
  let o = 0;
  for (let y = 0; y < dh; y++) {
    const fy = (y * sh) / dh;
    const y0 = Math.floor(fy);
    const row0 = y0 * sw * channels;
    const row1 = Math.min(y0 + 1, sh - 1) * sw * channels;
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const x0 = x0s[x] as number;
      const x1 = x1s[x] as number;
      const wx = wxs[x] as number;
      for (let c = 0; c < channels; c++) {
        const a = src[row0 + x0 + c] as number;
        const b = src[row0 + x1 + c] as number;
        const d = src[row1 + x0 + c] as number;
        const e = src[row1 + x1 + c] as number;
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        out[o++] = (top + (bottom - top) * wy) * scale;
      }
    }
  }
  return out;
}

/** resizeBilinear for RGB bytes (a frame into a model), the same arithmetic unrolled over the channels. */
function resizeRgbBilinear(src: Uint8Array, sw: number, sh: number, dw: number, dh: number, scale: number): Float32Array {
  const out = new Float32Array(dw * dh * 3);
  const { x0s, x1s, wxs } = columnTable(sw, dw, 3, 0, dw);
  let o = 0;
  for (let y = 0; y < dh; y++) {
    const fy = (y * sh) / dh;
    const y0 = Math.floor(fy);
    const row0 = y0 * sw * 3;
    const row1 = Math.min(y0 + 1, sh - 1) * sw * 3;
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const wx = wxs[x] as number;
      const p = row0 + (x0s[x] as number);
      const q = row0 + (x1s[x] as number);
      const r = row1 + (x0s[x] as number);
      const s = row1 + (x1s[x] as number);
      for (let c = 0; c < 3; c++) {
        const a = src[p + c] as number;
        const b = src[q + c] as number;
        const d = src[r + c] as number;
        const e = src[s + c] as number;
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        out[o++] = (top + (bottom - top) * wy) * scale;
      }
    }
  }
  return out;
}

/**
 * Person segmentation on onnxruntime-node: an RGB frame of any size → a per-pixel person probability
 * map at the frame's size (`run`), or at the model's with the stretch left to its reader (`segment`).
 * By default the frame is stretched to the model's native 256×256 (no letterbox; RGB, value/255) and
 * the mask stretched back bilinearly, as MediaPipe and human do. The network is
 * convolutional apart from global pools, so `input` may ask for another size (multiples of 16): on COCO
 * scenes a larger input with the picture's aspect found people better (models/selfie/README.md), at
 * proportionally more compute.
 */
export class PersonMask {
  private constructor(
    private readonly session: OrtSession,
    readonly entry: PersonMaskEntry,
    /** The model input size the frame is stretched to. */
    readonly input: PersonMaskInput,
  ) {}

  static async load(dir = DEFAULT_MODELS_DIR, input?: PersonMaskInput): Promise<PersonMask> {
    const manifest = await readManifest(dir);
    const entry = manifest.models.find((m) => m.kind === 'person-mask') as PersonMaskEntry | undefined;
    if (!entry) throw new ModelError('manifest-invalid', 'models/manifest.json lists no person mask (kind "person-mask")');
    const size = entry.referenceSize;
    if (!Number.isInteger(size) || !(size > 0) || !(entry.inputMultiple > 0) || size % entry.inputMultiple) {
      throw new ModelError(
        'manifest-invalid',
        `person-mask entry ${entry.id} needs referenceSize, a positive multiple of inputMultiple`,
        entry.file,
      );
    }
    const asked = input ?? { width: size, height: size };
    const m = entry.inputMultiple;
    if (!(asked.width > 0 && asked.height > 0) || asked.width % m || asked.height % m) {
      throw new RangeError(`person mask input must have sides that are positive multiples of ${m}; got ${asked.width}×${asked.height}`);
    }
    const session = await loadModel(ort, entry, fileReader(dir), ORT_SESSION_OPTIONS);
    return new PersonMask(session, entry, { width: asked.width, height: asked.height });
  }

  /** The frame's person mask at the frame's size. */
  async run(frame: Pick<RgbImage, 'width' | 'height' | 'data'>): Promise<PersonMaskResult> {
    const t0 = performance.now();
    const { grid } = await this.segment(frame);
    return { mask: stretchMask(grid, frame.width, frame.height), ms: performance.now() - t0 };
  }

  /**
   * The frame's person mask at the model's input size (see PersonMaskGrid): the model pass without
   * the stretch back. `input`: another input size (sides multiples of the entry's `inputMultiple`).
   */
  async segment(frame: Pick<RgbImage, 'width' | 'height' | 'data'>, input: PersonMaskInput = this.input): Promise<PersonMaskGridResult> {
    const t0 = performance.now();
    const { width, height, data } = frame;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || data.length !== width * height * 3) {
      throw new RangeError(`person mask needs an RGB frame (width·height·3 bytes); got ${width}×${height} with ${data.length} bytes`);
    }
    const { width: iw, height: ih } = input;
    const m = this.entry.inputMultiple;
    if (!(iw > 0 && ih > 0) || iw % m || ih % m)
      throw new RangeError(`person mask input must have sides that are positive multiples of ${m}; got ${iw}×${ih}`);
    const pixels = resizeBilinear(data, width, height, 3, iw, ih, 1 / 255);
    const inName = this.entry.inputs[0]?.name as string;
    const outName = this.entry.outputs[0]?.name as string;
    const out = await this.session.run({ [inName]: new ort.Tensor('float32', pixels, [1, ih, iw, 3]) });
    const raw = out[outName]?.data;
    if (!(raw instanceof Float32Array) || raw.length !== iw * ih) {
      throw new ModelError('model-contract', `${this.entry.file} did not return ${outName} [1,${ih},${iw},1]`, this.entry.file);
    }
    return { grid: { width: iw, height: ih, data: raw }, ms: performance.now() - t0 };
  }

  async release(): Promise<void> {
    await this.session.release?.();
  }
}

/**
 * The part of a frame the person mask runs on: the union of `boxes` (frame pixels) grown by
 * `margin` on each side, within the frame; null for no box.
 */
export function maskCrop(boxes: readonly PixelRect[], width: number, height: number, margin: number): PixelRect | null {
  if (boxes.length === 0) return null;
  const x0 = Math.max(0, Math.floor(Math.min(...boxes.map((b) => b.x0)) - margin));
  const y0 = Math.max(0, Math.floor(Math.min(...boxes.map((b) => b.y0)) - margin));
  const x1 = Math.min(width, Math.ceil(Math.max(...boxes.map((b) => b.x1)) + margin));
  const y1 = Math.min(height, Math.ceil(Math.max(...boxes.map((b) => b.y1)) + margin));
  return x1 > x0 && y1 > y0 ? { x0, y0, x1, y1 } : null;
}

/**
 * The model input for a crop: its own size (one input pixel per frame pixel), scaled down so its
 * long side is at most `maxSide`, each side rounded up to a multiple of `multiple`.
 */
export function cropInput(crop: PixelRect, maxSide: number, multiple: number): PersonMaskInput {
  const w = crop.x1 - crop.x0;
  const h = crop.y1 - crop.y0;
  const k = Math.min(1, maxSide / Math.max(w, h));
  const side = (v: number) => Math.max(multiple, Math.ceil((v * k) / multiple) * multiple);
  return { width: side(w), height: side(h) };
}

/** The RGB pixels of `rect` of a frame, as a frame of their own. */
export function cropFrame(
  frame: Pick<RgbImage, 'width' | 'height' | 'data'>,
  rect: PixelRect,
): Pick<RgbImage, 'width' | 'height' | 'data'> {
  const width = rect.x1 - rect.x0;
  const height = rect.y1 - rect.y0;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((rect.y0 + y) * frame.width + rect.x0) * 3;
    data.set(frame.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data };
}
