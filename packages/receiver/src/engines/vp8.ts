/** The `vp8` engine's pictures: VP8 frames (WebCodecs `vp8` in the page, FFmpeg's vp8 in Node). */
import { depacketizeVp8, isVp8Keyframe, vp8StartsFrame } from '@mmsc/codec';
import type { VideoCodec } from './picture-source.js';
import { videoSource } from './video.js';

export const VP8_CODEC: VideoCodec = {
  label: 'VP8',
  ffmpegDecoder: 'vp8',
  webCodecs: () => 'vp8',
  rtp: { depacketize: depacketizeVp8, isKey: isVp8Keyframe, startsPicture: vp8StartsFrame, trailer: 'appended' },
};

export const vp8Source = videoSource('vp8', VP8_CODEC, 'libvpx, quantizer by relevance');
