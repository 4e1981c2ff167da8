#!/usr/bin/env node
// Measures models/lexicon.json against the hand-written paraphrases in paraphrases.json, through the runtime
// code itself (packages/sender/src/relevance/lexicon.ts, as built into packages/sender/dist).
//
//   node models/lexicon/evaluate.mjs [--lexicon FILE] [--paraphrases FILE] [--verbose] [--json]
//
// Metrics: top-1 = the query's highest-weighted class is one of the expected classes; all >= 0.5 = every
// expected class has weight >= 0.5; false groundings = must-not-ground queries that grounded anything.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? resolve(args[i + 1]) : def;
};
const lexiconPath = opt('--lexicon', resolve(here, '..', 'lexicon.json'));
const paraphrasePath = opt('--paraphrases', resolve(here, 'paraphrases.json'));
const verbose = args.includes('--verbose');
const asJson = args.includes('--json');

/** The sender's own grounding code, as built (`npm install` builds it; else `npx tsc -b` at the root). */
async function loadRuntime() {
  const built = resolve(root, 'packages/sender/dist/relevance/lexicon.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: build the packages first (npx tsc -b at the repository root)`);
  return import(pathToFileURL(built).href);
}

const { parseLexicon, groundQuery } = await loadRuntime();
const t0 = performance.now();
const lex = parseLexicon(JSON.parse(readFileSync(lexiconPath, 'utf8')));
const parseMs = performance.now() - t0;
const set = JSON.parse(readFileSync(paraphrasePath, 'utf8'));

function score(paraphrases, mustNotGround) {
  const byKind = new Map();
  const failures = [];
  let top1 = 0;
  let all = 0;
  for (const p of paraphrases) {
    for (const e of p.expect) if (!lex.classes.includes(e)) throw new Error(`paraphrase "${p.query}": unknown class ${e}`);
    const g = groundQuery(p.query, lex);
    let best = -1;
    let bestW = 0;
    g.classWeights.forEach((w, i) => {
      if (w > bestW) [best, bestW] = [i, w];
    });
    const okTop = best >= 0 && p.expect.includes(lex.classes[best]);
    const okAll = p.expect.every((e) => g.classWeights[lex.classes.indexOf(e)] >= 0.5);
    top1 += okTop ? 1 : 0;
    all += okAll ? 1 : 0;
    const k = byKind.get(p.kind) ?? { n: 0, top1: 0, all: 0 };
    k.n++;
    k.top1 += okTop ? 1 : 0;
    k.all += okAll ? 1 : 0;
    byKind.set(p.kind, k);
    const got = g.words.map((w) => `${w.word}→${w.classes.map((c) => `${c.name} ${c.weight.toFixed(2)}`).join(', ')}`).join(' | ');
    if (!okTop || !okAll) failures.push({ query: p.query, expect: p.expect, top: okTop, all: okAll, got: got || '(nothing)' });
    else if (verbose) console.log(`ok   ${p.query}: ${got}`);
  }
  const falseGroundings = [];
  for (const q of mustNotGround) {
    const g = groundQuery(q, lex);
    if (!g.fallback) falseGroundings.push(`${q}: ${g.words.map((w) => `${w.word}→${w.classes.map((c) => c.name).join(',')}`).join(' | ')}`);
  }
  const n = paraphrases.length;
  return {
    paraphrases: n,
    top1Correct: top1,
    allExpectedAtLeast05: all,
    top1: top1 / n,
    all: all / n,
    mustNotGround: mustNotGround.length,
    falseGroundings: falseGroundings.length,
    byKind: Object.fromEntries([...byKind].map(([k, v]) => [k, { n: v.n, top1: v.top1 / v.n, all: v.all / v.n }])),
    failures,
    falseGroundingList: falseGroundings,
  };
}

const t1 = performance.now();
const main = score(set.paraphrases, set.mustNotGround);
const heldOut = set.heldOut ? score(set.heldOut, set.heldOutMustNotGround ?? []) : null;
const nq = set.paraphrases.length + set.mustNotGround.length + (set.heldOut?.length ?? 0) + (set.heldOutMustNotGround?.length ?? 0);
const queryMs = (performance.now() - t1) / nq;
const pct = (x) => `${(100 * x).toFixed(1)} %`;
function report(name, r) {
  console.log(`${name}: ${r.paraphrases} paraphrases`);
  console.log(`  top-1 class correct:            ${r.top1Correct}/${r.paraphrases} = ${pct(r.top1)}`);
  console.log(`  all expected classes >= 0.5:    ${r.allExpectedAtLeast05}/${r.paraphrases} = ${pct(r.all)}`);
  for (const [k, v] of Object.entries(r.byKind)) {
    console.log(`    ${k.padEnd(12)} n=${String(v.n).padStart(3)}  top-1 ${pct(v.top1).padStart(7)}  all ${pct(v.all).padStart(7)}`);
  }
  console.log(`  must-not-ground: ${r.mustNotGround}, false groundings: ${r.falseGroundings}`);
  for (const f of r.falseGroundingList) console.log(`    FALSE ${f}`);
  for (const f of r.failures)
    console.log(
      `    MISS  ${f.query} (expect ${f.expect.join(', ')}; top ${f.top ? 'ok' : 'wrong'}, all ${f.all ? 'ok' : 'no'}): ${f.got}`,
    );
}
if (asJson) {
  console.log(JSON.stringify({ lexiconEntries: lex.entries.size, parseMs: Math.round(parseMs), queryMs, main, heldOut }, null, 2));
} else {
  console.log(
    `lexicon ${lexiconPath}: ${lex.entries.size} entries, parsed in ${Math.round(parseMs)} ms; ${queryMs.toFixed(3)} ms per query`,
  );
  report('main set', main);
  if (heldOut) report('held-out set', heldOut);
}
