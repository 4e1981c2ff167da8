/** A video engine's pictures: whole coded pictures decoded by the platform's decoder for its codec (VideoPicture). */
import type { EngineName } from '@mmsc/protocol';
import { VideoPicture } from '../reassemble-video.js';
import { DecoderMismatchError } from '../receive/verify-decoders.js';
import type { PictureSource, VideoCodec } from './picture-source.js';

/**
 * The picture source of a video engine: `describe` gives its sender-side coding for the operator
 * (e.g. `x264, quantizer by relevance`); the last picture's format is added to it.
 */
export function videoSource(engine: EngineName, codec: VideoCodec, coding: string): PictureSource {
  return {
    engine,
    needsPatchDecoders: false,
    patchLevels: false,
    rtp: codec.rtp,
    create(_hello, ctx, platform) {
      const { video } = platform;
      if (!video) {
        const msg = `the sender codes this session with ${engine} and ${platform.decoderSource ?? 'this receiver'} has no ${codec.label} decoder`;
        throw new DecoderMismatchError('decoder-missing', 0, { id: engine, sha256: 'none' }, null, msg);
      }
      return new VideoPicture(ctx, () => video(codec), codec.label);
    },
    describe: (_hello, format) => `engine ${engine} (${coding}${format ? `, ${format}` : ''})`,
    decoderNames: (platform) => [`${platform.videoName ?? 'video'} ${codec.label}`],
  };
}
