/**
 * Which lost packets of the video track to ask for again (RTCP NACK), and when, for a receiver
 * that sends its own NACKs (Node; the browser has its own). Pure: each packet's sequence number
 * and arrival go in, the sequence numbers due for a NACK come out.
 *
 * A gap is asked for at once, and again every 1.5 round trips (at least `minRetryMs`) while it
 * stays open — not sooner, so a retransmission on its way is not asked for twice — up to
 * `maxRetries` times and for at most `maxAgeMs` (past the assembler's deadline a repair is of no
 * use). The round trip is measured from repairs: a packet asked for once that then arrives. A gap
 * wider than `maxMissing` packets is not asked for (an outage: a keyframe is the repair).
 *
 * The stream's first packets have nothing before them to show a gap: with `lookBack` n, the n
 * sequence numbers before the first packet received are asked for too (a sender ignores numbers
 * it never sent), so a keyframe whose first packets were lost is still repaired.
 */

export interface NackOptions {
  /** The round trip before any repair measured it (default 100 ms). */
  initialRttMs?: number;
  /** The shortest wait before asking again (default 10 ms). */
  minRetryMs?: number;
  /** How often one packet is asked for (default 10). */
  maxRetries?: number;
  /** How long a packet is asked for after it was missed (default 1000 ms). */
  maxAgeMs?: number;
  /** The most packets asked for at a time (default 500). */
  maxMissing?: number;
  /** Sequence numbers before the first packet received that are asked for too (default 0). */
  lookBack?: number;
}

export interface NackCounters {
  /** Packets missed (gaps seen). */
  missed: number;
  /** Packets that came after they had been missed (repairs, or reordering). */
  recovered: number;
  /** Packets given up: too old, asked too often, or in a gap too wide. */
  abandoned: number;
  /** Sequence numbers sent in NACKs (each retry counts). */
  requested: number;
}

interface Missing {
  since: number;
  sentAt: number | null;
  sends: number;
  /** Before the first packet received: maybe never sent (not counted as missed or given up). */
  guess: boolean;
}

export class NackList {
  readonly stats: NackCounters = { missed: 0, recovered: 0, abandoned: 0, requested: 0 };
  private readonly minRetryMs: number;
  private readonly maxRetries: number;
  private maxAgeMs: number;
  private readonly maxMissing: number;
  private readonly lookBack: number;
  private rtt: number;
  /** Whether a repair has measured the round trip yet (the first sample replaces the guess). */
  private measured = false;
  /** Missing packets by extended sequence number. */
  private readonly missing = new Map<number, Missing>();
  private highest: number | null = null;

  constructor(options: NackOptions = {}) {
    this.rtt = options.initialRttMs ?? 100;
    this.minRetryMs = options.minRetryMs ?? 10;
    this.maxRetries = options.maxRetries ?? 10;
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.maxMissing = options.maxMissing ?? 500;
    this.lookBack = Math.min(options.lookBack ?? 0, this.maxMissing);
  }

  /** The round trip as the repairs measured it (ms). */
  get rttMs(): number {
    return this.rtt;
  }

  /** How long a packet is worth asking for (the assembler's deadline). */
  setMaxAge(ms: number): void {
    this.maxAgeMs = ms;
  }

  /** Packets missing now. */
  get pending(): number {
    return this.missing.size;
  }

  /**
   * A packet arrived; a repair measures the round trip. True when a NACK had asked for it (a
   * retransmission, or the original come late after all).
   */
  packet(seq: number, now: number): boolean {
    if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff) return false;
    if (this.highest === null) {
      this.highest = seq + 0x10000;
      for (let s = this.highest - this.lookBack; s < this.highest; s++)
        this.missing.set(s, { since: now, sentAt: null, sends: 0, guess: true });
      return false;
    }
    const ext = this.highest + (((seq - this.highest) << 16) >> 16);
    if (ext > this.highest) {
      const gap = ext - this.highest - 1;
      if (gap > this.maxMissing) {
        // An outage (or a sender that jumped): asking packet by packet is no repair.
        for (const ext of [...this.missing.keys()]) this.abandon(ext);
        this.stats.abandoned += gap;
      } else {
        for (let s = this.highest + 1; s < ext; s++) this.missing.set(s, { since: now, sentAt: null, sends: 0, guess: false });
        this.stats.missed += gap;
        while (this.missing.size > this.maxMissing) this.abandon(this.missing.keys().next().value as number);
      }
      this.highest = ext;
      return false;
    }
    const m = this.missing.get(ext);
    if (!m) return false; // a duplicate, or a packet already given up
    this.missing.delete(ext);
    if (m.guess) {
      // The stream began earlier than its first packet received: what lies before this one may not.
      this.stats.missed++;
    }
    this.stats.recovered++;
    // Asked for once: the answer's delay is a round trip (plus the sender's turnaround).
    if (m.sends === 1 && m.sentAt !== null) {
      const sample = Math.min(2000, Math.max(1, now - m.sentAt));
      this.rtt = this.measured ? 0.8 * this.rtt + 0.2 * sample : sample;
      this.measured = true;
    }
    return m.sends > 0;
  }

  /** The sequence numbers (16-bit) to ask for now; they count as sent. */
  due(now: number): number[] {
    const out: number[] = [];
    const retry = this.retryMs();
    for (const [ext, m] of this.missing) {
      if (now - m.since >= this.maxAgeMs || m.sends >= this.maxRetries) {
        this.abandon(ext);
        continue;
      }
      if (m.sentAt !== null && now - m.sentAt < retry) continue;
      m.sentAt = now;
      m.sends++;
      out.push(ext & 0xffff);
    }
    this.stats.requested += out.length;
    return out;
  }

  /** When `due` has something to send or give up next, or null. */
  nextDue(now: number): number | null {
    const retry = this.retryMs();
    let next: number | null = null;
    for (const m of this.missing.values()) {
      const at = Math.min(m.since + this.maxAgeMs, m.sentAt === null ? now : m.sentAt + retry);
      if (next === null || at < next) next = at;
    }
    return next === null ? null : Math.max(now, next);
  }

  private retryMs(): number {
    return Math.max(this.minRetryMs, 1.5 * this.rtt);
  }

  private abandon(ext: number): void {
    const m = this.missing.get(ext);
    this.missing.delete(ext);
    if (m && !m.guess) this.stats.abandoned++;
  }
}
