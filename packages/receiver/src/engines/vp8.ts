/** The `vp8` engine's pictures: VP8 frames (WebCodecs `vp8` in the page, FFmpeg's vp8 in Node). */
import type { VideoCodec } from './picture-source.js';
import { videoSource } from './video.js';

export const VP8_CODEC: VideoCodec = { label: 'VP8', ffmpegDecoder: 'vp8', webCodecs: () => 'vp8' };

export const vp8Source = videoSource('vp8', VP8_CODEC, 'libvpx, quantizer by relevance');
