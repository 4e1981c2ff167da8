/**
 * Paces a video track's packets (pure: time comes in as an argument, ms). A picture handed to the
 * track as one burst would sit whole in the bottleneck's queue; a NACK's repair, which werift sends
 * at once and so outside the pacer, would then wait behind all of it, and behind the next picture
 * when the loss was near a picture's end. Paced at a multiple of the bottleneck's rate, the queue
 * there stays short and a repair passes ahead of what still waits here.
 *
 * A token bucket: tokens (bytes) accrue at the rate, up to `burstBytes` (at least two full packets, or
 * BURST_S at the rate); a packet goes when the tokens are positive, and takes its size from them. At
 * an infinite rate (the default, and before the bottleneck is measured) everything goes at once.
 */

/** The burst the bucket allows, in seconds at the pacing rate. */
export const BURST_S = 0.005;
/** The least burst, bytes: two packets of a 1,280-byte path. */
const MIN_BURST_BYTES = 2 * 1280;

export class Pacer<T> {
  private readonly queue: { item: T; bytes: number }[] = [];
  private bps = Number.POSITIVE_INFINITY;
  private tokens = 0;
  private at: number | null = null;

  /** Packets waiting. */
  get length(): number {
    return this.queue.length;
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.queue.reduce((s, q) => s + q.bytes, 0);
  }

  /** The pacing rate (bits/s; not finite or ≤ 0: no pacing). */
  setRate(bps: number, now: number): void {
    this.refill(now);
    const unpaced = this.bps === Number.POSITIVE_INFINITY;
    this.bps = Number.isFinite(bps) && bps > 0 ? bps : Number.POSITIVE_INFINITY;
    // From no pacing the bucket starts full; otherwise it keeps what it holds, up to the new burst.
    this.tokens = unpaced ? this.burst() : Math.min(this.tokens, this.burst());
  }

  get rate(): number {
    return this.bps;
  }

  push(item: T, bytes: number): void {
    this.queue.push({ item, bytes: Math.max(0, bytes) });
  }

  /** The items that may go now, in order. */
  due(now: number): T[] {
    this.refill(now);
    const out: T[] = [];
    while (this.queue.length > 0 && (this.bps === Number.POSITIVE_INFINITY || this.tokens > 0)) {
      const q = this.queue.shift() as { item: T; bytes: number };
      if (this.bps !== Number.POSITIVE_INFINITY) this.tokens -= q.bytes;
      out.push(q.item);
    }
    return out;
  }

  /** When the next item may go (ms), or null when nothing waits. */
  nextAt(now: number): number | null {
    if (this.queue.length === 0) return null;
    this.refill(now);
    if (this.bps === Number.POSITIVE_INFINITY || this.tokens > 0) return now;
    return now + ((-this.tokens + 1) * 8 * 1000) / this.bps;
  }

  /** Drops everything waiting. */
  clear(): void {
    this.queue.length = 0;
  }

  private burst(): number {
    return this.bps === Number.POSITIVE_INFINITY ? 0 : Math.max(MIN_BURST_BYTES, (this.bps / 8) * BURST_S);
  }

  private refill(now: number): void {
    if (this.at !== null && now > this.at && this.bps !== Number.POSITIVE_INFINITY)
      this.tokens = Math.min(this.burst(), this.tokens + ((now - this.at) * this.bps) / 8000);
    if (this.at === null || now > this.at) this.at = now;
  }
}
