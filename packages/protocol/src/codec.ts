import { Packr, Unpackr } from 'msgpackr';
import { DEFAULT_CONTEXT, type ProtocolContext } from './context.js';
import { ProtocolError } from './errors.js';
import { LIMITS, type Message } from './types.js';
import { fromWire, toWire } from './wire.js';

// Plain msgpack only: no records, no structured clone; maps decode as Map so no key can reach a prototype.
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

/**
 * Validates `msg` exactly as a receiver would and encodes it. Throws `ProtocolError` for an
 * invalid message, so a sender bug never reaches the wire.
 */
export function encodeMessage(msg: Message, ctx: ProtocolContext = DEFAULT_CONTEXT): Uint8Array {
  let wire: unknown[];
  try {
    wire = toWire(msg);
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError('bad-field', `cannot encode message: ${(e as Error).message}`);
  }
  fromWire(wire, ctx);
  const out = packr.pack(wire);
  if (out.length > LIMITS.maxDecodeBytes) {
    throw new ProtocolError('too-large', `encoded message is ${out.length} bytes, limit ${LIMITS.maxDecodeBytes}`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Decodes and validates one message. Frame messages are checked against `ctx` (the session's
 * level table and geometry; default: the paper's table at 320×480). Throws only `ProtocolError`.
 */
export function decodeMessage(bytes: Uint8Array, ctx: ProtocolContext = DEFAULT_CONTEXT): Message {
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError('not-msgpack', 'input is not binary data');
  if (bytes.length > LIMITS.maxDecodeBytes) {
    throw new ProtocolError('too-large', `message is ${bytes.length} bytes, limit ${LIMITS.maxDecodeBytes}`);
  }
  if (bytes.length === 0) throw new ProtocolError('truncated', 'empty message');
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    if (/end of (buffer|MessagePack data) not reached/i.test(text)) throw new ProtocolError('trailing-bytes', text);
    if (/unexpected end|end of buffer|out of range|outside the bounds/i.test(text)) throw new ProtocolError('truncated', text);
    throw new ProtocolError('not-msgpack', text);
  }
  return fromWire(value, ctx);
}
