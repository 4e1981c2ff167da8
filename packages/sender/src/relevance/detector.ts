import { loadModel, ModelError, type ModelFile, type OrtSession } from '@mmsc/codec';
import { DEFAULT_MODELS_DIR, fileReader, ORT_SESSION_OPTIONS, ort, readManifest } from '../models.js';
import type { DetectorOutput } from './decode-detections.js';

/** The manifest entry of the COCO-80 CenterNet (models/detector/README.md). */
export interface DetectorEntry extends ModelFile {
  id: string;
  kind: 'detector';
  /** Input sides must be multiples of this (the network's total stride); any such size runs. */
  inputMultiple: number;
  stride: number;
  classes: string[];
}

/**
 * CenterNet on onnxruntime-node: NHWC float 0–255 input of any size whose sides are multiples of
 * `inputMultiple` → class heatmaps + box extents at 1/stride resolution.
 */
export class Detector {
  private constructor(
    private readonly session: OrtSession,
    readonly entry: DetectorEntry,
  ) {}

  static async load(dir = DEFAULT_MODELS_DIR): Promise<Detector> {
    const manifest = await readManifest(dir);
    const entry = manifest.models.find((m) => m.kind === 'detector') as DetectorEntry | undefined;
    if (!entry) throw new ModelError('manifest-invalid', 'models/manifest.json lists no detector (kind "detector")');
    if (!Array.isArray(entry.classes) || !(entry.inputMultiple > 0) || !(entry.stride > 0) || entry.inputMultiple % entry.stride) {
      throw new ModelError(
        'manifest-invalid',
        `detector entry ${entry.id} needs classes, stride and inputMultiple (a multiple of stride)`,
        entry.file,
      );
    }
    const session = await loadModel(ort, entry, fileReader(dir), ORT_SESSION_OPTIONS);
    return new Detector(session, entry);
  }

  get multiple(): number {
    return this.entry.inputMultiple;
  }

  get classes(): string[] {
    return this.entry.classes;
  }

  /** `input` is [1, height, width, 3]; width and height must be multiples of `multiple`. */
  async run(input: Float32Array, width: number, height: number): Promise<DetectorOutput> {
    const m = this.entry.inputMultiple;
    if (width % m || height % m || input.length !== width * height * 3) {
      throw new RangeError(
        `detector input must be [1,h,w,3] with sides multiples of ${m}; got ${width}×${height} (${input.length} values)`,
      );
    }
    const out = await this.session.run({ images: new ort.Tensor('float32', input, [1, height, width, 3]) });
    const keypoints = out.keypoints?.data;
    const wh = out.wh?.data;
    const gridW = width / this.entry.stride;
    const gridH = height / this.entry.stride;
    const nc = this.entry.classes.length;
    if (!(keypoints instanceof Float32Array) || !(wh instanceof Float32Array) || keypoints.length !== gridW * gridH * nc) {
      throw new ModelError(
        'model-contract',
        `${this.entry.file} did not return keypoints [1,${gridH},${gridW},${nc}] and wh`,
        this.entry.file,
      );
    }
    return { keypoints, wh, gridW, gridH, classes: nc, stride: this.entry.stride };
  }

  async release(): Promise<void> {
    await this.session.release?.();
  }
}
