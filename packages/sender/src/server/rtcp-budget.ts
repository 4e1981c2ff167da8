import { type Limits, TokenBucket } from './limits.js';

/** What a receiver's RTCP may cost the sender: its bytes, and the packets its transport-wide feedback reports on. */
export type RtcpLimits = Pick<Limits, 'rtcpBytesPerSecond' | 'rtcpBurstBytes' | 'feedbackReportsPerSecond' | 'feedbackReportsBurst'>;

/** A transport-wide feedback packet counts as reporting at least this many packets (its fixed cost). */
export const MIN_FEEDBACK_CHARGE = 64;

const PT_RTPFB = 205;
const FMT_TWCC = 15;
const EMPTY = new Uint8Array(0);

/** One decrypted compound RTCP packet, sorted: what goes on to werift's parser, and the transport-wide feedback. */
export interface SortedRtcp {
  /** The other packets, whole and in order (empty: nothing for werift to read). */
  rest: Uint8Array;
  /** Each transport-wide feedback packet, exactly its bytes as its header's length says. */
  feedback: Uint8Array[];
}

export interface RtcpBudgetCounters {
  /** Compound packets dropped unread: over the byte budget. */
  overBudget: number;
  /** Compound packets whose tail was cut off: not RTCP version 2, or a length past the end. */
  malformed: number;
  /** Transport-wide feedback packets dropped unread: over the report budget. */
  feedbackDropped: number;
}

/**
 * The first look at one receiver's RTCP, before anything parses it. Pure: each decrypted compound
 * packet comes in with the time (s). A compound packet over the receiver's byte budget is dropped
 * whole; the rest is walked by its headers' lengths, and a tail that does not walk (not version 2,
 * a length past the end) is cut off. Transport-wide feedback packets are taken out: the sender
 * decodes them itself (werift's parser makes an object per packet a feedback names, up to 65,535
 * from 40 bytes), each within the report budget, charged by its packet status count (at least
 * MIN_FEEDBACK_CHARGE) before it is decoded.
 */
export class RtcpBudget {
  readonly counters: RtcpBudgetCounters = { overBudget: 0, malformed: 0, feedbackDropped: 0 };
  private readonly bytes: TokenBucket;
  private readonly reports: TokenBucket;

  constructor(limits: RtcpLimits) {
    this.bytes = new TokenBucket(limits.rtcpBytesPerSecond, limits.rtcpBurstBytes);
    this.reports = new TokenBucket(limits.feedbackReportsPerSecond, limits.feedbackReportsBurst);
  }

  sort(compound: Uint8Array, now: number): SortedRtcp {
    if (!this.bytes.take(now, compound.length)) {
      this.counters.overBudget++;
      return { rest: EMPTY, feedback: [] };
    }
    const keep: Uint8Array[] = [];
    const feedback: Uint8Array[] = [];
    let pos = 0;
    while (pos + 4 <= compound.length) {
      const b0 = compound[pos] as number;
      const size = (((compound[pos + 2] as number) << 8) + (compound[pos + 3] as number) + 1) * 4;
      if (b0 >>> 6 !== 2 || pos + size > compound.length) break;
      const packet = compound.subarray(pos, pos + size);
      pos += size;
      if (compound[pos - size + 1] !== PT_RTPFB || (b0 & 0x1f) !== FMT_TWCC) {
        keep.push(packet);
        continue;
      }
      const reported = size >= 16 ? ((packet[14] as number) << 8) + (packet[15] as number) : 0;
      if (this.reports.take(now, Math.max(MIN_FEEDBACK_CHARGE, reported))) feedback.push(packet);
      else this.counters.feedbackDropped++;
    }
    if (pos < compound.length) this.counters.malformed++;
    // Every byte kept: the compound goes on as it came.
    if (keep.reduce((s, p) => s + p.length, 0) === compound.length) return { rest: compound, feedback };
    return { rest: concat(keep), feedback };
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) return EMPTY;
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
