import { ModelError } from './errors.js';

/** One tensor in a model's contract. `"N"` marks the dynamic batch dimension. */
export interface TensorSpec {
  name: string;
  dtype: 'float32' | 'uint8';
  shape: (number | string)[];
}

export interface ModelFile {
  file: string;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface CodecEntry {
  id: string;
  kind: 'patch-codec';
  level: number;
  bytes: number;
  encoder: ModelFile;
  decoder: ModelFile;
}

/** Entries of other kinds (e.g. the detector) are kept opaque here; their own loaders parse them. */
export interface OtherEntry {
  id: string;
  kind: string;
  [key: string]: unknown;
}

export interface Manifest {
  version: 1;
  models: (CodecEntry | OtherEntry)[];
}

const fail = (msg: string): never => {
  throw new ModelError('manifest-invalid', `models/manifest.json: ${msg}`);
};

function modelFile(v: unknown, where: string): ModelFile {
  const o = v as Partial<ModelFile> | null;
  if (!o || typeof o !== 'object') return fail(`${where} is missing`);
  if (typeof o.file !== 'string' || !/^[\w.-]+$/.test(o.file)) fail(`${where}.file must be a plain file name`);
  if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) fail(`${where}.sha256 must be 64 hex digits`);
  for (const k of ['inputs', 'outputs'] as const) {
    const list = o[k];
    if (!Array.isArray(list) || list.length === 0) fail(`${where}.${k} must list the tensors`);
    for (const t of list as TensorSpec[]) {
      if (typeof t?.name !== 'string' || !['float32', 'uint8'].includes(t.dtype) || !Array.isArray(t.shape)) {
        fail(`${where}.${k} has an invalid tensor spec`);
      }
    }
  }
  return o as ModelFile;
}

export function parseManifest(json: unknown): Manifest {
  const m = json as Partial<Manifest> | null;
  if (!m || typeof m !== 'object' || m.version !== 1 || !Array.isArray(m.models)) fail('expected {"version":1,"models":[...]}');
  const models = (m as Manifest).models.map((e, i) => {
    if (!e || typeof e.id !== 'string' || typeof e.kind !== 'string') return fail(`models[${i}] needs an id and a kind`);
    if (e.kind !== 'patch-codec') return e;
    const c = e as Partial<CodecEntry>;
    if (!Number.isInteger(c.level) || !Number.isInteger(c.bytes) || (c.bytes as number) <= 0)
      fail(`${e.id}: level and bytes must be integers`);
    return { ...c, encoder: modelFile(c.encoder, `${e.id}.encoder`), decoder: modelFile(c.decoder, `${e.id}.decoder`) } as CodecEntry;
  });
  return { version: 1, models };
}

export function codecEntries(m: Manifest): CodecEntry[] {
  return m.models.filter((e): e is CodecEntry => e.kind === 'patch-codec').sort((a, b) => a.bytes - b.bytes);
}
