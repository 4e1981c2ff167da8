/**
 * The video track's packets → whole pictures, for a receiver that gets the packets themselves (Node,
 * through werift; the browser's own jitter buffer does this on the page). Pure: packets go in with
 * their arrival time, in any order, duplicated or late; whole pictures come out in sequence order.
 *
 * A picture is whole when every sequence number from its first packet to its marker packet is in,
 * and its first packet is known to be one: the one after the previous picture (the one after the
 * last picture output, or after a marker or a timestamp change), or one the codec says begins a
 * picture (`startsPicture`: VP8's S bit, an H.264 SPS), which is how the first picture is found.
 *
 * Losses wait for repair (the platform NACKs them) until `deadlineMs` after the loss showed (the
 * first later packet's arrival). Past it, once a later picture is whole, everything before that one
 * is dropped and its output is marked `afterGap`: the pictures it refers to may be gone. The default
 * deadline, 300 ms, covers a NACK and its answer on links up to ~250 ms RTT; where the platform
 * measures the round trip the session sets `repairDeadline(rtt)` instead (`setDeadline`). Memory is bounded whatever a peer sends:
 * at most `maxPackets` sequence numbers between the oldest packet held and the newest, and
 * `maxBytes` of payload; a packet beyond either, or as far behind the newest, starts over from it
 * (everything held is dropped, and the next picture must show its start).
 */

/** One packet of the video track, as the platform received it. */
export interface RtpPacketIn {
  /** Sequence number (16 bits). */
  seq: number;
  /** RTP timestamp (32 bits; 90 kHz for video). */
  timestamp: number;
  /** Set on a picture's last packet. */
  marker: boolean;
  payload: Uint8Array;
}

/** A whole picture: its payloads in sequence order. */
export interface AssembledPicture {
  rtpTs: number;
  payloads: Uint8Array[];
  /** Pictures before this one were dropped (or never seen): the ones it refers to may be missing. */
  afterGap: boolean;
  /** Arrival of the picture's first and last packet (ms; the earliest and the latest to arrive). */
  firstArrival: number;
  lastArrival: number;
  /** Payload bytes. */
  bytes: number;
}

export interface AssemblerOutput {
  pictures: AssembledPicture[];
  /** Pictures were dropped (a loss not repaired in time, or a start over): a keyframe is needed. */
  dropped: boolean;
}

export interface AssemblerCounters {
  packets: number;
  duplicates: number;
  /** Packets of pictures already output or dropped (late retransmissions). */
  late: number;
  /** Not a packet: a sequence number or timestamp out of range, a payload larger than everything that may be held. */
  malformed: number;
  /** Pictures dropped (at least one per drop; a picture none of whose packets came cannot be counted). */
  droppedPictures: number;
  droppedPackets: number;
  /** Start-overs: a packet too far ahead of the ones held, or too many bytes held. */
  resets: number;
}

export interface AssemblerOptions {
  /** Whether a payload certainly begins a picture (the codec's own signal). */
  startsPicture(payload: Uint8Array): boolean;
  /** How long a loss may wait for repair before a later whole picture replaces it (default 300 ms). */
  deadlineMs?: number;
  /** The most sequence numbers between the oldest packet held and the newest (default 4096). */
  maxPackets?: number;
  /** The most payload bytes held (default 16 MiB). */
  maxBytes?: number;
}

export const DEFAULT_RTP_DEADLINE_MS = 300;

/**
 * The repair deadline for a link's round trip: a NACK and its answer, one more try if that is lost
 * too (NackList asks again after 1.5 round trips: answered at 2.5), a loss at a picture's end seen only
 * when the next picture starts (a frame interval), and the sender's turnaround — 4 round trips + 100
 * ms, within 300..1000 ms. Waiting is the cheaper failure: a picture given up costs a keyframe
 * request, a keyframe three budgets large, and every picture until it comes (measured on a 2 Mbit/s
 * link at 2 % loss with 3 RTT + 40 ms: 108 repairs came after their deadline, 10 pictures dropped).
 */
export function repairDeadline(rttMs: number): number {
  return Math.round(Math.min(1000, Math.max(300, 4 * rttMs + 100)));
}

interface Held {
  ts: number;
  marker: boolean;
  payload: Uint8Array;
  arrival: number;
}

/** Where a picture is stuck: the picture starting at `head` waits for `missing`; since when. */
interface Blocked {
  head: number;
  missing: number;
  since: number;
}

export class RtpAssembler {
  readonly stats: AssemblerCounters = {
    packets: 0,
    duplicates: 0,
    late: 0,
    malformed: 0,
    droppedPictures: 0,
    droppedPackets: 0,
    resets: 0,
  };
  private deadlineMs: number;
  private readonly maxPackets: number;
  private readonly maxBytes: number;
  /** Held packets by extended (unwrapped) sequence number. */
  private readonly held = new Map<number, Held>();
  private bytes = 0;
  private highest: number | null = null;
  /** Where the next picture starts (everything before it is done); null until a start is known. */
  private base: number | null = null;
  private blocked: Blocked | null = null;
  /** The next picture output follows a drop. */
  private gap = false;

  constructor(private readonly options: AssemblerOptions) {
    this.deadlineMs = options.deadlineMs ?? DEFAULT_RTP_DEADLINE_MS;
    this.maxPackets = options.maxPackets ?? 4096;
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  }

  get deadline(): number {
    return this.deadlineMs;
  }

  setDeadline(ms: number): void {
    this.deadlineMs = ms;
  }

  /** Packets held, waiting for their picture to be whole. */
  get pending(): number {
    return this.held.size;
  }

  push(p: RtpPacketIn, now: number): AssemblerOutput {
    const { seq, timestamp } = p;
    const bad =
      !Number.isInteger(seq) || seq < 0 || seq > 0xffff || !Number.isInteger(timestamp) || timestamp < 0 || timestamp > 0xffffffff;
    if (bad || !(p.payload instanceof Uint8Array) || p.payload.length > this.maxBytes) {
      this.stats.malformed++;
      return this.advance(now);
    }
    this.stats.packets++;
    const ext = this.unwrap(seq);
    // Far from the packets held either way (an outage, a restarted sender) or too much held: start over here.
    const far = this.highest !== null && Math.abs(ext - this.highest) >= this.maxPackets;
    if (!far && this.base !== null && ext < this.base) {
      this.stats.late++;
      return this.advance(now);
    }
    if (this.held.has(ext)) {
      this.stats.duplicates++;
      return this.advance(now);
    }
    const low = this.base ?? this.lowestHeld() ?? ext;
    const restart = far || ext - low >= this.maxPackets || this.bytes + p.payload.length > this.maxBytes;
    if (restart) {
      this.stats.resets++;
      this.dropBefore(Number.POSITIVE_INFINITY);
      this.base = null;
      this.blocked = null;
      this.highest = null;
    }
    this.held.set(ext, { ts: timestamp, marker: p.marker, payload: p.payload, arrival: now });
    this.bytes += p.payload.length;
    if (this.highest === null || ext > this.highest) this.highest = ext;
    const out = this.advance(now);
    out.dropped ||= restart;
    return out;
  }

  /** Time passed: a loss past its deadline gives way to a later whole picture. */
  poll(now: number): AssemblerOutput {
    return this.advance(now);
  }

  /** When `poll` could next drop something (a loss's deadline still ahead), or null. */
  nextDeadline(now: number): number | null {
    if (!this.blocked || !Number.isFinite(this.blocked.since)) return null;
    const t = this.blocked.since + this.deadlineMs;
    return t > now ? t : null;
  }

  /** Since when the oldest picture held has been waiting for a packet a later one showed missing (ms), or null. */
  lossSince(): number | null {
    return this.blocked && Number.isFinite(this.blocked.since) ? this.blocked.since : null;
  }

  /** Drops everything held (a new session, or the link went); the next picture must be found afresh. */
  clear(): void {
    this.held.clear();
    this.bytes = 0;
    this.base = null;
    this.highest = null;
    this.blocked = null;
    this.gap = false;
  }

  private unwrap(seq: number): number {
    if (this.highest === null) return seq + 0x10000;
    const diff = ((seq - this.highest) << 16) >> 16;
    return this.highest + diff;
  }

  private lowestHeld(): number | null {
    let low: number | null = null;
    for (const k of this.held.keys()) if (low === null || k < low) low = k;
    return low;
  }

  private advance(now: number): AssemblerOutput {
    const out: AssemblerOutput = { pictures: [], dropped: false };
    while (this.held.size > 0) {
      if (this.base === null) {
        const lowest = this.lowestHeld() as number;
        if (this.startsHere(lowest)) this.base = lowest;
      }
      const head = this.base ?? (this.lowestHeld() as number);
      // Where the head picture is stuck: the start of the oldest picture held is unknown, or a packet is missing.
      let missing = head - 1;
      if (this.base !== null) {
        const w = this.wholeFrom(head);
        if (w.end !== null) {
          out.pictures.push(this.take(head, w.end));
          this.base = w.end + 1;
          this.blocked = null;
          continue;
        }
        missing = w.missing;
      }
      // A loss (or a picture still arriving) waits for repair until the deadline.
      const b = this.blocked;
      const since = b && b.head === head && b.missing === missing && Number.isFinite(b.since) ? b.since : this.lossShown(missing);
      this.blocked = { head, missing, since };
      if (now - since < this.deadlineMs) return out;
      const next = this.nextWhole(missing + 1);
      if (next === null) return out;
      this.dropBefore(next);
      out.dropped = true;
      this.base = next;
      this.blocked = null;
    }
    this.blocked = null;
    return out;
  }

  /** Whether the packet at `ext` begins a picture: after a marker or a timestamp change, or by the codec's word. */
  private startsHere(ext: number): boolean {
    const p = this.held.get(ext);
    if (!p) return false;
    if (ext === this.base) return true;
    const prev = this.held.get(ext - 1);
    if (prev && (prev.marker || prev.ts !== p.ts)) return true;
    return this.options.startsPicture(p.payload);
  }

  /** From `start`: the picture's last packet (its marker, or the last before a timestamp change), or the first one missing. */
  private wholeFrom(start: number): { end: number | null; missing: number } {
    for (let e = start; ; e++) {
      const p = this.held.get(e);
      if (!p) return { end: null, missing: e };
      if (p.marker) return { end: e, missing: -1 };
      const next = this.held.get(e + 1);
      if (next && next.ts !== p.ts) return { end: e, missing: -1 };
    }
  }

  /** The first whole picture whose start is known, at or after `from`. */
  private nextWhole(from: number): number | null {
    if (this.highest === null) return null;
    for (let s = from; s <= this.highest; s++) {
      if (!this.startsHere(s)) continue;
      const w = this.wholeFrom(s);
      if (w.end !== null) return s;
      s = w.missing; // no picture ends before the gap, so none starting before it can be whole
    }
    return null;
  }

  /** When a loss at `missing` showed: the earliest arrival of a packet after it (none yet: not a loss, still arriving). */
  private lossShown(missing: number): number {
    let since = Number.POSITIVE_INFINITY;
    for (const [k, p] of this.held) if (k > missing && p.arrival < since) since = p.arrival;
    return since;
  }

  private take(start: number, end: number): AssembledPicture {
    const payloads: Uint8Array[] = [];
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    let bytes = 0;
    const rtpTs = (this.held.get(start) as Held).ts;
    for (let e = start; e <= end; e++) {
      const p = this.held.get(e) as Held;
      this.held.delete(e);
      payloads.push(p.payload);
      bytes += p.payload.length;
      first = Math.min(first, p.arrival);
      last = Math.max(last, p.arrival);
    }
    this.bytes -= bytes;
    const afterGap = this.gap;
    this.gap = false;
    return { rtpTs, payloads, afterGap, firstArrival: first, lastArrival: last, bytes };
  }

  /** Drops every packet held before `ext` as lost pictures (one at least), marking the next picture output. */
  private dropBefore(ext: number): void {
    const stamps = new Set<number>();
    for (const [k, p] of this.held) {
      if (k >= ext) continue;
      this.held.delete(k);
      this.bytes -= p.payload.length;
      stamps.add(p.ts);
      this.stats.droppedPackets++;
    }
    this.stats.droppedPictures += Math.max(1, stamps.size);
    this.gap = true;
  }
}
