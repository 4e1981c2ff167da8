/**
 * Which decoded pictures are shown. A fresh picture is shown at once. A stale one (it sat in a
 * network queue: its one-way delay lies more than `staleMs` above the floor, RtpVideo) is decoded
 * like any other, keeping the decoder's references, but shown only if nothing fresher follows
 * within `holdMs` of the first stale picture held:
 * - after an outage the queue drains in a burst and fresh pictures follow within a round trip, so
 *   none of the drained ones is shown and the first picture after the outage is fresh;
 * - on a link that stays slow behind a long queue (a near-dead cellular link) nothing fresh comes,
 *   and the newest stale picture is shown every `holdMs`, instead of nothing at all.
 */

/** How long a stale picture waits for a fresher one before it is shown all the same, ms. */
export const STALE_HOLD_MS = 1000;

export interface StaleHoldTimers {
  set(f: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: StaleHoldTimers = {
  set: (f, ms) => setTimeout(f, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class StaleHold<P> {
  /** Stale pictures decoded and never shown: a newer one replaced them. */
  superseded = 0;
  private held: P | null = null;
  private timer: unknown = null;

  constructor(
    private readonly show: (p: P) => void,
    private readonly holdMs = STALE_HOLD_MS,
    private readonly timers: StaleHoldTimers = REAL_TIMERS,
  ) {}

  /** A decoded picture, in decode order: shown now (fresh), or held (stale). */
  offer(p: P, stale: boolean): void {
    if (!stale) {
      if (this.held !== null) this.superseded++;
      this.clear();
      this.show(p);
      return;
    }
    if (this.held !== null) this.superseded++;
    this.held = p;
    // The deadline counts from the first picture held, so a steady trickle of stale pictures still shows one per holdMs.
    this.timer ??= this.timers.set(() => {
      this.timer = null;
      const h = this.held;
      this.held = null;
      if (h !== null) this.show(h);
    }, this.holdMs);
  }

  /** Forgets a held picture without showing it (the session ended). */
  clear(): void {
    this.held = null;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
  }
}
