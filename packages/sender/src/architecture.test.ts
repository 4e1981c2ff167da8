import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The package layering of ARCHITECTURE.md, checked on the sources: nothing imports upward.
//   protocol ← codec ← receiver (library + app)
//   protocol ← codec ← sender (library)
//   everything ← cli (commands, probe, eval, benches, cross-package tests)
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
    // The codec's Node-only entries (@mmsc/codec/h264-node, vp8-node: node-av) are the codec too; the receiver
    // rule above keeps it out of the browser.
    const ok = (s: string, f: string) =>
      (!ours(s) || s === '@mmsc/protocol' || s === '@mmsc/codec' || s === '@mmsc/codec/h264-node' || s === '@mmsc/codec/vp8-node') &&
      (isTest(f) || f.includes('/testing/') || !/\/testing\//.test(join(f, '..', s))) &&
      inside('packages/sender/src')(s, f);
    expect(violations(files, ok)).toEqual([]);
  });

  it('no package imports the CLI', () => {
    const files = PACKAGES.flatMap(sources);
    expect(violations(files, (s) => !s.startsWith('@mmsc/cli'))).toEqual([]);
  });

  it('no source reaches into node_modules or another package by a relative path', () => {
    const files = [...PACKAGES, 'packages/cli/src'].flatMap(sources);
    const bad = files.filter((f) =>
      /['"](\.\.\/)+(node_modules|packages)\/|['"](\.\.\/){3,}[a-z]+\/(src|dist)/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(bad).toEqual([]);
  });
});
