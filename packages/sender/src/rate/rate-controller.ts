/**
 * Application rate control for one receiver (RATE_CONTROL.md). Pure: time and measurements come in
 * as arguments, so it runs the same on a live data channel and on a simulated trace.
 *
 * Signals:
 * - feedback: the receiver reports each frame's bytes and the receive time of its last part; goodput
 *   is bytes delivered over receive-clock time in a sliding window (the link's real delivery rate
 *   whenever the sender keeps it busy);
 * - backlog: bytes sent but not yet reported received (in werift's queue, in flight, in the network);
 * - srtt from SCTP, whose rise above its minimum shows queueing in the network.
 * Control: budget B = rate × frame interval × (1 − margin); no new frame while the backlog exceeds
 * `maxDelayS` at the estimated rate (a frame that would arrive late is not sent); probe upwards
 * multiplicatively while the link keeps up; when it does not, follow measured goodput.
 */
export interface RateOptions {
  fps: number;
  initialBps: number;
  minBps: number;
  maxBps: number;
  /** Share of the rate kept free of frames, for feedback and estimation error. */
  margin: number;
  /** Target bound on queued data: at most this many seconds at the estimated rate. */
  maxDelayS: number;
  /** Sliding window for goodput, seconds of receive time. */
  windowS: number;
  /** Multiplicative increase per update while probing. */
  probeGain: number;
  /** Queueing delay (srtt above its minimum) that counts as congestion, seconds. */
  srttRiseS: number;
}

export const DEFAULT_RATE: RateOptions = {
  fps: 10,
  initialBps: 2_000_000,
  minBps: 100_000,
  maxBps: 200_000_000,
  margin: 0.1,
  maxDelayS: 0.15,
  windowS: 0.5,
  probeGain: 1.15,
  srttRiseS: 0.06,
};

interface Sent {
  frameId: number;
  bytes: number;
  budget: number;
  sentAt: number;
  /** Bytes still unacknowledged ahead of this frame when it was sent. */
  behind: number;
}

export interface RateState {
  /** Estimated deliverable rate, bits per second. */
  rateBps: number;
  /** Goodput measured from feedback over the window, bits per second (NaN until measured). */
  goodputBps: number;
  backlogBytes: number;
  srttS: number | null;
  mode: 'start' | 'probe' | 'hold' | 'backoff' | 'timeout';
  framesSkipped: number;
}

/** Frames whose feedback is this late are taken as lost (seconds). */
const FEEDBACK_TIMEOUT_S = 2;
/** A window whose frames used less than this share of their budgets says nothing about capacity. */
const FILLED = 0.7;

export class RateController {
  private rate: number; // bits/s
  private goodput = Number.NaN;
  private readonly sent: Sent[] = [];
  private readonly delivered: { bytes: number; budget: number; at: number; queued: boolean }[] = [];
  private srtt: number | null = null;
  private minSrtt = Number.POSITIVE_INFINITY;
  private mode: RateState['mode'] = 'start';
  private skipped = 0;

  constructor(readonly opts: RateOptions = DEFAULT_RATE) {
    this.rate = opts.initialBps;
  }

  /** Bytes sent but not yet reported received. */
  get backlog(): number {
    return this.sent.reduce((s, f) => s + f.bytes, 0);
  }

  /** Wire-byte budget for the next frame. */
  budget(): number {
    return Math.floor(((this.rate / 8) * (1 - this.opts.margin)) / this.opts.fps);
  }

  /**
   * Whether a frame may be sent now (`now` in seconds, sender clock): false while the backlog would
   * make it arrive late. Frames without feedback for 2 s are written off as lost (and the rate halved),
   * so a silent receiver cannot stall the sender.
   */
  canSend(now: number): boolean {
    const stale = this.sent.findIndex((f) => now - f.sentAt <= FEEDBACK_TIMEOUT_S);
    const expired = stale < 0 ? this.sent.length : stale;
    if (expired > 0) {
      this.sent.splice(0, expired);
      this.rate = Math.max(this.opts.minBps, this.rate / 2);
      this.mode = 'timeout';
    }
    const limit = (this.rate / 8) * this.opts.maxDelayS;
    if (this.backlog <= limit) return true;
    this.skipped++;
    return false;
  }

  onSent(frameId: number, bytes: number, now: number, budget = bytes): void {
    this.sent.push({ frameId, bytes, budget, sentAt: now, behind: this.backlog });
  }

  onSrtt(srttS: number): void {
    if (!(srttS > 0)) return;
    this.srtt = srttS;
    this.minSrtt = Math.min(this.minSrtt, srttS);
  }

  /**
   * The receiver got `bytes` of `frameId`, its last part at `receiveTs` (receiver clock, ms). Frames
   * sent before it and never reported are taken as lost and leave the backlog.
   */
  onFeedback(frameId: number, bytes: number, receiveTs: number, now: number): void {
    const idx = this.sent.findIndex((f) => f.frameId === frameId);
    if (idx < 0) return;
    const [f] = this.sent.splice(0, idx + 1).slice(-1) as [Sent];
    this.delivered.push({ bytes, budget: f.budget, at: receiveTs / 1000, queued: f.behind > 0 });
    const horizon = receiveTs / 1000 - this.opts.windowS;
    while (this.delivered.length > 2 && (this.delivered[0] as { at: number }).at < horizon) this.delivered.shift();
    this.update(f, now);
  }

  private update(f: Sent, now: number): void {
    const o = this.opts;
    const d = this.delivered;
    // Goodput speaks for the link only when the frames filled their budgets (the sender offered
    // about the rate); a still scene sent as "keep" patches says nothing about capacity.
    const offered = d.reduce((s, x) => s + x.budget, 0);
    const filled = offered > 0 && d.reduce((s, x) => s + x.bytes, 0) >= FILLED * offered;
    let valid = false;
    if (d.length >= 3) {
      const span = (d[d.length - 1] as { at: number }).at - (d[0] as { at: number }).at;
      // Bytes after the first sample arrived within `span`.
      const bytes = d.slice(1).reduce((s, x) => s + x.bytes, 0);
      if (span > 0.15) {
        this.goodput = (bytes * 8) / span;
        valid = filled;
      }
    }
    const frameDelay = now - f.sentAt; // sender clock: send → feedback back
    const interval = 1 / o.fps;
    const base = Number.isFinite(this.minSrtt) ? this.minSrtt : 0;
    // A frame is a burst: its own last chunks wait up to one interval behind its first ones, so
    // only queueing beyond that counts as congestion.
    const queueing = this.srtt === null ? 0 : this.srtt - base;
    const congested = queueing > interval + o.srttRiseS || frameDelay > o.maxDelayS + interval + base;
    if (congested) {
      // The link did not keep up. Under a standing queue, frames arrive back to back at the link's
      // rate: the last frame's bytes over its inter-arrival time is the capacity now. Without a
      // usable measurement, back off multiplicatively.
      const last = d[d.length - 1];
      const prev = d[d.length - 2];
      const gap = last && prev ? last.at - prev.at : 0;
      // Only a frame that waited behind another one measures the link (else the gap is idle time).
      const instant = last?.queued && gap > 0.005 && last.bytes >= FILLED * last.budget ? (last.bytes * 8) / gap : Number.NaN;
      const measured = Number.isFinite(instant) ? instant : valid ? this.goodput : Number.NaN;
      this.rate = Number.isFinite(measured) ? Math.min(this.rate, measured) : this.rate * 0.7;
      this.mode = 'backoff';
    } else if (filled) {
      // Probe, but never more than `probeGain` above what the link has shown it delivers: past
      // capacity, goodput stops growing and so does the rate.
      const shown = valid ? (this.goodput / (1 - o.margin)) * o.probeGain : Number.POSITIVE_INFINITY;
      this.rate = Math.max(Math.min(this.rate * o.probeGain ** (1 / Math.max(1, o.fps / 5)), shown), Math.min(this.rate, shown));
      this.mode = 'probe';
    } else {
      this.mode = 'hold'; // under-used budgets: nothing learned, nothing changed
    }
    this.rate = Math.min(o.maxBps, Math.max(o.minBps, this.rate));
  }

  state(): RateState {
    return {
      rateBps: this.rate,
      goodputBps: this.goodput,
      backlogBytes: this.backlog,
      srttS: this.srtt,
      mode: this.mode,
      framesSkipped: this.skipped,
    };
  }
}
