/**
 * The numbers of the operator's stats panel, over sliding windows. Every time is ms on the page's
 * clock and is passed in, so the figures do not depend on when they are read.
 */
import type { ApplyStats } from '../reassemble.js';

export interface FrameRecord {
  frameId: number;
  /** Receive time of the frame's last part (ms epoch, this machine). */
  receiveTs: number;
  /** Capture time on the sender's clock (ms epoch). */
  captureTs: number;
  bytes: number;
  budget: number;
  complete: boolean;
}

/** The sender's own estimate of this link's rate (its /stats), which beats any guess from budgets. */
export interface SenderRate {
  bps: number;
  mode: string;
}

export interface StatsSummary {
  /** Frames shown per second. */
  fps: number;
  latency: number | null;
  /** Received bits per second, all messages. */
  bitrate: number;
  link: { bps: number; from: 'sender'; mode: string } | { bps: number; from: 'budgets' } | null;
  /** The newest frame received. */
  last: FrameRecord | null;
  decode: { last: ApplyStats; peakMs: number; queued: number } | null;
  /**
   * `lost`: pictures the video track lost (not repaired in time, undecodable, without a valid
   * trailer), which no frame counts; `stale`: its pictures that came too late to be shown (counted
   * in `incomplete` too).
   */
  frames: { received: number; shown: number; incomplete: number; lost: number; stale: number; overBudget: number; protocolErrors: number };
}

const WINDOW_MS = 2000;
/** One slow decode stays visible this long, so a spike is not gone before the operator sees it. */
const PEAK_WINDOW_MS = 10_000;

export class LinkStats {
  private frames: FrameRecord[] = [];
  private shown: number[] = [];
  private bytes: { t: number; n: number }[] = [];
  private decodes: { receiveTs: number; ms: number }[] = [];
  last: FrameRecord | null = null;
  /** The decode stats of the picture on screen; they outlive a session like the picture does. */
  lastShown: ApplyStats | null = null;
  /** Frames waiting in the decode worker, as of its latest picture. */
  queued = 0;
  // Counters run over the whole page life, across reconnects.
  framesReceived = 0;
  framesShown = 0;
  framesIncomplete = 0;
  budgetViolations = 0;
  protocolErrors = 0;
  picturesLost = 0;
  picturesStale = 0;

  /** A new session: the windows restart, the counters go on. */
  reset(): void {
    this.frames = [];
    this.shown = [];
    this.bytes = [];
    this.decodes = [];
    this.last = null;
  }

  /** Every data-channel message, for the bit rate. */
  onBytes(n: number, t: number): void {
    this.bytes.push({ t, n });
  }

  onFrame(f: FrameRecord): void {
    this.frames.push(f);
    this.last = f;
    this.framesReceived++;
    if (!f.complete) this.framesIncomplete++;
    if (f.bytes > f.budget) this.budgetViolations++;
  }

  onShown(t: number, s: ApplyStats): void {
    this.shown.push(t);
    this.framesShown++;
    this.lastShown = s;
  }

  /**
   * A frame the worker decoded, shown or not (a faster successor may have kept it off the screen);
   * `receiveTs` is null when the frame is no longer known, and then it counts for no peak.
   */
  onDecoded(ms: number, receiveTs: number | null, queued: number): void {
    this.queued = queued;
    if (receiveTs === null) return;
    this.decodes.push({ receiveTs, ms });
    const cut = receiveTs - PEAK_WINDOW_MS;
    while (this.decodes.length && (this.decodes[0] as { receiveTs: number }).receiveTs <= cut) this.decodes.shift();
  }

  onProtocolError(): void {
    this.protocolErrors++;
  }

  private trim(now: number): void {
    const cut = now - WINDOW_MS;
    while (this.frames.length && (this.frames[0] as FrameRecord).receiveTs < cut) this.frames.shift();
    while (this.shown.length && (this.shown[0] as number) < cut) this.shown.shift();
    while (this.bytes.length && (this.bytes[0] as { t: number }).t < cut) this.bytes.shift();
  }

  /** Frames shown per second over the window. */
  fps(now: number): number {
    this.trim(now);
    return this.shown.length / (WINDOW_MS / 1000);
  }

  /** Frames received per second over the window. */
  receivedFps(now: number): number {
    this.trim(now);
    return this.frames.length / (WINDOW_MS / 1000);
  }

  /** Received bit rate (all messages), bits per second. */
  bitrate(now: number): number {
    this.trim(now);
    let n = 0;
    for (const b of this.bytes) n += b.n;
    return (n * 8) / (WINDOW_MS / 1000);
  }

  /** Frame latency: receive of the last part − capture, ms (same clock when on one machine). */
  latency(): number | null {
    return this.last ? this.last.receiveTs - this.last.captureTs : null;
  }

  /** The sender's rate as its budgets reveal it: budget · fps / (1 − 10 % margin), bits per second. */
  rateFromBudgets(now: number, fps: number | null): number | null {
    this.trim(now);
    if (!this.frames.length) return null;
    const mean = this.frames.reduce((s, f) => s + f.budget, 0) / this.frames.length;
    const rate = fps ?? this.receivedFps(now);
    return (mean * 8 * rate) / 0.9;
  }

  /** The slowest decode of the frames received in the last 10 s, 0 when none. */
  decodePeak(now: number): number {
    let peak = 0;
    for (const d of this.decodes) if (d.receiveTs > now - PEAK_WINDOW_MS) peak = Math.max(peak, d.ms);
    return peak;
  }

  /** `helloFps`: the sender's frame rate from its hello, when it has a fixed one. */
  summary(now: number, helloFps: number | null, sender: SenderRate | null): StatsSummary {
    const budgets = this.rateFromBudgets(now, helloFps);
    return {
      fps: this.fps(now),
      latency: this.latency(),
      bitrate: this.bitrate(now),
      link: sender ? { bps: sender.bps, from: 'sender', mode: sender.mode } : budgets === null ? null : { bps: budgets, from: 'budgets' },
      last: this.last,
      decode: this.lastShown ? { last: this.lastShown, peakMs: this.decodePeak(now), queued: this.queued } : null,
      frames: {
        received: this.framesReceived,
        shown: this.framesShown,
        incomplete: this.framesIncomplete,
        lost: this.picturesLost,
        stale: this.picturesStale,
        overBudget: this.budgetViolations,
        protocolErrors: this.protocolErrors,
      },
    };
  }
}

/** This session's entry in the sender's /stats answer, if the sender estimates a rate for it. */
export function senderRateOf(stats: unknown, sessionId: string): SenderRate | null {
  const receivers = (stats as { receivers?: unknown } | null)?.receivers;
  if (!Array.isArray(receivers)) return null;
  const me = (receivers as { id?: unknown; rate?: { rateBps?: number; mode?: string } }[]).find((r) => r?.id === sessionId);
  return me?.rate?.rateBps ? { bps: me.rate.rateBps, mode: me.rate.mode ?? '?' } : null;
}
