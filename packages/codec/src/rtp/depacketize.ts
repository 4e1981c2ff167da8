/**
 * RTP payloads of one coded picture → the picture, for a receiver that assembles the video track's
 * packets itself (Node; the browser's own jitter buffer does this there). Pure: one picture's
 * payloads in sequence order in, its bytes out, or a RtpPayloadError naming what is wrong.
 *
 * H.264 (RFC 6184, packetization mode 1): single NAL unit packets (types 1–23), STAP-A (24) and
 * FU-A (28) → an Annex B access unit with 4-byte start codes. VP8 (RFC 7741): the payload
 * descriptor is read and dropped, the frame's bytes are concatenated.
 */

/** A payload that does not follow the payload format (or does not make one whole picture). */
export class RtpPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RtpPayloadError';
  }
}

const START_CODE = [0, 0, 0, 1] as const;
const STAP_A = 24;
const FU_A = 28;
const FU_START = 0x80;
const FU_END = 0x40;

/** Annex B bytes built piece by piece (one copy at the end). */
class Pieces {
  private readonly parts: (Uint8Array | readonly number[])[] = [];
  private length = 0;
  push(p: Uint8Array | readonly number[]): void {
    this.parts.push(p);
    this.length += p.length;
  }
  nal(header: number, body: Uint8Array): void {
    this.push(START_CODE);
    this.push([header]);
    this.push(body);
  }
  join(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/**
 * One access unit from its RTP payloads in sequence order (RFC 6184 mode 1): each NAL unit once,
 * behind a 4-byte start code. FU-A fragments must run start → end without another packet between;
 * STAP-A units are unpacked. Types 0, 25–27 and 29–31 (not mode 1, or reserved) are refused.
 * @throws {RtpPayloadError}
 */
export function depacketizeH264(payloads: readonly Uint8Array[]): Uint8Array {
  const out = new Pieces();
  let fragment = false; // inside an FU-A, between its start and end
  let nals = 0;
  for (const [i, p] of payloads.entries()) {
    if (p.length < 1) throw new RtpPayloadError(`H.264 payload ${i} is empty`);
    const head = p[0] as number;
    const type = head & 0x1f;
    if (type === FU_A) {
      if (p.length < 3) throw new RtpPayloadError(`H.264 FU-A ${i} has no fragment`);
      const fu = p[1] as number;
      const start = (fu & FU_START) !== 0;
      const end = (fu & FU_END) !== 0;
      if (start && end) throw new RtpPayloadError(`H.264 FU-A ${i} sets both start and end`);
      if (start) {
        if (fragment) throw new RtpPayloadError(`H.264 FU-A ${i} starts before the previous unit ended`);
        // The unit's header: F and NRI from the indicator, the type from the FU header.
        out.nal((head & 0xe0) | (fu & 0x1f), p.subarray(2));
        fragment = true;
        nals++;
      } else {
        if (!fragment) throw new RtpPayloadError(`H.264 FU-A ${i} continues a unit whose start is missing`);
        out.push(p.subarray(2));
      }
      if (end) fragment = false;
      continue;
    }
    if (fragment) throw new RtpPayloadError(`H.264 payload ${i} comes inside an unfinished FU-A unit`);
    if (type >= 1 && type <= 23) {
      out.nal(head, p.subarray(1));
      nals++;
    } else if (type === STAP_A) {
      let o = 1;
      if (o >= p.length) throw new RtpPayloadError(`H.264 STAP-A ${i} aggregates nothing`);
      while (o < p.length) {
        if (o + 2 > p.length) throw new RtpPayloadError(`H.264 STAP-A ${i}: a unit size is cut`);
        const size = ((p[o] as number) << 8) | (p[o + 1] as number);
        o += 2;
        if (size < 1 || o + size > p.length) throw new RtpPayloadError(`H.264 STAP-A ${i}: a unit of ${size} bytes does not fit`);
        out.nal(p[o] as number, p.subarray(o + 1, o + size));
        o += size;
        nals++;
      }
    } else {
      throw new RtpPayloadError(`H.264 payload ${i} has NAL type ${type}, not one of packetization mode 1`);
    }
  }
  if (fragment) throw new RtpPayloadError('H.264: the last FU-A unit has no end');
  if (nals === 0) throw new RtpPayloadError('H.264: no NAL unit');
  return out.join();
}

/** The payload descriptor's length (RFC 7741 § 4.2), and its S bit and partition index. */
function vp8Descriptor(p: Uint8Array, i: number): { length: number; start: boolean; partition: number } {
  if (p.length < 1) throw new RtpPayloadError(`VP8 payload ${i} is empty`);
  const b0 = p[0] as number;
  let length = 1;
  if (b0 & 0x80) {
    // X: I (picture id), L (TL0PICIDX), T or K (TID/KEYIDX) follow.
    if (p.length < 2) throw new RtpPayloadError(`VP8 payload ${i}: the extended descriptor is cut`);
    const x = p[1] as number;
    length = 2;
    if (x & 0x80) {
      if (p.length < length + 1) throw new RtpPayloadError(`VP8 payload ${i}: the picture id is cut`);
      length += (p[length] as number) & 0x80 ? 2 : 1;
    }
    if (x & 0x40) length++;
    if (x & 0x30) length++;
  }
  if (length > p.length) throw new RtpPayloadError(`VP8 payload ${i}: the descriptor is longer than the payload`);
  return { length, start: (b0 & 0x10) !== 0, partition: b0 & 0x07 };
}

/**
 * One VP8 frame from its RTP payloads in sequence order (RFC 7741): each payload's descriptor is
 * dropped; the first must start the frame (S = 1, partition 0).
 * @throws {RtpPayloadError}
 */
export function depacketizeVp8(payloads: readonly Uint8Array[]): Uint8Array {
  const out = new Pieces();
  for (const [i, p] of payloads.entries()) {
    const d = vp8Descriptor(p, i);
    if (i === 0 && !(d.start && d.partition === 0)) throw new RtpPayloadError('VP8: the first payload does not start the frame');
    out.push(p.subarray(d.length));
  }
  const frame = out.join();
  if (frame.length < 3) throw new RtpPayloadError(`VP8: a frame of ${frame.length} bytes`);
  return frame;
}

/** Whether an Annex B access unit holds an IDR slice (NAL type 5): a picture a decoder can start from. */
export function isH264Keyframe(annexB: Uint8Array): boolean {
  for (let i = 0; i + 3 < annexB.length; i++) {
    if (annexB[i] !== 0 || annexB[i + 1] !== 0 || annexB[i + 2] !== 1) continue;
    if (((annexB[i + 3] as number) & 0x1f) === 5) return true;
    i += 2;
  }
  return false;
}

/** Whether a VP8 frame is a key frame (its frame tag's inverted key-frame bit is 0). */
export function isVp8Keyframe(frame: Uint8Array): boolean {
  return frame.length > 0 && ((frame[0] as number) & 0x01) === 0;
}

/**
 * Whether an H.264 payload certainly begins an access unit: an access unit delimiter (9) or an SPS
 * (7), alone or first in a STAP-A. (A slice cannot tell: parameter sets may come before it.)
 */
export function h264StartsAccessUnit(payload: Uint8Array): boolean {
  const type = (payload[0] ?? 0) & 0x1f;
  const first = type === STAP_A ? (payload[3] ?? 0) & 0x1f : type;
  return first === 7 || first === 9;
}

/** Whether a VP8 payload begins a frame: S = 1 in partition 0 (RFC 7741 § 4.2). */
export function vp8StartsFrame(payload: Uint8Array): boolean {
  try {
    const d = vp8Descriptor(payload, 0);
    return d.start && d.partition === 0;
  } catch {
    return false;
  }
}
