import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CodecSide, type Manifest, ModelError, type ModelReader, type OrtRuntime, PatchCodecs, parseManifest } from '@mmsc/receiver';
import * as ortNode from 'onnxruntime-node';

/** The repository's models/ folder (manifest + ONNX files), next to packages/. */
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../../models/', import.meta.url));

export const ort = ortNode as unknown as OrtRuntime;

/**
 * Codec sessions run on one intra-op thread: two spinning pools (the detector's and the codecs')
 * stole each other's time and ran 2× slower; two threads without spinning were no faster than one.
 */
export const CODEC_SESSION_OPTIONS = { intraOpNumThreads: 1 };

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
  return PatchCodecs.create(ort, await readManifest(dir), fileReader(dir), side, CODEC_SESSION_OPTIONS);
}
