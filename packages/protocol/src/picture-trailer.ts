import { decodeMessage, encodeMessage } from './codec.js';
import { ProtocolError } from './errors.js';
import type { PictureMessage } from './types.js';

/** The trailer's last two bytes: "mp". */
export const TRAILER_MAGIC = Uint8Array.of(0x6d, 0x70);
/**
 * H.264 on the track: the trailer is the payload of its own NAL unit after the access unit, with
 * this header byte (type 23, NRI 0: reserved in H.264, so decoders discard such units; a single NAL
 * unit packet in RFC 6184).
 */
export const TRAILER_NAL_HEADER = 0x17;
/** Upper bound on a trailer's bytes: the `picture` message, its uint16 length and the magic. */
export const PICTURE_TRAILER_BOUND = 52;

/**
 * A picture on the RTP video track carries its own announcement: its coded data, then its
 * `picture` message (msgpack, as on the data channel), that message's length (uint16, big-endian)
 * and TRAILER_MAGIC. The receiver cuts it off before the picture reaches a decoder.
 */
export function withPictureTrailer(data: Uint8Array, picture: Omit<PictureMessage, 'type'>): Uint8Array {
  const t = pictureTrailer(picture);
  const out = new Uint8Array(data.length + t.length);
  out.set(data, 0);
  out.set(t, data.length);
  return out;
}

/** The trailer alone: the `picture` message, its length and the magic. */
export function pictureTrailer(picture: Omit<PictureMessage, 'type'>): Uint8Array {
  const m = encodeMessage({ type: 'picture', ...picture });
  const out = new Uint8Array(m.length + 2 + TRAILER_MAGIC.length);
  out.set(m, 0);
  out[m.length] = m.length >> 8;
  out[m.length + 1] = m.length & 0xff;
  out.set(TRAILER_MAGIC, m.length + 2);
  return out;
}

/**
 * The coded data and the announcement of a picture from the track (what `withPictureTrailer`
 * made). Throws a ProtocolError: `truncated` when the data is too short to hold its trailer or
 * leaves no picture, `bad-field` (field `trailer`) when the magic is missing or the message is not
 * a `picture`; a malformed message throws what `decodeMessage` throws.
 */
export function splitPictureTrailer(withTrailer: Uint8Array): { data: Uint8Array; picture: PictureMessage } {
  const n = withTrailer.length;
  const tail = 2 + TRAILER_MAGIC.length;
  if (n < tail) throw new ProtocolError('truncated', `a picture from the track ends in a ${tail}-byte trailer; got ${n} bytes`, 'trailer');
  if (withTrailer[n - 2] !== TRAILER_MAGIC[0] || withTrailer[n - 1] !== TRAILER_MAGIC[1])
    throw new ProtocolError('bad-field', 'a picture from the track must end in the trailer magic "mp"', 'trailer');
  const len = ((withTrailer[n - 4] as number) << 8) | (withTrailer[n - 3] as number);
  if (len > n - tail)
    throw new ProtocolError('truncated', `the trailer names a ${len}-byte message; ${n - tail} bytes precede it`, 'trailer');
  const m = decodeMessage(withTrailer.subarray(n - tail - len, n - tail));
  if (m.type !== 'picture') throw new ProtocolError('bad-field', `a picture's trailer holds a picture message, not ${m.type}`, 'trailer');
  const data = withTrailer.subarray(0, n - tail - len);
  if (data.length === 0) throw new ProtocolError('truncated', 'a picture from the track holds no coded data before its trailer', 'trailer');
  return { data, picture: m };
}
