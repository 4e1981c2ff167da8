/** Σ (a−b)² over two equally long uint8 arrays. */
export function sumSquaredError(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`cannot compare ${a.length} with ${b.length} values`);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    s += d * d;
  }
  return s;
}

/** PSNR in dB on the 0–255 scale; Infinity for identical signals. */
export function psnr(mse: number): number {
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Pixel AUROC of `scores` (values in [0,1]) against a binary mask: the probability that a random
 * mask pixel scores above a random non-mask pixel (ties count half). Scores are binned at 1/65535,
 * which is exact for maps computed on that grid and within 1e-4 otherwise. NaN if either class is empty.
 */
export function auroc(scores: Float32Array, mask: Uint8Array): number {
  if (scores.length !== mask.length) throw new RangeError(`scores (${scores.length}) and mask (${mask.length}) differ in size`);
  const bins = 65536;
  const pos = new Float64Array(bins);
  const neg = new Float64Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    const b = Math.min(bins - 1, Math.max(0, Math.round(s * (bins - 1))));
    if (mask[i]) pos[b] = (pos[b] as number) + 1;
    else neg[b] = (neg[b] as number) + 1;
  }
  let P = 0;
  let N = 0;
  let area = 0;
  for (let b = 0; b < bins; b++) {
    const p = pos[b] as number;
    const n = neg[b] as number;
    area += p * N + 0.5 * p * n; // N = negatives strictly below this bin
    P += p;
    N += n;
  }
  return P === 0 || N === 0 ? Number.NaN : area / (P * N);
}

/**
 * Share of the mask's pixels that lie in the top `fraction` of patches ranked by score (the
 * patches an allocator would serve first). Patches are `ps`×`ps`, row-major over a `width`-wide frame.
 */
export function topPatchCoverage(patchScores: Float32Array, mask: Uint8Array, width: number, fraction = 0.25, ps = 8): number {
  const cols = width / ps;
  const inMask = new Float64Array(patchScores.length);
  let total = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = i % width;
    const y = (i - x) / width;
    const p = ((y / ps) | 0) * cols + ((x / ps) | 0);
    inMask[p] = (inMask[p] as number) + 1;
    total++;
  }
  if (total === 0) return Number.NaN;
  const order = Array.from(patchScores.keys()).sort((a, b) => (patchScores[b] as number) - (patchScores[a] as number) || a - b);
  const k = Math.round(fraction * patchScores.length);
  let covered = 0;
  for (let j = 0; j < k; j++) covered += inMask[order[j] as number] as number;
  return covered / total;
}

/** Mean and 95 % confidence half-width (normal approximation) of the finite values. */
export function meanCi(xs: number[]): { mean: number; ci95: number; n: number } {
  const v = xs.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { mean: Number.NaN, ci95: Number.NaN, n };
  const mean = v.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, ci95: (1.96 * sd) / Math.sqrt(n), n };
}

/** MSE (0–255 scale, all channels) over the pixels where `mask` is set; NaN for an empty mask. */
export function maskedMse(a: Uint8Array, b: Uint8Array, mask: Uint8Array): number {
  if (a.length !== b.length || a.length !== mask.length * 3) throw new RangeError('images and mask sizes differ');
  let s = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    for (let c = 0; c < 3; c++) {
      const d = (a[i * 3 + c] as number) - (b[i * 3 + c] as number);
      s += d * d;
    }
    n += 3;
  }
  return n ? s / n : Number.NaN;
}

/** Mean absolute difference of two equally long maps. */
export function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError('maps differ in size');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}
