import { ModelError } from './errors.js';
import type { ModelFile } from './manifest.js';
import type { ModelReader, OrtRuntime, OrtSession } from './ort.js';
import { sha256 } from './sha256.js';

/**
 * SHA-256 as 64 lowercase hex digits: WebCrypto where it exists, else plain JS (browsers hide
 * `crypto.subtle` outside secure contexts, e.g. a receiver opened as http://<sender-ip>:8080/).
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  const digest = subtle ? new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)) : sha256(bytes);
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Reads a model, checks it against the manifest's hash and contract, and opens an ort session. */
export async function loadModel(
  ort: OrtRuntime,
  spec: ModelFile,
  read: ModelReader,
  options: Record<string, unknown> = {},
): Promise<OrtSession> {
  let bytes: Uint8Array;
  try {
    bytes = await read(spec.file);
  } catch (e) {
    throw new ModelError('model-missing', `cannot read model ${spec.file}: ${(e as Error).message}`, spec.file);
  }
  const hash = await sha256Hex(bytes);
  if (hash !== spec.sha256) {
    throw new ModelError(
      'model-hash-mismatch',
      `model ${spec.file} does not match models/manifest.json (sha256 ${hash.slice(0, 12)}…, expected ${spec.sha256.slice(0, 12)}…): corrupted or replaced`,
      spec.file,
    );
  }
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(bytes, options);
  } catch (e) {
    throw new ModelError('model-load-failed', `onnxruntime cannot load ${spec.file}: ${(e as Error).message}`, spec.file);
  }
  const names = (list: { name: string }[]) => list.map((t) => t.name).join(',');
  if (session.inputNames.join(',') !== names(spec.inputs) || session.outputNames.join(',') !== names(spec.outputs)) {
    throw new ModelError(
      'model-contract',
      `${spec.file} has inputs [${session.inputNames}] and outputs [${session.outputNames}], manifest says [${names(spec.inputs)}] → [${names(spec.outputs)}]`,
      spec.file,
    );
  }
  return session;
}
