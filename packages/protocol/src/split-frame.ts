import { encodeMessage } from './codec.js';
import { DEFAULT_CONTEXT, type ProtocolContext } from './context.js';
import { ProtocolError } from './errors.js';
import { packedLength, rleLength } from './level-coding.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './types.js';

/** A whole frame before splitting: one level symbol per patch, payloads concatenated in patch order. */
export interface FrameInput {
  frameId: number;
  captureTs: number;
  budget: number;
  levels: Uint8Array;
  payload: Uint8Array;
}

export interface SplitOptions {
  /** Largest message to emit (default 64 KiB; see platform notes for werift/Chromium limits). */
  maxMessageBytes?: number;
  ctx?: ProtocolContext;
}

/**
 * Upper bound on a frame message's bytes other than its level map and payload: msgpack array and
 * bin headers plus the integer/float fields at their widest encodings.
 */
export const PART_HEADER_BOUND = 53;

/**
 * Splits a frame into messages of at most `maxMessageBytes`, each covering a contiguous patch range
 * and decodable alone. Greedy: each part takes as many patches as fit.
 */
export function splitFrame(frame: FrameInput, opts: SplitOptions = {}): Uint8Array[] {
  const ctx = opts.ctx ?? DEFAULT_CONTEXT;
  const max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const { levels, payload } = frame;
  if (levels.length !== ctx.patchCount) {
    throw new ProtocolError('out-of-range', `frame has ${levels.length} level symbols, geometry has ${ctx.patchCount} patches`, 'levels');
  }
  const offsets = payloadOffsets(levels, ctx);
  if (offsets[levels.length] !== payload.length) {
    throw new ProtocolError('payload-length', `levels need ${offsets[levels.length]} payload bytes, got ${payload.length}`, 'payload');
  }
  const size = (s: number, e: number) =>
    PART_HEADER_BOUND + Math.min(packedLength(e - s), rleLength(levels, s, e)) + (offsets[e] as number) - (offsets[s] as number);

  const ranges: [number, number][] = [];
  for (let s = 0; s < levels.length; ) {
    if (size(s, s + 1) > max) {
      throw new ProtocolError('too-large', `patch ${s} alone does not fit a ${max}-byte message`, 'maxMessageBytes');
    }
    // Largest e with size(s, e) <= max; size grows with e, so bisect.
    let lo = s + 1;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (size(s, mid) <= max) lo = mid;
      else hi = mid - 1;
    }
    ranges.push([s, lo]);
    s = lo;
  }
  return ranges.map(([s, e], part) => {
    const bytes = encodeMessage(
      {
        type: 'frame',
        frameId: frame.frameId,
        captureTs: frame.captureTs,
        budget: frame.budget,
        part,
        parts: ranges.length,
        firstPatch: s,
        levels: levels.subarray(s, e),
        payload: payload.subarray(offsets[s], offsets[e]),
      },
      ctx,
    );
    if (bytes.length > max) throw new Error(`splitFrame bug: part ${part} is ${bytes.length} > ${max} bytes`);
    return bytes;
  });
}

function payloadOffsets(levels: Uint8Array, ctx: ProtocolContext): Float64Array {
  const offsets = new Float64Array(levels.length + 1);
  for (let i = 0; i < levels.length; i++) {
    const b = ctx.levelBytes[levels[i] as number];
    if (b === undefined) throw new ProtocolError('unknown-level', `patch ${i} has level ${levels[i]}`, 'levels');
    offsets[i + 1] = (offsets[i] as number) + b;
  }
  return offsets;
}

/**
 * Worst-case framing bytes (headers + level maps) for a frame whose payload totals `payloadBytes`,
 * whatever the level pattern. Lets an allocator reserve overhead before it knows the levels.
 */
export function frameOverheadBound(
  payloadBytes: number,
  ctx: ProtocolContext = DEFAULT_CONTEXT,
  maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
): number {
  const largestPatch = Math.max(...ctx.levelBytes.map((b) => b ?? 0));
  const levelBytes = packedLength(ctx.patchCount);
  // Every part but the last is full to within one patch (and its level token, <= 3 bytes) of the limit.
  const usable = maxMessageBytes - PART_HEADER_BOUND - largestPatch - 3;
  const parts = 1 + Math.floor((payloadBytes + levelBytes) / usable);
  return parts * (PART_HEADER_BOUND + 1) + levelBytes;
}
