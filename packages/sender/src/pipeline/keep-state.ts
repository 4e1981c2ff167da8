import { PATCH_VALUES } from '@mmsc/receiver';

/**
 * What one receiver holds of each patch, for temporal reuse: the source content the receiver's copy
 * was made from, and the level index it was sent at (−1: nothing usable). A patch whose source has
 * not changed beyond `threshold` (mean squared difference per value) can be sent as "keep".
 */
export class KeepState {
  private readonly ref: Uint8Array;
  readonly held: Int8Array;

  constructor(
    readonly patchCount: number,
    readonly threshold = 6,
  ) {
    this.ref = new Uint8Array(patchCount * PATCH_VALUES);
    this.held = new Int8Array(patchCount).fill(-1);
  }

  /** Level index the receiver holds for each patch whose content is unchanged, else −1. */
  keepable(patches: Uint8Array): Int8Array {
    const out = new Int8Array(this.patchCount).fill(-1);
    for (let p = 0; p < this.patchCount; p++) {
      const h = this.held[p] as number;
      if (h < 0) continue;
      const o = p * PATCH_VALUES;
      let d = 0;
      for (let k = 0; k < PATCH_VALUES; k++) {
        const x = (patches[o + k] as number) - (this.ref[o + k] as number);
        d += x * x;
      }
      if (d / PATCH_VALUES <= this.threshold) out[p] = h;
    }
    return out;
  }

  /** Records what a sent frame gave the receiver: patches sent at a level > 0 replace its copies. */
  commit(patches: Uint8Array, choice: Uint8Array, kept: Uint8Array): void {
    for (let p = 0; p < this.patchCount; p++) {
      if (kept[p] || choice[p] === 0) continue;
      this.held[p] = choice[p] as number;
      this.ref.set(patches.subarray(p * PATCH_VALUES, (p + 1) * PATCH_VALUES), p * PATCH_VALUES);
    }
  }

  /** Forget everything (the receiver lost data or reconnected): the next frames resend in full. */
  reset(): void {
    this.held.fill(-1);
  }
}
