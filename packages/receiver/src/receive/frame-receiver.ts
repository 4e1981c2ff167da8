import {
  type BaseMessage,
  contextFromHello,
  decodeMessage,
  type FeedbackMessage,
  type FrameMessage,
  type HelloMessage,
  type Message,
  type ProtocolContext,
  type VideoMessage,
} from '@mmsc/protocol';
import { type CollectedFrame, FrameCollector, feedbackFor, MISSING } from '../collect-frame.js';
import type { EnginePicture, ReceiverDecoders, ReceiverPlatform } from '../engines/picture-source.js';
import { pictureSource } from '../engines/registry.js';
import type { ApplyStats } from '../reassemble.js';
import type { RtpPacketIn } from '../rtp/rtp-assembler.js';
import { type EncodedPictureIn, RtpVideo, type RtpVideoCounters, type RtpVideoOutput } from '../rtp/rtp-video.js';
import { DecoderMismatchError } from './verify-decoders.js';

export type { ReceiverDecoders };

/** The most packets (or pictures) of the video track kept from before a hello. */
const EARLY_LIMIT = 1024;

/**
 * One session's picture: made by the picture source registered for the hello's engine (its
 * decoders verified against the hello), then every frame applied to it. Frames are applied
 * strictly one after another, in the order `apply` was called, whatever the caller awaits: each
 * picture is built on the one before.
 */
export class SessionPicture {
  /** Per patch: the level symbol of the last copy decoded (what the picture shows there). */
  private readonly lastCoded: Uint8Array;
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * The session's picture, from the picture source of the hello's engine; null when this platform
   * only collects that engine's frames (no patch decoders here).
   * @throws {DecoderMismatchError} when the platform cannot decode what the hello announces
   *   (a decoder not the one named, or no decoder for the engine)
   */
  static open(hello: HelloMessage, platform: ReceiverPlatform): SessionPicture | null {
    const ctx = contextFromHello(hello);
    const picture = pictureSource(hello.engine).create(hello, ctx, platform);
    return picture ? new SessionPicture(hello, ctx, picture) : null;
  }

  private constructor(
    readonly hello: HelloMessage,
    readonly ctx: ProtocolContext,
    /** The engine's picture (the patches' Reassembler, a video engine's VideoPicture). */
    readonly picture: EnginePicture,
  ) {
    this.lastCoded = new Uint8Array(ctx.patchCount).fill(MISSING);
  }

  apply(frame: CollectedFrame): Promise<ApplyStats> {
    const run = this.tail.then(async () => {
      const stats = await this.picture.apply(frame);
      const { levelBytes } = this.ctx;
      for (let p = 0; p < frame.levels.length; p++) {
        const sym = frame.levels[p] as number;
        if (sym !== MISSING && (levelBytes[sym] ?? 0) > 0) this.lastCoded[p] = sym;
      }
      return stats;
    });
    this.tail = run.catch(() => undefined); // one failed frame does not stop the next
    return run;
  }

  /** Releases the picture's decoder, if it holds one. */
  close(): void {
    this.picture.close();
  }

  /**
   * Per patch, as of the last frame applied: the level symbol of the copy on screen, MISSING where
   * the patch is interpolated (no copy yet). The page's "levels of the copies on screen" overlay.
   */
  shownLevels(): Uint8Array {
    const shown = new Uint8Array(this.ctx.patchCount);
    for (let p = 0; p < shown.length; p++) shown[p] = this.picture.have[p] ? (this.lastCoded[p] as number) : MISSING;
    return shown;
  }
}

/** A frame finished by a message: what to acknowledge at once, and which session's picture it belongs to. */
export interface FinishedFrame {
  frame: CollectedFrame;
  /** Send it now: the sender's rate control measures the link, not this receiver's decoder. */
  feedback: FeedbackMessage;
  /** The session (counted from 1 by hellos) the frame was collected in. */
  session: number;
  /** Came whole on the video track, but a picture before it was lost: acknowledged, never decoded. */
  held?: true;
}

/** What one data-channel message was. */
export type Receipt =
  /** A new session starts (even with the same id: the sender starts its picture afresh). */
  | {
      type: 'hello';
      message: HelloMessage;
      /** The hello of the session this one replaces; a different sessionId means the sender restarted. */
      previous: HelloMessage | null;
      /** Set when this receiver's decoders do not match the hello's: frames are still collected, never decoded. */
      refused: DecoderMismatchError | null;
      /** What the video track brought before the hello (its packets can overtake it), taken into the session now. */
      track: TrackReceipt;
    }
  /** A frame part of the current session, and the frames it finished. */
  | { type: 'frame'; message: FrameMessage | VideoMessage | BaseMessage; frames: FinishedFrame[] }
  /** A frame part outside any session (before the hello, or after the link went): it cannot be placed. */
  | { type: 'stray'; message: FrameMessage | VideoMessage | BaseMessage }
  /**
   * Anything else (grounding, relevance, error); query, feedback, refresh or picture would be the
   * sender's mistake (ReceiverCounters.unexpected): a `picture` travels in its picture's trailer on
   * the video track, and one on the data channel is not read.
   */
  | { type: 'other'; message: Message }
  /** Not a valid message: the protocol's reason. */
  | { type: 'invalid'; error: Error };

/** What the video track gave (a session whose hello says `transport: 'rtp'`). */
export interface TrackReceipt {
  frames: FinishedFrame[];
  /** Ask the sender for a keyframe now (RtpVideo). */
  keyframe: boolean;
}

export interface ReceiverCounters {
  messages: number;
  bytes: number;
  protocolErrors: number;
  frames: number;
  incompleteFrames: number;
  /** Frames whose received wire bytes exceed the budget the sender gave them. */
  overBudget: number;
  /** Valid messages a sender never sends here (query, feedback, refresh; `picture`, which rides in its picture's trailer), not read. */
  unexpected: number;
}

/** Message types a receiver never expects on the data channel. */
const UNEXPECTED: ReadonlySet<Message['type']> = new Set(['query', 'feedback', 'refresh', 'picture']);

/**
 * What the receiver decodes with. Without patch decoders and video decoders frames are only
 * collected and acknowledged (the page does that on its main thread and decodes in its worker,
 * with a SessionPicture).
 */
export type FrameReceiverOptions = ReceiverPlatform;

/**
 * The receiving side of a link, without the link: data-channel messages go in as bytes; hello
 * starts a session (its context, a FrameCollector, the verified decoders' SessionPicture), frame
 * parts become frames with their feedback, and `decode` turns a frame into the picture. Receiving
 * is synchronous so that feedback can leave before any decode; decoding is the caller's to await.
 * The same object serves `mmsc probe` (a werift channel), evaluation (messages fed directly), the
 * browser tests' Node reference (a recorded log) and the page (collecting only).
 */
export class FrameReceiver {
  hello: HelloMessage | null = null;
  ctx: ProtocolContext | null = null;
  /** The current session's picture; null without decoders, or when they do not match the hello. */
  picture: SessionPicture | null = null;
  /** The current session's decoder refusal, if any. */
  refused: DecoderMismatchError | null = null;
  /** Sessions started (hellos received). */
  session = 0;
  readonly stats: ReceiverCounters = {
    messages: 0,
    bytes: 0,
    protocolErrors: 0,
    frames: 0,
    incompleteFrames: 0,
    overBudget: 0,
    unexpected: 0,
  };
  private collector: FrameCollector | null = null;
  /** The current session's video track, when its pictures come on one. */
  private track: RtpVideo | null = null;
  /** The last track's counters (they outlive the link, like the picture). */
  private lastTrack: RtpVideo | null = null;
  /** The track's repair deadline, as the link's round trip sets it (null: RtpAssembler's default). */
  private trackDeadlineMs: number | null = null;
  /**
   * What the track brought before any session's hello (its packets can overtake the hello on the
   * data channel): replayed into the session's track when the hello says `rtp`, dropped otherwise.
   */
  private early: ({ packet: RtpPacketIn; at: number } | { picture: EncodedPictureIn; at: number })[] = [];

  constructor(private readonly options: FrameReceiverOptions = {}) {}

  receive(bytes: Uint8Array, receiveTs: number): Receipt {
    this.stats.messages++;
    this.stats.bytes += bytes.length;
    let message: Message;
    try {
      message = decodeMessage(bytes, this.ctx ?? undefined);
    } catch (e) {
      this.stats.protocolErrors++;
      return { type: 'invalid', error: e instanceof Error ? e : new Error(String(e)) };
    }
    if (message.type === 'hello') return this.begin(message);
    if (message.type === 'base') {
      if (!this.collector) return { type: 'stray', message };
      this.collector.pushBase(message, bytes.length);
      return { type: 'frame', message, frames: [] };
    }
    if (message.type === 'video') {
      if (!this.collector) return { type: 'stray', message };
      return { type: 'frame', message, frames: this.finished(this.collector.pushVideo(message, bytes.length, receiveTs)) };
    }
    if (message.type !== 'frame') {
      if (UNEXPECTED.has(message.type)) this.stats.unexpected++;
      return { type: 'other', message };
    }
    if (!this.collector) return { type: 'stray', message };
    return { type: 'frame', message, frames: this.finished(this.collector.push(message, bytes.length, receiveTs)) };
  }

  /** A packet of the session's video track (Node); before a hello it is kept for the session (bounded), in another session dropped. */
  rtpPacket(p: RtpPacketIn, receiveTs: number): TrackReceipt {
    if (this.track) return this.tracked(this.track.packet(p, receiveTs));
    if (!this.collector) this.keepEarly({ packet: p, at: receiveTs });
    return { frames: [], keyframe: false };
  }

  /** A whole picture of the video track, assembled by the platform (the page); kept like a packet before a hello. */
  trackPicture(p: EncodedPictureIn, now: number): TrackReceipt {
    if (this.track) return this.tracked(this.track.picture(p, now));
    if (!this.collector) this.keepEarly({ picture: p, at: now });
    return { frames: [], keyframe: false };
  }

  /** Time passed on the track: losses past their deadlines, keyframe requests repeated. */
  pollTrack(now: number): TrackReceipt {
    return this.track ? this.tracked(this.track.poll(now)) : { frames: [], keyframe: false };
  }

  /** When `pollTrack` has something to do next, or null. */
  trackDeadline(now: number): number | null {
    return this.track?.nextDeadline(now) ?? null;
  }

  /** The track's repair deadline (RtpAssembler), from the link's round trip; it carries over to the next session. */
  setTrackDeadline(ms: number): void {
    this.trackDeadlineMs = ms;
    this.track?.setDeadline(ms);
  }

  /** The current (or last) session's video-track counters; null when none came on a track. */
  get trackStats(): RtpVideoCounters | null {
    return (this.track ?? this.lastTrack)?.stats ?? null;
  }

  /**
   * Decodes a finished frame into its session's picture, after every frame handed in before it.
   * Null when there is nothing to decode it with: no decoders, its session has been replaced
   * (a newer hello), or it is `held`. Rejects with the session's DecoderMismatchError when the decoders were refused.
   */
  decode(f: FinishedFrame): Promise<ApplyStats | null> {
    if (f.session !== this.session || f.held) return Promise.resolve(null);
    if (this.refused) return Promise.reject(this.refused);
    return this.picture ? this.picture.apply(f.frame) : Promise.resolve(null);
  }

  /**
   * The link went: the frame in progress is given up and returned (what arrived of it is still
   * worth showing), and frame parts are strays until the next hello. The last hello and its
   * context stay, like the picture on screen.
   */
  close(): FinishedFrame[] {
    const done = this.finished(this.collector?.flush() ?? []);
    this.collector = null;
    // Pictures in flight on the track are gone with it.
    this.track?.clear();
    this.lastTrack = this.track;
    this.track = null;
    this.early = [];
    return done;
  }

  private begin(hello: HelloMessage): Receipt {
    const previous = this.hello;
    this.session++;
    this.hello = hello;
    this.ctx = contextFromHello(hello);
    this.collector = new FrameCollector(this.ctx);
    this.track?.clear();
    this.track = null;
    const rtp = hello.transport === 'rtp' ? pictureSource(hello.engine).rtp : undefined;
    const before = this.early;
    this.early = [];
    if (rtp) {
      const deadline = this.trackDeadlineMs === null ? {} : { deadlineMs: this.trackDeadlineMs };
      const track = new RtpVideo({ depacketizer: rtp, patchCount: this.ctx.patchCount, ...deadline });
      this.track = this.lastTrack = track;
    }
    this.picture?.close();
    this.picture = null;
    this.refused = null;
    const { decoders, video } = this.options;
    // With nothing to decode with, frames are only collected; otherwise the engine's picture source
    // decides (a patches session without patch decoders is only collected, a video one without a
    // video decoder refused).
    if (decoders || video) {
      try {
        this.picture = SessionPicture.open(hello, this.options);
      } catch (e) {
        if (!(e instanceof DecoderMismatchError)) throw e;
        this.refused = e;
      }
    }
    // What the track brought before the hello: its frames belong to this session.
    const early: TrackReceipt = { frames: [], keyframe: false };
    for (const e of before) {
      if (!this.track) break;
      const r = this.tracked('packet' in e ? this.track.packet(e.packet, e.at) : this.track.picture(e.picture, e.at));
      early.frames.push(...r.frames);
      early.keyframe ||= r.keyframe;
    }
    return { type: 'hello', message: hello, previous, refused: this.refused, track: early };
  }

  private keepEarly(e: FrameReceiver['early'][number]): void {
    if (this.early.length >= EARLY_LIMIT) this.early.shift();
    this.early.push(e);
  }

  private tracked(r: RtpVideoOutput): TrackReceipt {
    const frames = this.finished(r.frames).map((f) => (f.frame.complete ? f : { ...f, held: true as const }));
    return { frames, keyframe: r.keyframe };
  }

  private finished(frames: CollectedFrame[]): FinishedFrame[] {
    return frames.map((frame) => {
      this.stats.frames++;
      if (!frame.complete) this.stats.incompleteFrames++;
      if (frame.bytesReceived > frame.budget) this.stats.overBudget++;
      return { frame, feedback: feedbackFor(frame), session: this.session };
    });
  }
}
