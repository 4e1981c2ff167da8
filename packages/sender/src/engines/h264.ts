import { h264Available } from '@mmsc/codec/h264-node';
import { DEFAULT_QP_TIERS } from '../allocate/qp-regions.js';
import { encodeStill } from '../pipeline/encode-still.js';
import { X264_BACKEND } from '../pipeline/video-backend.js';
import type { Engine } from './link-encoder.js';
import { VideoEngineEncoder } from './video.js';

/**
 * Engine `h264`: one libx264 stream per receiver (`VideoLinkEncoder`: a bucket of budgets, a quantizer
 * per macroblock from the relevance), 4:4:4 unless asked otherwise (`--chroma`, or a receiver
 * without High 4:4:4, whose stream restarts in 4:2:0).
 */
export const h264Engine: Engine = {
  name: 'h264',
  summary: 'libx264 with a quantizer per macroblock from the relevance',
  temporal: true,
  unavailable: async () =>
    (await h264Available())
      ? null
      : 'node-av’s libx264 did not load on this machine (npm install brings its prebuilt binary for linux-x64)',
  hello: (common) => ({ ...common, engine: 'h264' }),
  describe: (opts) => opts.chroma,
  createLinkEncoder: (hello, _ctx, opts) => new VideoEngineEncoder(hello, opts.chroma, DEFAULT_QP_TIERS, X264_BACKEND),
  rtpFormat: (opts) => X264_BACKEND.rtpFormat(opts.chroma),
  still: (image, scores, budget, hello) => encodeStill(image, scores, budget, hello),
};
