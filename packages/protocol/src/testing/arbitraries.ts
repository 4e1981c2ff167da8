import fc from 'fast-check';
import { DEFAULT_CONTEXT, type ProtocolContext } from '../context.js';
import { type LevelSpec, LIMITS, type Message } from '../types.js';

// fast-check generators of valid messages (under DEFAULT_CONTEXT), shared by the property tests and
// the stand-alone fuzzer.

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const asciiId = fc.string({ minLength: 1, maxLength: LIMITS.idBytes });
// Unicode text within a byte limit: 4 bytes per code point at most.
const text = (maxBytes: number) => fc.string({ unit: 'binary', maxLength: Math.floor(maxBytes / 4) }).filter((s) => s.isWellFormed());
const u32 = fc.integer({ min: 0, max: LIMITS.maxFrameId });
const ts = fc.double({ min: 0, max: 4e12, noNaN: true });

const levelTable: fc.Arbitrary<LevelSpec[]> = fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }).chain((ids) =>
  fc.tuple(
    ...ids.map((id) =>
      fc.oneof(
        fc.constant<LevelSpec>({ id, bytes: 0, kind: 'skip', model: null }),
        fc.constant<LevelSpec>({ id, bytes: 192, kind: 'raw', model: null }),
        fc
          .record({ bytes: fc.integer({ min: 1, max: 191 }), mid: asciiId, sha: hex64 })
          .map(({ bytes, mid, sha }): LevelSpec => ({ id, bytes, kind: 'learned', model: { id: mid, sha256: sha } })),
      ),
    ),
  ),
);

export function frameArb(ctx: ProtocolContext = DEFAULT_CONTEXT): fc.Arbitrary<Message> {
  const symbols = ctx.levelBytes.flatMap((b, s) => (b === undefined ? [] : [s]));
  return fc
    .record({
      frameId: u32,
      captureTs: ts,
      budget: fc.integer({ min: 0, max: 10_000_000 }),
      parts: fc.integer({ min: 1, max: 0xffff }),
      firstPatch: fc.integer({ min: 0, max: ctx.patchCount - 1 }),
      // Runs make RLE win sometimes; single symbols make packed win.
      runs: fc.array(fc.tuple(fc.constantFrom(...symbols), fc.integer({ min: 1, max: 300 })), { minLength: 1, maxLength: 40 }),
      seed: fc.integer(),
    })
    .chain((r) => fc.record({ r: fc.constant(r), part: fc.integer({ min: 0, max: r.parts - 1 }) }))
    .map(({ r, part }) => {
      const all = r.runs.flatMap(([s, n]) => new Array<number>(n).fill(s));
      const levels = Uint8Array.from(all.slice(0, ctx.patchCount - r.firstPatch));
      const n = levels.reduce((sum, l) => sum + (ctx.levelBytes[l] ?? 0), 0);
      const payload = Uint8Array.from({ length: n }, (_, i) => (i * 131 + r.seed) & 0xff);
      return {
        type: 'frame',
        frameId: r.frameId,
        captureTs: r.captureTs,
        budget: r.budget,
        part,
        parts: r.parts,
        firstPatch: r.firstPatch,
        levels,
        payload,
      };
    });
}

export function messageArb(): fc.Arbitrary<Message> {
  return fc.oneof(
    fc.record({
      type: fc.constant('hello' as const),
      sessionId: text(LIMITS.idBytes),
      patchSize: fc.constant(8),
      width: fc.integer({ min: 1, max: 128 }).map((n) => n * 8),
      height: fc.integer({ min: 1, max: 128 }).map((n) => n * 8),
      levels: levelTable,
      maxMessageBytes: fc.integer({ min: LIMITS.minMessageBytes, max: LIMITS.maxMessageBytes }),
      fps: fc.option(fc.double({ min: 0.1, max: 1000, noNaN: true }), { nil: null }),
      engine: fc.constantFrom('patches' as const, 'h264' as const),
    }),
    frameArb(),
    fc
      .record({
        frameId: u32,
        captureTs: ts,
        budget: fc.integer({ min: 0, max: 2 ** 40 }),
        parts: fc.integer({ min: 1, max: 0xffff }),
        key: fc.boolean(),
        n: fc.integer({ min: 1, max: 300 }),
        seed: fc.integer(),
      })
      .chain((r) => fc.record({ r: fc.constant(r), part: fc.integer({ min: 0, max: r.parts - 1 }) }))
      .map(
        ({ r, part }): Message => ({
          type: 'video',
          frameId: r.frameId,
          captureTs: r.captureTs,
          budget: r.budget,
          part,
          parts: r.parts,
          key: r.key,
          data: Uint8Array.from({ length: r.n }, (_, i) => (i * 29 + r.seed) & 0xff),
        }),
      ),
    fc.record({ type: fc.constant('refresh' as const), reason: text(LIMITS.idBytes) }),
    fc.record({ type: fc.constant('base' as const), frameId: u32, data: fc.uint8Array({ minLength: 3, maxLength: 200 }) }),
    fc.record({ frameId: u32, width: fc.integer({ min: 1, max: 60 }), height: fc.integer({ min: 1, max: 40 }), seed: fc.integer() }).map(
      ({ frameId, width, height, seed }): Message => ({
        type: 'relevance',
        frameId,
        width,
        height,
        values: Uint8Array.from({ length: width * height }, (_, i) => (i * 7 + seed) & 0xff),
      }),
    ),
    fc.record({
      type: fc.constant('grounding' as const),
      queryId: text(LIMITS.idBytes),
      text: text(LIMITS.textBytes),
      fallback: fc.boolean(),
      words: fc.array(
        fc.record({
          word: text(LIMITS.wordBytes),
          classes: fc.array(fc.record({ name: text(LIMITS.wordBytes), weight: fc.double({ min: 0, max: 1, noNaN: true }) }), {
            maxLength: 5,
          }),
        }),
        { maxLength: 8 },
      ),
      ungrounded: fc.array(text(LIMITS.wordBytes), { maxLength: 8 }),
    }),
    fc.record({ type: fc.constant('query' as const), queryId: asciiId, text: text(LIMITS.textBytes) }),
    fc.record({
      type: fc.constant('feedback' as const),
      frameId: u32,
      bytesReceived: fc.integer({ min: 0, max: 2 ** 40 }),
      partsReceived: fc.integer({ min: 0, max: 0xffff }),
      receiveTs: ts,
    }),
    fc.record({
      type: fc.constant('error' as const),
      code: asciiId,
      message: text(LIMITS.textBytes),
      ref: fc.option(text(LIMITS.idBytes), { nil: null }),
    }),
  ) as fc.Arbitrary<Message>;
}

/** Byte-level mutations of an encoded message: flips, truncations, splices, insertions. */
export function mutate(bytes: Uint8Array, rnd: () => number): Uint8Array {
  const out = Array.from(bytes);
  const edits = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(rnd() * (out.length + 1));
    const op = Math.floor(rnd() * 6);
    if (op === 0 && out.length) out[at % out.length] = Math.floor(rnd() * 256);
    else if (op === 1 && out.length) out[at % out.length] = ((out[at % out.length] as number) ^ (1 << Math.floor(rnd() * 8))) & 0xff;
    else if (op === 2) out.length = at;
    else if (op === 3) out.splice(at, 0, Math.floor(rnd() * 256));
    else if (op === 4) out.splice(at, 1 + Math.floor(rnd() * 8));
    // Interesting msgpack markers: big lengths, nil, ext, str32, array32.
    else out.splice(at, 0, [0xc0, 0xc1, 0xc4, 0xc6, 0xc7, 0xd9, 0xdb, 0xdc, 0xdd, 0xdf, 0xff, 0x7f][Math.floor(rnd() * 12)] as number);
  }
  return Uint8Array.from(out);
}
