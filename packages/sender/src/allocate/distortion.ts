import { PATCH_VALUES } from '@mmsc/receiver';

/**
 * Expected squared error per pixel value of a patch at each level, from its variance:
 * D(ℓ) = a_ℓ · var + b_ℓ (raw: 0). Skip is concealed at the receiver (last copy or neighbours), so its
 * error is taken as the patch's own variance plus a concealment term. Coefficients come from the
 * codecs' measured curves (`mmsc codec-bench --json`, field `curve`).
 */
export interface DistortionCurve {
  bytes: number;
  a: number;
  b: number;
}

export const SKIP_CURVE: DistortionCurve = { bytes: 0, a: 1, b: 150 };

/** Measured on Kodak with the committed codecs (`mmsc codec-bench --json`, field `curve`). */
export const DEFAULT_CURVES: readonly DistortionCurve[] = [
  { bytes: 12, a: 0.05032, b: 9.149 },
  { bytes: 24, a: 0.02216, b: 1.538 },
  { bytes: 48, a: 0.01231, b: -1.225 },
];

/** Per-patch variance over all 192 values. */
export function patchVariances(patches: Uint8Array): Float32Array {
  const n = patches.length / PATCH_VALUES;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    let s = 0;
    let s2 = 0;
    const o = p * PATCH_VALUES;
    for (let k = 0; k < PATCH_VALUES; k++) {
      const v = patches[o + k] as number;
      s += v;
      s2 += v * v;
    }
    const m = s / PATCH_VALUES;
    out[p] = s2 / PATCH_VALUES - m * m;
  }
  return out;
}

/** Table D[p·L + k] for levels sorted by bytes (index 0 = skip). Unknown byte sizes fall back to a 1/bytes guess. */
export function distortionTable(variances: Float32Array, levelBytes: readonly number[], curves: readonly DistortionCurve[]): Float32Array {
  const L = levelBytes.length;
  const coef = levelBytes.map((bytes) => {
    if (bytes === 0) return SKIP_CURVE;
    if (bytes >= PATCH_VALUES) return { bytes, a: 0, b: 0 };
    return curves.find((c) => c.bytes === bytes) ?? DEFAULT_CURVES.find((c) => c.bytes === bytes) ?? { bytes, a: 0.6 / bytes, b: 2 };
  });
  const out = new Float32Array(variances.length * L);
  for (let p = 0; p < variances.length; p++) {
    const v = variances[p] as number;
    for (let k = 0; k < L; k++) {
      const c = coef[k] as DistortionCurve;
      out[p * L + k] = Math.max(0, c.a * v + c.b);
    }
  }
  return out;
}
