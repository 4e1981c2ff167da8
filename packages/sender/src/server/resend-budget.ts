/** The packets the track can resend: werift keeps its last 128 (its RTP history). */
export const RESEND_HISTORY = 128;
/** One packet goes out again at most once per this long (ms): a NACK repeated before the repair could arrive is not answered twice. */
export const MIN_RESEND_GAP_MS = 10;
/** The entries of one NACK looked at; the rest are ignored (a NACK cannot usefully name more packets than the history holds). */
export const MAX_NACK_ENTRIES = 1024;

interface Held {
  seq: number;
  bytes: number;
  /** When it last went out again (ms), null: never. */
  resentAt: number | null;
}

/**
 * Which packets a receiver's NACKs get back, for one video track. Pure: each packet sent and each
 * NACK come in, with the time (ms) for NACKs. A packet is resent only while it is in the history,
 * at most once per MIN_RESEND_GAP_MS, and only out of a credit of bytes: each first transmission
 * adds its bytes, up to the bytes the history holds. So retransmissions never add up to more than the
 * track first sent (as libwebrtc bounds them by a rate): NACKs repair a lossy link in full, and
 * a flood of them costs at most one more copy of the stream, whatever it asks for.
 */
export class ResendBudget {
  private readonly history: (Held | undefined)[] = new Array(RESEND_HISTORY);
  /** Bytes of the packets in the history, and the credit (bytes that may go out again now). */
  private held = 0;
  private credit = 0;

  /** A packet went out the first time: its RTP sequence number and bytes. */
  sent(seq: number, bytes: number): void {
    const i = seq % RESEND_HISTORY;
    const old = this.history[i];
    if (old) this.held -= old.bytes;
    this.history[i] = { seq, bytes, resentAt: null };
    this.held += bytes;
    this.credit = Math.min(this.held, this.credit + bytes);
  }

  /** Of the sequence numbers a NACK asks for, those that go out again now (each once, in the NACK's order). */
  resend(asked: readonly number[], nowMs: number): number[] {
    const out: number[] = [];
    const seen = new Set<number>();
    for (const seq of asked.length > MAX_NACK_ENTRIES ? asked.slice(0, MAX_NACK_ENTRIES) : asked) {
      if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff || seen.has(seq)) continue;
      seen.add(seq);
      const p = this.history[seq % RESEND_HISTORY];
      if (!p || p.seq !== seq || p.bytes > this.credit) continue;
      if (p.resentAt !== null && nowMs - p.resentAt < MIN_RESEND_GAP_MS) continue;
      this.credit -= p.bytes;
      p.resentAt = nowMs;
      out.push(seq);
    }
    return out;
  }
}
