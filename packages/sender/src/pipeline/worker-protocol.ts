import { ModelError, type ModelErrorCode } from '@mmsc/codec';
import type { RelevanceChoice } from '../relevance/relevance-choice.js';
import { type FrameRelevance, PipelineError, type ProcessedFrame, type QueryWeights } from './frame-pipeline.js';

/** What the model worker is started with: its models folder, the lexicon's classes to check, which relevance to run. */
export interface ModelWorkerData {
  modelsDir: string;
  classes: readonly string[] | null;
  relevance: RelevanceChoice | null;
}

/** Main thread → model worker. Queries come as class weights under their key (grounded on the main thread). */
export type WorkerRequest =
  | { id: number; op: 'process'; width: number; height: number; data: Uint8Array; queries: QueryWeights[] }
  | { id: number; op: 'fuse'; seq: number; query: QueryWeights }
  | { id: number; op: 'encode'; bytes: number; patches: Uint8Array }
  | { id: number; op: 'encodeIndexed'; seq: number; bytes: number; idx: Uint32Array }
  | { id: number; op: 'warmUp'; width: number; height: number }
  | { id: number; op: 'close' };

/** An error as it crosses the thread boundary (class, code and message kept). */
export interface WorkerError {
  name: string;
  message: string;
  code?: string;
  file?: string;
  stack?: string;
}

/** Model worker → main thread, one per request. */
export type WorkerReply =
  | ({ id: number; ok: true; op: 'process' } & ProcessedFrame)
  | { id: number; ok: true; op: 'fuse'; relevance: FrameRelevance }
  | { id: number; ok: true; op: 'encode'; codes: Uint8Array }
  | { id: number; ok: true; op: 'encodeIndexed'; codes: Uint8Array }
  | { id: number; ok: true; op: 'warmUp' }
  | { id: number; ok: true; op: 'close' }
  | { id: number; ok: false; error: WorkerError };

/** The worker's first message: its models loaded, or why not. */
export type WorkerHello = { ready: true } | { ready: false; error: WorkerError };

export function errorOf(e: unknown): WorkerError {
  const err = e instanceof Error ? e : new Error(String(e));
  const me = err instanceof ModelError ? err : null;
  return {
    name: err.name,
    message: err.message,
    ...(me ? { code: me.code, ...(me.file ? { file: me.file } : {}) } : {}),
    ...(err.stack ? { stack: err.stack } : {}),
  };
}

/** The error again on this side: a ModelError stays one (the CLI prints those as one line), a PipelineError too (the frame is skipped). */
export function errorFrom(w: WorkerError): Error {
  const e =
    w.name === 'ModelError'
      ? new ModelError(w.code as ModelErrorCode, w.message, w.file)
      : w.name === 'PipelineError'
        ? new PipelineError(w.message)
        : new Error(w.message);
  if (w.stack) e.stack = `${e.name}: ${w.message}\n    (in the model worker)\n${w.stack.split('\n').slice(1).join('\n')}`;
  return e;
}
