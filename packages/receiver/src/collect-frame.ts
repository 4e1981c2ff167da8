import type { BaseMessage, FeedbackMessage, FrameMessage, ProtocolContext, VideoMessage } from '@mmsc/protocol';

/** Level value marking a patch whose part never arrived (distinct from every wire symbol 0..7). */
export const MISSING = 255;

/** A frame as far as it arrived: whole, or given up on because a newer frame started. */
export interface CollectedFrame {
  frameId: number;
  captureTs: number;
  budget: number;
  parts: number;
  partsReceived: number;
  /** Wire bytes of the parts received. */
  bytesReceived: number;
  /** Receive time of the last part received (ms, receiver clock). */
  lastReceiveTs: number;
  complete: boolean;
  /** One level symbol per patch of the frame; MISSING where the part was lost. */
  levels: Uint8Array;
  /** Received parts in patch order: each part's payload, to be decoded by its levels. */
  received: FrameMessage[];
  /** Engine `h264`: the picture's parts' data in order (whole only when `complete`); null for patch frames. */
  video: { key: boolean; chunks: Uint8Array[] } | null;
  /** Engine `patches`: the frame's base layer (encodeBase bytes), when the sender sent one. */
  base: Uint8Array | null;
  /**
   * Transport `rtp`: it sat in a network queue (RtpVideo's `staleMs`). Decoded like any frame, so the
   * pictures after it can be; shown only when nothing fresher follows soon (StaleHold).
   */
  stale?: boolean;
}

/**
 * Gathers frame parts into frames. Parts of one frame arrive in order on the reliable channel, but
 * the sender may drop stale parts; a part of a newer frame closes the older one as incomplete.
 */
export class FrameCollector {
  private current: CollectedFrame | null = null;
  /** A base layer waiting for its frame's first part, and its wire bytes. */
  private base: { m: BaseMessage; bytes: number } | null = null;

  constructor(private readonly ctx: ProtocolContext) {}

  /** Adds a part; returns the frames this part finished (0, 1 or 2 of them). */
  push(part: FrameMessage, wireBytes: number, receiveTs: number): CollectedFrame[] {
    const done: CollectedFrame[] = [];
    if (this.current && this.current.frameId !== part.frameId) {
      done.push(this.current);
      this.current = null;
    }
    this.current ??= this.start(part, receiveTs, null);
    const f = this.current;
    f.levels.set(part.levels, part.firstPatch);
    f.received.push(part);
    f.partsReceived++;
    f.bytesReceived += wireBytes;
    f.lastReceiveTs = receiveTs;
    if (f.partsReceived >= f.parts) {
      f.complete = true;
      done.push(f);
      this.current = null;
    }
    return done;
  }

  /**
   * Adds a part of a coded picture (a video engine: `h264`, `vp8`); same rules as `push`. A video frame's level
   * map says nothing per patch: MISSING until the picture is whole, then 0.
   */
  pushVideo(part: VideoMessage, wireBytes: number, receiveTs: number): CollectedFrame[] {
    const done: CollectedFrame[] = [];
    if (this.current && (this.current.frameId !== part.frameId || !this.current.video)) {
      done.push(this.current);
      this.current = null;
    }
    this.current ??= this.start(part, receiveTs, { key: part.key, chunks: [] });
    const f = this.current;
    const v = f.video as { key: boolean; chunks: Uint8Array[] };
    // A part out of order (a sender bug: the channel is ordered) leaves the picture incomplete.
    if (part.part === v.chunks.length) v.chunks.push(part.data);
    f.partsReceived++;
    f.bytesReceived += wireBytes;
    f.lastReceiveTs = receiveTs;
    if (f.partsReceived >= f.parts) {
      f.complete = v.chunks.length === f.parts;
      if (f.complete) f.levels.fill(0);
      done.push(f);
      this.current = null;
    }
    return done;
  }

  /**
   * Holds a base layer for the frame whose parts come next (it is sent just before them); its wire
   * bytes count in that frame's bytesReceived, as the sender counted them in its budget.
   */
  pushBase(m: BaseMessage, wireBytes: number): void {
    this.base = { m, bytes: wireBytes };
  }

  private takeBase(frameId: number): { data: Uint8Array; bytes: number } | null {
    const b = this.base;
    this.base = null;
    return b && b.m.frameId === frameId ? { data: b.m.data, bytes: b.bytes } : null;
  }

  /** A frame begun by its first part; a patch frame takes the base layer sent just before it. */
  private start(part: FrameMessage | VideoMessage, receiveTs: number, video: CollectedFrame['video']): CollectedFrame {
    const base = video ? null : this.takeBase(part.frameId);
    return {
      frameId: part.frameId,
      captureTs: part.captureTs,
      budget: part.budget,
      parts: part.parts,
      partsReceived: 0,
      bytesReceived: base?.bytes ?? 0,
      lastReceiveTs: receiveTs,
      complete: false,
      levels: new Uint8Array(this.ctx.patchCount).fill(MISSING),
      received: [],
      video,
      base: base?.data ?? null,
    };
  }

  /** Closes the frame in progress, if any (e.g. on disconnect). */
  flush(): CollectedFrame[] {
    const f = this.current;
    this.current = null;
    return f ? [f] : [];
  }
}

/** The feedback message the receiver sends for a collected frame (bandwidth estimation). */
export function feedbackFor(f: CollectedFrame): FeedbackMessage {
  return {
    type: 'feedback',
    frameId: f.frameId,
    bytesReceived: f.bytesReceived,
    partsReceived: f.partsReceived,
    receiveTs: f.lastReceiveTs,
  };
}
