// Builds the browser receiver (packages/receiver/app) into packages/receiver/dist-app/, which
// `mmsc serve` serves at /. Type-checks the app (DOM lib) and the browser tests first, then bundles
// the page and its decode worker with esbuild. The app imports the shared TypeScript sources
// (@mmsc/protocol, @mmsc/codec, ../src) directly, so the browser runs the same decode/reassembly code as Node.
//
// Usage: node packages/receiver/build-app.mjs [--no-typecheck]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const appDir = join(here, 'app');
const outDir = join(here, 'dist-app');
const sources = {
  '@mmsc/protocol': join(here, '..', 'protocol', 'src', 'index.ts'),
  '@mmsc/codec': join(here, '..', 'codec', 'src', 'index.ts'),
};
const require = createRequire(import.meta.url);

const t0 = performance.now();
if (!process.argv.includes('--no-typecheck')) {
  const tsc = require.resolve('typescript/bin/tsc');
  for (const project of [join(appDir, 'tsconfig.json'), join(here, 'e2e', 'tsconfig.json')]) {
    try {
      execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
    } catch {
      console.error(`build-app: type errors in ${project}`);
      process.exit(1);
    }
  }
}

/** Resolves @mmsc/protocol and @mmsc/codec to their TypeScript sources (not the tsc output), like the app's tsconfig paths. */
const sharedFromSource = {
  name: 'mmsc-shared-source',
  setup(build) {
    build.onResolve({ filter: /^@mmsc\/(protocol|codec)$/ }, (args) => ({ path: sources[args.path] }));
  },
};

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const common = {
  outdir: outDir,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16.4'],
  // onnxruntime-web/wasm without the wasm glue inlined: it loads ort-wasm-simd-threaded.{mjs,wasm}
  // from ort.env.wasm.wasmPaths (/ort/, served by the sender), never from a CDN.
  conditions: ['onnxruntime-web-use-extern-wasm'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
  plugins: [sharedFromSource],
};
// Each file whole (a shared chunk would be one more round trip before the page or the worker runs);
// onnxruntime-web is a file of its own that the worker imports only for a patches session.
await esbuild.build({
  ...common,
  entryPoints: { main: join(appDir, 'main.ts'), worker: join(appDir, 'worker.ts'), 'ort-web': join(appDir, 'ort-web.ts') },
});
for (const f of ['index.html', 'styles.css']) copyFileSync(join(appDir, f), join(outDir, f));
// Gzip beside each file the page loads: the sender serves it to browsers that accept it (a page
// loaded over a 2 Mbit/s link was most of a second of its first picture).
for (const f of ['index.html', 'main.js', 'worker.js', 'ort-web.js', 'styles.css'])
  writeFileSync(join(outDir, `${f}.gz`), gzipSync(readFileSync(join(outDir, f)), { level: 9 }));

const kb = (f) => `${f} ${(statSync(join(outDir, f)).size / 1024).toFixed(0)} kB`;
console.log(
  `build-app: ${['main.js', 'worker.js', 'ort-web.js', 'index.html', 'styles.css'].map(kb).join(', ')} → ${outDir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
);
