/**
 * The slice of the onnxruntime API mmsc uses. onnxruntime-node and onnxruntime-web both satisfy it;
 * callers inject one, so the same decode code runs in Node (tests, probe, eval) and in the browser.
 */
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}

export interface OrtRuntime {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'float32' | 'uint8', data: Float32Array | Uint8Array, dims: readonly number[]) => OrtTensor;
}

/** Reads a model file named in the manifest (fs in Node, fetch in the browser). */
export type ModelReader = (file: string) => Promise<Uint8Array>;
