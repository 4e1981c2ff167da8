/**
 * An engine's receiving half: how a session's pictures are made from the frames its hello
 * announces. Each engine registers one PictureSource under the name its hello carries
 * (registry.ts); nothing else in the receiver asks which engine runs.
 */
import type { YuvPicture } from '@mmsc/codec';
import type { EngineName, HelloMessage, ProtocolContext } from '@mmsc/protocol';
import type { CollectedFrame } from '../collect-frame.js';
import type { ApplyStats, PatchDecoder } from '../reassemble.js';
import type { VideoDecoderPort } from '../reassemble-video.js';
import type { IdentifiedDecoders } from '../receive/verify-decoders.js';
import type { RtpDepacketizer } from '../rtp/rtp-video.js';

/** Decoders that can be checked against a hello before they are trusted with its frames (PatchCodecs is one). */
export interface ReceiverDecoders extends PatchDecoder, IdentifiedDecoders {}

/** A session's picture, whatever the engine: frames applied in order make it. */
export interface EnginePicture {
  readonly width: number;
  readonly height: number;
  /** RGB uint8, row-major: the picture to show. */
  readonly image: Uint8Array;
  /** Per patch: 1 where the picture holds a decoded copy (not an interpolation). */
  readonly have: Uint8Array;
  apply(frame: CollectedFrame): Promise<ApplyStats>;
  /** Releases what the picture holds (a video decoder). */
  close(): void;
}

/** How a video engine's pictures are coded, as each platform's decoder names it. */
export interface VideoCodec {
  /** For the operator and ApplyStats.format: `H.264`, `AV1`. */
  readonly label: string;
  /** FFmpeg's decoder (Node, through node-av): `h264`, `libdav1d`. */
  readonly ffmpegDecoder: string;
  /** The WebCodecs codec string for a keyframe's data (H.264: from its SPS); null when it cannot be told. */
  webCodecs(keyframe: Uint8Array): string | null;
  /** How its pictures travel on an RTP video track (hello `transport: 'rtp'`). */
  readonly rtp: RtpDepacketizer;
}

/** Makes a video decoder for a codec: WebCodecs in the page's worker, node-av in Node. */
export type VideoDecoderProvider = (codec: VideoCodec) => Promise<VideoDecoderPort>;

/** What a receiver has at hand to make pictures with. */
export interface ReceiverPlatform {
  /** The learned patch decoders (engine `patches`); absent where they are not loaded here. */
  decoders?: ReceiverDecoders | null;
  /** Where `decoders` came from, for a mismatch message. */
  decoderSource?: string;
  /** Video decoders (engines whose pictures arrive as `video` messages). */
  video?: VideoDecoderProvider;
  /** The video decoders' name for the operator (`WebCodecs`, `FFmpeg`). */
  videoName?: string;
}

export interface PictureSource {
  /** The name the hello carries. */
  readonly engine: EngineName;
  /** What the platform must load before a picture can be made: the patch decoders, or nothing (a video decoder is made per session). */
  readonly needsPatchDecoders: boolean;
  /** Its frames code each patch at one of the hello's levels: a level map and patch counts describe them (not a codec's macroblocks). */
  readonly patchLevels: boolean;
  /** A video engine's RTP payload format, for a session whose pictures come on the video track; absent for patches. */
  readonly rtp?: RtpDepacketizer;
  /**
   * The session's picture; null when this platform only collects this engine's frames (the
   * decoders live elsewhere, e.g. the page's worker).
   * @throws {DecoderMismatchError} when the platform cannot decode what the hello announces
   */
  create(hello: HelloMessage, ctx: ProtocolContext, platform: ReceiverPlatform): EnginePicture | null;
  /** The session for the operator: `engine h264 (x264, quantizer by relevance, H.264 4:4:4)`; `format` from the last picture. */
  describe(hello: HelloMessage, format: string | null): string;
  /** The decoders in use, for the operator: the learned decoders' ids, or `WebCodecs H.264`. */
  decoderNames(platform: ReceiverPlatform): string[];
}

/** A synchronous decoder (node-av's H264Decoder) behind the asynchronous port. */
export function videoPortOf(d: { decode(data: Uint8Array): YuvPicture; close(): void }): VideoDecoderPort {
  return { decode: async (data) => d.decode(data), close: () => d.close() };
}

/** Video decoders from FFmpeg by name (Node: `ffmpegVideoDecoders((name) => H264Decoder.create(name))`). */
export function ffmpegVideoDecoders(
  open: (decoderName: string) => Promise<{ decode(data: Uint8Array): YuvPicture; close(): void }>,
): VideoDecoderProvider {
  return async (codec) => videoPortOf(await open(codec.ffmpegDecoder));
}
