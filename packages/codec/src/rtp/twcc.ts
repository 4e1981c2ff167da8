/**
 * Transport-wide congestion-control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01,
 * section 3.1): the RTCP packet a receiver sends back with the arrival time of each packet it got,
 * numbered by the transport-wide sequence number header extension, and the ones it did not get.
 * Pure and isomorphic: a `TwccFeedback` in, one whole RTCP packet out, and back.
 *
 * ```
 *  0               1               2               3
 * |V=2|P|  FMT=15 |    PT=205     |           length              |
 * |                     SSRC of packet sender                     |
 * |                      SSRC of media source                     |
 * |      base sequence number     |      packet status count      |
 * |                 reference time                | fb pkt. count |
 * |  packet chunk ...             |  ... recv deltas ...          |  (padding)
 * ```
 *
 * Packet chunks (16 bits each) give each packet's status: 0 not received, 1 received with a small
 * delta (1 byte, 0..63.75 ms in 250 µs units), 2 received with a large or negative delta (2 bytes,
 * signed); 3 is reserved. A run-length chunk (`0|SS|run length:13`) gives one status to a run of
 * packets; a status-vector chunk (`1|S|symbols:14`) lists 14 one-bit symbols (S = 0: 0 not received,
 * 1 received with a small delta) or 7 two-bit ones (S = 1). Then comes one receive delta per
 * received packet, in sequence order: the first relative to the reference time (a signed 24-bit
 * count of 64 ms), each next one relative to the previous received packet.
 */

/** Receive deltas count in these (µs). */
export const TWCC_DELTA_UNIT_US = 250;
/** The reference time counts in these (µs). */
export const TWCC_REFERENCE_UNIT_US = 64_000;

/**
 * One feedback packet. `packets[i]` is the receive time of transport-wide sequence number
 * `(baseSeq + i) mod 2^16` in µs after `referenceTime × 64 ms` (it may be negative: a packet
 * reordered before the first), or null when that packet was not received. On the wire times are
 * multiples of 250 µs: `encodeTwcc` rounds each time (not each delta, so errors do not add up) and
 * `decodeTwcc` gives the rounded times back.
 */
export interface TwccFeedback {
  senderSsrc: number;
  mediaSsrc: number;
  /** The first packet's transport-wide sequence number (16 bits). */
  baseSeq: number;
  /** Signed 24-bit, in units of 64 ms, on the feedback sender's clock. */
  referenceTime: number;
  /** Feedback packet count (8 bits), one more for each packet the feedback sender sends. */
  fbCount: number;
  /** 1 to 65535 entries. */
  packets: readonly (number | null)[];
}

export type TwccErrorCode =
  /** The bytes end before what the header or the counts announce. */
  | 'truncated'
  /** Not version 2, or not PT 205 with FMT 15. */
  | 'header'
  /** The header's length does not match the bytes, or bytes follow the receive deltas. */
  | 'length'
  /** The padding count is 0 or longer than the packet. */
  | 'padding'
  /** The reserved status 3, or an empty run. */
  | 'status'
  /** The chunks or deltas do not add up to the packet status count (or the count is 0). */
  | 'count'
  /** A field out of its range (encoding), or a delta that does not fit in 16 bits. */
  | 'range';

/** Malformed feedback (decoding), or feedback that cannot be put on the wire (encoding). */
export class TwccError extends Error {
  constructor(
    readonly code: TwccErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TwccError';
  }
}

const PT_RTPFB = 205;
const FMT_TWCC = 15;
const FIXED = 20; // RTCP header (4) + the feedback's fixed fields (16)
const NOT_RECEIVED = 0;
const SMALL = 1;
const LARGE = 2;
const MAX_RUN = 0x1fff;
const ONE_BIT_CAPACITY = 14;
const TWO_BIT_CAPACITY = 7;

const isUint = (v: number, bits: number) => Number.isInteger(v) && v >= 0 && v < 2 ** bits;

function check(ok: boolean, field: string, v: unknown): void {
  if (!ok) throw new TwccError('range', `TWCC ${field} out of range: ${String(v)}`);
}

/** Statuses → 16-bit packet chunks: runs where statuses repeat, status vectors where they alternate. */
export function twccChunks(statuses: Uint8Array): number[] {
  const out: number[] = [];
  let start = 0; // the pending chunk's statuses: statuses[start, start + size)
  let size = 0;
  let allSame = true;
  let hasLarge = false;
  const at = (i: number) => statuses[start + i] as number;
  const canAdd = (s: number) =>
    size < TWO_BIT_CAPACITY || (size < ONE_BIT_CAPACITY && !hasLarge && s !== LARGE) || (size < MAX_RUN && allSame && at(0) === s);
  const run = () => (at(0) << 13) | size;
  const vector = (n: number, bits: 1 | 2) => {
    let chunk = bits === 1 ? 0x8000 : 0xc000;
    for (let i = 0; i < n; i++) chunk |= at(i) << (14 - bits * (i + 1));
    return chunk;
  };
  const restart = (from: number) => {
    start += from;
    size -= from;
    allSame = true;
    hasLarge = false;
    for (let i = 0; i < size; i++) {
      if (at(i) !== at(0)) allSame = false;
      if (at(i) === LARGE) hasLarge = true;
    }
  };
  for (const s of statuses) {
    if (!canAdd(s)) {
      if (allSame) {
        out.push(run());
        restart(size);
      } else if (size === ONE_BIT_CAPACITY) {
        out.push(vector(ONE_BIT_CAPACITY, 1));
        restart(size);
      } else {
        // Mixed with a large delta among them: the first 7 as two-bit symbols, the rest stays pending.
        out.push(vector(TWO_BIT_CAPACITY, 2));
        restart(TWO_BIT_CAPACITY);
      }
    }
    if (size > 0 && s !== at(0)) allSame = false;
    if (s === LARGE) hasLarge = true;
    size++;
  }
  if (size > 0) out.push(allSame ? run() : size <= TWO_BIT_CAPACITY ? vector(size, 2) : vector(size, 1));
  return out;
}

/**
 * One whole RTCP transport-wide feedback packet, padded to a 32-bit boundary (with the P bit and
 * the padding count in its last byte when padding is added).
 * @throws {TwccError} `range` for a field out of range, a time that is not finite, or two
 *   consecutive received packets more than ±8.19 s apart (a delta past 16 bits).
 */
export function encodeTwcc(fb: TwccFeedback): Uint8Array {
  check(isUint(fb.senderSsrc, 32), 'sender SSRC', fb.senderSsrc);
  check(isUint(fb.mediaSsrc, 32), 'media SSRC', fb.mediaSsrc);
  check(isUint(fb.baseSeq, 16), 'base sequence number', fb.baseSeq);
  const ref = fb.referenceTime;
  check(Number.isInteger(ref) && ref >= -(2 ** 23) && ref < 2 ** 23, 'reference time', ref);
  check(isUint(fb.fbCount, 8), 'feedback packet count', fb.fbCount);
  const n = fb.packets.length;
  check(n >= 1 && n <= 0xffff, 'packet status count', n);
  const statuses = new Uint8Array(n);
  const deltas: number[] = [];
  let last = 0; // the previous received packet's time, in 250 µs units (the reference time first)
  for (let i = 0; i < n; i++) {
    const t = fb.packets[i];
    if (t === null || t === undefined) continue;
    check(Number.isFinite(t), `time of packet ${i}`, t);
    const q = Math.round(t / TWCC_DELTA_UNIT_US);
    const d = q - last;
    last = q;
    check(d >= -0x8000 && d <= 0x7fff, `delta of packet ${i} (250 µs units)`, d);
    statuses[i] = d >= 0 && d <= 0xff ? SMALL : LARGE;
    deltas.push(d);
  }
  const chunks = twccChunks(statuses);
  let deltaBytes = 0;
  for (const d of deltas) deltaBytes += d >= 0 && d <= 0xff ? 1 : 2;
  const content = FIXED + 2 * chunks.length + deltaBytes;
  const padding = (4 - (content % 4)) % 4;
  const out = new Uint8Array(content + padding);
  const view = new DataView(out.buffer);
  out[0] = 0x80 | (padding > 0 ? 0x20 : 0) | FMT_TWCC;
  out[1] = PT_RTPFB;
  view.setUint16(2, out.length / 4 - 1);
  view.setUint32(4, fb.senderSsrc);
  view.setUint32(8, fb.mediaSsrc);
  view.setUint16(12, fb.baseSeq);
  view.setUint16(14, n);
  const ref24 = ref & 0xffffff; // two's complement
  out[16] = ref24 >>> 16;
  out[17] = (ref24 >>> 8) & 0xff;
  out[18] = ref24 & 0xff;
  out[19] = fb.fbCount;
  let pos = FIXED;
  for (const c of chunks) {
    view.setUint16(pos, c);
    pos += 2;
  }
  for (const d of deltas) {
    if (d >= 0 && d <= 0xff) out[pos++] = d;
    else {
      view.setInt16(pos, d);
      pos += 2;
    }
  }
  if (padding > 0) out[out.length - 1] = padding;
  return out;
}

/**
 * Statuses of `count` packets from the chunks at `bytes[pos..end)`: where the deltas start, and
 * each packet's status. Symbols past `count` in the last chunk are ignored (a status vector always
 * has 7 or 14; libwebrtc does the same with a run that is too long).
 */
function readChunks(view: DataView, pos: number, end: number, count: number): { statuses: Uint8Array; pos: number } {
  const statuses = new Uint8Array(count);
  let n = 0;
  while (n < count) {
    if (pos + 2 > end) throw new TwccError('truncated', `TWCC chunks end after ${n} of ${count} packets`);
    const chunk = view.getUint16(pos);
    pos += 2;
    if ((chunk & 0x8000) === 0) {
      const status = (chunk >>> 13) & 3;
      const length = chunk & MAX_RUN;
      if (status === 3 || length === 0) throw new TwccError('status', `TWCC run of ${length} with status ${status}`);
      statuses.fill(status, n, Math.min(count, n + length));
      n += length;
    } else if ((chunk & 0x4000) === 0) {
      for (let i = 0; i < ONE_BIT_CAPACITY && n < count; i++, n++) statuses[n] = (chunk >>> (13 - i)) & 1;
    } else {
      for (let i = 0; i < TWO_BIT_CAPACITY && n < count; i++, n++) {
        const s = (chunk >>> (12 - 2 * i)) & 3;
        if (s === 3) throw new TwccError('status', `TWCC status vector with the reserved status 3`);
        statuses[n] = s;
      }
    }
  }
  return { statuses, pos };
}

/**
 * One RTCP transport-wide feedback packet (exactly its bytes, as the header's length says) →
 * its fields. Work is linear in the bytes and the packet status count (at most 65535).
 * @throws {TwccError}
 */
export function decodeTwcc(bytes: Uint8Array): TwccFeedback {
  if (bytes.length < 4) throw new TwccError('truncated', `TWCC packet of ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b0 = bytes[0] as number;
  if (b0 >>> 6 !== 2) throw new TwccError('header', `RTCP version ${b0 >>> 6}`);
  if (bytes[1] !== PT_RTPFB || (b0 & 0x1f) !== FMT_TWCC)
    throw new TwccError('header', `not transport-wide feedback: PT ${bytes[1]} FMT ${b0 & 0x1f}`);
  const total = (view.getUint16(2) + 1) * 4;
  if (bytes.length < total) throw new TwccError('truncated', `TWCC packet of ${bytes.length} bytes, its header says ${total}`);
  if (bytes.length > total) throw new TwccError('length', `TWCC packet of ${bytes.length} bytes, its header says ${total}`);
  let end = total;
  if (b0 & 0x20) {
    const padding = bytes[total - 1] as number;
    if (padding === 0 || padding > total - FIXED) throw new TwccError('padding', `TWCC padding of ${padding} bytes in ${total}`);
    end -= padding;
  }
  if (end < FIXED) throw new TwccError('truncated', `TWCC packet of ${end} bytes before its padding`);
  const count = view.getUint16(14);
  if (count === 0) throw new TwccError('count', 'TWCC feedback on no packet');
  const ref = (bytes[16] as number) * 65536 + (bytes[17] as number) * 256 + (bytes[18] as number);
  const chunks = readChunks(view, FIXED, end, count);
  let pos = chunks.pos;
  const packets: (number | null)[] = new Array(count).fill(null);
  let t = 0;
  for (let i = 0; i < count; i++) {
    const s = chunks.statuses[i];
    if (s === NOT_RECEIVED) continue;
    const size = s === SMALL ? 1 : 2;
    if (pos + size > end) throw new TwccError('truncated', `TWCC receive deltas end at packet ${i} of ${count}`);
    t += (size === 1 ? view.getUint8(pos) : view.getInt16(pos)) * TWCC_DELTA_UNIT_US;
    pos += size;
    packets[i] = t;
  }
  // Up to 3 bytes may follow the deltas: zero padding without the P bit, as the draft's figure shows.
  if (end - pos > 3) throw new TwccError('length', `${end - pos} bytes after the TWCC receive deltas`);
  return {
    senderSsrc: view.getUint32(4),
    mediaSsrc: view.getUint32(8),
    baseSeq: view.getUint16(12),
    referenceTime: ref >= 0x800000 ? ref - 0x1000000 : ref,
    fbCount: bytes[19] as number,
    packets,
  };
}

/** A packet chunk as werift's RTCP parser gives it (`RunLengthChunk` or `StatusVectorChunk`). */
export type ParsedTwccChunk =
  | { readonly packetStatus: number; readonly runLength: number }
  | { readonly symbolSize: number; readonly symbolList: readonly number[] };

/** The fields of a transport-wide feedback as werift's RTCP parser gives them (its `TransportWideCC`). */
export interface ParsedTwcc {
  readonly packetStatusCount: number;
  readonly packetChunks: readonly ParsedTwccChunk[];
  /** One per received packet in sequence order; `delta` in µs. */
  readonly recvDeltas: readonly { readonly delta?: number }[];
}

/**
 * Each packet's receive time from parsed feedback (werift's `TransportWideCC`): entry i is
 * sequence number `(baseSequenceNumber + i) mod 2^16`, in µs after `referenceTime × 64 ms`, or null
 * when it was not received — the same as `decodeTwcc(bytes).packets`.
 * @throws {TwccError} `count` when the chunks or deltas do not cover the packet status count,
 *   `status` for the reserved status 3.
 */
export function twccArrivals(parsed: ParsedTwcc): (number | null)[] {
  const count = parsed.packetStatusCount;
  if (!Number.isInteger(count) || count < 1 || count > 0xffff) throw new TwccError('count', `TWCC packet status count ${count}`);
  const packets: (number | null)[] = new Array(count).fill(null);
  let n = 0;
  let d = 0;
  let t = 0;
  const take = (status: number) => {
    if (status === SMALL || status === LARGE) {
      const delta = parsed.recvDeltas[d++]?.delta;
      if (typeof delta !== 'number' || !Number.isFinite(delta)) throw new TwccError('count', `TWCC: no receive delta for packet ${n}`);
      t += delta;
      packets[n] = t;
    } else if (status !== NOT_RECEIVED) throw new TwccError('status', `TWCC status ${status}`);
    n++;
  };
  for (const chunk of parsed.packetChunks) {
    if (n >= count) break;
    if ('runLength' in chunk) {
      if (chunk.runLength < 1) throw new TwccError('status', `TWCC run of ${chunk.runLength}`);
      const stop = Math.min(count, n + chunk.runLength);
      while (n < stop) take(chunk.packetStatus);
    } else {
      for (const s of chunk.symbolList) {
        if (n >= count) break;
        take(s);
      }
    }
  }
  if (n < count) throw new TwccError('count', `TWCC chunks cover ${n} of ${count} packets`);
  return packets;
}
