import { type Log, silentLog } from '../log.js';
import type { FramePipeline, PipelineHealth } from '../pipeline/frame-pipeline.js';
import type { Links } from './links.js';

export interface StreamerOptions {
  fps: number;
  log?: Log;
}

export type StreamHealth = PipelineHealth;

/**
 * The frame clock: every 1/fps it takes the pipeline's next shared frame (made once for everyone)
 * and hands it to each serving receiver's link, which sends it if its rate allows. One link's failure
 * closes that link alone. Stopping closes the links (each receiver is told), then the pipeline.
 */
export class Streamer {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** A frame is being made (the clock's step is running). */
  private stepping = false;
  /** Runs the next step at once and counts the clock's slots from now (set by `start`). */
  private restart: (() => void) | null = null;
  ticks = 0;
  /** Ticks that made (or reused) a frame for at least one receiver. */
  framesMade = 0;
  overruns = 0;
  /** The last reason no frame could be made (null once one was made again). */
  private frameError: string | null = null;
  private readonly log: Log;

  constructor(
    readonly pipeline: FramePipeline,
    readonly links: Links,
    readonly opts: StreamerOptions,
  ) {
    this.log = opts.log ?? silentLog;
    // A receiver joining while no frame can be made learns why at once (after its hello).
    links.on('added', (link) =>
      link.once('open', () => {
        const h = this.health();
        if (!h.ok) link.noFrames(h.reason ?? 'no frames');
        else this.serveNow();
      }),
    );
  }

  health(): StreamHealth {
    const h = this.pipeline.health();
    if (!h.ok) return h;
    if (this.frameError) return { ok: false, reason: this.frameError };
    return { ok: true };
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
      this.timer = null;
      this.stepping = true;
      await this.step();
      this.stepping = false;
      next += interval;
      const now = performance.now();
      if (next < now) {
        this.overruns++;
        next = now;
      }
      if (!this.stopped) this.timer = setTimeout(loop, next - now);
    };
    this.restart = () => {
      if (this.timer) clearTimeout(this.timer);
      next = performance.now();
      this.timer = setTimeout(loop, 0);
    };
    this.timer = setTimeout(loop, 0);
  }

  /**
   * A receiver began while no other is served: its first frame is made now, not at the clock's next
   * slot (up to a frame interval later; its first picture waits on it), and the clock counts from
   * here. With others served it waits for the slot, so their frames keep their spacing; a frame being
   * made meanwhile goes to it too (`tick`).
   */
  private serveNow(): void {
    if (this.stopped || this.stepping || !this.restart || this.links.serving().length !== 1) return;
    this.restart();
  }

  /** Stops the clock, closes the links (each receiver is told; their peers close), then the pipeline. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.links.close('sender stopped');
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
    for (const l of this.links.serving()) l.noFrames(reason);
  }

  /** One frame for every receiver that can take it. */
  async tick(): Promise<void> {
    this.ticks++;
    // Receivers that would send a frame now (not one waiting for its channel after its first picture).
    const open = this.links.serving().filter((l) => l.wantsFrames);
    if (open.length === 0) return;
    const t0 = performance.now();
    const frame = await this.pipeline.next(open.map((l) => l.currentQuery));
    this.framesMade++;
    if (this.frameError) {
      this.log.info({}, `frames again after: ${this.frameError}`);
      this.frameError = null;
    }
    const captureTs = this.pipeline.still ? Date.now() : frame.captureTs;
    // Links that opened while the frame was being made get it too; one that went meanwhile is skipped.
    for (const link of this.links.all()) {
      // Each link's allocation is a synchronous stretch of several ms: timers (werift's SCTP
      // retransmissions, signalling) get their turn between receivers, not after all of them.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // A link never throws: one receiver's failure closes that link alone.
      await link.send(frame, captureTs, t0);
    }
  }
}
