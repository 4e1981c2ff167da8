import { encodeMessage } from '@mmsc/protocol';
import type { Engine, LinkEncoder, LinkFrame, LinkPicture, RefreshAnswer } from '../engines/link-encoder.js';
import type { PipelineFrame } from '../pipeline/frame-pipeline.js';

/** What a fake engine's encoders did, shared by every link it made. */
export interface FakeEngineLog {
  frames: LinkFrame[];
  refreshes: string[];
  closed: number;
}

/**
 * An engine without a codec, for link tests: each frame is one `base` message of half its budget
 * (a valid protocol message the fake peer decodes); `refresh` is taken or refused as asked (with
 * `taken`, the refreshes after the first `taken` are ignored).
 */
export function fakeEngine(o: { keyframes?: boolean; note?: string; taken?: number } = {}): { engine: Engine; log: FakeEngineLog } {
  const log: FakeEngineLog = { frames: [], refreshes: [], closed: 0 };
  const engine: Engine = {
    name: 'patches',
    summary: 'fake',
    temporal: false,
    unavailable: async () => null,
    hello: (common) => common,
    describe: () => 'fake',
    createLinkEncoder: (_hello, ctx): LinkEncoder => ({
      async encode(_frame: PipelineFrame, f: LinkFrame): Promise<LinkPicture | null> {
        log.frames.push(f);
        if (f.budget < 64) return null;
        const part = encodeMessage({ type: 'base', frameId: f.frameId, data: new Uint8Array(Math.floor(f.budget / 2)) }, ctx);
        return { parts: [part], wireBytes: part.length, stated: f.budget, ms: { allocate: 0, encode: 0, pack: 0 }, debug: {} };
      },
      refresh(reason: string): RefreshAnswer {
        log.refreshes.push(reason);
        if (!o.keyframes) return { ok: false, why: 'this fake engine has no keyframes' };
        if (o.taken !== undefined && log.refreshes.length > o.taken) return { ok: true, ignored: true };
        return o.note ? { ok: true, note: o.note } : { ok: true };
      },
      close() {
        log.closed++;
      },
    }),
  };
  return { engine, log };
}

/**
 * A picture on the video track as a codec engine's encoder returns it: `packets` payloads of
 * `bytes` each, each costing 34 bytes of headers on the wire.
 */
export function trackPicture(f: LinkFrame, packets: number, bytes: number): LinkPicture {
  return {
    parts: [],
    track: { payloads: Array.from({ length: packets }, () => new Uint8Array(bytes)), rtpTs: f.frameId * 9000 },
    wireBytes: packets * (bytes + 34),
    stated: f.budget,
    ms: { allocate: 0, encode: 0, pack: 0 },
    debug: {},
  };
}
