import { ModelError } from './models/errors.js';
import { loadModel } from './models/load-model.js';
import { type CodecEntry, codecEntries, type Manifest } from './models/manifest.js';
import type { ModelReader, OrtRuntime, OrtSession } from './models/ort.js';

export const PATCH_VALUES = 192; // 8×8×3

export type CodecSide = 'encoder' | 'decoder';

/**
 * The learned patch codecs of one side, one ONNX session per level. The raw level (192 bytes) and
 * skip (0) need no model. Encoders run on the sender (onnxruntime-node); decoders run wherever
 * frames are shown (onnxruntime-node or -web): the runtime is injected.
 */
export class PatchCodecs {
  private constructor(
    private readonly ort: OrtRuntime,
    readonly side: CodecSide,
    private readonly sessions: Map<number, { entry: CodecEntry; session: OrtSession }>,
  ) {}

  static async create(ort: OrtRuntime, manifest: Manifest, read: ModelReader, side: CodecSide, options: Record<string, unknown> = {}) {
    const entries = codecEntries(manifest);
    if (entries.length === 0) throw new ModelError('manifest-invalid', 'models/manifest.json lists no patch codecs');
    const sessions = new Map<number, { entry: CodecEntry; session: OrtSession }>();
    for (const entry of entries) sessions.set(entry.bytes, { entry, session: await loadModel(ort, entry[side], read, options) });
    return new PatchCodecs(ort, side, sessions);
  }

  /** Learned levels, as bytes per patch, ascending. */
  get levels(): number[] {
    return [...this.sessions.keys()].sort((a, b) => a - b);
  }

  entry(bytes: number): CodecEntry {
    return this.level(bytes).entry;
  }

  /** `count` patches (uint8, 192 values each) → `count·bytes` code bytes, in one batch. */
  async encode(bytes: number, patches: Uint8Array): Promise<Uint8Array> {
    if (bytes === PATCH_VALUES) return patches.slice();
    const count = checkedCount(patches.length, PATCH_VALUES, 'patches');
    if (count === 0) return new Uint8Array(0);
    const { entry, session } = this.level(bytes, 'encoder');
    const input = new Float32Array(patches.length);
    for (let i = 0; i < patches.length; i++) input[i] = (patches[i] as number) / 255;
    const out = await this.run(
      session,
      entry.encoder.inputs[0]?.name as string,
      new this.ort.Tensor('float32', input, [count, PATCH_VALUES]),
    );
    if (!(out instanceof Uint8Array) || out.length !== count * bytes) {
      throw new ModelError(
        'model-contract',
        `${entry.encoder.file} returned ${describe(out)}, expected ${count * bytes} uint8`,
        entry.encoder.file,
      );
    }
    return out;
  }

  /** `count·bytes` code bytes → `count` patches of uint8 pixels (192 each), in one batch. */
  async decode(bytes: number, codes: Uint8Array): Promise<Uint8Array> {
    if (bytes === PATCH_VALUES) return codes.slice();
    const count = checkedCount(codes.length, bytes, 'codes');
    if (count === 0) return new Uint8Array(0);
    const { entry, session } = this.level(bytes, 'decoder');
    const out = await this.run(session, entry.decoder.inputs[0]?.name as string, new this.ort.Tensor('uint8', codes, [count, bytes]));
    if (!(out instanceof Float32Array) || out.length !== count * PATCH_VALUES) {
      throw new ModelError(
        'model-contract',
        `${entry.decoder.file} returned ${describe(out)}, expected ${count * PATCH_VALUES} float32`,
        entry.decoder.file,
      );
    }
    const pixels = new Uint8Array(out.length);
    for (let i = 0; i < out.length; i++) pixels[i] = Math.round((out[i] as number) * 255); // Uint8Array clamps
    return pixels;
  }

  async release(): Promise<void> {
    for (const { session } of this.sessions.values()) await session.release?.();
  }

  private level(bytes: number, want?: CodecSide) {
    if (want && want !== this.side) throw new Error(`these are ${this.side}s; cannot ${want === 'encoder' ? 'encode' : 'decode'}`);
    const s = this.sessions.get(bytes);
    if (!s) throw new RangeError(`no learned codec for ${bytes} bytes per patch (have ${this.levels.join(', ')} and raw ${PATCH_VALUES})`);
    return s;
  }

  private async run(session: OrtSession, inputName: string, tensor: InstanceType<OrtRuntime['Tensor']>) {
    const result = await session.run({ [inputName]: tensor });
    return result[session.outputNames[0] as string]?.data;
  }
}

function checkedCount(length: number, per: number, what: string): number {
  if (length % per !== 0) throw new RangeError(`${what}: ${length} bytes is not a whole number of ${per}-byte patches`);
  return length / per;
}

function describe(v: unknown): string {
  return v && typeof v === 'object' && 'length' in v ? `${v.constructor.name}(${(v as { length: number }).length})` : typeof v;
}
