import { ProtocolError } from './errors.js';

// Field checkers shared by the encoder and the decoder: one source of truth for what is valid.

const utf8 = new TextEncoder();

export function utf8Length(s: string): number {
  // Fast path: ASCII-only strings are their own length.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point
  return /^[\x00-\x7f]*$/.test(s) ? s.length : utf8.encode(s).length;
}

export function str(v: unknown, field: string, maxBytes: number, minLength = 0): string {
  if (typeof v !== 'string') throw new ProtocolError('bad-field', `expected a string, got ${describe(v)}`, field);
  if (v.length < minLength) throw new ProtocolError('bad-field', 'must not be empty', field);
  // Lone surrogates would not survive UTF-8; reject them instead of sending replacement characters.
  if (!v.isWellFormed()) throw new ProtocolError('bad-field', 'not well-formed Unicode (lone surrogate)', field);
  const n = utf8Length(v);
  if (n > maxBytes) throw new ProtocolError('string-too-long', `${n} UTF-8 bytes, limit ${maxBytes}`, field);
  return v;
}

export function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ProtocolError('bad-field', `expected an integer, got ${describe(v)}`, field);
  }
  if (v < min || v > max) throw new ProtocolError('out-of-range', `${v} is outside ${min}..${max}`, field);
  return v === 0 ? 0 : v; // fold -0
}

export function num(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ProtocolError('bad-field', `expected a finite number, got ${describe(v)}`, field);
  }
  if (v < min || v > max) throw new ProtocolError('out-of-range', `${v} is outside ${min}..${max}`, field);
  return v === 0 ? 0 : v;
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new ProtocolError('bad-field', `expected a boolean, got ${describe(v)}`, field);
  return v;
}

export function bin(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new ProtocolError('bad-field', `expected binary data, got ${describe(v)}`, field);
  // msgpackr hands out Node Buffers; expose plain views so messages compare equal everywhere.
  return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function arr(v: unknown, field: string, maxLength: number): unknown[] {
  if (!Array.isArray(v)) throw new ProtocolError('bad-field', `expected an array, got ${describe(v)}`, field);
  if (v.length > maxLength) throw new ProtocolError('out-of-range', `${v.length} entries, limit ${maxLength}`, field);
  return v;
}

/** An array of exactly `n` elements (positional records). */
export function tuple(v: unknown, field: string, n: number): unknown[] {
  if (!Array.isArray(v)) throw new ProtocolError('bad-field', `expected an array, got ${describe(v)}`, field);
  if (v.length !== n) throw new ProtocolError('bad-arity', `expected ${n} elements, got ${v.length}`, field);
  return v;
}

export function describe(v: unknown): string {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return `array(${v.length})`;
  if (v instanceof Uint8Array) return `binary(${v.length})`;
  if (v instanceof Date) return 'timestamp';
  return typeof v;
}

/** `arr` for the encoder, keeping the element type of an already-typed message. */
export function list<T>(v: readonly T[], field: string, maxLength: number): readonly T[] {
  arr(v, field, maxLength);
  return v;
}
