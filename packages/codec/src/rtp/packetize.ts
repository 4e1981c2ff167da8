/**
 * RTP payloads of one coded picture, for the video track (transport `rtp`). Pure. The sender sets
 * the RTP header (one timestamp for the picture, the marker bit on its last payload).
 */
import { nalPayloads } from '../video/annexb.js';

/** A payload a little under a 1,280-byte path MTU once SRTP, RTP, UDP and IP headers are added (as libwebrtc). */
export const RTP_MAX_PAYLOAD = 1200;

/** FU-A NAL unit type (RFC 6184 §5.8). */
const FU_A = 28;

/**
 * RFC 6184 packetization mode 1 of one H.264 access unit (Annex B): each NAL unit that fits is a
 * single-NAL-unit packet; a larger one is cut into FU-A fragments (indicator: its F and NRI bits
 * with type 28; header: start/end bits and its type), each at most `maxPayload` bytes.
 */
export function packetizeH264(annexB: Uint8Array, maxPayload = RTP_MAX_PAYLOAD): Uint8Array[] {
  if (maxPayload < 3) throw new RangeError(`an H.264 RTP payload needs at least 3 bytes, got ${maxPayload}`);
  const out: Uint8Array[] = [];
  for (const nal of nalPayloads(annexB)) {
    if (nal.length <= maxPayload) {
      out.push(nal);
      continue;
    }
    const head = nal[0] as number;
    const room = maxPayload - 2;
    const body = nal.subarray(1);
    for (let at = 0; at < body.length; at += room) {
      const piece = body.subarray(at, Math.min(body.length, at + room));
      const p = new Uint8Array(piece.length + 2);
      p[0] = (head & 0xe0) | FU_A;
      p[1] = (at === 0 ? 0x80 : 0) | (at + room >= body.length ? 0x40 : 0) | (head & 0x1f);
      p.set(piece, 2);
      out.push(p);
    }
  }
  return out;
}

/**
 * RFC 7741 packetization of one VP8 frame: a one-byte payload descriptor (X = 0, N = 0, PID = 0;
 * S = 1 on the frame's first packet: 0x10, else 0x00) before each piece of at most `maxPayload − 1` bytes.
 */
export function packetizeVp8(frame: Uint8Array, maxPayload = RTP_MAX_PAYLOAD): Uint8Array[] {
  if (maxPayload < 2) throw new RangeError(`a VP8 RTP payload needs at least 2 bytes, got ${maxPayload}`);
  const room = maxPayload - 1;
  const out: Uint8Array[] = [];
  for (let at = 0; at < frame.length; at += room) {
    const piece = frame.subarray(at, Math.min(frame.length, at + room));
    const p = new Uint8Array(piece.length + 1);
    p[0] = at === 0 ? 0x10 : 0x00;
    p.set(piece, 1);
    out.push(p);
  }
  return out;
}
