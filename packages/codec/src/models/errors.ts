export type ModelErrorCode = 'manifest-invalid' | 'model-missing' | 'model-hash-mismatch' | 'model-load-failed' | 'model-contract';

/** A model that cannot be used: missing, corrupted, or not what the manifest says. Names the file. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}
