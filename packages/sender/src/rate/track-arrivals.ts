/**
 * What transport-wide congestion-control feedback says of each picture on the video track. Pure:
 * times come in as arguments. Each packet the sender puts on the track has a transport-wide
 * sequence number; the receiver's feedback gives, per sequence number, its arrival time on the
 * receiver's clock or that it never arrived. Once every packet of a picture is accounted for, the
 * picture's arrival is known: when its last packet that arrived the first time came, how many of its
 * packets were lost (a NACK repaired them, later, and that repair is not the link's speed), and how
 * its packets spread out (a picture is sent as one burst, so their dispersion is the bottleneck's
 * rate while they queue).
 */

/** One picture as the feedback saw it. Times in ms on the receiver's clock. */
export interface TrackArrival {
  frameId: number;
  /** When it was sent (sender clock, s). */
  sentAt: number;
  /** Bytes of its packets that arrived (payloads and headers), and its packets: all, lost. */
  bytes: number;
  packets: number;
  lost: number;
  /** Arrival of its first and last packet that arrived (null: none did). */
  firstAtMs: number | null;
  lastAtMs: number | null;
  /** Bytes that arrived after the first packet did, for the dispersion (bytes over last − first). */
  trailingBytes: number;
}

interface Packet {
  tseq: number;
  bytes: number;
  /** Arrival ms, null: lost, undefined: not reported yet. */
  at?: number | null;
}

interface Picture {
  frameId: number;
  sentAt: number;
  packets: Packet[];
}

/** Pictures whose feedback is still out; beyond this the oldest are given up. */
const MAX_PICTURES = 256;

/** The transport-wide sequence number `seq` (16 bits) unwrapped to the one nearest `near`. */
export function unwrapSeq(seq: number, near: number): number {
  const diff = ((seq - near + 0x8000) & 0xffff) - 0x8000;
  return near + diff;
}

export class TrackArrivals {
  private readonly pictures: Picture[] = [];
  /** Packets by unwrapped transport-wide sequence number. */
  private readonly bySeq = new Map<number, Packet>();
  private lastSeq: number | null = null;
  private givenUp = 0;

  /** A picture went out: its packets' transport-wide sequence numbers (16 bits, in order) and wire bytes. */
  sent(frameId: number, packets: readonly { tseq: number; bytes: number }[], sentAt: number): void {
    const pic: Picture = { frameId, sentAt, packets: [] };
    for (const p of packets) {
      const tseq = this.lastSeq === null ? p.tseq : unwrapSeq(p.tseq, this.lastSeq);
      this.lastSeq = tseq;
      const packet: Packet = { tseq, bytes: p.bytes };
      pic.packets.push(packet);
      this.bySeq.set(tseq, packet);
    }
    if (pic.packets.length === 0) return;
    this.pictures.push(pic);
    while (this.pictures.length > MAX_PICTURES) this.drop(this.pictures.shift() as Picture);
  }

  /**
   * One feedback packet: `arrivals[i]` is when sequence number baseSeq + i (16 bits) arrived, ms on
   * the receiver's clock, or null when it did not. Returns the pictures it completed, oldest first.
   * A packet reported twice keeps its first report; unknown sequence numbers are ignored.
   */
  feedback(baseSeq: number, arrivals: readonly (number | null)[]): TrackArrival[] {
    if (this.lastSeq === null) return [];
    const base = unwrapSeq(baseSeq, this.lastSeq);
    arrivals.forEach((at, i) => {
      const p = this.bySeq.get(base + i);
      if (p && p.at === undefined) p.at = at;
    });
    // Feedback covers sequence numbers in order, each once: a picture still not accounted for when a
    // later one is was in a feedback packet that got lost on the way back. It is given up.
    const whole = this.pictures.map((pic) => pic.packets.every((p) => p.at !== undefined));
    const last = whole.lastIndexOf(true);
    const done: TrackArrival[] = [];
    for (const [i, pic] of this.pictures.splice(0, last + 1).entries()) {
      this.drop(pic);
      if (whole[i]) done.push(arrivalOf(pic));
      else this.givenUp++;
    }
    return done;
  }

  /** Pictures given up on (the feedback that covered them was lost). */
  get unreported(): number {
    return this.givenUp;
  }

  /** Sizes of the histories (bounded whatever the receiver reports). */
  historyLength(): { pictures: number; packets: number } {
    return { pictures: this.pictures.length, packets: this.bySeq.size };
  }

  private drop(pic: Picture): void {
    for (const p of pic.packets) this.bySeq.delete(p.tseq);
  }
}

function arrivalOf(pic: Picture): TrackArrival {
  let bytes = 0;
  let lost = 0;
  let first: Packet | null = null;
  let lastAtMs: number | null = null;
  for (const p of pic.packets) {
    if (p.at === null || p.at === undefined) {
      lost++;
      continue;
    }
    bytes += p.bytes;
    if (first === null || p.at < (first.at as number)) first = p;
    lastAtMs = lastAtMs === null ? p.at : Math.max(lastAtMs, p.at);
  }
  return {
    frameId: pic.frameId,
    sentAt: pic.sentAt,
    bytes,
    packets: pic.packets.length,
    lost,
    firstAtMs: first?.at ?? null,
    lastAtMs,
    trailingBytes: first ? bytes - first.bytes : 0,
  };
}
