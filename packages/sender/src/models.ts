import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CodecSide, type Manifest, ModelError, type ModelReader, type OrtRuntime, PatchCodecs, parseManifest } from '@mmsc/codec';
import * as ortNode from 'onnxruntime-node';

/** The repository's models/ folder (manifest + ONNX files), next to packages/. */
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../../models/', import.meta.url));

export const ort = ortNode as unknown as OrtRuntime;

/**
 * onnxruntime-node session options for every model the sender runs (detector, codecs): two intra-op
 * threads, and the pool stops spinning when a run ends. Without that stop, the detector's pool
 * kept spinning into the encoders' runs and two pools stole each other's cores (2× slower; that is
 * why the codecs once ran on one thread). Measured with `mmsc bench-sender`: frame p50 42 → 36 ms.
 */
export const ORT_SESSION_OPTIONS = {
  intraOpNumThreads: 2,
  extra: { session: { force_spinning_stop: '1', 'intra_op.allow_spinning': '1' } },
};

/**
 * Whether ORT's intra-op threads spin while waiting for work (models loaded after the call). Spinning
 * wins when nothing else wants the cores (a benchmark, the inline pipeline: a frame 8 % faster on
 * the 2-core box); the model worker turns it off, because there a spinning thread takes CPU from the
 * main thread's werift and allocation work (serve at 2 Mbit/s with a probe: 9.3–9.5 vs 9.0–9.2 fps).
 */
export function setOrtSpinning(on: boolean): void {
  ORT_SESSION_OPTIONS.extra.session['intra_op.allow_spinning'] = on ? '1' : '0';
}

export function fileReader(dir: string): ModelReader {
  return async (file) => new Uint8Array(await readFile(join(dir, file)));
}

/** Reads and parses a JSON file of the models folder; a missing or unparsable file is a ModelError naming it. */
export async function readModelJson(dir: string, file: string, what: string, hint: string): Promise<unknown> {
  const path = join(dir, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ModelError('model-missing', `no ${what} at ${path} (${hint})`, file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelError('manifest-invalid', `${path} is not valid JSON: ${(e as Error).message}`, file);
  }
}

export async function readManifest(dir = DEFAULT_MODELS_DIR): Promise<Manifest> {
  return parseManifest(await readModelJson(dir, 'manifest.json', 'model manifest', 'pass --models <dir> to use another folder'));
}

/** Patch codecs of one side on onnxruntime-node, verified against the manifest. */
export async function loadCodecs(side: CodecSide, dir = DEFAULT_MODELS_DIR): Promise<PatchCodecs> {
  return PatchCodecs.create(ort, await readManifest(dir), fileReader(dir), side, ORT_SESSION_OPTIONS);
}
