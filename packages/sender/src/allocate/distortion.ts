import { PATCH_VALUES } from '@mmsc/codec';

/**
 * Expected squared error per pixel value of a patch at each level, from its variance: a piecewise
 * linear curve through measured [variance, MSE] points (raw: 0). Skip is concealed at the receiver
 * (last copy or neighbours), so its error is taken as the patch's own variance plus a concealment
 * term. Points come from the codecs' measured curves (`mmsc codec-bench --json`, field `curve`).
 */
export interface DistortionCurve {
  bytes: number;
  /** [mean patch variance, mean patch MSE], ascending in variance. */
  points: [number, number][];
}

const SKIP_OFFSET = 150;

/** Measured on Kodak with the committed codecs (`mmsc codec-bench --images kodak --json`, field `curve`). */
export const DEFAULT_CURVES: readonly DistortionCurve[] = [
  {
    bytes: 12,
    points: [
      [13.5, 3.724],
      [60.5, 6.403],
      [172.1, 13.229],
      [355.9, 24.817],
      [715, 52.302],
      [1410.8, 97.645],
      [2828.1, 148.291],
      [5586.9, 275.604],
    ],
  },
  {
    bytes: 24,
    points: [
      [13.5, 1.606],
      [60.5, 2.495],
      [172.1, 4.709],
      [355.9, 8.537],
      [715, 18.565],
      [1410.8, 36.628],
      [2828.1, 60.941],
      [5586.9, 126.581],
    ],
  },
  {
    bytes: 48,
    points: [
      [13.5, 0.654],
      [60.5, 0.821],
      [172.1, 1.606],
      [355.9, 2.918],
      [715, 6.662],
      [1410.8, 15.258],
      [2828.1, 30.318],
      [5586.9, 74.214],
    ],
  },
];

/** Linear interpolation through the points; beyond them, the end segments' slopes continue. */
export function curveAt(points: readonly [number, number][], v: number): number {
  if (points.length === 0) return 0;
  if (points.length === 1) return (points[0] as [number, number])[1];
  let i = 1;
  while (i < points.length - 1 && v > (points[i] as [number, number])[0]) i++;
  const [x0, y0] = points[i - 1] as [number, number];
  const [x1, y1] = points[i] as [number, number];
  const y = x1 > x0 ? y0 + ((y1 - y0) * (v - x0)) / (x1 - x0) : y1;
  return Math.max((points[0] as [number, number])[1] * 0.5, y);
}

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
  const fns = levelBytes.map((bytes): ((v: number) => number) => {
    if (bytes === 0) return (v) => v + SKIP_OFFSET;
    if (bytes >= PATCH_VALUES) return () => 0;
    const c = curves.find((x) => x.bytes === bytes) ?? DEFAULT_CURVES.find((x) => x.bytes === bytes);
    return c ? (v) => curveAt(c.points, v) : (v) => (0.6 / bytes) * v + 2;
  });
  const out = new Float32Array(variances.length * L);
  for (let p = 0; p < variances.length; p++) {
    const v = variances[p] as number;
    for (let k = 0; k < L; k++) out[p * L + k] = (fns[k] as (v: number) => number)(v);
  }
  return out;
}
