import { loadModel, ModelError, type ModelFile, type OrtSession } from '@mmsc/receiver';
import { DEFAULT_MODELS_DIR, fileReader, ort, readManifest } from '../models.js';
import type { DetectorOutput } from './decode-detections.js';

/** The manifest entry of the COCO-80 CenterNet (models/detector/README.md). */
export interface DetectorEntry extends ModelFile {
  id: string;
  kind: 'detector';
  inputSize: number;
  stride: number;
  classes: string[];
}

/** CenterNet on onnxruntime-node: NHWC float 0–255 input → class heatmaps + box extents. */
export class Detector {
  private constructor(
    private readonly session: OrtSession,
    readonly entry: DetectorEntry,
  ) {}

  static async load(dir = DEFAULT_MODELS_DIR): Promise<Detector> {
    const manifest = await readManifest(dir);
    const entry = manifest.models.find((m) => m.kind === 'detector') as DetectorEntry | undefined;
    if (!entry) throw new ModelError('manifest-invalid', 'models/manifest.json lists no detector (kind "detector")');
    if (!Array.isArray(entry.classes) || !(entry.inputSize > 0) || !(entry.stride > 0)) {
      throw new ModelError('manifest-invalid', `detector entry ${entry.id} needs classes, inputSize and stride`, entry.file);
    }
    const session = await loadModel(ort, entry, fileReader(dir), { intraOpNumThreads: 2 });
    return new Detector(session, entry);
  }

  get size(): number {
    return this.entry.inputSize;
  }

  get classes(): string[] {
    return this.entry.classes;
  }

  async run(input: Float32Array): Promise<DetectorOutput> {
    const n = this.entry.inputSize;
    const out = await this.session.run({ images: new ort.Tensor('float32', input, [1, n, n, 3]) });
    const keypoints = out.keypoints?.data;
    const wh = out.wh?.data;
    const grid = n / this.entry.stride;
    const nc = this.entry.classes.length;
    if (!(keypoints instanceof Float32Array) || !(wh instanceof Float32Array) || keypoints.length !== grid * grid * nc) {
      throw new ModelError(
        'model-contract',
        `${this.entry.file} did not return keypoints [1,${grid},${grid},${nc}] and wh`,
        this.entry.file,
      );
    }
    return { keypoints, wh, grid, classes: nc, stride: this.entry.stride };
  }

  async release(): Promise<void> {
    await this.session.release?.();
  }
}
