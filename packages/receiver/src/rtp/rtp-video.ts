/**
 * A session's video track as frames (hello `transport: 'rtp'`). Pure: packets (Node) or whole
 * pictures from the browser's jitter buffer (the page) and time go in; frames come out in order,
 * each made from its picture and the announcement in its trailer (track-picture.ts), and only ever
 * a chain a decoder can follow: after any loss (a picture dropped by the assembler, undecodable
 * payloads, a picture without a valid trailer, a stale picture) only a keyframe comes out
 * `complete` — the pictures before it come out incomplete, to be acknowledged and not decoded —
 * and `keyframe` says when to ask the sender for one (at once, then every `keyRetryMs` while it
 * has not come).
 *
 * Fresh after an outage: a picture whose one-way delay lies more than `staleMs` (default 1 s) above
 * the lowest of the last 10 s (DelayFloor) sat in a network queue; it comes out marked `stale`, and
 * so do the pictures after it until one comes within `freshMs` (default 300 ms) of the floor: the
 * rest of the queue draining (after a 10 s outage its last pictures were 0.5–1 s old). A stale
 * picture is decoded like any other, so the pictures after it need no keyframe, and shown only when
 * nothing fresher follows soon (StaleHold). 1 s lies well above what a picture waits on a working
 * link (a keyframe's serialization at the sender's budget, a NACK's repair) and well below the
 * seconds a queue holds pictures through an outage.
 */
import type { PictureMessage } from '@mmsc/protocol';
import { type CollectedFrame, MISSING } from '../collect-frame.js';
import { DelayFloor } from './delay-floor.js';
import { type AssemblerOutput, RtpAssembler, type RtpPacketIn } from './rtp-assembler.js';
import { type CutPicture, cutPictureTrailer, type TrailerLayout, trackFrame } from './track-picture.js';

/** How a codec's pictures travel in RTP payloads (the codec package's depacketizers). */
export interface RtpDepacketizer {
  /** One picture's payloads in sequence order → the coded picture; throws when they do not make one. */
  depacketize(payloads: readonly Uint8Array[]): Uint8Array;
  /** Whether a coded picture is one a decoder can start from. */
  isKey(picture: Uint8Array): boolean;
  /** Whether a payload certainly begins a picture. */
  startsPicture(payload: Uint8Array): boolean;
  /** Where a depacketized picture carries its trailer. */
  readonly trailer: TrailerLayout;
}

/** A whole coded picture the platform's own jitter buffer assembled (the page: Chromium's), its trailer cut off there. */
export interface EncodedPictureIn {
  rtpTs: number;
  /** The coded picture without its trailer (cutPictureTrailer), as it went on to the platform's decoder. */
  data: Uint8Array;
  key: boolean;
  /** Arrival of its last packet (ms, this receiver's clock). */
  receiveTs: number;
  /** The announcement its trailer held; null: the trailer was missing or malformed (the picture counts as lost). */
  picture: PictureMessage | null;
}

export interface RtpVideoOutput {
  /** Frames in order; `complete` false: it came whole but is not to be decoded (a picture before it was lost, or it is stale). */
  frames: CollectedFrame[];
  /** Ask the sender for a keyframe now (a PLI where the platform can, and a `refresh`). */
  keyframe: boolean;
}

export interface RtpVideoCounters {
  /** Frames let through to be decoded. */
  frames: number;
  /** Pictures lost on the track (not repaired in time; start-overs). */
  dropped: number;
  /** Pictures whose payloads did not make a picture. */
  undecodable: number;
  /** Pictures dropped for a missing or malformed trailer (or one naming another RTP timestamp): lost, as no frame can be made of them. */
  badTrailer: number;
  /** Pictures that sat in a queue (one-way delay more than `staleMs` above the floor, and the queue's rest): decoded, marked `stale`. */
  stale: number;
  /** Whole pictures held back (output incomplete) while a keyframe was awaited. */
  skipped: number;
  keyframeRequests: number;
  packets: number;
  duplicates: number;
  late: number;
  resets: number;
}

export interface RtpVideoOptions {
  depacketizer: RtpDepacketizer;
  patchCount: number;
  /** The assembler's repair deadline (RtpAssembler). */
  deadlineMs?: number;
  /** How often a keyframe is asked for again while it has not come (default 500 ms). */
  keyRetryMs?: number;
  /** How far above the lowest one-way delay of the last 10 s a picture is stale (default 1 s). */
  staleMs?: number;
  /** After a stale picture, how close to that lowest delay a picture must come to be fresh again (default 300 ms). */
  freshMs?: number;
  /** The window of that lowest delay (DelayFloor, default 10 s of arrivals). */
  delayWindowMs?: number;
}

export const DEFAULT_STALE_MS = 1000;
export const DEFAULT_FRESH_MS = 300;
/**
 * A loss still unrepaired after this share of the repair deadline asks for a keyframe at once, while
 * the repair may still come: past one retry its chances are lower, and a keyframe asked for only at
 * the deadline comes a round trip, a frame interval and its own sending later (stalls of 1.0–1.3 s on
 * a burst-loss link). A repair that comes after all makes the keyframe unneeded, not harmful.
 */
export const EARLY_KEY_SHARE = 0.5;

export class RtpVideo {
  private readonly assembler: RtpAssembler;
  private readonly floor: DelayFloor;
  private readonly keyRetryMs: number;
  private readonly staleMs: number;
  private readonly freshMs: number;
  /** A stale picture came and no fresh one since: a queue is draining. */
  private draining = false;
  private frames = 0;
  private undecodable = 0;
  private badTrailer = 0;
  private stale = 0;
  private skipped = 0;
  private keyframeRequests = 0;
  /** The next picture follows one that was lost here (undecodable, no trailer). */
  private gap = false;
  /** Only a keyframe may pass (at the start, and after any loss). */
  private awaitingKey = true;
  /** A keyframe is wanted (a loss, or a picture that needs one) and not yet come. */
  private wanted = false;
  private askedAt: number | null = null;
  /** The loss (its `lossSince`) for which a keyframe was asked early, and whether that ask still stands. */
  private earlyFor: number | null = null;
  private earlyWanted = false;

  constructor(private readonly options: RtpVideoOptions) {
    const { depacketizer, deadlineMs, delayWindowMs } = options;
    this.assembler = new RtpAssembler({
      startsPicture: (p) => depacketizer.startsPicture(p),
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
    });
    this.floor = new DelayFloor(delayWindowMs === undefined ? {} : { windowMs: delayWindowMs });
    this.keyRetryMs = options.keyRetryMs ?? 500;
    this.staleMs = options.staleMs ?? DEFAULT_STALE_MS;
    this.freshMs = options.freshMs ?? DEFAULT_FRESH_MS;
  }

  /** One packet of the track (Node). */
  packet(p: RtpPacketIn, now: number): RtpVideoOutput {
    return this.out(this.fromTrack(this.assembler.push(p, now)), now);
  }

  /** A whole picture from the platform's jitter buffer (the page). */
  picture(p: EncodedPictureIn, now: number): RtpVideoOutput {
    return this.out(this.take(p.picture, p.rtpTs, p, false), now);
  }

  /** Time passed: deadlines of losses, keyframe requests repeated. */
  poll(now: number): RtpVideoOutput {
    return this.out(this.fromTrack(this.assembler.poll(now)), now);
  }

  /** When `poll` has something to do next, or null. */
  nextDeadline(now: number): number | null {
    const times = [this.assembler.nextDeadline(now)];
    const since = this.assembler.lossSince();
    if (since !== null && this.earlyFor !== since) times.push(since + EARLY_KEY_SHARE * this.assembler.deadline);
    if ((this.wanted || this.earlyWanted) && this.askedAt !== null) times.push(this.askedAt + this.keyRetryMs);
    const due = times.filter((t): t is number => t !== null);
    return due.length ? Math.max(now, Math.min(...due)) : null;
  }

  /** The assembler's repair deadline follows the link's round trip. */
  setDeadline(ms: number): void {
    this.assembler.setDeadline(ms);
  }

  get deadline(): number {
    return this.assembler.deadline;
  }

  get stats(): RtpVideoCounters {
    const a = this.assembler.stats;
    return {
      frames: this.frames,
      dropped: a.droppedPictures,
      undecodable: this.undecodable,
      badTrailer: this.badTrailer,
      stale: this.stale,
      skipped: this.skipped,
      keyframeRequests: this.keyframeRequests,
      packets: a.packets,
      duplicates: a.duplicates,
      late: a.late,
      resets: a.resets,
    };
  }

  /** The link went: everything in flight is dropped; the next frame must be a keyframe. (The delay floor stays: the clocks did not change.) */
  clear(): void {
    this.assembler.clear();
    this.gap = false;
    this.awaitingKey = true;
    this.wanted = false;
    this.earlyWanted = false;
    this.earlyFor = null;
    this.askedAt = null;
  }

  /** The assembler's pictures, depacketized and cut from their trailers, through the gate. */
  private fromTrack(a: AssemblerOutput): CollectedFrame[] {
    if (a.dropped) this.wanted = true;
    const frames: CollectedFrame[] = [];
    const { depacketizer } = this.options;
    for (const p of a.pictures) {
      let bytes: Uint8Array;
      try {
        bytes = depacketizer.depacketize(p.payloads);
      } catch {
        this.undecodable++;
        this.lost();
        continue;
      }
      let cut: ReturnType<typeof cutPictureTrailer> | null = null;
      try {
        cut = cutPictureTrailer(bytes, depacketizer.trailer);
      } catch {
        // take() counts it.
      }
      const data = cut?.data ?? bytes;
      frames.push(
        ...this.take(cut?.picture ?? null, p.rtpTs, { data, key: depacketizer.isKey(data), receiveTs: p.lastArrival }, p.afterGap),
      );
    }
    return frames;
  }

  /** A whole picture and its announcement → its frame, unless the trailer was bad; stale ones marked. */
  private take(m: PictureMessage | null, rtpTs: number, p: CutPicture, afterGap: boolean): CollectedFrame[] {
    if (m === null || m.rtpTs !== rtpTs >>> 0) {
      this.badTrailer++;
      this.lost();
      return [];
    }
    const frame = trackFrame(p, m, this.options.patchCount);
    const gap = afterGap || this.gap;
    this.gap = false;
    const excess = this.floor.excess(p.receiveTs, m.captureTs);
    this.draining = excess > this.staleMs || (this.draining && excess > this.freshMs);
    if (this.draining) {
      // Too old to show unless nothing fresher comes; decoded all the same, since the pictures after it refer to it.
      this.stale++;
      return [this.pass({ ...frame, stale: true }, gap)];
    }
    return [this.pass(frame, gap)];
  }

  /** A picture lost here: the next one follows a gap, a keyframe is wanted. */
  private lost(): void {
    this.gap = true;
    this.wanted = true;
  }

  /** Lets through only what a decoder can follow. */
  private pass(frame: CollectedFrame, afterGap: boolean): CollectedFrame {
    if (afterGap) this.awaitingKey = true;
    const key = frame.video?.key === true;
    if (this.awaitingKey && !key) {
      // It came whole (the sender hears of it: its rate control measures the link), but cannot be decoded.
      this.skipped++;
      this.wanted = true;
      return held(frame);
    }
    if (key) {
      this.awaitingKey = false;
      this.wanted = false;
      this.earlyWanted = false;
      this.askedAt = null;
    }
    this.frames++;
    return frame;
  }

  /** The frames, and whether to ask for a keyframe now (at once, then every keyRetryMs while it has not come). */
  private out(frames: CollectedFrame[], now: number): RtpVideoOutput {
    const since = this.assembler.lossSince();
    // Repaired (or given up: then `wanted` says so).
    if (since === null) this.earlyWanted = false;
    else if (this.earlyFor !== since && now - since >= EARLY_KEY_SHARE * this.assembler.deadline) {
      this.earlyFor = since;
      this.earlyWanted = true;
    }
    let keyframe = false;
    if ((this.wanted || this.earlyWanted) && (this.askedAt === null || now - this.askedAt >= this.keyRetryMs)) {
      this.askedAt = now;
      this.keyframeRequests++;
      keyframe = true;
    }
    return { frames, keyframe };
  }
}

/** A frame that came whole but is not to be decoded: acknowledged, its patches shown as missing. */
function held(frame: CollectedFrame): CollectedFrame {
  return { ...frame, complete: false, levels: frame.levels.fill(MISSING) };
}
