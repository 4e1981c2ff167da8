import { type Chroma, packetizeH264, type YuvPicture } from '@mmsc/codec';
import { type EncodedPicture, H264Encoder } from '@mmsc/codec/h264-node';
import { TRAILER_NAL_HEADER } from '@mmsc/protocol';
import { qpRegions } from '../allocate/qp-regions.js';

/** What a video stream is opened with: the picture, the rate and bucket of its first frame, its chroma format. */
export interface VideoStreamOptions {
  width: number;
  height: number;
  fps: number;
  /** Target rate, bits per second. */
  bitrate: number;
  /** The bucket's credit for the frame (data bytes, framing excluded), bits. */
  bufferBits: number;
  chroma: Chroma;
}

/** One receiver's coded stream, as `VideoLinkEncoder` drives it. */
export interface VideoStream {
  /** The next frame's target rate (bits per second) and the credit it must stay within (bits of data). */
  setRate(bitrate: number, bufferBits: number): void;
  /**
   * Codes one picture; `offsets` are the quantizer offsets per 16×16 macroblock (row-major, in the
   * backend's tier units); `key` forces a keyframe. Empty `data`: the encoder dropped the frame
   * (nothing is sent; the receiver's next picture predicts from its last one).
   */
  encode(pic: YuvPicture, offsets: Int8Array, ptsMs: number, key: boolean): EncodedPicture;
  close(): void;
}

/** How a codec's pictures are named on an RTP video track (the sender's SDP offer). */
export interface RtpVideoFormat {
  /** `video/H264`, `video/VP8`. */
  mimeType: string;
  /** The dynamic payload type offered (96–127). */
  payloadType: number;
  /** The `a=fmtp` parameters, if the format has any. */
  fmtp: string | null;
}

/**
 * A codec behind the video engines: it opens one stream per receiver and names the chroma formats
 * it codes. `VideoLinkEncoder` keeps the bucket, the relevance map and the keyframes for it.
 */
export interface VideoBackend {
  /** The chroma formats it codes; the first is used when the one asked for is not among them. */
  readonly chromas: readonly Chroma[];
  open(o: VideoStreamOptions): Promise<VideoStream>;
  /** Its format on an RTP video track, for a stream of `chroma`. */
  rtpFormat(chroma: Chroma): RtpVideoFormat;
  /**
   * A coded picture's RTP payloads, each at most `maxPayload` bytes, with `trailer` (the picture's
   * announcement, `withPictureTrailer`'s last bytes) at the very end of what the receiver
   * depacketizes.
   */
  packetize(data: Uint8Array, trailer: Uint8Array, maxPayload: number): Uint8Array[];
}

/** `a` then `b`, in a new array. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * libx264 (the h264 engine): CBR with its VBV set from the bucket each frame, the offsets in
 * H.264 QP steps as region-of-interest rectangles.
 */
export const X264_BACKEND: VideoBackend = {
  chromas: ['444', '420'],
  // High 4:4:4 Predictive (f4) for 4:4:4; 4:2:0 is offered as constrained baseline, the profile every
  // WebRTC receiver accepts (the High-profile stream decodes all the same).
  rtpFormat: (chroma) => ({
    mimeType: 'video/H264',
    payloadType: 102,
    fmtp: `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${chroma === '444' ? 'f4001f' : '42e01f'}`,
  }),
  // The trailer is its own NAL unit (TRAILER_NAL_HEADER) after the access unit, sent as it is:
  // packetizing it with the picture could find a start code inside it. Receivers cut it off by its
  // length from the end before decoding.
  packetize: (data, trailer, max) => [...packetizeH264(data, max), concat(Uint8Array.of(TRAILER_NAL_HEADER), trailer)],
  open: async (o) => {
    const enc = await H264Encoder.create(o);
    return {
      setRate: (bitrate, bufferBits) => enc.setRate(bitrate, bufferBits),
      encode: (pic, offsets, ptsMs, key) => enc.encode(pic, qpRegions(offsets, pic.width, pic.height), ptsMs, key),
      close: () => enc.close(),
    };
  },
};
