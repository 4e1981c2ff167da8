import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deepImports, importCycles, type Layers, type Source, upwardImports } from './testing/import-rules.js';

// The package layering of ARCHITECTURE.md, checked on the sources: nothing imports upward.
//   protocol ← codec ← receiver (library + app)
//   protocol ← codec ← sender (library)
//   everything ← cli (commands, probe, eval, benches, cross-package tests)
// Inside a package, modules are layered too (LAYERS below); another package is imported only
// through its package.json "exports"; no module imports itself through a loop.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|mjs)$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] as string);
}

/** Every import of `files` that `allowed` refuses, as "file → specifier". */
function violations(files: string[], allowed: (spec: string, file: string) => boolean): string[] {
  return files.flatMap((f) =>
    importsOf(f)
      .filter((s) => !allowed(s, f))
      .map((s) => `${f} → ${s}`),
  );
}

const ours = (spec: string) => spec.startsWith('@mmsc/');
/** Every package's sources below the CLI. */
const PACKAGES = ['packages/protocol/src', 'packages/codec/src', 'packages/receiver/src', 'packages/receiver/app', 'packages/sender/src'];
const isTest = (f: string) => f.endsWith('.test.ts');
/** A relative import that stays inside `dir`. */
const inside = (dir: string) => (spec: string, file: string) =>
  !spec.startsWith('.') || !relative(join(ROOT, dir), join(ROOT, file, '..', spec)).startsWith('..');

describe('package layering', () => {
  it('protocol and codec import nothing of ours, and nothing outside their own folder', () => {
    for (const pkg of ['packages/protocol/src', 'packages/codec/src']) {
      expect(violations(sources(pkg), (s, f) => !ours(s) && inside(pkg)(s, f))).toEqual([]);
    }
  });

  it('protocol, codec and the receiver library are isomorphic: no node: imports outside tests and tools', () => {
    const tools = /(bench-overhead|fuzz|update-golden)\.ts$/;
    const files = ['packages/protocol/src', 'packages/codec/src', 'packages/receiver/src']
      .flatMap(sources)
      .filter((f) => !isTest(f) && !tools.test(f));
    expect(violations(files, (s) => !s.startsWith('node:'))).toEqual([]);
  });

  it('the receiver imports only the protocol and the codec', () => {
    const files = [...sources('packages/receiver/src'), ...sources('packages/receiver/app')];
    expect(violations(files, (s) => !ours(s) || s === '@mmsc/protocol' || s === '@mmsc/codec')).toEqual([]);
  });

  it('the sender imports only the protocol and the codec (its tests too), and nothing of its test helpers outside tests', () => {
    const files = sources('packages/sender/src');
    expect(files.length).toBeGreaterThan(40);
    // The codec's Node-only entries (@mmsc/codec/h264-node, vp8-node: node-av) are the codec too; the
    // receiver rule above keeps them out of the browser.
    const ok = (s: string, f: string) =>
      (!ours(s) || s === '@mmsc/protocol' || s.startsWith('@mmsc/codec')) &&
      (isTest(f) || f.includes('/testing/') || !/\/testing\//.test(join(f, '..', s))) &&
      inside('packages/sender/src')(s, f);
    expect(violations(files, ok)).toEqual([]);
  });

  it('no package imports the CLI', () => {
    const files = PACKAGES.flatMap(sources);
    expect(violations(files, (s) => !s.startsWith('@mmsc/cli'))).toEqual([]);
  });

  it('no source reaches into node_modules or another package by a relative path (the scripts neither)', () => {
    const files = [...PACKAGES, 'packages/cli/src', 'scripts'].flatMap(sources);
    const bad = files.filter((f) =>
      /['"](\.\.\/)+(node_modules|packages)\/|['"](\.\.\/){3,}[a-z]+\/(src|dist)/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(bad).toEqual([]);
  });
});

/** Every source under `dirs`, read. */
const read = (...dirs: string[]): Source[] => dirs.flatMap(sources).map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));

/** Each package's exported subpaths (package.json "exports" keys), by its name under @mmsc/. */
function packageExports(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    const json = JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8')) as { name: string; exports?: object };
    out[json.name.replace('@mmsc/', '')] = Object.keys(json.exports ?? {});
  }
  return out;
}

/**
 * The layers inside each package, lowest first, as the code has them: a module imports its own
 * layer and those below, never one above (tests may import any). A new folder or top-level file
 * must be placed here (a module in no layer fails).
 */
const LAYERS: Record<string, Layers> = {
  'packages/protocol/src': [
    ['*'], // the wire format: types, codec, framing, signalling, registries
    ['testing/', 'fixtures/'], // seeded examples and the golden vectors
    ['bench-overhead.ts', 'fuzz.ts', 'index.ts'], // tools and the surface
  ],
  'packages/codec/src': [
    ['models/', 'patchify.ts', 'base-layer.ts', 'video/', 'rtp/'], // manifest and runtime seam, patches, YUV/Annex B, FFmpeg coders, RTP payloads
    ['patch-codecs.ts'], // the learned patch codecs, on the runtime seam
    ['index.ts'],
  ],
  'packages/receiver/src': [
    ['collect-frame.ts', 'reassemble.ts', 'reassemble-video.ts', 'rtp/', 'receive/verify-decoders.ts', 'receive/receiver-connection.ts'],
    ['engines/'], // picture sources by engine name
    ['receive/frame-receiver.ts'], // collect → picture source → picture
    ['session/'], // one receiving session
    ['index.ts'],
  ],
  'packages/sender/src': [
    ['geometry.ts', 'images.ts', 'log.ts', 'models.ts', 'assets.ts'], // leaves: frame sizes, images, logging, model files
    ['sources/', 'rate/', 'allocate/', 'relevance/'], // one concern each
    ['pipeline/'], // a frame's shared work (the models, in a worker)
    ['engines/'], // a link's coding, by engine name
    ['hello.ts', 'server/'], // the links, the frame clock and the HTTP side
    ['start-sender.ts', 'testing/', 'index.ts'], // the wiring, test helpers and the surface
  ],
  'packages/cli/src': [
    ['errors.ts', 'metrics.ts', 'progress.ts'],
    // `probe` is a command and the library function scripts and the emulator call.
    ['receive/', 'eval/', 'testing/', 'commands/probe.ts'],
    ['emulate/'],
    ['commands/'],
    ['main.ts', 'index.ts'],
  ],
};

describe('module rules', () => {
  const all = read(...PACKAGES, 'packages/cli/src', 'packages/receiver/e2e', 'scripts');

  it('another package is imported only through its exports (no deep imports)', () => {
    const exports = packageExports();
    expect(exports.sender).toEqual(['.', './testing']);
    expect(deepImports(all, exports)).toEqual([]);
  });

  it('no module imports a layer above its own, and every module is in a layer', () => {
    for (const [root, layers] of Object.entries(LAYERS)) expect(upwardImports(all, root, layers)).toEqual([]);
  });

  it('no import loops between modules', () => {
    for (const root of [...PACKAGES, 'packages/cli/src', 'scripts']) {
      const files = all.filter((f) => f.path.startsWith(`${root}/`));
      expect(files.length).toBeGreaterThan(0);
      expect(importCycles(files)).toEqual([]);
    }
  });
});

describe('the module rules can fail', () => {
  const src = (path: string, ...imports: string[]): Source => ({
    path,
    text: imports.map((s, i) => `import { x${i} } from '${s}';`).join('\n'),
  });

  it('a deep import, or an import of a subpath not exported, is named', () => {
    const files = [
      src('packages/cli/src/a.ts', '@mmsc/sender', '@mmsc/sender/testing', '@mmsc/sender/server/app.js'),
      // (Spelled in two pieces so that this file's own text holds no such import.)
      {
        path: 'scripts/b.mjs',
        text: `const { probe } = await ${'import'}('@mmsc/cli/dist/commands/probe.js');\n${'import'} '@mmsc/nowhere';`,
      },
    ];
    expect(deepImports(files, { sender: ['.', './testing'], cli: ['.'] })).toEqual([
      'packages/cli/src/a.ts → @mmsc/sender/server/app.js',
      'scripts/b.mjs → @mmsc/nowhere',
      'scripts/b.mjs → @mmsc/cli/dist/commands/probe.js',
    ]);
  });

  it('an upward import and a module in no layer are named; tests may import any layer', () => {
    const layers: Layers = [['log.ts', '*'], ['pipeline/'], ['server/']];
    const files = [
      src('p/src/log.ts'),
      src('p/src/util.ts', './log.js'),
      src('p/src/pipeline/worker.ts', '../server/log.js', '../log.js'),
      src('p/src/server/log.ts', '../pipeline/worker.js'),
      src('p/src/server/app.test.ts', '../pipeline/worker.js', '../late/x.js'),
      src('p/src/late/x.ts'),
    ];
    expect(upwardImports(files, 'p/src', layers)).toEqual([
      'p/src/pipeline/worker.ts → server/log.ts (layer 1 → 2)',
      'p/src/late/x.ts: in no layer',
    ]);
  });

  it('a loop is found, however long, and a chain without one is not', () => {
    const loop = [src('r/a.ts', './b.js'), src('r/b.ts', './sub/c.js'), src('r/sub/c.ts', '../a.js'), src('r/d.ts', './a.js')];
    expect(importCycles(loop)).toEqual([['r/a.ts', 'r/b.ts', 'r/sub/c.ts']]);
    expect(importCycles([src('r/self.ts', './self.js')])).toEqual([['r/self.ts']]);
    expect(importCycles([src('r/a.ts', './b.js'), src('r/b.ts', './c.js'), src('r/c.ts')])).toEqual([]);
  });
});
