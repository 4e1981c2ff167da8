import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** The sampling timer's interval, ms (subtracted: what is reported is the lateness beyond it). */
const RESOLUTION_MS = 5;

export interface LoopDelay {
  /** How late the loop ran a due timer (percentiles over the window, milliseconds). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The window they cover, seconds (the last complete one, or the current one before the first ends). */
  windowS: number;
}

/**
 * The main thread's event-loop delay, in windows of `windowS`: how late timers fire here is how late
 * werift's SCTP timers and the signalling sockets are served (the models run in a worker so it stays small).
 */
export class EventLoopMonitor {
  private readonly h: IntervalHistogram;
  private last: LoopDelay | null = null;
  private windowStart = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(windowS = 10) {
    this.h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.h.enable();
    this.timer = setInterval(() => this.roll(), windowS * 1000);
    this.timer.unref();
  }

  snapshot(): LoopDelay {
    return this.last ?? this.current();
  }

  close(): void {
    clearInterval(this.timer);
    this.h.disable();
  }

  private current(): LoopDelay {
    // The histogram holds the time between its timer's runs, which includes the timer's own interval.
    const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
    const n = this.h.count > 0;
    return {
      p50Ms: n ? ms(this.h.percentile(50)) : 0,
      p99Ms: n ? ms(this.h.percentile(99)) : 0,
      maxMs: n ? ms(this.h.max) : 0,
      windowS: Math.round((performance.now() - this.windowStart) / 100) / 10,
    };
  }

  private roll(): void {
    this.last = this.current();
    this.h.reset();
    this.windowStart = performance.now();
  }
}
