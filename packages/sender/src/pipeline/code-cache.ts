import { PATCH_VALUES } from '@mmsc/codec';

/** What makes patch codes: the learned encoders in this thread (`PatchCodecs`) or in the pipeline's worker. */
export interface PatchEncoder {
  /** `count` patches (uint8, 192 values each) → `count·bytes` code bytes, in one batch. */
  encode(bytes: number, patches: Uint8Array): Promise<Uint8Array>;
}

/**
 * The codes of one frame's patches at each level, made on first use and shared by every
 * receiver's encoder and every re-plan: a patch's code at a level depends on the patch, not on who
 * receives it. A second receiver (or a re-plan) runs the ONNX encoders only on patches no earlier
 * allocation put at that level.
 */
export class PatchCodeCache {
  private readonly levels = new Map<number, { codes: Uint8Array; have: Uint8Array }>();
  private readonly chains = new Map<number, Promise<unknown>>();
  /** Patches run through an encoder so far (for tests and stats). */
  encoded = 0;

  constructor(
    readonly patches: Uint8Array,
    private readonly codecs: PatchEncoder,
    /**
     * Codes of this frame's patches by index, where whoever encodes already holds the frame (the
     * model worker): only the indices cross the thread boundary, not a copy of the patches.
     */
    private readonly byIndex?: (bytes: number, idx: Uint32Array) => Promise<Uint8Array>,
  ) {}

  /** Makes sure the codes of patches `idx` at `bytes` per patch exist (encoding the missing ones in one batch). */
  ensure(bytes: number, idx: readonly number[]): Promise<void> {
    // One at a time per level: two receivers asking for the same patches encode them once. Levels
    // are independent, so a frame's levels can be asked for at once (the worker gets them back to back).
    const run = (this.chains.get(bytes) ?? Promise.resolve()).then(() => this.fill(bytes, idx));
    this.chains.set(
      bytes,
      run.catch(() => undefined),
    );
    return run;
  }

  /** The code of patch `p` at `bytes` per patch (after `ensure`). */
  code(bytes: number, p: number): Uint8Array {
    const level = this.levels.get(bytes);
    if (!level?.have[p]) throw new Error(`patch ${p} has no ${bytes}-byte code yet`);
    return level.codes.subarray(p * bytes, (p + 1) * bytes);
  }

  private async fill(bytes: number, idx: readonly number[]): Promise<void> {
    const n = this.patches.length / PATCH_VALUES;
    let level = this.levels.get(bytes);
    if (!level) {
      level = { codes: new Uint8Array(n * bytes), have: new Uint8Array(n) };
      this.levels.set(bytes, level);
    }
    const missing = idx.filter((p) => !level.have[p]);
    if (missing.length === 0) return;
    const codes = this.byIndex
      ? await this.byIndex(bytes, Uint32Array.from(missing))
      : await this.codecs.encode(bytes, gatherPatches(this.patches, missing));
    missing.forEach((p, i) => {
      level.codes.set(codes.subarray(i * bytes, (i + 1) * bytes), p * bytes);
      level.have[p] = 1;
    });
    this.encoded += missing.length;
  }
}

/** Patches `idx` of a frame's patches, one after another (an encoder batch). */
export function gatherPatches(patches: Uint8Array, idx: ArrayLike<number>): Uint8Array {
  const batch = new Uint8Array(idx.length * PATCH_VALUES);
  for (let i = 0; i < idx.length; i++) {
    const p = idx[i] as number;
    batch.set(patches.subarray(p * PATCH_VALUES, (p + 1) * PATCH_VALUES), i * PATCH_VALUES);
  }
  return batch;
}
