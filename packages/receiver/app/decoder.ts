/**
 * The page's side of the decode worker (worker.ts): sessions and frames go in, pictures come back.
 * Only the newest picture is drawn, once per animation frame: a backlog is skipped, not replayed.
 */
import type { FrameMessage, HelloMessage } from '@mmsc/protocol';
import type { CollectedFrame } from '../src/index.js';
import type { BenchMix, BenchResult, FromWorker, ToWorker } from './worker-api.js';

export type Picture = Extract<FromWorker, { type: 'picture' }>;

export interface DecoderEvents {
  /** The current session: pictures of an older one are dropped. */
  epoch(): number;
  ready(epoch: number, models: string[], loadMs: number): void;
  /** Every decoded frame of the session, also one a faster successor keeps off the screen. */
  decoded(p: Picture): void;
  show(p: Picture): void;
  error(message: string, fatal: boolean): void;
  /** The worker itself failed (its script did not load or threw). */
  crashed(message: string): void;
}

export class DecoderClient {
  private readonly worker: Worker;
  private pending: Picture | null = null;
  private drawScheduled = false;
  private benchSeq = 0;
  private readonly benchWaiters = new Map<number, (r: BenchResult[]) => void>();

  constructor(
    token: string | null,
    private readonly on: DecoderEvents,
  ) {
    const url = new URL('./worker.js', import.meta.url);
    if (token) url.searchParams.set('token', token); // the worker fetches /models with it
    this.worker = new Worker(url, { type: 'module', name: 'mmsc-decode' });
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.received(ev.data);
    this.worker.onerror = (e) => on.crashed(e.message);
  }

  session(epoch: number, hello: HelloMessage): void {
    this.post({ type: 'session', epoch, hello });
  }

  frame(epoch: number, frame: CollectedFrame): void {
    // Hand the parts' buffers over instead of copying them (the log, if any, holds its own copies).
    const transfer = new Set<ArrayBuffer>();
    for (const part of frame.received as FrameMessage[]) {
      for (const b of [part.payload.buffer, part.levels.buffer]) if (b instanceof ArrayBuffer && b.byteLength > 0) transfer.add(b);
    }
    this.post({ type: 'frame', epoch, frame }, [...transfer]);
  }

  /** Decode + reassembly time of synthetic frames with the given level mixes, in the worker. */
  bench(mixes: BenchMix[], frames: number): Promise<BenchResult[]> {
    return new Promise((resolve) => {
      const id = ++this.benchSeq;
      this.benchWaiters.set(id, resolve);
      this.post({ type: 'bench', id, mixes, frames });
    });
  }

  private post(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  private received(m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        this.on.ready(m.epoch, m.models, m.loadMs);
        break;
      case 'picture':
        if (m.epoch !== this.on.epoch()) return;
        this.on.decoded(m);
        this.pending = m;
        if (!this.drawScheduled) {
          this.drawScheduled = true;
          requestAnimationFrame(() => this.draw());
        }
        break;
      case 'error':
        this.on.error(m.message, m.fatal);
        break;
      case 'bench':
        this.benchWaiters.get(m.id)?.(m.results);
        this.benchWaiters.delete(m.id);
        break;
    }
  }

  private draw(): void {
    this.drawScheduled = false;
    const p = this.pending;
    this.pending = null;
    if (p && p.epoch === this.on.epoch()) this.on.show(p);
  }
}
