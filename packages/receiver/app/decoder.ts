/**
 * The page's PictureDecoding: the decode worker (worker.ts) gets each session's hello and its
 * frames, and answers each frame with its picture. Every answer goes back to the receiving session
 * (stats, keyframe requests); only the newest picture is drawn, once per animation frame: a
 * backlog is skipped, not replayed.
 */
import type { FrameMessage, HelloMessage } from '@mmsc/protocol';
import { type CollectedFrame, type DecodedPicture, type DecoderReady, type PictureDecoding, StaleHold } from '../src/index.js';
import type { BenchMix, BenchResult, FromWorker, ToWorker } from './worker-api.js';

export type Picture = Extract<FromWorker, { type: 'picture' }>;

export interface DecoderEvents {
  /** The newest picture of the current session, once per animation frame. */
  show(p: Picture): void;
  /** The worker itself failed (its script did not load or threw). */
  crashed(message: string): void;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

export class DecoderClient implements PictureDecoding {
  private readonly worker: Worker;
  private epoch = -1;
  private starting: (Waiter<DecoderReady> & { epoch: number }) | null = null;
  /** The current session's frames handed to the worker, by frame id. */
  private readonly waiting = new Map<number, Waiter<DecodedPicture | null>>();
  private pending: Picture | null = null;
  /** Frames of the current session handed over stale (they sat in a network queue), until their answer. */
  private readonly stale = new Set<number>();
  /** A stale picture is drawn only when nothing fresher follows soon (StaleHold). */
  private readonly display = new StaleHold<Picture>((p) => this.toScreen(p));
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

  begin(epoch: number, hello: HelloMessage): Promise<DecoderReady> {
    // The frames of the session before are dropped by the worker.
    for (const w of this.waiting.values()) w.resolve(null);
    this.waiting.clear();
    this.stale.clear();
    this.display.clear();
    this.starting?.reject(new Error('replaced by a newer session'));
    this.epoch = epoch;
    this.post({ type: 'session', epoch, hello });
    return new Promise((resolve, reject) => {
      this.starting = { epoch, resolve, reject };
    });
  }

  decode(epoch: number, frame: CollectedFrame): Promise<DecodedPicture | null> {
    if (epoch !== this.epoch) return Promise.resolve(null);
    // Hand the parts' buffers over instead of copying them (the log, if any, holds its own copies).
    const transfer = new Set<ArrayBuffer>();
    for (const part of frame.received as FrameMessage[]) {
      for (const b of [part.payload.buffer, part.levels.buffer]) if (b instanceof ArrayBuffer && b.byteLength > 0) transfer.add(b);
    }
    const answer = new Promise<DecodedPicture | null>((resolve, reject) => this.waiting.set(frame.frameId, { resolve, reject }));
    if (frame.stale) this.stale.add(frame.frameId);
    this.post({ type: 'frame', epoch, frame }, [...transfer]);
    return answer;
  }

  close(): void {
    this.worker.terminate();
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

  /** The waiter of a frame of the current session, taken off the list. */
  private take(epoch: number, frameId: number): Waiter<DecodedPicture | null> | undefined {
    if (epoch !== this.epoch) return undefined;
    const w = this.waiting.get(frameId);
    this.waiting.delete(frameId);
    this.stale.delete(frameId);
    return w;
  }

  /** The newest picture is drawn at the next animation frame. */
  private toScreen(p: Picture): void {
    if (p.epoch !== this.epoch) return;
    this.pending = p;
    if (!this.drawScheduled) {
      this.drawScheduled = true;
      requestAnimationFrame(() => this.draw());
    }
  }

  private received(m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        if (this.starting?.epoch === m.epoch) this.starting.resolve({ models: m.models, loadMs: m.loadMs });
        if (this.starting?.epoch === m.epoch) this.starting = null;
        break;
      case 'picture': {
        if (m.epoch !== this.epoch) return;
        const stale = this.stale.has(m.frameId);
        this.take(m.epoch, m.frameId)?.resolve({ frameId: m.frameId, stats: m.stats, queued: m.queued, image: null });
        this.display.offer(m, stale);
        break;
      }
      case 'dropped':
        this.take(m.epoch, m.frameId)?.resolve(null);
        break;
      case 'error':
        if (m.frameId !== null) this.take(m.epoch, m.frameId)?.reject(new Error(m.message));
        else if (this.starting?.epoch === m.epoch) {
          this.starting.reject(new Error(m.message));
          this.starting = null;
        }
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
    if (p && p.epoch === this.epoch) this.on.show(p);
  }
}
