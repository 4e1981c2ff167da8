import { posix } from 'node:path';

// The import rules of ARCHITECTURE.md as pure functions over source texts (paths relative to the
// repository, '/'-separated), so that `architecture.test.ts` can run them on the tree and, to show
// that each can fail, on small in-memory examples.

/** A source file: its repository path and its text. */
export interface Source {
  path: string;
  text: string;
}

/** Every module specifier `text` imports or re-exports (static, side-effect and dynamic imports). */
export function importsOf(text: string): string[] {
  return [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] as string);
}

/** The file a relative specifier of `from` names among `known` (`./x.js` is `x.ts` in the sources), or null. */
export function resolveRelative(from: string, spec: string, known: ReadonlySet<string>): string | null {
  if (!spec.startsWith('.')) return null;
  const target = posix.normalize(posix.join(posix.dirname(from), spec));
  const stem = target.replace(/\.(m?js|ts)$/, '');
  for (const c of [target, `${stem}.ts`, `${stem}.mts`, `${stem}.mjs`, `${target}/index.ts`]) if (known.has(c)) return c;
  return null;
}

/**
 * Imports of another package's module that its package.json does not export: `@mmsc/<pkg>/<path>`
 * where `./<path>` is not a key of `exports[pkg]` (and `@mmsc/<pkg>` where `.` is not). As "file → specifier".
 */
export function deepImports(files: readonly Source[], exports: Readonly<Record<string, readonly string[]>>): string[] {
  const bad: string[] = [];
  for (const f of files) {
    for (const spec of importsOf(f.text)) {
      const m = /^@mmsc\/([^/]+)(?:\/(.+))?$/.exec(spec);
      if (!m) continue;
      const sub = m[2] === undefined ? '.' : `./${m[2]}`;
      if (!exports[m[1] as string]?.includes(sub)) bad.push(`${f.path} → ${spec}`);
    }
  }
  return bad;
}

/**
 * A package's layers, lowest first: each a list of members, paths relative to the package's source
 * folder (`server/` a folder, `log.ts` a file). A module may import its own layer and the ones below.
 */
export type Layers = readonly (readonly string[])[];

/**
 * The layer of `rel` (a path inside the source folder), or -1 when no layer names it. A file or
 * folder named by a layer is in it; `*` stands for any file directly in the source folder that no
 * layer names.
 */
export function layerOf(rel: string, layers: Layers): number {
  const named = layers.findIndex((members) => members.some((m) => (m.endsWith('/') ? rel.startsWith(m) : rel === m)));
  if (named >= 0 || rel.includes('/')) return named;
  return layers.findIndex((members) => members.includes('*'));
}

/**
 * Relative imports inside `root` that go up the layers, and modules no layer names, as
 * "file → target (layer i → j)" / "file: in no layer". Tests (`*.test.ts`) may import any layer.
 */
export function upwardImports(files: readonly Source[], root: string, layers: Layers): string[] {
  const inRoot = files.filter((f) => f.path.startsWith(`${root}/`));
  const known = new Set(inRoot.map((f) => f.path));
  const rel = (p: string) => p.slice(root.length + 1);
  const bad: string[] = [];
  for (const f of inRoot) {
    if (f.path.endsWith('.test.ts')) continue;
    const from = layerOf(rel(f.path), layers);
    if (from < 0) {
      bad.push(`${f.path}: in no layer`);
      continue;
    }
    for (const spec of importsOf(f.text)) {
      const target = resolveRelative(f.path, spec, known);
      if (target === null) continue;
      const to = layerOf(rel(target), layers);
      if (to > from) bad.push(`${f.path} → ${rel(target)} (layer ${from} → ${to})`);
    }
  }
  return bad;
}

/**
 * The import loops among `files` (relative imports between them, type-only ones included): each
 * strongly connected group of two or more modules, or a module importing itself, as its sorted paths.
 */
export function importCycles(files: readonly Source[]): string[][] {
  const known = new Set(files.map((f) => f.path));
  const edges = new Map<string, string[]>();
  for (const f of files) {
    const to = importsOf(f.text)
      .map((s) => resolveRelative(f.path, s, known))
      .filter((t): t is string => t !== null);
    edges.set(f.path, to);
  }
  // Tarjan's strongly connected components, iterative over an explicit stack.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  for (const start of known) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1] as { v: string; i: number };
      const out = edges.get(top.v) ?? [];
      if (top.i < out.length) {
        const w = out[top.i++] as string;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v) as number, index.get(w) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v) as number, low.get(top.v) as number));
      if (low.get(top.v) === index.get(top.v)) {
        const group: string[] = [];
        for (;;) {
          const w = stack.pop() as string;
          onStack.delete(w);
          group.push(w);
          if (w === top.v) break;
        }
        if (group.length > 1 || out.includes(top.v)) cycles.push(group.sort());
      }
    }
  }
  return cycles;
}
