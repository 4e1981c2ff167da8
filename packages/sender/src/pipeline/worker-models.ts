import { Worker } from 'node:worker_threads';
import type { Log } from '../log.js';
import { DEFAULT_MODELS_DIR } from '../models.js';
import type { RelevanceChoice } from '../relevance/relevance-choice.js';
import type { Frame } from '../relevance/relevance-model.js';
import type { PatchEncoder } from './code-cache.js';
import {
  type FrameRelevance,
  PipelineError,
  type PipelineHealth,
  type PipelineModels,
  type ProcessedFrame,
  type QueryWeights,
  queryWeights,
} from './frame-pipeline.js';
import { errorFrom, type ModelWorkerData, type WorkerHello, type WorkerReply, type WorkerRequest } from './worker-protocol.js';

type Reply<Op> = Extract<WorkerReply, { ok: true; op: Op }>;
type Pending = { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };
/** Distributive Omit: each request kind without its id. */
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

export interface WorkerModelsOptions {
  log?: Log;
  /** A crashed worker is started again on the next request, but not more often than this (default 5 s). */
  restartEveryMs?: number;
  /** The lexicon's classes, checked against the detector's when the worker loads it (a mismatch is a `ModelError`). */
  classes?: readonly string[];
  /** Which relevance the worker runs (default the detector's). */
  relevance?: RelevanceChoice;
}

/** The compiled worker file; under vitest this module is the TypeScript source, so the build's copy (`tsc -b` runs first). */
function workerEntry(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(here.replace(/\/src\/pipeline\/worker-models\.ts$/, '/dist/pipeline/model-worker.js'));
  return new URL('./model-worker.js', here);
}

/**
 * The detector, the fusion and the patch encoders in a worker thread (`model-worker.ts`), seen from the main thread
 * as `PipelineModels`. A worker that dies fails its pending requests, makes `health()` not ok, and is
 * started again on the next request (at most every 5 s).
 */
export class WorkerModels implements PipelineModels {
  private worker: Worker | null = null;
  private starting: Promise<Worker> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped: string | null = null;
  private lastStart = 0;
  private closed = false;
  readonly encoder: PatchEncoder = {
    encode: async (bytes, patches) => (await this.request<'encode'>({ op: 'encode', bytes, patches })).codes,
  };

  private readonly log: Log | undefined;
  private readonly restartEveryMs: number;
  private readonly classes: readonly string[] | null;
  private readonly relevance: RelevanceChoice | null;

  private constructor(
    private readonly modelsDir: string,
    opts: WorkerModelsOptions,
  ) {
    this.log = opts.log;
    this.restartEveryMs = opts.restartEveryMs ?? 5000;
    this.classes = opts.classes ?? null;
    this.relevance = opts.relevance ?? null;
  }

  /** Starts the worker and waits until its models are loaded (a model error rejects, as a `ModelError`). */
  static async start(modelsDir = DEFAULT_MODELS_DIR, opts: WorkerModelsOptions = {}): Promise<WorkerModels> {
    const m = new WorkerModels(modelsDir, opts);
    await m.ensureWorker();
    return m;
  }

  async process(frame: Frame, queries: readonly QueryWeights[]): Promise<ProcessedFrame> {
    const r = await this.request<'process'>({
      op: 'process',
      width: frame.width,
      height: frame.height,
      data: frame.data,
      queries: queries.map(queryWeights),
    });
    return { seq: r.seq, patches: r.patches, variances: r.variances, analysisMs: r.analysisMs, relevance: r.relevance };
  }

  async encodeIndexed(seq: number, bytes: number, idx: Uint32Array): Promise<Uint8Array> {
    return (await this.request<'encodeIndexed'>({ op: 'encodeIndexed', seq, bytes, idx })).codes;
  }

  async fuse(seq: number, query: QueryWeights): Promise<FrameRelevance> {
    return (await this.request<'fuse'>({ op: 'fuse', seq, query: queryWeights(query) })).relevance;
  }

  async warmUp(width: number, height: number): Promise<void> {
    await this.request<'warmUp'>({ op: 'warmUp', width, height });
  }

  health(): PipelineHealth {
    return this.stopped ? { ok: false, reason: this.stopped } : { ok: true };
  }

  /** Asks the worker to release its models and end; terminates it if it has not within 2 s. */
  async close(): Promise<void> {
    if (this.closed) return;
    const w = this.worker;
    this.closed = true;
    this.worker = null;
    this.failPending(new PipelineError('the frame pipeline is closed'));
    if (!w) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ id: this.nextId++, op: 'close' } satisfies WorkerRequest);
    const timer = setTimeout(() => void w.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }

  private async request<Op extends WorkerRequest['op']>(body: RequestBody & { op: Op }): Promise<Reply<Op>> {
    const worker = await this.ensureWorker();
    const id = this.nextId++;
    const reply = await new Promise<WorkerReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...body, id });
    });
    if (!reply.ok) throw errorFrom(reply.error);
    return reply as Reply<Op>;
  }

  private ensureWorker(): Promise<Worker> {
    if (this.closed) return Promise.reject(new PipelineError('the frame pipeline is closed'));
    if (this.worker) return Promise.resolve(this.worker);
    if (this.starting) return this.starting;
    const wait = this.lastStart + this.restartEveryMs - performance.now();
    if (this.lastStart > 0 && wait > 0) return Promise.reject(new PipelineError(this.stopped ?? 'the model worker is restarting'));
    this.lastStart = performance.now();
    this.starting = this.spawn().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    return new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(workerEntry(), {
        workerData: { modelsDir: this.modelsDir, classes: this.classes, relevance: this.relevance } satisfies ModelWorkerData,
      });
      worker.unref(); // the server's sockets keep the process alive, not this thread
      let ready = false;
      worker.on('message', (m: WorkerHello | WorkerReply) => {
        if (!ready) {
          const hello = m as WorkerHello;
          if (!hello.ready) {
            reject(errorFrom(hello.error));
            void worker.terminate();
            return;
          }
          ready = true;
          if (this.stopped) this.log?.info({}, 'model worker running again');
          this.stopped = null;
          this.worker = worker;
          resolve(worker);
          return;
        }
        const r = m as WorkerReply;
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        p?.resolve(r);
      });
      worker.on('error', (e) => {
        this.log?.error({ err: e }, `model worker failed: ${e.message}`);
        this.stopped = `the model worker failed: ${e.message}`;
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = null;
        if (!ready) reject(new Error(`the model worker exited (code ${code}) before its models loaded`));
        if (this.closed) return;
        this.stopped ??= `the model worker exited (code ${code})`;
        this.log?.error({ code }, `${this.stopped}; it is started again on the next frame`);
        this.failPending(new PipelineError(this.stopped));
      });
    });
  }

  private failPending(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
