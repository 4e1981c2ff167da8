/**
 * A session's video track as frames (hello `transport: 'rtp'`). Pure: packets (Node) or whole
 * pictures from the browser's jitter buffer (the page), `picture` announcements and time go in;
 * frames come out in order, joined to their announcements, and only ever a chain a decoder can
 * follow: after any loss (a picture dropped by the assembler, undecodable payloads, a picture
 * never announced) only a keyframe comes out `complete` — the pictures before it come out
 * incomplete, to be acknowledged and not decoded — and `keyframe` says when to ask the sender for
 * one (at once, then every `keyRetryMs` while it has not come).
 */
import type { PictureMessage } from '@mmsc/protocol';
import { type CollectedFrame, MISSING } from '../collect-frame.js';
import { type JoinerOutput, PictureJoiner } from './picture-joiner.js';
import { type AssemblerOutput, RtpAssembler, type RtpPacketIn } from './rtp-assembler.js';

/** How a codec's pictures travel in RTP payloads (the codec package's depacketizers). */
export interface RtpDepacketizer {
  /** One picture's payloads in sequence order → the coded picture; throws when they do not make one. */
  depacketize(payloads: readonly Uint8Array[]): Uint8Array;
  /** Whether a coded picture is one a decoder can start from. */
  isKey(picture: Uint8Array): boolean;
  /** Whether a payload certainly begins a picture. */
  startsPicture(payload: Uint8Array): boolean;
}

/** A whole coded picture the platform's own jitter buffer assembled (the page: Chromium's). */
export interface EncodedPictureIn {
  rtpTs: number;
  data: Uint8Array;
  key: boolean;
  /** Arrival of its last packet (ms, this receiver's clock). */
  receiveTs: number;
}

export interface RtpVideoOutput {
  /** Joined frames in order; `complete` false: it came whole but a picture before it was lost (not to be decoded). */
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
  /** Pictures dropped for want of an announcement. */
  unannounced: number;
  /** Announcements whose picture never came. */
  unmatched: number;
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
  /** How long a picture waits for its announcement (PictureJoiner). */
  announceWaitMs?: number;
  /** How often a keyframe is asked for again while it has not come (default 500 ms). */
  keyRetryMs?: number;
}

export class RtpVideo {
  private readonly assembler: RtpAssembler;
  private readonly joiner: PictureJoiner;
  private readonly keyRetryMs: number;
  private frames = 0;
  private undecodable = 0;
  private skipped = 0;
  private keyframeRequests = 0;
  /** The next picture into the joiner follows one that could not be depacketized. */
  private gap = false;
  /** Only a keyframe may pass (at the start, and after any loss). */
  private awaitingKey = true;
  /** A keyframe is wanted (a loss, or a picture that needs one) and not yet come. */
  private wanted = false;
  private askedAt: number | null = null;

  constructor(private readonly options: RtpVideoOptions) {
    const { depacketizer, patchCount, deadlineMs, announceWaitMs } = options;
    this.assembler = new RtpAssembler({
      startsPicture: (p) => depacketizer.startsPicture(p),
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
    });
    this.joiner = new PictureJoiner({ patchCount, ...(announceWaitMs === undefined ? {} : { waitMs: announceWaitMs }) });
    this.keyRetryMs = options.keyRetryMs ?? 500;
  }

  /** One packet of the track (Node). */
  packet(p: RtpPacketIn, now: number): RtpVideoOutput {
    return this.out(this.fromTrack(this.assembler.push(p, now), now), now);
  }

  /** A whole picture from the platform's jitter buffer (the page). */
  picture(p: EncodedPictureIn, now: number): RtpVideoOutput {
    return this.out(this.pass(this.joiner.picture({ ...p, afterGap: false }, now)), now);
  }

  announce(m: PictureMessage, now: number): RtpVideoOutput {
    return this.out(this.pass(this.joiner.announce(m, now)), now);
  }

  /** Time passed: deadlines of losses and announcements, keyframe requests repeated. */
  poll(now: number): RtpVideoOutput {
    const frames = this.fromTrack(this.assembler.poll(now), now);
    frames.push(...this.pass(this.joiner.poll(now)));
    return this.out(frames, now);
  }

  /** When `poll` has something to do next, or null. */
  nextDeadline(now: number): number | null {
    const times = [this.assembler.nextDeadline(now), this.joiner.nextDeadline()];
    if (this.wanted && this.askedAt !== null) times.push(this.askedAt + this.keyRetryMs);
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
    const j = this.joiner.stats;
    return {
      frames: this.frames,
      dropped: a.droppedPictures,
      undecodable: this.undecodable,
      unannounced: j.unannounced,
      unmatched: j.unmatched,
      skipped: this.skipped,
      keyframeRequests: this.keyframeRequests,
      packets: a.packets,
      duplicates: a.duplicates,
      late: a.late,
      resets: a.resets,
    };
  }

  /** The link went: everything in flight is dropped; the next frame must be a keyframe. */
  clear(): void {
    this.assembler.clear();
    this.joiner.clear();
    this.gap = false;
    this.awaitingKey = true;
    this.wanted = false;
    this.askedAt = null;
  }

  /** The assembler's pictures, depacketized, into the joiner; what the joiner lets out, through the gate. */
  private fromTrack(a: AssemblerOutput, now: number): CollectedFrame[] {
    if (a.dropped) this.wanted = true;
    const frames: CollectedFrame[] = [];
    const { depacketizer } = this.options;
    for (const p of a.pictures) {
      let data: Uint8Array;
      try {
        data = depacketizer.depacketize(p.payloads);
      } catch {
        this.undecodable++;
        this.gap = true;
        this.wanted = true;
        continue;
      }
      const afterGap = p.afterGap || this.gap;
      this.gap = false;
      frames.push(
        ...this.pass(this.joiner.picture({ rtpTs: p.rtpTs, data, key: depacketizer.isKey(data), receiveTs: p.lastArrival, afterGap }, now)),
      );
    }
    return frames;
  }

  /** Lets through only what a decoder can follow. */
  private pass(j: JoinerOutput): CollectedFrame[] {
    if (j.dropped) this.wanted = true;
    const frames: CollectedFrame[] = [];
    for (const { frame, afterGap } of j.frames) {
      if (afterGap) this.awaitingKey = true;
      const key = frame.video?.key === true;
      if (this.awaitingKey && !key) {
        // It came whole (the sender hears of it: its rate control measures the link), but cannot be decoded.
        this.skipped++;
        this.wanted = true;
        frames.push({ ...frame, complete: false, levels: frame.levels.fill(MISSING) });
        continue;
      }
      if (key) {
        this.awaitingKey = false;
        this.wanted = false;
        this.askedAt = null;
      }
      this.frames++;
      frames.push(frame);
    }
    return frames;
  }

  /** The frames, and whether to ask for a keyframe now (at once, then every keyRetryMs while it has not come). */
  private out(frames: CollectedFrame[], now: number): RtpVideoOutput {
    let keyframe = false;
    if (this.wanted && (this.askedAt === null || now - this.askedAt >= this.keyRetryMs)) {
      this.askedAt = now;
      this.keyframeRequests++;
      keyframe = true;
    }
    return { frames, keyframe };
  }
}
