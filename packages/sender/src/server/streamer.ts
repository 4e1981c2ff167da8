import type { GroundingMessage, HelloMessage } from '@mmsc/protocol';
import { type PatchCodecs, patchify } from '@mmsc/receiver';
import { type DistortionCurve, patchVariances } from '../allocate/distortion.js';
import type { RgbImage } from '../images.js';
import { PatchCodeCache } from '../pipeline/code-cache.js';
import { type AllocatorName, FrameEncoder } from '../pipeline/encode-frame.js';
import { type Analysis, type DetectorRelevance, type RelevanceResult, reportGrounding } from '../relevance/relevance-model.js';
import type { FrameSource } from '../sources/sources.js';
import { type Log, silentLog } from './log.js';
import type { ReceiverSession } from './session.js';

export interface StreamerOptions {
  fps: number;
  allocator: AllocatorName;
  /** Send the low-resolution relevance map every this many frames (and after a query change). */
  relevanceEvery: number;
  /** Upper bound on each receiver's rate, bits per second (the operator's uplink share). */
  maxBps: number;
  log?: Log;
}

/** Whether frames can be made, and why not (for /health and the page). */
export interface StreamHealth {
  ok: boolean;
  reason?: string;
}

/** Work shared by all receivers for one source frame. */
interface SharedFrame {
  image: RgbImage;
  captureTs: number;
  patches: Uint8Array;
  variances: Float32Array;
  analysis: Analysis;
  byQuery: Map<string, RelevanceResult>;
  /** Patch codes per level, made once for all receivers (and kept while a still source repeats the frame). */
  codes: PatchCodeCache;
}

/**
 * The frame clock: every 1/fps it takes the newest source frame, analyses it once (detector, patch
 * statistics), and for each receiver that may send now computes its relevance for its own query,
 * allocates within its own budget, encodes, and sends. A receiver whose backlog would make the frame
 * late is skipped this tick (staleness handled by the application).
 */
export class Streamer {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private shared: SharedFrame | null = null;
  readonly sessions = new Map<string, ReceiverSession>();
  private encoders = new Map<string, FrameEncoder>();
  private lastGrounded = new Map<string, string>();
  ticks = 0;
  overruns = 0;
  /** The last reason no frame could be made (null once one was made again). */
  private frameError: string | null = null;
  private readonly log: Log;

  constructor(
    readonly source: FrameSource,
    readonly relevance: DetectorRelevance,
    readonly codecs: PatchCodecs,
    readonly curves: readonly DistortionCurve[],
    readonly hello: HelloMessage,
    readonly opts: StreamerOptions,
  ) {
    this.log = opts.log ?? silentLog;
  }

  health(): StreamHealth {
    const src = this.source.health?.() ?? { ok: true };
    if (!src.ok) return { ok: false, reason: src.reason ?? 'the source produces no frames' };
    if (this.frameError) return { ok: false, reason: this.frameError };
    return { ok: true };
  }

  add(s: ReceiverSession): void {
    s.onQuery = (sess) => this.grounding(sess);
    this.sessions.set(s.id, s);
    this.encoders.set(s.id, new FrameEncoder(this.hello, s.ctx, this.codecs, this.opts.allocator, this.curves));
    s.peer.on('open', () => {
      // A receiver joining while no frame can be made learns why at once (after its hello).
      const h = this.health();
      if (!h.ok) s.guard('no-frames notice', () => s.refuse('no-frames', h.reason ?? 'no frames'));
    });
    s.peer.on('closed', () => {
      this.sessions.delete(s.id);
      this.encoders.delete(s.id);
      this.lastGrounded.delete(s.id);
    });
  }

  /**
   * Runs every encoder once on a whole frame of patches, so onnxruntime's arenas reach their
   * largest size before the first receiver instead of growing while receivers come and go (the
   * soak run's RSS kept rising for minutes without it). Also takes the first frame's model start-up
   * off the first receiver's latency.
   */
  async warmUp(): Promise<void> {
    const { width, height } = this.hello;
    const pixels = new Uint8Array(width * height * 3); // a whole frame's patches take the same bytes
    await this.relevance.analyse({ width, height, data: pixels });
    for (const bytes of this.codecs.levels) await this.codecs.encode(bytes, pixels);
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

  /** Stops the clock, tells every receiver, closes their peers (which releases the sessions) and the source. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const s of [...this.sessions.values()]) {
      try {
        s.send({ type: 'error', code: 'shutting-down', message: 'the sender is stopping', ref: null });
      } catch {
        // closing anyway
      }
      s.peer.close('sender stopped');
    }
    this.source.close();
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
   * No frame this tick (the source failed): logged and told to the receivers once per distinct
   * reason, not once per tick.
   */
  private frameFailed(e: unknown): void {
    const reason = (e as Error)?.message ?? String(e);
    if (reason === this.frameError) return;
    this.frameError = reason;
    this.log.error({ err: e }, `no frame: ${reason}`);
    for (const s of this.sessions.values()) {
      if (s.open) s.guard('no-frames notice', () => s.refuse('no-frames', reason));
    }
  }

  /** The grounding report for a session's query (needs only the lexicon, not a frame). */
  private grounding(s: ReceiverSession): GroundingMessage {
    const g = reportGrounding(s.query.text, this.relevance.lexicon);
    return {
      type: 'grounding',
      queryId: s.query.id,
      text: s.query.text,
      fallback: g.fallback,
      words: g.grounding,
      ungrounded: g.ungrounded,
    };
  }

  private scores(shared: SharedFrame, query: string): RelevanceResult {
    let r = shared.byQuery.get(query);
    if (!r) {
      r = this.relevance.fromAnalysis(shared.analysis, query);
      shared.byQuery.set(query, r);
    }
    return r;
  }

  /** One frame for every receiver that can take it. */
  async tick(): Promise<void> {
    this.ticks++;
    const ready = [...this.sessions.values()].filter((s) => s.open);
    if (ready.length === 0) return;
    const t0 = performance.now();
    const image = await this.source.next();
    if (this.frameError) {
      this.log.info({}, `frames again after: ${this.frameError}`);
      this.frameError = null;
    }
    let shared = this.shared;
    if (!shared || shared.image !== image) {
      // A still source hands back the same frame object: its analysis is reused.
      const patches = patchify(image.data, image.width, image.height);
      shared = {
        image,
        captureTs: Date.now(),
        patches,
        variances: patchVariances(patches),
        analysis: await this.relevance.analyse(image),
        byQuery: new Map(),
        codes: new PatchCodeCache(patches, this.codecs),
      };
      this.shared = shared;
    }
    const captureTs = this.source.still ? Date.now() : shared.captureTs;
    const tShared = performance.now() - t0;
    for (const s of ready) {
      // An earlier receiver's frame took time: this one may have gone meanwhile.
      const enc = this.encoders.get(s.id);
      if (!enc || !s.open) continue;
      try {
        await this.frameFor(s, enc, shared, image, captureTs, t0, tShared);
      } catch (e) {
        // One receiver's failure must not cost the others their frame: that session alone closes.
        s.fail('frame', e);
      }
    }
  }

  private async frameFor(
    s: ReceiverSession,
    enc: FrameEncoder,
    shared: SharedFrame,
    image: RgbImage,
    captureTs: number,
    t0: number,
    tShared: number,
  ): Promise<void> {
    if (!s.rate.canSend(performance.now() / 1000)) {
      s.stats.framesSkipped++;
      return;
    }
    const t1 = performance.now();
    const r = this.scores(shared, s.query.text);
    const tRel = performance.now() - t1;
    let budget = s.rate.budget(performance.now() / 1000);
    const frameId = s.nextFrameId;
    // The low-resolution map for display, about once a second and after a query change, only
    // when it takes at most a quarter of the frame's budget (it counts against it).
    const mapBytes = r.patchScores.length + 32;
    if ((frameId % this.opts.relevanceEvery === 0 || this.lastGrounded.get(s.id) !== s.query.text) && mapBytes * 4 <= budget) {
      const map = Uint8Array.from(r.patchScores, (v) => Math.round(v * 255));
      budget -= this.sendRelevance(s, frameId, image.width / 8, map);
      this.lastGrounded.set(s.id, s.query.text);
    }
    const out = await enc.encode(
      { frameId, captureTs, budget: Math.max(0, budget) },
      shared.patches,
      shared.variances,
      r.patchScores,
      s.keep,
      shared.codes,
    );
    if (!out) {
      s.stats.framesSkipped++;
      return;
    }
    if (!s.open) return; // closed while encoding: nothing to send it to
    for (const part of out.parts) s.peer.send(part);
    s.nextFrameId = (frameId + 1) >>> 0;
    s.keep.commit(shared.patches, out.choice, out.kept);
    s.rate.onSent(frameId, out.wireBytes, performance.now() / 1000, budget);
    s.stats.framesSent++;
    s.stats.bytesSent += out.wireBytes;
    s.stats.lastBudget = budget;
    s.stats.lastFrameBytes = out.wireBytes;
    if (out.wireBytes > budget) s.stats.budgetViolations++;
    s.stats.lastFrameMs = {
      shared: round(tShared),
      relevance: round(tRel + shared.analysis.ms),
      allocate: round(out.ms.allocate),
      encode: round(out.ms.encode),
      pack: round(out.ms.pack),
      total: round(performance.now() - t0),
    };
  }

  private sendRelevance(s: ReceiverSession, frameId: number, cols: number, map: Uint8Array): number {
    const before = s.peer.bytesSent;
    s.send({ type: 'relevance', frameId, width: cols, height: map.length / cols, values: map });
    return Math.max(0, s.peer.bytesSent - before);
  }
}

const round = (x: number) => Number(x.toFixed(1));
