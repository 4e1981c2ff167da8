/**
 * What the video track's transport-wide congestion-control feedback says, for a receiver that
 * sends its own (Node; the browser sends Chromium's). Pure: each packet's transport-wide sequence
 * number and arrival (µs, a monotonic clock) go in; `feedback()` gives the feedback packets that
 * cover every sequence number since the last feedback up to the highest one received, the missing
 * ones as not received.
 *
 * A sequence number already covered by a feedback (a late or duplicated packet, or a
 * retransmission that reuses the original's number) is not reported again: what the first
 * feedback said stands. One that is more than `restartGap` behind is a restart of the numbering:
 * the recorder starts over from it.
 *
 * Each feedback's reference time is its first received packet's arrival rounded down to 64 ms, so
 * its first delta is small; a feedback is cut before `maxStatuses` packets, `maxReceived` received
 * ones, or a step between received packets that the wire's 16-bit deltas cannot carry.
 */
import { TWCC_REFERENCE_UNIT_US, type TwccFeedback } from '@mmsc/codec';

export interface TwccRecorderOptions {
  /** The most sequence numbers one feedback covers (default 1000: at most ~290 bytes of chunks). */
  maxStatuses?: number;
  /** The most received packets one feedback reports (default 250: at most 500 bytes of deltas). */
  maxReceived?: number;
  /** A packet further behind the next number to report than this is a restart (default 4096). */
  restartGap?: number;
}

export interface TwccRecorderCounters {
  /** Packets recorded for feedback. */
  recorded: number;
  /** Packets whose number a feedback had already covered (reported as it was then). */
  late: number;
  /** Packets whose number was already recorded. */
  duplicates: number;
  /** Jumps back in the numbering that started the recorder over. */
  restarts: number;
  /** Feedback packets made. */
  feedbacks: number;
}

/** Consecutive received packets at most this far apart in one feedback (the wire's limit is ±8.19 s). */
const MAX_STEP_US = 8_000_000;
const REFERENCE_MODULUS = 2 ** 23; // keeps the 24-bit reference time positive (≈ 149 h)

export class TwccRecorder {
  readonly stats: TwccRecorderCounters = { recorded: 0, late: 0, duplicates: 0, restarts: 0, feedbacks: 0 };
  private readonly maxStatuses: number;
  private readonly maxReceived: number;
  private readonly restartGap: number;
  /** The first sequence number no feedback has covered (null before the first packet). */
  private next: number | null = null;
  /** Arrivals (µs) by offset from `next`. */
  private readonly arrivals = new Map<number, number>();
  private highest = -1;
  private fbCount = 0;
  private lastReference = 0;

  constructor(o: TwccRecorderOptions = {}) {
    this.maxStatuses = Math.max(1, Math.min(0xffff, o.maxStatuses ?? 1000));
    this.maxReceived = Math.max(1, o.maxReceived ?? 250);
    this.restartGap = o.restartGap ?? 4096;
  }

  /** Received packets not yet in a feedback. */
  get pending(): number {
    return this.arrivals.size;
  }

  /** The packet with transport-wide sequence number `seq` arrived at `atUs`. */
  packet(seq: number, atUs: number): void {
    this.next ??= seq & 0xffff;
    let offset = (seq - this.next) & 0xffff;
    if (offset >= 0x8000) {
      if (0x10000 - offset <= this.restartGap) {
        this.stats.late++;
        return;
      }
      this.stats.restarts++;
      this.arrivals.clear();
      this.highest = -1;
      this.next = seq & 0xffff;
      offset = 0;
    }
    if (this.arrivals.has(offset)) {
      this.stats.duplicates++;
      return;
    }
    this.arrivals.set(offset, atUs);
    this.highest = Math.max(this.highest, offset);
    this.stats.recorded++;
  }

  /** The feedback for every sequence number since the last feedback (none when no packet is pending). */
  feedback(senderSsrc: number, mediaSsrc: number): TwccFeedback[] {
    const out: TwccFeedback[] = [];
    const base = this.next;
    if (base === null || this.arrivals.size === 0) return out;
    let i = 0;
    while (i <= this.highest) {
      const first = i;
      const packets: (number | null)[] = [];
      let reference: number | null = null;
      let last = 0;
      let received = 0;
      while (i <= this.highest && packets.length < this.maxStatuses) {
        const at = this.arrivals.get(i);
        if (at === undefined) packets.push(null);
        else {
          reference ??= Math.floor(at / TWCC_REFERENCE_UNIT_US);
          const t = at - reference * TWCC_REFERENCE_UNIT_US;
          if (received >= this.maxReceived || (received > 0 && Math.abs(t - last) > MAX_STEP_US)) break;
          packets.push(t);
          last = t;
          received++;
        }
        i++;
      }
      reference ??= this.lastReference;
      this.lastReference = reference;
      out.push({
        senderSsrc,
        mediaSsrc,
        baseSeq: (base + first) & 0xffff,
        referenceTime: ((reference % REFERENCE_MODULUS) + REFERENCE_MODULUS) % REFERENCE_MODULUS,
        fbCount: this.fbCount,
        packets,
      });
      this.fbCount = (this.fbCount + 1) & 0xff;
    }
    this.next = (base + this.highest + 1) & 0xffff;
    this.arrivals.clear();
    this.highest = -1;
    this.stats.feedbacks += out.length;
    return out;
  }
}
