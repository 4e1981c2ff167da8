import { h264Available } from '@mmsc/codec/h264-node';
import type { HelloMessage } from '@mmsc/protocol';
import { DEFAULT_QP_TIERS } from '../allocate/qp-regions.js';
import { VideoLinkEncoder } from '../pipeline/encode-video.js';
import type { PipelineFrame } from '../pipeline/frame-pipeline.js';
import type { Engine, EngineOptions, LinkEncoder, LinkFrame, LinkPicture, RefreshAnswer } from './link-encoder.js';

/**
 * Engine `h264`: one libx264 stream per receiver (`VideoLinkEncoder`: a bucket of budgets, a quantizer
 * per macroblock from the relevance). Another FFmpeg encoder is the same shape: a `VideoLinkEncoder`
 * over an `H264Encoder` created with another `codec`.
 */
export class H264LinkEncoder implements LinkEncoder {
  private readonly video: VideoLinkEncoder;

  constructor(hello: HelloMessage, opts: Pick<EngineOptions, 'chroma'>) {
    this.video = new VideoLinkEncoder(hello, hello.fps ?? 10, DEFAULT_QP_TIERS, opts.chroma);
  }

  async encode(frame: PipelineFrame, f: LinkFrame, scores: Float32Array): Promise<LinkPicture | null> {
    const out = await this.video.encode(f, frame.image, scores);
    if (!out) return null;
    // The rate controller hears the nominal budget, not the bucket's credit: it asks whether frames
    // fill what it offered. The credit is the budget stated on the wire.
    return {
      parts: out.parts,
      wireBytes: out.wireBytes,
      stated: out.budget,
      ms: { allocate: out.ms.convert, encode: out.ms.encode, pack: out.ms.pack },
      debug: { credit: out.budget, key: out.key },
    };
  }

  refresh(reason: string): RefreshAnswer {
    const before = this.video.format;
    this.video.requestKeyframe(reason);
    const after = this.video.format;
    return after === before ? { ok: true } : { ok: true, note: `cannot decode ${before}: its stream restarts in ${after}` };
  }

  close(): void {
    this.video.close();
  }
}

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
  createLinkEncoder: (hello, _ctx, opts) => new H264LinkEncoder(hello, opts),
};
