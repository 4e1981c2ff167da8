import { DEFAULT_CONTEXT, type ProtocolContext } from '../context.js';
import { seededRandom } from '../random.js';

/**
 * Synthetic but realistic frame level maps for framing measurements, independent of the sender:
 * a relevance field of a few soft objects, levels assigned top-down by relevance so the payload
 * fits `rate × raw frame bytes` (the paper's channel rate). `jitter` moves each patch's level by
 * up to ±1 at random, imitating a rate–distortion allocator that also weighs patch texture.
 */
export function levelMix(rate: number, seed: number, jitter = 0, ctx: ProtocolContext = DEFAULT_CONTEXT) {
  const rnd = seededRandom(seed);
  const cols = ctx.width / ctx.patchSize;
  const rows = ctx.height / ctx.patchSize;
  const blobs = Array.from({ length: 2 + Math.floor(rnd() * 3) }, () => ({
    x: rnd() * cols,
    y: rnd() * rows,
    r: 3 + rnd() * 10,
    w: 0.5 + rnd() * 0.5,
  }));
  const relevance = new Float64Array(ctx.patchCount);
  for (let i = 0; i < ctx.patchCount; i++) {
    const x = i % cols;
    const y = Math.floor(i / cols);
    let s = 0.05 * rnd();
    for (const b of blobs) s = Math.max(s, b.w * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.r * b.r)));
    relevance[i] = s;
  }
  // Non-skip levels by payload size, cheapest first.
  const table = ctx.levelBytes
    .map((bytes, id) => ({ id, bytes: bytes ?? -1 }))
    .filter((l) => l.bytes >= 0 && l.id < 7)
    .sort((a, b) => a.bytes - b.bytes);
  const rawBytes = (table[table.length - 1] as { bytes: number }).bytes;
  const budget = rate * ctx.patchCount * rawBytes;
  const jitters = Float64Array.from({ length: ctx.patchCount }, () => (jitter ? Math.round((rnd() * 2 - 1) * jitter) : 0));
  const assign = (gain: number) => {
    const levels = new Uint8Array(ctx.patchCount);
    let payloadBytes = 0;
    for (let i = 0; i < ctx.patchCount; i++) {
      const t = Math.min(table.length - 1, Math.floor((relevance[i] as number) * gain * table.length));
      const k = t <= 0 ? 0 : Math.max(0, Math.min(table.length - 1, t + (jitters[i] as number)));
      const l = table[k] as { id: number; bytes: number };
      levels[i] = l.id;
      payloadBytes += l.bytes;
    }
    return { levels, payloadBytes };
  };
  // Largest gain whose payload fits the budget.
  let lo = 0;
  let hi = 1e4;
  for (let k = 0; k < 50; k++) {
    const mid = (lo + hi) / 2;
    if (assign(mid).payloadBytes <= budget) lo = mid;
    else hi = mid;
  }
  return assign(lo);
}
