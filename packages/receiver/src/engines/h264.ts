/** The `h264` engine's pictures: H.264 access units (WebCodecs `avc1…` from the SPS in the page, FFmpeg's h264 in Node). */
import { avcCodecString, depacketizeH264, h264StartsAccessUnit, isH264Keyframe } from '@mmsc/codec';
import type { VideoCodec } from './picture-source.js';
import { videoSource } from './video.js';

export const H264_CODEC: VideoCodec = {
  label: 'H.264',
  ffmpegDecoder: 'h264',
  webCodecs: avcCodecString,
  rtp: { depacketize: depacketizeH264, isKey: isH264Keyframe, startsPicture: h264StartsAccessUnit, trailer: 'nal-unit' },
};

export const h264Source = videoSource('h264', H264_CODEC, 'x264, quantizer by relevance');
