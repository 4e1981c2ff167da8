import { EventEmitter } from 'node:events';
import type { Chroma } from '@mmsc/codec';
import type { HelloMessage } from '@mmsc/protocol';
import type { DistortionCurve } from '../allocate/distortion.js';
import { DEFAULT_QP_TIERS } from '../allocate/qp-regions.js';
import { type AllocatorName, FrameEncoder } from '../pipeline/encode-frame.js';
import { DEFAULT_CHROMA, VideoLinkEncoder } from '../pipeline/encode-video.js';
import type { PipelineFrame } from '../pipeline/frame-pipeline.js';
import type { Log } from './log.js';
import type { ReceiverSession } from './session.js';

export interface LinkOptions {
  allocator: AllocatorName;
  curves: readonly DistortionCurve[];
  /** Send the low-resolution relevance map every this many frames (and after a query change). */
  relevanceEvery: number;
  /** Engine h264: the chroma format coded (default DEFAULT_CHROMA). */
  chroma?: Chroma;
  log?: Log;
}

export interface LinkEvents {
  /** The receiver's peer closed (it left, failed, or the sender stopped). */
  closed: [];
}

/** MMSC_DEBUG_RATE=1 also logs each frame's budget and bytes, and each skip (stderr, one JSON per line). */
const DEBUG_RATE = process.env.MMSC_DEBUG_RATE === '1';

/** What became of one frame on one link. */
export type LinkOutcome = 'sent' | 'skipped' | 'gone';

/**
 * One receiver on the main thread: its session (query, rate control, keep state), its frame encoder
 * (allocation within its own budget, framing), and its peer. Takes the pipeline's shared frame and
 * turns it into this receiver's messages; nothing here is shared with another receiver.
 */
export class ReceiverLink extends EventEmitter<LinkEvents> {
  private readonly encoder: FrameEncoder;
  /** Engine `h264`: this receiver's own stream (its references, its rate). */
  private readonly video: VideoLinkEncoder | null;
  private lastGrounded: string | null = null;

  constructor(
    readonly session: ReceiverSession,
    hello: HelloMessage,
    private readonly opts: LinkOptions,
  ) {
    super();
    // Live links send the base layer: on a moving source a skipped patch must show the current frame.
    this.encoder = new FrameEncoder(hello, session.ctx, null, opts.allocator, opts.curves, { base: true });
    this.video =
      hello.engine === 'h264' ? new VideoLinkEncoder(hello, hello.fps ?? 10, DEFAULT_QP_TIERS, opts.chroma ?? DEFAULT_CHROMA) : null;
    const video = this.video;
    if (video)
      session.onRefresh = (reason) => {
        const before = video.format;
        video.requestKeyframe(reason);
        if (video.format !== before)
          opts.log?.info({ session: session.id }, `receiver ${session.id} cannot decode ${before}: its stream restarts in ${video.format}`);
      };
    session.peer.on('closed', () => {
      video?.close();
      this.emit('closed');
    });
  }

  get id(): string {
    return this.session.id;
  }

  get open(): boolean {
    return this.session.open;
  }

  /** This receiver's frame from a shared one, if its rate lets it send now. */
  async send(frame: PipelineFrame, captureTs: number, t0: number): Promise<LinkOutcome> {
    const s = this.session;
    if (!s.open) return 'gone';
    if (!s.rate.canSend(performance.now() / 1000)) {
      s.stats.framesSkipped++;
      if (DEBUG_RATE) console.error(JSON.stringify({ t: Math.round(performance.now()), ev: 'skip', backlog: s.rate.backlog }));
      return 'skipped';
    }
    const t1 = performance.now();
    const r = await frame.relevance(s.query.text);
    if (!s.open) return 'gone';
    const tRel = performance.now() - t1;
    const budgetAt = performance.now() / 1000;
    let budget = s.rate.budget(budgetAt);
    const frameId = s.nextFrameId;
    // The low-resolution map for display, about once a second and after a query change, only
    // when it takes at most a quarter of the frame's budget (it counts against it).
    const mapBytes = r.patchScores.length + 32;
    if ((frameId % this.opts.relevanceEvery === 0 || this.lastGrounded !== s.query.text) && mapBytes * 4 <= budget) {
      const map = Uint8Array.from(r.patchScores, (v) => Math.round(v * 255));
      budget -= this.sendRelevance(frameId, frame.image.width / s.hello.patchSize, map);
      this.lastGrounded = s.query.text;
    }
    if (this.video) return this.sendVideo(frame, { frameId, captureTs, budget: Math.max(0, budget) }, r.patchScores, budgetAt, t0, tRel);
    const out = await this.encoder.encode(
      { frameId, captureTs, budget: Math.max(0, budget) },
      frame.patches,
      frame.variances,
      r.patchScores,
      s.keep,
      frame.codes,
    );
    if (!out) {
      s.stats.framesSkipped++;
      return 'skipped';
    }
    if (!s.open) return 'gone'; // closed while encoding: nothing to send it to
    s.keep.commit(frame.patches, out.choice, out.kept, out.base);
    this.delivered(frame, { frameId, nominal: budget, stated: budget, budgetAt, t0, tRel }, out.parts, out.wireBytes, out.ms, {
      budgetAt: Math.round(budgetAt * 1000),
      t0: Math.round(t0),
    });
    return 'sent';
  }

  private async sendVideo(
    frame: PipelineFrame,
    f: { frameId: number; captureTs: number; budget: number },
    scores: Float32Array,
    budgetAt: number,
    t0: number,
    tRel: number,
  ): Promise<LinkOutcome> {
    const s = this.session;
    const out = await (this.video as VideoLinkEncoder).encode(f, frame.image, scores);
    if (!out) {
      s.stats.framesSkipped++;
      return 'skipped';
    }
    if (!s.open) return 'gone';
    // The rate controller hears the nominal budget, not the bucket's credit: it asks whether frames
    // fill what it offered. The credit is the budget stated on the wire.
    const ms = { allocate: out.ms.convert, encode: out.ms.encode, pack: out.ms.pack };
    this.delivered(frame, { frameId: f.frameId, nominal: f.budget, stated: out.budget, budgetAt, t0, tRel }, out.parts, out.wireBytes, ms, {
      credit: out.budget,
      key: out.key,
    });
    return 'sent';
  }

  /** A coded frame goes out: its parts, the rate controller's record, this receiver's stats. */
  private delivered(
    frame: PipelineFrame,
    f: { frameId: number; nominal: number; stated: number; budgetAt: number; t0: number; tRel: number },
    parts: readonly Uint8Array[],
    wireBytes: number,
    ms: { allocate: number; encode: number; pack: number },
    debug: Record<string, unknown>,
  ): void {
    const s = this.session;
    for (const part of parts) s.peer.send(part);
    s.nextFrameId = (f.frameId + 1) >>> 0;
    s.rate.onSent(f.frameId, wireBytes, performance.now() / 1000, f.nominal, f.budgetAt);
    s.stats.framesSent++;
    if (DEBUG_RATE) {
      const ev = { t: Math.round(performance.now()), ev: 'send', frameId: f.frameId, budget: f.nominal, bytes: wireBytes, ...debug };
      console.error(JSON.stringify(ev));
    }
    s.stats.bytesSent += wireBytes;
    s.stats.lastBudget = f.stated;
    s.stats.lastFrameBytes = wireBytes;
    if (wireBytes > f.stated) s.stats.budgetViolations++;
    s.stats.lastFrameMs = {
      shared: round(frame.ms),
      relevance: round(f.tRel + frame.analysisMs),
      allocate: round(ms.allocate),
      encode: round(ms.encode),
      pack: round(ms.pack),
      total: round(performance.now() - f.t0),
    };
  }

  /** Tells the receiver the sender is stopping and closes its peer (which releases the session). */
  close(reason: string): void {
    try {
      this.session.send({ type: 'error', code: 'shutting-down', message: 'the sender is stopping', ref: null });
    } catch {
      // closing anyway
    }
    this.session.peer.close(reason);
  }

  private sendRelevance(frameId: number, cols: number, map: Uint8Array): number {
    const s = this.session;
    const before = s.peer.bytesSent;
    s.send({ type: 'relevance', frameId, width: cols, height: map.length / cols, values: map });
    return Math.max(0, s.peer.bytesSent - before);
  }
}

const round = (x: number) => Number(x.toFixed(1));
