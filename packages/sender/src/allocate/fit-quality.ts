/**
 * The highest quality knob `q` in [lo, hi] whose coding fits `budget` (sizes grow with q), by binary
 * search, or null when not even `lo` fits. Shared by the h264 engine's stills coder and the stills
 * evaluation's peers, so every method searches its knob the same way. Pure.
 */
export async function fitQuality<T>(
  lo: number,
  hi: number,
  budget: number,
  encode: (q: number) => Promise<T>,
  size: (coded: T) => number,
): Promise<{ q: number; coded: T } | null> {
  let best: { q: number; coded: T } | null = null;
  while (lo <= hi) {
    const q = (lo + hi) >> 1;
    const coded = await encode(q);
    if (size(coded) <= budget) {
      best = { q, coded };
      lo = q + 1;
    } else hi = q - 1;
  }
  return best;
}
