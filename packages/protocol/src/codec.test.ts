import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  contextFromHello,
  DEFAULT_CONTEXT,
  decodeMessage,
  encodeMessage,
  exampleMessages,
  type FrameMessage,
  type HelloMessage,
  type Message,
  ProtocolError,
  type ProtocolErrorCode,
} from './index.js';
import { toWire } from './wire.js';

const packr = new Packr({ useRecords: false });
const pack = (v: unknown) => new Uint8Array(packr.pack(v));
const examples = exampleMessages();
const example = <T extends Message['type']>(type: T) => examples.find((m) => m.type === type) as Extract<Message, { type: T }>;

function rejects(bytes: Uint8Array, code: ProtocolErrorCode, ctx = DEFAULT_CONTEXT) {
  let caught: unknown;
  try {
    decodeMessage(bytes, ctx);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as ProtocolError).code).toBe(code);
  return caught as ProtocolError;
}

/** Re-encode an example with some wire fields replaced. */
function tampered(type: Message['type'], edit: (wire: unknown[]) => void): Uint8Array {
  const wire = toWire(example(type));
  edit(wire);
  return pack(wire);
}

describe('round trip', () => {
  it('exampleMessages covers every message type once', () => {
    expect(examples.map((m) => m.type).sort()).toEqual([
      'base',
      'error',
      'feedback',
      'frame',
      'grounding',
      'hello',
      'picture',
      'query',
      'refresh',
      'relevance',
      'video',
      'view',
    ]);
  });

  it.each(examples.map((m) => [m.type, m] as const))('%s decodes to exactly what was encoded', (_, m) => {
    const decoded = decodeMessage(encodeMessage(m));
    expect(decoded).toEqual(m);
    for (const v of Object.values(decoded)) if (v instanceof Uint8Array) expect(v.constructor).toBe(Uint8Array);
  });

  it('an encoded message stays intact after later encodes', () => {
    const first = encodeMessage(example('query'));
    const copy = first.slice();
    for (let i = 0; i < 1000; i++) encodeMessage(example('frame'));
    expect(first).toEqual(copy);
  });

  it('frames are checked against the session level table from hello', () => {
    const hello: HelloMessage = {
      ...example('hello'),
      levels: [
        { id: 0, bytes: 0, kind: 'skip', model: null },
        { id: 5, bytes: 7, kind: 'learned', model: { id: 'tiny', sha256: 'd'.repeat(64) } },
      ],
    };
    const ctx = contextFromHello(hello);
    const frame: FrameMessage = { ...example('frame'), levels: Uint8Array.from([0, 5, 5, 7]), payload: new Uint8Array(14) };
    expect(decodeMessage(encodeMessage(frame, ctx), ctx)).toEqual(frame);
    // Level 5 is not in the default table.
    expect(() => encodeMessage(frame)).toThrow(ProtocolError);
  });
});

describe('rejects malformed input with a typed error', () => {
  it('bytes that are not msgpack', () => {
    rejects(Uint8Array.from([0xd4, 5, 0]), 'not-msgpack'); // unknown extension type
    rejects(Uint8Array.from([0xc1]), 'not-array'); // the reserved byte decodes to a marker object
  });
  it('empty and cut-short messages', () => {
    rejects(new Uint8Array(0), 'truncated');
    const full = encodeMessage(example('frame'));
    for (const cut of [1, 5, full.length - 1]) rejects(full.subarray(0, cut), 'truncated');
  });
  it('trailing bytes after the message', () => {
    const full = encodeMessage(example('query'));
    rejects(Uint8Array.from([...full, 0]), 'trailing-bytes');
  });
  it('oversized input is refused before parsing', () => rejects(new Uint8Array((1 << 20) + 1), 'too-large'));
  it('a value that is not an array', () => rejects(pack({ type: 'query' }), 'not-array'));
  it('a wrong protocol version', () => {
    const e = rejects(
      tampered('query', (w) => (w[0] = 2)),
      'bad-version',
    );
    expect(e.message).toMatch(/version 2/);
  });
  it('an unknown message type', () =>
    rejects(
      tampered('query', (w) => (w[1] = 99)),
      'unknown-type',
    ));
  it('the wrong number of fields', () =>
    rejects(
      tampered('query', (w) => w.push('extra')),
      'bad-arity',
    ));
  it('a view whose maps is not a boolean, or whose rate cap is fractional, negative or over 1 Gbit/s', () => {
    rejects(
      tampered('view', (w) => (w[2] = 1)),
      'bad-field',
    );
    rejects(
      tampered('view', (w) => (w[3] = 0.5)),
      'bad-field',
    );
    for (const bps of [-1, 1_000_000_001])
      rejects(
        tampered('view', (w) => (w[3] = bps)),
        'out-of-range',
      );
  });
  it('a grounded word whose flags are not 1..3, whose modifiers are not 1..8 strings, or with a fifth element', () => {
    expect(
      rejects(
        tampered('grounding', (w) => (w[5] as unknown[][])[0]!.push(true)),
        'bad-field',
      ).field,
    ).toBe('words[0].flags');
    expect(
      rejects(
        tampered('grounding', (w) => (w[5] as unknown[][])[0]!.push(0)),
        'out-of-range',
      ).field,
    ).toBe('words[0].flags');
    const e = rejects(
      tampered('grounding', (w) => (w[5] as unknown[][])[0]!.push(4)),
      'out-of-range',
    );
    expect(e.field).toBe('words[0].flags');
    // A fourth element: flags may be 0 then, the modifiers must be 1..8 strings.
    expect(
      rejects(
        tampered('grounding', (w) => (w[5] as unknown[][])[0]!.push(0, [])),
        'out-of-range',
      ).field,
    ).toBe('words[0].modifiers');
    expect(
      rejects(
        tampered('grounding', (w) => (w[5] as unknown[][])[0]!.push(0, ['left', 7])),
        'bad-field',
      ).field,
    ).toBe('words[0].modifiers[1]');
    expect(
      rejects(
        tampered('grounding', (w) => (w[5] as unknown[][])[0]!.push(1, Array(9).fill('red'))),
        'out-of-range',
      ).field,
    ).toBe('words[0].modifiers');
    expect(
      rejects(
        tampered('grounding', (w) => (w[5] as unknown[][])[0]!.push(0, 'left')),
        'bad-field',
      ).field,
    ).toBe('words[0].modifiers');
    rejects(
      tampered('grounding', (w) => (w[5] as unknown[][])[0]!.push(0, ['left'], true)),
      'bad-arity',
    );
  });
  it('a field of the wrong type', () => {
    const e = rejects(
      tampered('feedback', (w) => (w[3] = 'lots')),
      'bad-field',
    );
    expect(e.field).toBe('bytesReceived');
  });
  it('strings over their limit', () => {
    rejects(
      tampered('query', (w) => (w[3] = 'x'.repeat(1025))),
      'string-too-long',
    );
    // The limit counts UTF-8 bytes, not characters: 300 × 4-byte emoji = 1,200 bytes.
    rejects(
      tampered('query', (w) => (w[3] = '😀'.repeat(300))),
      'string-too-long',
    );
  });
  it('out-of-range patch indices', () => {
    rejects(
      tampered('frame', (w) => (w[7] = 2400)),
      'out-of-range',
    );
    // 16 patches starting at 2390 run past patch 2399.
    const e = rejects(
      tampered('frame', (w) => (w[7] = 2390)),
      'out-of-range',
    );
    expect(e.field).toBe('patchCount');
    rejects(
      tampered('frame', (w) => (w[5] = 3)),
      'out-of-range',
    ); // part 3 of 3
  });
  it('level ids not in the table', () => {
    const frame = { ...example('frame'), levels: Uint8Array.from([0, 5]), payload: new Uint8Array(0) };
    const wire = toWire(frame);
    rejects(pack(wire), 'unknown-level');
  });
  it('payload length not matching the levels', () => {
    rejects(
      tampered('frame', (w) => (w[11] = (w[11] as Uint8Array).subarray(1))),
      'payload-length',
    );
    rejects(
      tampered('frame', (w) => (w[11] = Uint8Array.from([...(w[11] as Uint8Array), 0]))),
      'payload-length',
    );
  });
  it('level maps that do not cover their patches', () => {
    rejects(
      tampered('frame', (w) => (w[10] = (w[10] as Uint8Array).subarray(1))),
      'truncated',
    );
    rejects(
      tampered('frame', (w) => (w[9] = 9)),
      'bad-level-coding',
    );
  });
  it('an invalid hello level table', () => {
    rejects(
      tampered('hello', (w) => ((w[6] as unknown[][])[1] = [1, 12, 'learned', null])),
      'bad-field',
    );
    rejects(
      tampered('hello', (w) => ((w[6] as unknown[][])[4] = [4, 191, 'raw', null])),
      'out-of-range',
    );
    rejects(
      tampered('hello', (w) => ((w[6] as unknown[][])[2] = [1, 24, 'learned', ['x', 'b'.repeat(64)]])),
      'bad-field',
    );
    rejects(
      tampered('hello', (w) => (w[3] = 481)),
      'bad-field',
    ); // not a whole number of patches
  });
  it('a hello transport that is not rtp, or without an engine field', () => {
    const h264 = (edit: (w: unknown[]) => void) => {
      const w = toWire({ ...example('hello'), engine: 'h264', transport: 'rtp' });
      edit(w);
      return pack(w);
    };
    expect(decodeMessage(h264(() => undefined))).toMatchObject({ engine: 'h264', transport: 'rtp' });
    expect(
      rejects(
        h264((w) => (w[10] = 'channel')),
        'bad-field',
      ).field,
    ).toBe('transport');
    expect(
      rejects(
        h264((w) => (w[10] = 1)),
        'bad-field',
      ).field,
    ).toBe('transport');
    // A patches hello never carries a transport (its pictures are not video).
    expect(toWire({ ...example('hello'), transport: 'rtp' })).toHaveLength(9);
    rejects(
      h264((w) => (w[9] = 'patches')),
      'bad-field',
    );
  });
  it('a picture whose RTP timestamp or size is out of range', () => {
    rejects(
      tampered('picture', (w) => (w[6] = 2 ** 32)),
      'out-of-range',
    );
    rejects(
      tampered('picture', (w) => (w[7] = 0)),
      'out-of-range',
    );
    rejects(
      tampered('picture', (w) => (w[5] = 1)),
      'bad-field',
    );
  });
  it('relevance maps whose size does not match', () =>
    rejects(
      tampered('relevance', (w) => (w[4] = 3)),
      'payload-length',
    ));
  it('msgpack extension values such as timestamps', () => {
    rejects(
      tampered('feedback', (w) => (w[5] = new Date(0))),
      'bad-field',
    );
  });
});

describe('encodeMessage refuses what decodeMessage would refuse', () => {
  it('throws ProtocolError, never sends', () => {
    expect(() => encodeMessage({ ...example('query'), queryId: '' })).toThrow(ProtocolError);
    expect(() => encodeMessage({ ...example('frame'), payload: new Uint8Array(3) })).toThrow(/payload-length/);
    expect(() => encodeMessage({ ...example('error'), message: '\ud800' })).toThrow(/lone surrogate/);
    expect(() => encodeMessage({ type: 'nope' } as unknown as Message)).toThrow(ProtocolError);
    expect(() => encodeMessage({ ...example('frame'), levels: [1, 2] } as unknown as Message)).toThrow(ProtocolError);
  });
});
