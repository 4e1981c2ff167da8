// WordNet 3.0 noun database reader (data.noun, index.noun, noun.exc, cntlist.rev).
// Build-time only: used by build.mjs, never at run time.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @typedef {{ offset: string, lexFile: number, lemmas: string[], lexIds: number[], hypernyms: string[], hyponyms: string[], instanceOf: string[], gloss: string }} Synset
 */

/** Normalise a WordNet lemma to the lexicon's key form: lower case, '_' and '-' become spaces. */
export function normLemma(lemma) {
  return lemma
    .replace(/\(.*\)$/, '')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .trim();
}

export function loadWordNet(dir) {
  for (const f of ['data.noun', 'index.noun', 'noun.exc']) {
    if (!existsSync(join(dir, f))) throw new Error(`WordNet file missing: ${join(dir, f)} (apt-get install -y wordnet-base)`);
  }
  /** @type {Map<string, Synset>} */
  const synsets = new Map();
  for (const line of readFileSync(join(dir, 'data.noun'), 'latin1').split('\n')) {
    if (!line || line.startsWith(' ')) continue;
    const bar = line.indexOf(' | ');
    const head = (bar >= 0 ? line.slice(0, bar) : line).trim().split(' ');
    const gloss = bar >= 0 ? line.slice(bar + 3).trim() : '';
    const offset = head[0];
    const lexFile = Number.parseInt(head[1], 10);
    const wCnt = Number.parseInt(head[3], 16);
    const lemmas = [];
    const lexIds = [];
    let i = 4;
    for (let k = 0; k < wCnt; k++) {
      lemmas.push(head[i]);
      lexIds.push(Number.parseInt(head[i + 1], 16));
      i += 2;
    }
    const pCnt = Number.parseInt(head[i], 10);
    i += 1;
    const hypernyms = [];
    const hyponyms = [];
    const instanceOf = [];
    for (let k = 0; k < pCnt; k++) {
      const sym = head[i];
      const target = head[i + 1];
      const pos = head[i + 2];
      i += 4;
      if (pos !== 'n') continue;
      // Instance links (@i, ~i: named individuals such as people and places) are kept apart.
      if (sym === '@') hypernyms.push(target);
      else if (sym === '~') hyponyms.push(target);
      else if (sym === '@i') instanceOf.push(target);
    }
    synsets.set(offset, { offset, lexFile, lemmas, lexIds, hypernyms, hyponyms, instanceOf, gloss });
  }
  // index.noun: lemma -> synset offsets in sense order (most frequent first).
  /** @type {Map<string, string[]>} */
  const index = new Map();
  for (const line of readFileSync(join(dir, 'index.noun'), 'latin1').split('\n')) {
    if (!line || line.startsWith(' ')) continue;
    const f = line.trim().split(' ');
    const lemma = f[0];
    const synsetCnt = Number.parseInt(f[2], 10);
    const offsets = f.slice(f.length - synsetCnt);
    index.set(lemma, offsets);
  }
  // noun.exc: irregular inflected form -> base forms.
  /** @type {Map<string, string[]>} */
  const exceptions = new Map();
  for (const line of readFileSync(join(dir, 'noun.exc'), 'latin1').split('\n')) {
    const f = line.trim().split(' ');
    if (f.length < 2) continue;
    exceptions.set(f[0], f.slice(1));
  }
  // cntlist.rev: sense key -> SemCor tag count.
  /** @type {Map<string, number>} */
  const counts = new Map();
  /** @type {Map<string, number>} lemma -> highest tag count of any verb / adjective / adverb sense */
  const otherPosMax = new Map();
  const cntPath = join(dir, 'cntlist.rev');
  if (existsSync(cntPath)) {
    for (const line of readFileSync(cntPath, 'latin1').split('\n')) {
      const f = line.split(' ');
      if (f.length !== 3) continue;
      const n = Number.parseInt(f[2], 10);
      counts.set(f[0], n);
      const pct = f[0].indexOf('%');
      if (f[0][pct + 1] !== '1') {
        const lemma = f[0].slice(0, pct);
        if ((otherPosMax.get(lemma) ?? 0) < n) otherPosMax.set(lemma, n);
      }
    }
  }
  /** SemCor tag count of (lemma, synset). */
  function senseCount(lemma, offset) {
    const s = synsets.get(offset);
    if (!s) return 0;
    const k = s.lemmas.findIndex((l) => l.toLowerCase().replace(/\(.*\)$/, '') === lemma);
    if (k < 0) return 0;
    const key = `${lemma}%1:${String(s.lexFile).padStart(2, '0')}:${String(s.lexIds[k]).padStart(2, '0')}::`;
    return counts.get(key) ?? 0;
  }
  /** Offsets of the noun senses of a lemma (lemma in index form: lower case, '_' for spaces). */
  function senses(lemma) {
    return index.get(lemma) ?? [];
  }
  return { synsets, index, exceptions, senseCount, senses, otherPosMax: (lemma) => otherPosMax.get(lemma) ?? 0 };
}

/** Other-POS lemma sets (adj, adv, verb) — used to keep word-vector additions away from dictionary words. */
export function loadOtherLemmas(dir) {
  const set = new Set();
  for (const pos of ['adj', 'adv', 'verb']) {
    const p = join(dir, `index.${pos}`);
    if (!existsSync(p)) continue;
    for (const line of readFileSync(p, 'latin1').split('\n')) {
      if (!line || line.startsWith(' ')) continue;
      set.add(line.slice(0, line.indexOf(' ')));
    }
    const e = join(dir, `${pos === 'adj' ? 'adj' : pos === 'adv' ? 'adv' : 'verb'}.exc`);
    if (existsSync(e)) {
      for (const line of readFileSync(e, 'latin1').split('\n')) {
        const w = line.split(' ')[0];
        if (w) set.add(w);
      }
    }
  }
  return set;
}
