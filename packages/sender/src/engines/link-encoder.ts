import type { Chroma } from '@mmsc/codec';
import type { EngineName, HelloMessage, ProtocolContext } from '@mmsc/protocol';
import type { DistortionCurve } from '../allocate/distortion.js';
import type { RgbImage } from '../images.js';
import type { AllocatorName } from '../pipeline/encode-frame.js';
import type { PipelineFrame } from '../pipeline/frame-pipeline.js';
import type { RtpVideoFormat } from '../pipeline/video-backend.js';

export type { AllocatorName, RtpVideoFormat };

/** One frame of one link: its id, its capture time and the wire bytes it may take. */
export interface LinkFrame {
  frameId: number;
  captureTs: number;
  /** Wire bytes this frame may take (the rate controller's budget, less what went before it this tick). */
  budget: number;
}

/** One coded frame of one link, ready for its peer. */
export interface LinkPicture {
  /** The frame's messages on the data channel, in the order they go out. */
  parts: readonly Uint8Array[];
  /** Transport `rtp`: the picture's RTP payloads on the video track (after `parts`), and its RTP timestamp. */
  track?: { payloads: readonly Uint8Array[]; rtpTs: number };
  wireBytes: number;
  /** The budget stated on the wire: the frame's, or the engine's credit when it borrows from later frames. */
  stated: number;
  /** Where the frame's time went, ms (an engine without an allocation step counts its conversion there). */
  ms: { allocate: number; encode: number; pack: number };
  /** What MMSC_DEBUG_RATE logs of this engine's frame besides its budget and bytes (e.g. `key`, `credit`). */
  debug: Record<string, unknown>;
}

/** What became of a receiver's `refresh` (a keyframe request). */
export type RefreshAnswer =
  /**
   * Taken: the next picture is a keyframe; `note` says when the stream restarts in another format
   * (logged). `ignored`: a keyframe went too recently or is on its way already, and answers this one.
   */
  | { ok: true; note?: string; ignored?: boolean }
  /** This engine has no keyframes: the receiver is told `unexpected-message` with `why`. */
  | { ok: false; why: string };

/**
 * One receiver's encoder, held by its link: a frame shared by every receiver, its relevance for this
 * receiver's query and this receiver's budget → this receiver's wire parts. It holds whatever the
 * engine keeps per receiver (references, held patches, bucket credit) and nothing of any other.
 */
export interface LinkEncoder {
  /**
   * This receiver's picture of `frame`, or null when the engine skips the frame (not even its framing
   * fits, or its credit is short). `scores` are the relevance per 8×8 patch, row-major, in [0, 1].
   */
  encode(frame: PipelineFrame, f: LinkFrame, scores: Float32Array): Promise<LinkPicture | null>;
  /** The receiver asked for a keyframe (`refresh`, with its reason). */
  refresh(reason: string): RefreshAnswer;
  /** The link is over: release what the encoder holds (native encoders, pooled buffers). Idempotent. */
  close(): void;
}

/** The sender's engine settings (`mmsc serve`'s options); each engine reads the ones it has. */
export interface EngineOptions {
  /** Engine `patches`: the allocator. */
  allocator: AllocatorName;
  /** Engine `patches`: the codecs' distortion curves (the rd allocator). */
  curves: readonly DistortionCurve[];
  /** Engines on FFmpeg: the chroma format coded. */
  chroma: Chroma;
}

/**
 * An engine, as the registry holds it: how the sender codes frames for a receiver whose hello names
 * it. Adding one is a module exporting an `Engine` and its line in `registry.ts` (plus the receiver's
 * picture source and the protocol's engine name).
 */
export interface Engine {
  readonly name: EngineName;
  /** One line for `--help`. */
  readonly summary: string;
  /** Whether its pictures predict from earlier ones (a benchmark then feeds it moving frames). */
  readonly temporal: boolean;
  /** Whether its encoders read the frame's learned patch codes (the patch encoders must then be loaded). */
  readonly patchCodes?: boolean;
  /** Null when it can run on this machine, else why not (one line; e.g. a native library did not load). */
  unavailable(): Promise<string | null>;
  /** The hello with this engine's fields set on the common ones (geometry, levels, fps). */
  hello(common: HelloMessage): HelloMessage;
  /** The settings that shape this engine's streams, for the start-up line (e.g. `allocator rd`, `444`). */
  describe(opts: EngineOptions): string;
  /**
   * Its pictures' format on an RTP video track (a codec engine), for the sender's offer; absent: its
   * frames travel on the data channel only.
   */
  rtpFormat?(opts: EngineOptions): RtpVideoFormat;
  /** One receiver's encoder for a session with this hello (`hello.transport` says where its pictures go). */
  createLinkEncoder(hello: HelloMessage, ctx: ProtocolContext, opts: EngineOptions): LinkEncoder;
  /**
   * A video engine's picture of one still within `budget` wire bytes (one keyframe, its quality knob
   * searched to fit; the stills evaluation), or null when nothing fits. Absent: the engine has no such coder.
   */
  still?(image: RgbImage, scores: Float32Array, budget: number, hello: HelloMessage): Promise<StillPicture | null>;
}

/** One still's messages as a link would carry them. */
export interface StillPicture {
  parts: Uint8Array[];
  wireBytes: number;
}
