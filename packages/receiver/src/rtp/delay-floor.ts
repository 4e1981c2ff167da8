/**
 * How late a picture is against the link's best: the lowest one-way delay (arrival of its last
 * packet − its capture time, both ms) over the last `windowMs` of arrivals. The two clocks differ
 * by an unknown constant, which the floor carries too, so `excess` is the picture's queueing and
 * repair delay alone. Pure, time passed in; bounded memory.
 *
 * The window counts arrival time while pictures arrive: a gap between two arrivals counts at most
 * `maxGapMs`, so an outage does not age the floor away, and the first pictures after it (those a
 * network queue held for seconds) are measured against the delay from before it. The window lets
 * a floor that no longer holds (a clock stepped, a longer route) go within `windowMs`.
 */

export interface DelayFloorOptions {
  /** How long the lowest delay is remembered (default 10 s of arrivals). */
  windowMs?: number;
  /** The most a gap between two arrivals ages the window (default 500 ms). */
  maxGapMs?: number;
  /** The most delays kept (default 2048: beyond, the oldest go first). */
  maxSamples?: number;
}

export const DEFAULT_DELAY_WINDOW_MS = 10_000;

export class DelayFloor {
  private readonly windowMs: number;
  private readonly maxGapMs: number;
  private readonly maxSamples: number;
  /** Arrival time with each gap clipped to maxGapMs. */
  private clock = 0;
  private lastArrival: number | null = null;
  /** Candidates for the floor: oldest first, delays rising (each is the lowest since it came). */
  private readonly samples: { t: number; delay: number }[] = [];

  constructor(o: DelayFloorOptions = {}) {
    this.windowMs = o.windowMs ?? DEFAULT_DELAY_WINDOW_MS;
    this.maxGapMs = o.maxGapMs ?? 500;
    this.maxSamples = o.maxSamples ?? 2048;
  }

  /**
   * Takes a picture's one-way delay into the window and says how far it lies above the floor
   * (itself included: the first picture, or a new lowest one, lies 0 above it).
   */
  excess(receiveTs: number, captureTs: number): number {
    const delay = receiveTs - captureTs;
    if (this.lastArrival !== null) this.clock += Math.min(this.maxGapMs, Math.max(0, receiveTs - this.lastArrival));
    this.lastArrival = this.lastArrival === null ? receiveTs : Math.max(this.lastArrival, receiveTs);
    const s = this.samples;
    while (s.length > 0 && (s[s.length - 1] as { delay: number }).delay >= delay) s.pop();
    s.push({ t: this.clock, delay });
    while ((s[0] as { t: number }).t < this.clock - this.windowMs || s.length > this.maxSamples) s.shift();
    return delay - (s[0] as { delay: number }).delay;
  }

  /** The lowest delay in the window, or null before any picture. */
  get floor(): number | null {
    return this.samples[0]?.delay ?? null;
  }
}
