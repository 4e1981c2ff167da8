import type { SessionErrorCode } from '@mmsc/protocol';

/** Every resource a remote peer can make the sender hold, and its bound (docs/SECURITY.md lists them). */
export interface Limits {
  /** Receivers served at once, pending handshakes included. */
  maxReceivers: number;
  /** Sessions whose data channel is not open yet: idle sockets cannot take every slot. */
  maxPendingHandshakes: number;
  /** A signalling socket whose data channel has not opened by then is closed and its slot freed. */
  handshakeTimeoutMs: number;
  /** One signalling message (WebSocket frame), bytes. */
  maxSignalBytes: number;
  /** Signalling messages per second per socket (token bucket), and the burst allowed. */
  signalPerSecond: number;
  signalBurst: number;
  /** ICE candidates held before the answer, and accepted over a session's life. */
  maxPendingCandidates: number;
  maxCandidates: number;
  /** One candidate line, bytes (real ones are ~100). */
  maxCandidateBytes: number;
  /** Queries per second per session (token bucket), and the burst allowed. */
  queriesPerSecond: number;
  queryBurst: number;
  /** RTCP from one receiver (transport `rtp`), bytes per second (token bucket) and the burst: the rest is dropped unread. */
  rtcpBytesPerSecond: number;
  rtcpBurstBytes: number;
  /**
   * Packets that one receiver's transport-wide feedback may report on per second (token bucket; a
   * feedback packet counts at least 64), and the burst (one feedback may cover 65,535): the rest is dropped unread.
   */
  feedbackReportsPerSecond: number;
  feedbackReportsBurst: number;
}

export function defaultLimits(maxReceivers = 8): Limits {
  return {
    maxReceivers,
    maxPendingHandshakes: Math.max(1, Math.ceil(maxReceivers / 2)),
    handshakeTimeoutMs: 15_000,
    maxSignalBytes: 64 * 1024,
    signalPerSecond: 20,
    signalBurst: 60,
    maxPendingCandidates: 32,
    maxCandidates: 128,
    maxCandidateBytes: 1024,
    queriesPerSecond: 5,
    queryBurst: 10,
    rtcpBytesPerSecond: 64 * 1024,
    rtcpBurstBytes: 64 * 1024,
    feedbackReportsPerSecond: 20_000,
    feedbackReportsBurst: 0x10000,
  };
}

/** A token bucket: `rate` per second, at most `burst` saved up. Time comes in (seconds), so tests drive it. */
export class TokenBucket {
  private tokens: number;
  private last: number | null = null;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes `n` tokens (1 by default) if there are that many; false, taking none, if not. */
  take(now: number, n = 1): boolean {
    if (this.last !== null) this.tokens = Math.min(this.burst, this.tokens + Math.max(0, now - this.last) * this.rate);
    this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/** Refusals by code, for /stats: what peers were told no, and how often. */
export class RefusalCounter {
  private readonly counts = new Map<string, number>();
  total = 0;

  count(code: SessionErrorCode | string): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
    this.total++;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}
