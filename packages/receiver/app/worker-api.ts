import type { HelloMessage } from '@mmsc/protocol';
import type { ApplyStats, CollectedFrame } from '../src/index.js';

/** Page → decode worker. `epoch` numbers sessions: a reconnect starts a new picture. */
export type ToWorker =
  | { type: 'session'; epoch: number; hello: HelloMessage }
  | { type: 'frame'; epoch: number; frame: CollectedFrame }
  | { type: 'bench'; id: number; mixes: BenchMix[]; frames: number };

/** A synthetic level mix for the worst-case benchmark: share of patches per level symbol. */
export interface BenchMix {
  name: string;
  shares: Record<number, number>;
}

export interface BenchResult {
  name: string;
  frames: number;
  applyMsP50: number;
  applyMsP90: number;
  /** Of which the decoder calls (onnxruntime-web run + float → uint8), median. */
  modelMsP50: number;
}

/** Decode worker → page. */
export type FromWorker =
  | { type: 'ready'; epoch: number; loadMs: number; models: string[] }
  | {
      type: 'picture';
      epoch: number;
      frameId: number;
      width: number;
      height: number;
      /** RGBA, width·height·4 bytes (transferred). */
      rgba: ArrayBuffer;
      /** Per patch: the level symbol of the copy on screen; 255 where interpolated (no copy). */
      shown: Uint8Array;
      stats: ApplyStats;
      /** Frames waiting in the worker when this one was done. */
      queued: number;
      /** Time the frame waited in the worker before its decode started. */
      waitMs: number;
    }
  /** A frame not decoded: its session was replaced, or never started. */
  | { type: 'dropped'; epoch: number; frameId: number }
  | { type: 'bench'; id: number; results: BenchResult[] }
  /** `frameId` null: the session cannot start (fatal for it); otherwise that frame failed. */
  | { type: 'error'; epoch: number; frameId: number | null; message: string };
