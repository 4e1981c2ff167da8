/** Wire format version carried as the first element of every message. */
export const PROTOCOL_VERSION = 1;

/** Numeric type tags on the wire (second element of every message). */
export const MESSAGE_TYPES = {
  hello: 1,
  frame: 2,
  relevance: 3,
  grounding: 4,
  video: 5,
  base: 6,
  picture: 7,
  query: 16,
  feedback: 17,
  refresh: 18,
  view: 19,
  error: 127,
} as const;

export type MessageTypeName = keyof typeof MESSAGE_TYPES;

/**
 * Level symbol 7 is reserved for "keep": zero payload bytes, the receiver reuses its last copy of
 * the patch. Level-table ids are 0..6.
 */
export const KEEP_LEVEL = 7;
export const MAX_LEVEL_ID = 6;

export type LevelKind = 'skip' | 'learned' | 'raw';

export interface LevelSpec {
  /** Symbol used in frame level maps, 0..6. */
  id: number;
  /** Payload bytes per patch at this level. */
  bytes: number;
  kind: LevelKind;
  /** The decoder the receiver must use (learned levels only). */
  model: { id: string; sha256: string } | null;
}

/**
 * How the session's pictures are coded. `patches`: the paper's per-patch levels in `frame`
 * messages. `h264`: an H.264 stream (Annex B, 4:2:0, full-range BT.601) in `video` messages, its
 * quantizer per macroblock following the relevance; the level table then only names the tiers.
 * `vp8`: a VP8 stream (4:2:0, full-range BT.601) in `video` messages, its quantizer per block likewise.
 */
export type EngineName = 'patches' | 'h264' | 'vp8';
export const ENGINES: readonly EngineName[] = ['patches', 'h264', 'vp8'];
/** The engine of a hello that names none (the hello before engines existed): it is sent as no field. */
export const IMPLICIT_ENGINE: EngineName = 'patches';

/** Sender → receiver, first message of a session: everything needed to interpret frames. */
export interface HelloMessage {
  type: 'hello';
  sessionId: string;
  width: number;
  height: number;
  patchSize: number;
  levels: LevelSpec[];
  maxMessageBytes: number;
  fps: number | null;
  /** Absent on the wire for `patches` (the hello of protocol version 1 before engines existed). */
  engine: EngineName;
  /**
   * Where a video engine's pictures travel: absent (the data channel, as `video` messages) or `rtp`
   * (the session's RTP video track; each picture carries its `picture` message in its trailer).
   */
  transport?: VideoTransport;
}

/**
 * `channel`: coded pictures as `video` messages on the data channel. `rtp`: on an RTP video track
 * (the receiver's jitter buffer, NACK and PLI repair losses), each with its `picture` message in its trailer.
 */
export type VideoTransport = 'channel' | 'rtp';
export const VIDEO_TRANSPORTS: readonly VideoTransport[] = ['channel', 'rtp'];

/**
 * Sender → receiver: one part of one frame, covering patches [firstPatch, firstPatch + levels.length)
 * in raster order. Decodable on its own; losing it costs only its patches.
 */
export interface FrameMessage {
  type: 'frame';
  frameId: number;
  /** Capture time, ms since the Unix epoch on the sender's clock. */
  captureTs: number;
  /** Wire-byte budget the sender allotted to the whole frame. */
  budget: number;
  /** Index of this part, 0..parts-1. */
  part: number;
  parts: number;
  firstPatch: number;
  /** One level symbol per patch of this part. */
  levels: Uint8Array;
  /** Payloads of this part's patches, concatenated in patch order. */
  payload: Uint8Array;
}

/**
 * Sender → receiver (video engines: `h264`, `vp8`): one part of one coded picture. Parts of a frame arrive in
 * order on the reliable channel; the picture decodes once all are in. `key` marks an IDR picture,
 * which a decoder can start from (the first of a session, and the answer to a `refresh`).
 */
export interface VideoMessage {
  type: 'video';
  frameId: number;
  captureTs: number;
  /** Wire-byte budget the sender allotted to the whole frame (its bucket's credit at the time). */
  budget: number;
  part: number;
  parts: number;
  key: boolean;
  /** This part's slice of the access unit. */
  data: Uint8Array;
}

/**
 * Sender → receiver (a video engine on transport `rtp`): what one coded picture on the session's
 * video track is. It travels in the picture's trailer on the track (picture-trailer.ts), never on
 * the data channel; `bytes` is what the picture cost on the track (payloads and packet headers),
 * which the receiver's feedback reports.
 */
export interface PictureMessage {
  type: 'picture';
  frameId: number;
  captureTs: number;
  budget: number;
  key: boolean;
  /** The picture's RTP timestamp on the video track (90 kHz clock, uint32). */
  rtpTs: number;
  bytes: number;
}

/**
 * Sender → receiver (engine `patches`): the coarse base layer of a frame (`makeBase` in
 * @mmsc/codec), sent before the frame's parts; every patch the frame skips shows it instead of an
 * older copy. Counted in the frame's budget.
 */
export interface BaseMessage {
  type: 'base';
  frameId: number;
  /** encodeBase's bytes for the session's patch grid. */
  data: Uint8Array;
}

/** Sender → receiver (optional): low-resolution relevance map for display, values/255 in [0,1]. */
export interface RelevanceMessage {
  type: 'relevance';
  frameId: number;
  width: number;
  height: number;
  values: Uint8Array;
}

export interface GroundedWord {
  word: string;
  classes: { name: string; weight: number }[];
  /** Set when the query asks for everything but this ("everything except the dog", "no people"): its classes are suppressed. */
  negated?: true;
  /** Set when none of the word's objects is detected in the sender's latest frames (the grounding is sent again when that changes). */
  notInView?: true;
  /** The words that pick among its objects, as typed ("red", "left", "second"): what the sender understood them as modifying. */
  modifiers?: string[];
}

/** Bits of a grounded word's third element on the wire (omitted when none is set). */
export const WORD_FLAGS = { negated: 1, notInView: 2 } as const;

/** Sender → receiver: what a query was understood as. */
export interface GroundingMessage {
  type: 'grounding';
  queryId: string;
  text: string;
  /** True when no word grounded and the sender fell back to the query-agnostic map. */
  fallback: boolean;
  words: GroundedWord[];
  ungrounded: string[];
}

/** Receiver → sender: a new free-text query; takes effect on the next frame. */
export interface QueryMessage {
  type: 'query';
  queryId: string;
  text: string;
}

/** Receiver → sender: what arrived of a frame, for bandwidth estimation. */
export interface FeedbackMessage {
  type: 'feedback';
  frameId: number;
  bytesReceived: number;
  partsReceived: number;
  /** Receive time of the frame's last part, ms since the Unix epoch on the receiver's clock. */
  receiveTs: number;
}

/**
 * The `refresh` reason of a receiver whose decoder cannot decode the stream's format at all (e.g. a
 * browser without H.264 High 4:4:4): the sender restarts that receiver's stream in 4:2:0.
 */
export const REFRESH_UNSUPPORTED_FORMAT = 'unsupported-format';

/** Receiver → sender (video engines: `h264`, `vp8`): the decoder lost its reference; code the next frame as a keyframe. */
export interface RefreshMessage {
  type: 'refresh';
  /** Why, for the sender's log (e.g. "decode-error"). */
  reason: string;
}

/**
 * Receiver → sender: what the operator's view asks of this link. `maps`: a relevance map with every
 * frame (the overlay is on: the map shown is the one that coded the picture on screen); `maxBps`:
 * the operator's cap on this link's rate, bits per second (0: none; the sender's own cap holds too).
 */
export interface ViewMessage {
  type: 'view';
  maps: boolean;
  maxBps: number;
}

/** The most a `view` message's `maxBps` may say, bits per second. */
export const MAX_VIEW_BPS = 1_000_000_000;

/** Either direction: something went wrong. `ref` names the query or frame concerned, if any. */
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
  ref: string | null;
}

export type Message =
  | HelloMessage
  | FrameMessage
  | PictureMessage
  | VideoMessage
  | BaseMessage
  | RelevanceMessage
  | GroundingMessage
  | QueryMessage
  | FeedbackMessage
  | RefreshMessage
  | ViewMessage
  | ErrorMessage;

/** Size limits enforced on both encode and decode. */
export const LIMITS = {
  idBytes: 64,
  textBytes: 1024,
  wordBytes: 64,
  words: 64,
  classesPerWord: 80,
  modifiersPerWord: 8,
  maxDimension: 8192,
  maxPatchSize: 64,
  minMessageBytes: 1024,
  maxMessageBytes: 1 << 20,
  /** Any single encoded message larger than this is rejected before parsing. */
  maxDecodeBytes: 1 << 20,
  maxFrameId: 0xffffffff,
} as const;

/** The paper's level table: skip, three learned codecs, raw uint8. */
export function defaultLevels(models?: Partial<Record<12 | 24 | 48, { id: string; sha256: string }>>): LevelSpec[] {
  const model = (bytes: 12 | 24 | 48) => models?.[bytes] ?? { id: `codec-L${bytes}`, sha256: '0'.repeat(64) };
  return [
    { id: 0, bytes: 0, kind: 'skip', model: null },
    { id: 1, bytes: 12, kind: 'learned', model: model(12) },
    { id: 2, bytes: 24, kind: 'learned', model: model(24) },
    { id: 3, bytes: 48, kind: 'learned', model: model(48) },
    { id: 4, bytes: 192, kind: 'raw', model: null },
  ];
}

export const DEFAULT_GEOMETRY = { width: 480, height: 320, patchSize: 8 } as const;
export const DEFAULT_MAX_MESSAGE_BYTES = 65536;
