/**
 * Level allocation: choose one level per patch so that Σ bytes ≤ budget. Pure functions.
 * `levels` are the session's levels sorted by bytes ascending; level index 0 must cost 0 bytes (skip).
 */
export interface LevelCost {
  id: number;
  bytes: number;
}

export interface Allocation {
  /** Index into `levels` for every patch. */
  choice: Uint8Array;
  /** Σ bytes of the chosen levels. */
  bytes: number;
}

function check(levels: readonly LevelCost[], budget: number) {
  if (levels.length === 0 || levels[0]?.bytes !== 0) throw new RangeError('the first level must be the 0-byte skip level');
  for (let k = 1; k < levels.length; k++) {
    if ((levels[k] as LevelCost).bytes <= (levels[k - 1] as LevelCost).bytes)
      throw new RangeError('levels must be sorted by strictly increasing bytes');
  }
  if (!(budget >= 0)) throw new RangeError(`budget must be ≥ 0, got ${budget}`);
}

/**
 * The paper's allocator (a reconstruction of its Algorithm 1, whose text we do not have): patches
 * ranked by relevance get levels top-down — each patch's level is its score quantised over the
 * levels with one common gain, the largest gain whose total fits the budget — then the bytes left
 * by quantisation go to the next-ranked patches one level step at a time. Levels never decrease
 * with rank, so more relevant patches are never worse served.
 */
export function allocatePaper(scores: Float32Array, levels: readonly LevelCost[], budget: number): Allocation {
  check(levels, budget);
  const n = scores.length;
  const L = levels.length;
  const order = rank(scores);
  const cost = (gain: number, out?: Uint8Array) => {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const s = Math.max(0, scores[i] as number);
      const k = Math.min(L - 1, Math.floor(s * gain * L));
      if (out) out[i] = k;
      total += (levels[k] as LevelCost).bytes;
    }
    return total;
  };
  let lo = 0;
  let hi = 1;
  while (cost(hi) <= budget && hi < 1e9) hi *= 2;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (cost(mid) <= budget) lo = mid;
    else hi = mid;
  }
  const choice = new Uint8Array(n);
  let bytes = lo > 0 ? cost(lo, choice) : 0;
  // Spend what is left: upgrade by one step in rank order, keeping levels monotone in rank.
  let progress = true;
  while (progress) {
    progress = false;
    for (let r = 0; r < n; r++) {
      const i = order[r] as number;
      const k = choice[i] as number;
      if (k === L - 1) continue;
      if (r > 0 && (choice[order[r - 1] as number] as number) <= k) continue; // would overtake a better-ranked patch
      const step = (levels[k + 1] as LevelCost).bytes - (levels[k] as LevelCost).bytes;
      if (bytes + step > budget) continue;
      choice[i] = k + 1;
      bytes += step;
      progress = true;
    }
  }
  return { choice, bytes };
}

/**
 * Rate–distortion allocator (ours): minimise Σ wᵢ·Dᵢ(ℓᵢ) subject to Σ rᵢ ≤ budget. `distortion` holds
 * Dᵢ(ℓ) for patch i at level index ℓ (row-major P×L). Lagrangian / convex-hull greedy: each patch's
 * (rate, weighted distortion) points are reduced to their lower convex hull, and hull steps of all
 * patches are taken in order of distortion saved per byte while they fit. Never exceeds the budget;
 * optimal whenever the budget falls on a hull step boundary, within one step otherwise.
 */
export function allocateRd(weights: Float32Array, distortion: Float32Array, levels: readonly LevelCost[], budget: number): Allocation {
  check(levels, budget);
  const n = weights.length;
  const L = levels.length;
  if (distortion.length !== n * L) throw new RangeError(`distortion must hold ${n}×${L} values`);
  // Hull steps: (patch, to level, bytes, gain). Steps of a patch have decreasing slope. Typed arrays
  // and no closures: this runs per receiver per frame on the sender's main thread.
  const maxSteps = n * (L - 1);
  const stepPatch = new Uint32Array(maxSteps);
  const stepTo = new Uint8Array(maxSteps);
  const stepBytes = new Float64Array(maxSteps);
  const stepSlope = new Float64Array(maxSteps);
  const bytesOf = Float64Array.from(levels, (l) => l.bytes);
  const dist = new Float64Array(L);
  const hull = new Int32Array(L);
  let steps = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number;
    for (let k = 0; k < L; k++) dist[k] = w * (distortion[i * L + k] as number);
    let top = 0;
    hull[0] = 0;
    for (let k = 1; k < L; k++) {
      if ((dist[k] as number) >= (dist[hull[top] as number] as number)) continue; // costs more, saves nothing
      // Pop points that lie on or above the segment to k (keeps slopes decreasing).
      while (top >= 1) {
        const a = hull[top - 1] as number;
        const b = hull[top] as number;
        const sab = ((dist[a] as number) - (dist[b] as number)) / ((bytesOf[b] as number) - (bytesOf[a] as number));
        const sbk = ((dist[b] as number) - (dist[k] as number)) / ((bytesOf[k] as number) - (bytesOf[b] as number));
        if (sbk >= sab) top--;
        else break;
      }
      hull[++top] = k;
    }
    for (let h = 1; h <= top; h++) {
      const a = hull[h - 1] as number;
      const b = hull[h] as number;
      const bytes = (bytesOf[b] as number) - (bytesOf[a] as number);
      stepPatch[steps] = i;
      stepTo[steps] = b;
      stepBytes[steps] = bytes;
      stepSlope[steps] = ((dist[a] as number) - (dist[b] as number)) / bytes;
      steps++;
    }
  }
  const order = bySlope(stepSlope, steps);
  const choice = new Uint8Array(n);
  const blocked = new Uint8Array(n);
  let bytes = 0;
  for (let r = 0; r < steps; r++) {
    const s = order[r * ORDER_STRIDE] as number;
    const i = stepPatch[s] as number;
    if (blocked[i]) continue;
    const b = stepBytes[s] as number;
    // Steps of one patch come out in hull order because their slopes decrease.
    if (bytes + b > budget) {
      blocked[i] = 1; // its later steps would need this one first
      continue;
    }
    choice[i] = stepTo[s] as number;
    bytes += b;
  }
  return { choice, bytes };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Step indices sit at every ORDER_STRIDE-th element of what `bySlope` returns. */
export const ORDER_STRIDE = LITTLE_ENDIAN ? 2 : 1;
const f32 = new Float32Array(1);
const f32bits = new Uint32Array(f32.buffer);

/**
 * The first `steps` step indices by slope, steepest first, ties by index, at every ORDER_STRIDE-th
 * element of the result. A comparator sort calls
 * back into JS ~n·log n times (3 ms for a frame's 9,600 steps, the largest part of an allocation);
 * instead each step becomes one 64-bit key — the slope's float32 bits (order-preserving for
 * slopes ≥ 0), inverted so steeper sorts first, above the index — sorted natively, and the indices
 * are read back through a 32-bit view. Slopes equal in float32 (within 6·10⁻⁸ of each other) count
 * as ties. Little-endian hosts only (every one Node runs on here); elsewhere the comparator sort.
 */
export function bySlope(slope: Float64Array, steps: number): Uint32Array {
  if (!LITTLE_ENDIAN) {
    const order = new Uint32Array(steps);
    for (let s = 0; s < steps; s++) order[s] = s;
    return order.sort((a, b) => (slope[b] as number) - (slope[a] as number) || a - b);
  }
  const keys = new BigUint64Array(steps);
  const words = new Uint32Array(keys.buffer);
  for (let s = 0; s < steps; s++) {
    f32[0] = Math.max(0, slope[s] as number) || 0; // NaN → 0: a step worth nothing sorts last
    words[2 * s] = s;
    words[2 * s + 1] = ~(f32bits[0] as number);
  }
  keys.sort();
  return words;
}

/** Patch indices by score, best first; ties by index (deterministic). */
export function rank(scores: Float32Array): Uint32Array {
  return Uint32Array.from(scores.keys()).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
}
