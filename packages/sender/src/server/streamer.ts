import type { Chroma } from '@mmsc/codec';
import type { GroundingMessage, HelloMessage } from '@mmsc/protocol';
import type { DistortionCurve } from '../allocate/distortion.js';
import type { AllocatorName } from '../pipeline/encode-frame.js';
import { type FramePipeline, PipelineError, type PipelineHealth } from '../pipeline/frame-pipeline.js';
import type { Lexicon } from '../relevance/lexicon.js';
import { reportGrounding } from '../relevance/relevance-model.js';
import { type Log, silentLog } from './log.js';
import { ReceiverLink } from './receiver-link.js';
import type { ReceiverSession } from './session.js';

export interface StreamerOptions {
  fps: number;
  allocator: AllocatorName;
  /** Send the low-resolution relevance map every this many frames (and after a query change). */
  relevanceEvery: number;
  /** Upper bound on each receiver's rate, bits per second (the operator's uplink share). */
  maxBps: number;
  /** Engine h264: the chroma format coded (default 4:4:4). */
  chroma?: Chroma;
  log?: Log;
}

export type StreamHealth = PipelineHealth;

/**
 * The frame clock: every 1/fps it takes the pipeline's next shared frame (made once for everyone)
 * and hands it to each open receiver's link, which sends it if its rate allows. One link's failure
 * closes that session alone. Stopping closes every link's peer (releasing the sessions), then the
 * pipeline.
 */
export class Streamer {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly links = new Map<string, ReceiverLink>();
  ticks = 0;
  /** Ticks that made (or reused) a frame for at least one receiver. */
  framesMade = 0;
  overruns = 0;
  /** The last reason no frame could be made (null once one was made again). */
  private frameError: string | null = null;
  private readonly log: Log;

  constructor(
    readonly pipeline: FramePipeline,
    readonly lexicon: Lexicon,
    readonly curves: readonly DistortionCurve[],
    readonly hello: HelloMessage,
    readonly opts: StreamerOptions,
  ) {
    this.log = opts.log ?? silentLog;
  }

  /** The receivers' sessions by id (for /stats and the receiver limit). */
  get sessions(): ReadonlyMap<string, ReceiverSession> {
    return new Map([...this.links].map(([id, l]) => [id, l.session]));
  }

  health(): StreamHealth {
    const h = this.pipeline.health();
    if (!h.ok) return h;
    if (this.frameError) return { ok: false, reason: this.frameError };
    return { ok: true };
  }

  add(s: ReceiverSession): ReceiverLink {
    s.onQuery = (sess) => this.grounding(sess);
    const link = new ReceiverLink(s, this.hello, { ...this.opts, curves: this.curves });
    this.links.set(s.id, link);
    s.peer.on('open', () => {
      // A receiver joining while no frame can be made learns why at once (after its hello).
      const h = this.health();
      if (!h.ok) s.guard('no-frames notice', () => s.refuse('no-frames', h.reason ?? 'no frames'));
    });
    link.once('closed', () => this.links.delete(s.id));
    return link;
  }

  /** Runs the models once on a whole frame before the first receiver (see `PipelineModels.warmUp`). */
  warmUp(): Promise<void> {
    return this.pipeline.warmUp();
  }

  start(): void {
    const interval = 1000 / this.opts.fps;
    let next = performance.now();
    // One frame at a time: the next starts at its slot, or at once when this one ran past it (a
    // slow frame delays the next instead of costing a whole slot).
    const loop = async () => {
      if (this.stopped) return;
      await this.step();
      next += interval;
      const now = performance.now();
      if (next < now) {
        this.overruns++;
        next = now;
      }
      if (!this.stopped) this.timer = setTimeout(loop, next - now);
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Stops the clock, tells every receiver, closes their peers (which releases the sessions), then the pipeline. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const link of [...this.links.values()]) link.close('sender stopped');
    await this.pipeline.close();
  }

  /** One tick of the frame clock; a failure to make the frame is reported, never thrown. */
  async step(): Promise<void> {
    try {
      await this.tick();
    } catch (e) {
      this.frameFailed(e);
    }
  }

  /**
   * No frame this tick (the source or the models failed): logged and told to the receivers once
   * per distinct reason, not once per tick.
   */
  private frameFailed(e: unknown): void {
    const reason = (e as Error)?.message ?? String(e);
    if (reason === this.frameError) return;
    this.frameError = reason;
    this.log.error({ err: e }, `no frame: ${reason}`);
    for (const l of this.links.values()) {
      const s = l.session;
      if (s.open) s.guard('no-frames notice', () => s.refuse('no-frames', reason));
    }
  }

  /** The grounding report for a session's query (needs only the lexicon, not a frame). */
  private grounding(s: ReceiverSession): GroundingMessage {
    const g = reportGrounding(s.query.text, this.lexicon);
    return {
      type: 'grounding',
      queryId: s.query.id,
      text: s.query.text,
      fallback: g.fallback,
      words: g.grounding,
      ungrounded: g.ungrounded,
    };
  }

  /** One frame for every receiver that can take it. */
  async tick(): Promise<void> {
    this.ticks++;
    const open = [...this.links.values()].filter((l) => l.open);
    if (open.length === 0) return;
    const t0 = performance.now();
    const frame = await this.pipeline.next(open.map((l) => l.session.query.text));
    this.framesMade++;
    if (this.frameError) {
      this.log.info({}, `frames again after: ${this.frameError}`);
      this.frameError = null;
    }
    const captureTs = this.pipeline.still ? Date.now() : frame.captureTs;
    // Links that opened while the frame was being made get it too; one that went meanwhile is skipped.
    for (const link of [...this.links.values()]) {
      // Each link's allocation is a synchronous stretch of several ms: timers (werift's SCTP
      // retransmissions, signalling) get their turn between receivers, not after all of them.
      await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        await link.send(frame, captureTs, t0);
      } catch (e) {
        if (e instanceof PipelineError) {
          // The pipeline's trouble, not this receiver's: the frame is skipped, the session goes on
          // (health and the no-frames notice say what is wrong when it lasts).
          link.session.stats.framesSkipped++;
          continue;
        }
        // One receiver's failure must not cost the others their frame: that session alone closes.
        link.session.fail('frame', e);
      }
    }
  }
}
