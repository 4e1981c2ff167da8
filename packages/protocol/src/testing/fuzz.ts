import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { decodeMessage, encodeMessage } from '../codec.js';
import { ProtocolError } from '../errors.js';
import { exampleMessages } from '../examples.js';
import { seededRandom } from '../random.js';
import { MESSAGE_TYPES, type Message } from '../types.js';
import { messageArb, mutate } from './arbitraries.js';

export interface FuzzCounts {
  roundTrips: number;
  mutations: number;
  randomBytes: number;
  structured: number;
}

export interface FuzzReport extends FuzzCounts {
  total: number;
  accepted: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  maxDecodeMs: number;
}

const packr = new Packr({ useRecords: false });

/**
 * Feeds `decodeMessage` valid, mutated, random and structurally plausible inputs. Every input must
 * either decode to a message that re-encodes and decodes to itself, or throw `ProtocolError`.
 * Anything else throws, with the offending bytes in the message.
 */
export function runFuzz(counts: FuzzCounts, seed = 1): FuzzReport {
  const report: FuzzReport = { ...counts, total: 0, accepted: 0, rejected: 0, rejectedByCode: {}, maxDecodeMs: 0 };
  const rnd = seededRandom(seed);

  const check = (bytes: Uint8Array) => {
    report.total++;
    const t0 = performance.now();
    let msg: Message;
    try {
      msg = decodeMessage(bytes);
    } catch (e) {
      if (!(e instanceof ProtocolError)) {
        throw new Error(
          `decodeMessage threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message} on [${Array.from(bytes.subarray(0, 64))}]`,
        );
      }
      report.rejected++;
      report.rejectedByCode[e.code] = (report.rejectedByCode[e.code] ?? 0) + 1;
      return;
    } finally {
      report.maxDecodeMs = Math.max(report.maxDecodeMs, performance.now() - t0);
    }
    report.accepted++;
    assertRoundTrip(msg, bytes);
  };

  // 1. Valid messages round-trip exactly; their encodings seed the mutators.
  const seeds: Uint8Array[] = exampleMessages().map((m) => encodeMessage(m));
  fc.assert(
    fc.property(messageArb(), (m) => {
      const bytes = encodeMessage(m);
      const back = decodeMessage(bytes);
      assertEqual(back, m);
      if (seeds.length < 400 && bytes.length < 4096) seeds.push(bytes);
      report.total++;
      report.accepted++;
    }),
    { numRuns: counts.roundTrips, seed },
  );

  // 2. Mutations of valid encodings.
  for (let i = 0; i < counts.mutations; i++) check(mutate(seeds[Math.floor(rnd() * seeds.length)] as Uint8Array, rnd));

  // 3. Random bytes, biased to start like a message.
  for (let i = 0; i < counts.randomBytes; i++) {
    const bytes = Uint8Array.from({ length: Math.floor(rnd() * 48) }, () => Math.floor(rnd() * 256));
    if (bytes.length > 2 && rnd() < 0.5) bytes.set([0x90 + Math.min(15, bytes.length - 1), 1], 0);
    check(bytes);
  }

  // 4. Well-formed msgpack with a valid header and random fields: reaches deep into the validators.
  const types = Object.values(MESSAGE_TYPES);
  fc.assert(
    fc.property(
      fc.constantFrom(...types),
      fc.array(fc.oneof(fc.anything({ maxDepth: 2 }), fc.uint8Array({ maxLength: 40 }), fc.integer({ min: -5, max: 3000 })), {
        maxLength: 12,
      }),
      (type, fields) => {
        check(new Uint8Array(packr.pack([1, type, ...fields])));
      },
    ),
    { numRuns: counts.structured, seed },
  );
  return report;
}

function assertRoundTrip(msg: Message, from: Uint8Array) {
  let again: Message;
  try {
    again = decodeMessage(encodeMessage(msg));
  } catch (e) {
    throw new Error(`accepted message does not re-encode (${(e as Error).message}) from [${Array.from(from.subarray(0, 64))}]`);
  }
  assertEqual(again, msg);
}

function assertEqual(a: unknown, b: unknown) {
  if (!deepEqual(a, b)) throw new Error(`round trip changed the message:\n${show(a)}\n!=\n${show(b)}`);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((v, i) => v === b[i]);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function show(v: unknown) {
  return JSON.stringify(v, (_, x) => (x instanceof Uint8Array ? `bin(${x.length})` : x)).slice(0, 500);
}
