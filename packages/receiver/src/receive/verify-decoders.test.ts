import { defaultLevels, type HelloMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { DecoderMismatchError, decoderIdentities, verifyDecoders } from './verify-decoders.js';

const sha = (c: string) => c.repeat(64);
const hello = (models: Partial<Record<12 | 24 | 48, { id: string; sha256: string }>>): HelloMessage => ({
  type: 'hello',
  sessionId: 's',
  width: 480,
  height: 320,
  patchSize: 8,
  levels: defaultLevels(models),
  maxMessageBytes: 65536,
  fps: 10,
  engine: 'patches',
});
/** What a manifest lists (codecEntries gives these, with more fields). */
const entry = (bytes: number, id: string, sha256: string) => ({ id, bytes, decoder: { sha256, file: `${id}.onnx` } });
const ours = [entry(12, 'codec-L12', sha('a')), entry(24, 'codec-L24', sha('b')), entry(48, 'codec-L48', sha('c'))];
const announced = {
  12: { id: 'codec-L12', sha256: sha('a') },
  24: { id: 'codec-L24', sha256: sha('b') },
  48: { id: 'codec-L48', sha256: sha('c') },
};

function refusal(f: () => void): DecoderMismatchError {
  try {
    f();
  } catch (e) {
    if (e instanceof DecoderMismatchError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('verifyDecoders', () => {
  it('accepts a hello whose learned levels name the decoders this receiver runs', () => {
    expect(() => verifyDecoders(hello(announced), ours)).not.toThrow();
  });

  it('goes by the hash: a renamed copy of the same model passes', () => {
    expect(() => verifyDecoders(hello({ ...announced, 24: { id: 'renamed', sha256: sha('b') } }), ours)).not.toThrow();
  });

  it('refuses a decoder with another hash, saying which level and both models', () => {
    const e = refusal(() =>
      verifyDecoders(hello({ ...announced, 48: { id: 'codec-L48-v2', sha256: sha('d') } }), ours, 'models/manifest.json'),
    );
    expect(e).toMatchObject({
      code: 'decoder-mismatch',
      bytes: 48,
      announced: { id: 'codec-L48-v2', sha256: sha('d') },
      have: { id: 'codec-L48', sha256: sha('c') },
    });
    expect(e.message).toBe(
      'decoder mismatch for 48-byte patches: the sender announces codec-L48-v2 sha256 dddddddddddd…, models/manifest.json has codec-L48 cccccccccccc…',
    );
  });

  it('refuses a level this receiver has no decoder for', () => {
    const e = refusal(() => verifyDecoders(hello(announced), ours.slice(0, 2)));
    expect(e).toMatchObject({ code: 'decoder-missing', bytes: 48, have: null });
    expect(e.message).toMatch(/48-byte decoder \(codec-L48\) that this receiver's manifest does not list/);
  });

  it('needs nothing for skip and raw levels', () => {
    const h = hello(announced);
    h.levels = h.levels.filter((l) => l.kind !== 'learned');
    expect(() => verifyDecoders(h, [])).not.toThrow();
  });

  it('reads the identities off loaded codecs', () => {
    const codecs = { levels: [12, 24], entry: (b: number) => ours.find((e) => e.bytes === b)! };
    expect(decoderIdentities(codecs).map((d) => d.id)).toEqual(['codec-L12', 'codec-L24']);
    expect(refusal(() => verifyDecoders(hello(announced), decoderIdentities(codecs))).code).toBe('decoder-missing');
  });
});
