/**
 * A picture off the video track and its announcement: each picture carries its own `picture`
 * message in a trailer at the end of what is depacketized (PROTOCOL.md § 7), cut off here before a
 * decoder sees it; the picture and its announcement make the whole one-part video frame every
 * receiver already decodes and acknowledges. Pure.
 */
import { type PictureMessage, ProtocolError, splitPictureTrailer, TRAILER_NAL_HEADER } from '@mmsc/protocol';
import type { CollectedFrame } from '../collect-frame.js';

/**
 * Where a codec's pictures carry their trailer. `appended` (VP8): right after the frame's bytes.
 * `nal-unit` (H.264): as the payload of a NAL unit of its own after the access unit, header byte
 * TRAILER_NAL_HEADER, behind a start code (4 bytes from our depacketizer; Chromium may use 3).
 */
export type TrailerLayout = 'appended' | 'nal-unit';

/** The layout of a track's pictures by its codec's MIME type (`video/H264`, `video/VP8`), or null for another codec. */
export function trailerLayoutOf(mimeType: string): TrailerLayout | null {
  const m = mimeType.toLowerCase();
  if (m === 'video/h264') return 'nal-unit';
  if (m === 'video/vp8') return 'appended';
  return null;
}

/**
 * A depacketized picture's coded data (a view into `bytes`, no trailer and, for H.264, no trailer
 * unit left) and its announcement.
 * @throws {ProtocolError} when the trailer is missing or malformed (`splitPictureTrailer`'s
 *   reasons), or, for H.264, the trailer does not sit in a unit of its own behind a start code
 */
export function cutPictureTrailer(bytes: Uint8Array, layout: TrailerLayout): { data: Uint8Array; picture: PictureMessage } {
  const { data, picture } = splitPictureTrailer(bytes);
  if (layout === 'appended') return { data, picture };
  const n = data.length;
  // … 00 00 01 17 (or 00 00 00 01 17) ends what precedes the trailer.
  if (n < 4 || data[n - 1] !== TRAILER_NAL_HEADER || data[n - 2] !== 1 || data[n - 3] !== 0 || data[n - 4] !== 0)
    throw new ProtocolError(
      'bad-field',
      'an H.264 picture’s trailer must be a NAL unit of its own (type 23) after the access unit',
      'trailer',
    );
  const cut = n >= 5 && data[n - 5] === 0 ? n - 5 : n - 4;
  if (cut === 0) throw new ProtocolError('truncated', 'an H.264 picture from the track holds no access unit before its trailer', 'trailer');
  return { data: data.subarray(0, cut), picture };
}

/** A whole picture from the track, without its trailer. */
export interface CutPicture {
  data: Uint8Array;
  /** A picture a decoder can start from (IDR / VP8 key frame), as its bytes say. */
  key: boolean;
  /** Arrival of its last packet (ms, this receiver's clock). */
  receiveTs: number;
}

/** The picture as a whole one-part video frame: its announcement's numbers (`bytes` is what it cost on the track), its bytes and arrival. */
export function trackFrame(p: CutPicture, m: PictureMessage, patchCount: number): CollectedFrame {
  return {
    frameId: m.frameId,
    captureTs: m.captureTs,
    budget: m.budget,
    parts: 1,
    partsReceived: 1,
    bytesReceived: m.bytes,
    lastReceiveTs: p.receiveTs,
    complete: true,
    levels: new Uint8Array(patchCount),
    received: [],
    video: { key: p.key, chunks: [p.data] },
    base: null,
  };
}
