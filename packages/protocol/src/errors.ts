/** Machine-readable reasons a message is rejected. Documented in PROTOCOL.md § Errors. */
export const PROTOCOL_ERROR_CODES = [
  'not-msgpack',
  'truncated',
  'trailing-bytes',
  'too-large',
  'not-array',
  'bad-version',
  'unknown-type',
  'bad-arity',
  'bad-field',
  'string-too-long',
  'out-of-range',
  'unknown-level',
  'bad-level-coding',
  'payload-length',
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/** The only exception `decodeMessage` / `encodeMessage` throw for bad input. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  /** Dotted path of the offending field, e.g. `levels[3].bytes`, when one applies. */
  readonly field: string | undefined;

  constructor(code: ProtocolErrorCode, message: string, field?: string) {
    super(field === undefined ? `${code}: ${message}` : `${code}: ${field}: ${message}`);
    this.code = code;
    this.field = field;
  }
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}
