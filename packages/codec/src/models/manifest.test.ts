import { describe, expect, it } from 'vitest';
import { ModelError } from './errors.js';
import { codecEntries, parseManifest } from './manifest.js';

const file = (name: string, input: string, output: string) => ({
  file: name,
  sha256: 'a'.repeat(64),
  inputs: [{ name: input, dtype: 'float32', shape: ['N', 192] }],
  outputs: [{ name: output, dtype: 'uint8', shape: ['N', 12] }],
});
const codec = (bytes: number) => ({
  id: `codec-L${bytes}`,
  kind: 'patch-codec',
  level: bytes / 12,
  bytes,
  encoder: file(`e${bytes}.onnx`, 'patches', 'code'),
  decoder: file(`d${bytes}.onnx`, 'code', 'patches'),
});

describe('parseManifest', () => {
  it('keeps codecs (sorted by bytes) and passes other kinds through', () => {
    const m = parseManifest({ version: 1, models: [codec(24), { id: 'centernet', kind: 'detector', file: 'c.onnx' }, codec(12)] });
    expect(codecEntries(m).map((c) => c.bytes)).toEqual([12, 24]);
    expect(m.models.find((e) => e.kind === 'detector')).toMatchObject({ id: 'centernet', file: 'c.onnx' });
  });

  it.each([
    ['not an object', null],
    ['wrong version', { version: 2, models: [] }],
    ['a codec without a decoder', { version: 1, models: [{ ...codec(12), decoder: undefined }] }],
    ['a bad hash', { version: 1, models: [{ ...codec(12), encoder: { ...file('e.onnx', 'a', 'b'), sha256: 'xyz' } }] }],
    ['a path instead of a file name', { version: 1, models: [{ ...codec(12), encoder: file('../../etc/passwd', 'a', 'b') }] }],
  ])('rejects %s with a ModelError', (_, json) => {
    expect(() => parseManifest(json)).toThrow(ModelError);
  });
});
