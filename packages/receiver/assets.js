// Where the built browser app and the onnxruntime-web files it loads live on disk, for whoever
// serves the page (`mmsc serve`). Resolved through this package, which depends on onnxruntime-web,
// instead of by paths up through node_modules.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bundled page (`npm run build` writes it). */
export const APP_DIR = fileURLToPath(new URL('./dist-app/', import.meta.url));
/** onnxruntime-web's dist folder (its wasm runtime and loader), served under /ort/. */
export const ORT_DIR = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-web')), '/');
