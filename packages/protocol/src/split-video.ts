import { encodeMessage } from './codec.js';
import { ProtocolError } from './errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './types.js';

/** One coded picture before splitting. */
export interface VideoInput {
  frameId: number;
  captureTs: number;
  budget: number;
  key: boolean;
  data: Uint8Array;
}

/**
 * Upper bound on a video message's bytes other than its data: fixarray, version, type, frameId
 * (uint32), captureTs (float64), budget (uint64), part and parts (uint16), key, bin32 header.
 */
export const VIDEO_HEADER_BOUND = 40;

/** Splits a coded picture into messages of at most `maxMessageBytes`, in order. */
export function splitVideo(v: VideoInput, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): Uint8Array[] {
  const room = maxMessageBytes - VIDEO_HEADER_BOUND;
  if (room < 1) throw new ProtocolError('too-large', `a ${maxMessageBytes}-byte message cannot carry video`, 'maxMessageBytes');
  if (v.data.length === 0) throw new ProtocolError('payload-length', 'a coded picture has at least one byte', 'data');
  const parts = Math.ceil(v.data.length / room);
  const out: Uint8Array[] = [];
  for (let part = 0; part < parts; part++) {
    const data = v.data.subarray(part * room, Math.min(v.data.length, (part + 1) * room));
    out.push(encodeMessage({ type: 'video', frameId: v.frameId, captureTs: v.captureTs, budget: v.budget, part, parts, key: v.key, data }));
  }
  return out;
}

/** Framing bytes `splitVideo` adds to `dataBytes` of picture, at most. */
export function videoOverheadBound(dataBytes: number, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): number {
  return Math.max(1, Math.ceil(dataBytes / (maxMessageBytes - VIDEO_HEADER_BOUND))) * VIDEO_HEADER_BOUND;
}
