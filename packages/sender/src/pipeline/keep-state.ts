import { PATCH_VALUES } from '@mmsc/codec';

/**
 * What one receiver holds of each patch, for temporal reuse: the source content the receiver's copy
 * was made from, and the level index it was sent at (−1: nothing usable). A patch whose source has
 * not changed beyond `threshold` (mean squared difference per value) can be sent as "keep".
 */
/**
 * Copies of closed sessions, handed to new ones: each is ~0.5 MB that lives as long as a session,
 * so without reuse every short session left one for the next full garbage collection (the abuse
 * run's churn grew RSS by tens of MB before the collector caught up).
 */
const POOL: Uint8Array[] = [];
const POOL_MAX = 16;

export class KeepState {
  private readonly ref: Uint8Array;
  readonly held: Int8Array;
  private released = false;

  constructor(
    readonly patchCount: number,
    readonly threshold = 6,
  ) {
    const size = patchCount * PATCH_VALUES;
    const i = POOL.findIndex((b) => b.length === size);
    // A pooled copy's old contents never count: `held` says nothing is held.
    this.ref = i >= 0 ? (POOL.splice(i, 1)[0] as Uint8Array) : new Uint8Array(size);
    this.held = new Int8Array(patchCount).fill(-1);
  }

  /** The session is over: its copies go back to the pool; this state holds nothing from now on. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.held.fill(-1);
    if (POOL.length < POOL_MAX) POOL.push(this.ref);
  }

  /** Level index the receiver holds for each patch whose content is unchanged, else −1. */
  keepable(patches: Uint8Array): Int8Array {
    const out = new Int8Array(this.patchCount).fill(-1);
    if (this.released) return out;
    for (let p = 0; p < this.patchCount; p++) {
      const h = this.held[p] as number;
      if (h < 0) continue;
      const o = p * PATCH_VALUES;
      // The sum only grows: stop at the first row (8 pixels × 3) past the limit, since on a moving
      // source most patches changed (this runs per receiver per frame).
      const limit = this.threshold * PATCH_VALUES;
      let d = 0;
      for (let k = 0; k < PATCH_VALUES && d <= limit; k += 24) {
        for (let j = k; j < k + 24; j++) {
          const x = (patches[o + j] as number) - (this.ref[o + j] as number);
          d += x * x;
        }
      }
      if (d <= limit) out[p] = h;
    }
    return out;
  }

  /**
   * Records what a sent frame gave the receiver: patches sent at a level > 0 replace its copies;
   * with a base layer, a skipped patch shows the base, so its copy is gone.
   */
  commit(patches: Uint8Array, choice: Uint8Array, kept: Uint8Array, base = false): void {
    if (this.released) return;
    for (let p = 0; p < this.patchCount; p++) {
      if (kept[p]) continue;
      if (choice[p] === 0) {
        if (base) this.held[p] = -1;
        continue;
      }
      this.held[p] = choice[p] as number;
      this.ref.set(patches.subarray(p * PATCH_VALUES, (p + 1) * PATCH_VALUES), p * PATCH_VALUES);
    }
  }
}
