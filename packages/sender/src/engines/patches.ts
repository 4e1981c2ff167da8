import type { HelloMessage, ProtocolContext } from '@mmsc/protocol';
import { FrameEncoder } from '../pipeline/encode-frame.js';
import type { PipelineFrame } from '../pipeline/frame-pipeline.js';
import { KeepState } from '../pipeline/keep-state.js';
import type { Engine, EngineOptions, LinkEncoder, LinkFrame, LinkPicture, RefreshAnswer } from './link-encoder.js';

/**
 * Engine `patches` (the paper's): learned 8×8 patch codes at five levels, allocated within the budget
 * by relevance (rd or paper), with a base layer and "keep" for patches the receiver already holds.
 */
export class PatchesLinkEncoder implements LinkEncoder {
  private readonly encoder: FrameEncoder;
  /** What this receiver holds of each patch (temporal reuse). */
  private readonly keep: KeepState;

  constructor(hello: HelloMessage, ctx: ProtocolContext, opts: EngineOptions) {
    // Live links send the base layer: on a moving source a skipped patch must show the current frame.
    this.encoder = new FrameEncoder(hello, ctx, null, opts.allocator, opts.curves, { base: true });
    this.keep = new KeepState(ctx.patchCount);
  }

  async encode(frame: PipelineFrame, f: LinkFrame, scores: Float32Array): Promise<LinkPicture | null> {
    const out = await this.encoder.encode(f, frame.patches, frame.variances, scores, this.keep, frame.codes);
    if (!out) return null;
    // A closed link's state is released: this commit is then a no-op.
    this.keep.commit(frame.patches, out.choice, out.kept, out.base);
    return { parts: out.parts, wireBytes: out.wireBytes, stated: f.budget, ms: out.ms, debug: {} };
  }

  refresh(): RefreshAnswer {
    return { ok: false, why: 'refresh asks for a keyframe, and this session sends patches' };
  }

  close(): void {
    this.keep.release();
  }
}

export const patchesEngine: Engine = {
  name: 'patches',
  summary: 'the paper’s learned 8×8 codecs at five levels, allocated by relevance',
  temporal: false,
  patchCodes: true,
  unavailable: async () => null,
  hello: (common) => ({ ...common, engine: 'patches' }),
  describe: (opts) => `allocator ${opts.allocator}`,
  createLinkEncoder: (hello, ctx, opts) => new PatchesLinkEncoder(hello, ctx, opts),
};
