import type { Chroma } from '@mmsc/codec';
import type { HelloMessage } from '@mmsc/protocol';
import type { QpTiers } from '../allocate/qp-regions.js';
import { VideoLinkEncoder } from '../pipeline/encode-video.js';
import type { PipelineFrame } from '../pipeline/frame-pipeline.js';
import type { VideoBackend } from '../pipeline/video-backend.js';
import type { LinkEncoder, LinkFrame, LinkPicture, RefreshAnswer } from './link-encoder.js';

/**
 * A video engine's encoder for one receiver: a `VideoLinkEncoder` (a bucket of budgets, a quantizer
 * per macroblock from the relevance) over the engine's codec backend. An engine on another codec
 * is a `VideoBackend` and its tiers.
 */
export class VideoEngineEncoder implements LinkEncoder {
  private readonly video: VideoLinkEncoder;

  constructor(hello: HelloMessage, chroma: Chroma, tiers: QpTiers, backend: VideoBackend) {
    this.video = new VideoLinkEncoder(hello, hello.fps ?? 10, tiers, chroma, backend);
  }

  async encode(frame: PipelineFrame, f: LinkFrame, scores: Float32Array): Promise<LinkPicture | null> {
    const out = await this.video.encode(f, frame.image, scores);
    if (!out) return null;
    // The rate controller hears the nominal budget, not the bucket's credit: it asks whether frames
    // fill what it offered. The credit is the budget stated on the wire.
    return {
      parts: out.parts,
      ...(out.track ? { track: out.track } : {}),
      wireBytes: out.wireBytes,
      stated: out.budget,
      ms: { allocate: out.ms.convert, encode: out.ms.encode, pack: out.ms.pack },
      debug: { credit: out.budget, key: out.key },
    };
  }

  refresh(reason: string): RefreshAnswer {
    const before = this.video.format;
    const asked = this.video.requestKeyframe(reason);
    const after = this.video.format;
    if (after !== before) return { ok: true, note: `cannot decode ${before}: its stream restarts in ${after}` };
    return asked ? { ok: true } : { ok: true, ignored: true };
  }

  close(): void {
    this.video.close();
  }
}
