/**
 * Arrival groups and retransmission stalls (RATE_CONTROL.md, "Loss is not congestion"). Pure: times
 * come in as arguments.
 *
 * On one reliable, ordered SCTP channel a lost packet holds its frame back for a retransmission wait
 * (an RTT and more, up to the 1 s minimum RTO), and every frame sent meanwhile waits behind it and is
 * then delivered at once. A FIFO bottleneck never does that: it spaces frames by their serialisation.
 * So, as GCC groups packets that arrive in one burst, frames that arrive within BURST_S of each other
 * form one arrival group, judged by its last member (the one that waited least); and a group whose
 * first frame's one-way delay spikes above both its neighbours (more than its size explains) waited
 * for a retransmission: a stall, counted as a lost packet, not as a slow link.
 */

/** One frame's report as the controller saw it. Times in seconds; `at` on the receiver clock. */
export interface Arrival {
  /** Receive time of the frame's last part (receiver clock). */
  at: number;
  /** When the frame was sent (sender clock). */
  sentAt: number;
  /** When its report reached the sender (sender clock). */
  fbAt: number;
  bytes: number;
  budget: number;
  /** Data was still unacknowledged ahead of it when it was sent. */
  queued: boolean;
}

/** A closed arrival group and what it says about the link. */
export interface ClosedGroup {
  first: Arrival;
  last: Arrival;
  frames: number;
  bytes: number;
  /** One-way delay of its last member above the lowest of the last BASE_WINDOW_S (s). */
  queueS: number;
  /** The same for the group before it (0 for the first). */
  prevQueueS: number;
  /** Its first frame waited for a retransmission (the delay spiked and relaxed). */
  stalled: boolean;
  /** Receive and send time since the previous group's last member (s); null for the first group. */
  recvSpan: number | null;
  sendSpan: number | null;
}

/** Frames arriving within this of the previous one were released together (s). */
export const BURST_S = 0.005;
/** A delay spike above this (beyond what the frame's size explains) is a retransmission wait (s). */
export const STALL_S = 0.03;
/** The base one-way delay is the lowest of this long (receive clock, s). */
const BASE_WINDOW_S = 10;
/** Loss is estimated over this long (s; here on the receive clock). */
export const LOSS_WINDOW_S = 2;
/** Wire bytes of one SCTP packet's payload, for counting packets. */
const PACKET_BYTES = 1200;
/** Bound on the histories, whatever the timestamps. */
const HISTORY_MAX = 256;

const owd = (a: Arrival) => a.at - a.sentAt;

interface OpenGroup {
  first: Arrival;
  last: Arrival;
  frames: number;
  bytes: number;
}

export class ArrivalGroups {
  /** A group whose first arrival may have waited for a retransmission, until a later one tells. */
  private open: OpenGroup | null = null;
  /** The last member of the last closed group, and that group's queueing delay (s). */
  private prev: Arrival | null = null;
  private lastQueue = 0;
  private readonly base: { at: number; owd: number }[] = [];
  private readonly loss: { at: number; packets: number; stalls: number }[] = [];

  /**
   * Adds a frame's arrival; returns the groups it closed, oldest first. `rateBps` (the current
   * estimate) converts size differences between frames into delay. An arrival is judged at once,
   * except one whose delay spikes above a queue that was near empty: that may be a retransmission
   * wait, so its group stays open until a later arrival shows whether the delay relaxed (a stall)
   * or not (a queue). A queue that builds up abruptly is seen one frame later; one that was already
   * growing, at once.
   */
  add(a: Arrival, rateBps: number): ClosedGroup[] {
    const g = this.open;
    if (g && a.at - g.last.at <= BURST_S && a.sentAt > g.last.sentAt) {
      g.last = a;
      g.frames++;
      g.bytes += a.bytes;
      return [];
    }
    const out: ClosedGroup[] = [];
    this.open = null;
    if (g) out.push(this.close(g, a, rateBps));
    const p = this.prev;
    const suspect = p !== null && this.lastQueue < STALL_S && this.spike(a, p, rateBps) > STALL_S;
    const single = { first: a, last: a, frames: 1, bytes: a.bytes };
    if (suspect) this.open = single;
    else out.push(this.close(single, null, rateBps));
    return out;
  }

  /** How far `x`'s one-way delay stands above `y`'s, beyond what its larger size explains (s). */
  private spike(x: Arrival, y: Arrival, rateBps: number): number {
    return owd(x) - owd(y) - (Math.max(0, x.bytes - y.bytes) * 8) / Math.max(1, rateBps);
  }

  private close(g: OpenGroup, next: Arrival | null, rateBps: number): ClosedGroup {
    const p = this.prev;
    const relaxed = g.frames > 1 ? g.last : next;
    const stalled =
      p !== null && relaxed !== null && this.spike(g.first, p, rateBps) > STALL_S && this.spike(g.first, relaxed, rateBps) > STALL_S;
    const at = g.last.at;
    this.base.push({ at, owd: owd(g.last) });
    while (this.base.length > 1 && (at - (this.base[0] as { at: number }).at > BASE_WINDOW_S || this.base.length > HISTORY_MAX)) {
      this.base.shift();
    }
    this.loss.push({ at, packets: Math.ceil(g.bytes / PACKET_BYTES), stalls: stalled ? 1 : 0 });
    while (this.loss.length > 1 && (at - (this.loss[0] as { at: number }).at > LOSS_WINDOW_S || this.loss.length > HISTORY_MAX)) {
      this.loss.shift();
    }
    const queueS = owd(g.last) - Math.min(...this.base.map((b) => b.owd));
    const prevQueueS = this.lastQueue;
    this.prev = g.last;
    this.lastQueue = queueS;
    return {
      ...g,
      queueS,
      prevQueueS,
      stalled,
      recvSpan: p ? g.last.at - p.at : null,
      sendSpan: p ? g.last.sentAt - p.sentAt : null,
    };
  }

  /**
   * Share of packets lost over the last LOSS_WINDOW_S, as far as the arrivals show it: each stall
   * counts one lost packet (a lower bound: losses within one wait are one stall).
   */
  lossFraction(): number {
    const packets = this.loss.reduce((s, l) => s + l.packets, 0);
    return packets > 0 ? this.loss.reduce((s, l) => s + l.stalls, 0) / packets : 0;
  }

  /** How far `a`'s one-way delay stands above the least of the last BASE_WINDOW_S (s), or null before any group closed. */
  queueOf(a: Pick<Arrival, 'at' | 'sentAt'>): number | null {
    return this.base.length === 0 ? null : a.at - a.sentAt - Math.min(...this.base.map((b) => b.owd));
  }

  /** Sizes of the histories (bounded whatever the receiver reports). */
  historyLength(): number {
    return Math.max(this.base.length, this.loss.length);
  }

  /** The receiver's clock stepped: receive-time histories restart. */
  reset(): void {
    this.open = null;
    this.prev = null;
    this.lastQueue = 0;
    this.base.length = 0;
    this.loss.length = 0;
  }
}
