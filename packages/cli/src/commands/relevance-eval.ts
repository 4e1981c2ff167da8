import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT, seededRandom } from '@mmsc/protocol';
import {
  coverCrop,
  DEFAULT_MODELS_DIR,
  DEFAULT_RELEVANCE,
  type DetectorRelevanceOptions,
  type FrameOptions,
  loadRelevance,
  type RelevanceChoice,
  type RelevanceResult,
  readSourceFrame,
} from '@mmsc/sender';
import { Command } from 'commander';
import sharp from 'sharp';
import { CliError } from '../errors.js';
import { buildPairs, type Coco, gtMask, type Pair, parseCoco, parsePairsFile } from '../eval/build-pairs.js';
import { segmentationToMask } from '../eval/decode-masks.js';
import { colourCase, type FormCase, formCandidates, frameInstance, spatialCase } from '../eval/form-cases.js';
import { detectorScorer, openScorer, type Scorer } from '../eval/scorer.js';
import { drawnBox, textCase } from '../eval/text-cases.js';
import { auroc, meanCi, median, topPatchCoverage } from '../metrics.js';
import { progress } from '../progress.js';
import { frameOptionsOf, withFrameOptions } from './frame-options.js';
import { loadOpenRelevance, relevanceChoiceOf, withRelevanceOption } from './relevance-option.js';

export interface PairOptions {
  images: string;
  annotations: string;
  pairs: string;
  pairsFile?: string;
  seed: string;
  /** The frame each image is made into (`--size`, `--fit`): its own aspect by default. */
  size: string;
  fit: string;
}

/** Pairs from --pairs-file or built by the paper's protocol; shared with `mmsc eval`. */
export async function loadPairs(opts: PairOptions): Promise<{ coco: Coco; pairs: Pair[] }> {
  let coco: Coco;
  try {
    coco = parseCoco(JSON.parse(await readFile(opts.annotations, 'utf8')), opts.annotations);
  } catch (e) {
    throw new CliError(`cannot read annotations ${opts.annotations}: ${(e as Error).message}`, EXIT.usage);
  }
  if (opts.pairsFile) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(opts.pairsFile, 'utf8'));
    } catch (e) {
      throw new CliError(`cannot read pairs file ${opts.pairsFile}: ${(e as Error).message}`, EXIT.usage);
    }
    return { coco, pairs: parsePairsFile(json, coco, opts.pairsFile) };
  }
  const count = Number(opts.pairs);
  const seed = Number(opts.seed);
  if (!Number.isInteger(count) || count < 1) throw new CliError('--pairs must be a positive integer', EXIT.usage);
  if (!Number.isInteger(seed)) throw new CliError('--seed must be an integer', EXIT.usage);
  return { coco, pairs: buildPairs(coco, { count, seed }) };
}

export function pairOptions(cmd: Command): Command {
  return withFrameOptions(cmd)
    .requiredOption('--images <dir>', 'folder of the COCO images')
    .requiredOption('--annotations <json>', 'COCO instances file (polygons, RLE)')
    .option('--pairs <n>', 'number of image–query pairs built by the paper protocol', '200')
    .option('--pairs-file <json>', 'use these pairs instead: [{"image_id":…,"query":"…","categories":[…]}]')
    .option('--seed <n>', 'seed of the pair selection', '1');
}

/** `mmsc relevance-eval`: pixel AUROC and top-25 % patch coverage of S_inf vs the GT query masks. */
/** How each pair's query is put to the relevance, and what it is scored against. */
export const QUERY_FORMS = ['plain', 'negation', 'spatial', 'colour', 'text'] as const;
export type QueryForm = (typeof QUERY_FORMS)[number];
/** Forms whose cases come from the annotations' instances rather than the paper's pairs. */
const INSTANCE_FORMS: readonly QueryForm[] = ['spatial', 'colour'];

/** The query of a pair form: the pair's own, or "everything except" it. */
export function formQuery(form: 'plain' | 'negation', query: string): string {
  return form === 'negation' ? `everything except ${query}` : query;
}

/** The truth of a form: the pair's mask, or what it leaves (the rest of the picture). */
export function formMask(form: 'plain' | 'negation', mask: Uint8Array): Uint8Array {
  return form === 'negation' ? mask.map((v) => (v ? 0 : 1)) : mask;
}

export function relevanceEvalCommand(): Command {
  return withRelevanceOption(
    pairOptions(
      new Command('relevance-eval').description(
        'evaluate the relevance map against COCO query masks (AUROC, coverage), with and without the query',
      ),
    ),
  )
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--detector-scale <s>', 'detector input pixels per frame pixel (1 = native frame size)', String(DEFAULT_RELEVANCE.inputScale))
    .option(
      '--form <form>',
      `how each pair's query is put: ${QUERY_FORMS.join(', ')}. negation: "everything except Q", scored against the rest of the picture; spatial ("the dog on the left", "the biggest cup", "the second car from the left") and colour ("the red car"): cases built from images with two or more instances of a category, scored against the picked instances' masks (--pairs caps their number)`,
      'plain',
    )
    .option(
      '--person-mask <WxH|off>',
      'the person mask that refines the person part of the map: its input’s long side is at most the larger of W and H (it runs on the crop around the large people), or off',
      (DEFAULT_RELEVANCE.person?.input ?? [256, 256]).join('x'),
    )
    .option('--json', 'print one JSON object')
    .action(async (opts: EvalOptions) => {
      const inputScale = Number(opts.detectorScale);
      if (!(inputScale >= 0.25 && inputScale <= 4)) throw new CliError('--detector-scale must be a number in [0.25, 4]', EXIT.usage);
      const person = personOption(opts.personMask);
      if (!(QUERY_FORMS as readonly string[]).includes(opts.form))
        throw new CliError(`--form must be one of ${QUERY_FORMS.join(', ')}`, EXIT.usage);
      const form = opts.form as QueryForm;
      const frameOptions = frameOptionsOf(opts);
      const choice = relevanceChoiceOf(opts);
      const options = { ...DEFAULT_RELEVANCE, inputScale, person };
      if (form === 'text') {
        const out = await textFormEval(opts, frameOptions, choice, options);
        if (opts.json) console.log(JSON.stringify(out));
        else {
          console.log(
            `${out.cases} cases (text queries, words drawn on the images): AUROC mmsc ${out.auroc.mmsc} vs baseline ${out.auroc.baseline}`,
          );
          console.log(`relevance p50 ${out.msP50} ms with the text detector, ${out.msP50Baseline} ms without`);
        }
        return;
      }
      if (INSTANCE_FORMS.includes(form)) {
        const out = await instanceFormEval(opts, form as 'spatial' | 'colour', frameOptions, choice, options);
        if (opts.json) console.log(JSON.stringify(out));
        else {
          console.log(
            `${out.cases} cases (${form} queries): AUROC mmsc ${out.auroc.mmsc} vs the query without its modifier ${out.auroc.plain} vs baseline ${out.auroc.baseline}`,
          );
          for (const [v, r] of Object.entries(out.variants))
            console.log(`  ${v}: ${r.cases} cases, AUROC ${r.mmsc} (without the modifier ${r.plain})`);
        }
        return;
      }
      if (form !== 'plain' && form !== 'negation') throw new CliError(`--form ${form} is not a pair form`, EXIT.usage);
      const { coco, pairs } = await loadPairs(opts);
      const model = await loadScorer(opts, choice, options);
      const res = {
        auroc: { mmsc: [] as number[], baseline: [] as number[] },
        coverage25: { mmsc: [] as number[], baseline: [] as number[] },
      };
      const ms: number[] = [];
      const msBaseline: number[] = [];
      let grounded = 0;
      const bar = progress('relevance-eval', pairs.length);
      for (const pair of pairs) {
        const frame = await readSourceFrame(join(opts.images, pair.file), frameOptions);
        const scored = await model.score(frame, [formQuery(form, pair.query)]);
        const [q, b] = [scored.maps[0] as RelevanceResult, scored.baseline];
        ms.push(q.ms);
        msBaseline.push(b.ms);
        const mask = formMask(form, gtMask(coco, pair, frame.height, frame.width));
        for (const [name, r] of [['mmsc', q] as const, ['baseline', b] as const]) {
          res.auroc[name].push(auroc(r.map, mask));
          res.coverage25[name].push(topPatchCoverage(r.patchScores, mask, frame.width));
        }
        // The query grounded correctly when every GT category got weight ≥ 0.5 from some word.
        const weightOf = (name: string) =>
          Math.max(0, ...q.grounding.flatMap((w) => w.classes.filter((c) => c.name === name).map((c) => c.weight)));
        const negatedAsked = q.grounding.every((w) => (w.negated === true) === (form === 'negation'));
        if (!q.fallback && negatedAsked && pair.categories.every((c) => weightOf(c) >= 0.5)) grounded++;
        bar.tick(pair.file);
      }
      bar.done();
      const m = (xs: number[]) => Number(meanCi(xs).mean.toFixed(4));
      const out = {
        pairs: pairs.length,
        form,
        auroc: { mmsc: m(res.auroc.mmsc), baseline: m(res.auroc.baseline) },
        coverage25: { mmsc: m(res.coverage25.mmsc), baseline: m(res.coverage25.baseline) },
        relevance: model.name,
        // An open-vocabulary model grounds nothing with the lexicon: there is no share to report.
        groundedShare: model.grounds ? Number((grounded / pairs.length).toFixed(4)) : null,
        msP50: Number(median(ms).toFixed(1)),
        msP50Baseline: Number(median(msBaseline).toFixed(1)),
        ci95: {
          aurocMmsc: Number(meanCi(res.auroc.mmsc).ci95.toFixed(4)),
          aurocBaseline: Number(meanCi(res.auroc.baseline).ci95.toFixed(4)),
        },
        options: model.options,
      };
      await model.release();
      if (opts.json) console.log(JSON.stringify(out));
      else {
        console.log(`${out.pairs} pairs (${form} queries): AUROC mmsc ${out.auroc.mmsc} vs baseline ${out.auroc.baseline}`);
        console.log(`top-25 % patch coverage of the query mask: mmsc ${out.coverage25.mmsc} vs baseline ${out.coverage25.baseline}`);
        console.log(
          `${out.groundedShare === null ? `relevance ${out.relevance}` : `queries grounded to their categories: ${(100 * out.groundedShare).toFixed(1)} %`}; relevance p50 ${out.msP50} ms`,
        );
      }
    });
}

/** The annotations, and --pairs / --seed checked: what the instance and text forms build their cases from. */
async function readCases(opts: PairOptions): Promise<{ coco: Coco; count: number; seed: number }> {
  let coco: Coco;
  try {
    coco = parseCoco(JSON.parse(await readFile(opts.annotations, 'utf8')), opts.annotations);
  } catch (e) {
    throw new CliError(`cannot read annotations ${opts.annotations}: ${(e as Error).message}`, EXIT.usage);
  }
  const count = Number(opts.pairs);
  const seed = Number(opts.seed);
  if (!Number.isInteger(count) || count < 1) throw new CliError('--pairs must be a positive integer', EXIT.usage);
  if (!Number.isInteger(seed)) throw new CliError('--seed must be an integer', EXIT.usage);
  return { coco, count, seed };
}

/**
 * Spatial and colour queries: cases from the annotations (`form-cases.ts`), each scored against the
 * picked instances' masks; beside it the same images with the query's bare category (what the
 * relevance gives without the modifier) and the query-agnostic map.
 */
async function instanceFormEval(
  opts: PairOptions & { models: string },
  form: 'spatial' | 'colour',
  frameOptions: FrameOptions,
  choice: RelevanceChoice,
  options: DetectorRelevanceOptions,
) {
  const { coco, count, seed } = await readCases(opts);
  const model = await loadScorer(opts, choice, options);
  const images = new Map(coco.images.map((im) => [im.id, im]));
  const candidates = formCandidates(coco, seed);
  const scores = { mmsc: [] as number[], plain: [] as number[], baseline: [] as number[] };
  const coverage = { mmsc: [] as number[], plain: [] as number[] };
  const byVariant = new Map<string, { mmsc: number[]; plain: number[] }>();
  const queries: { file: string; query: string; mmsc: number; plain: number }[] = [];
  const bar = progress(`relevance-eval ${form}`, Math.min(count, candidates.length));
  for (const cand of candidates) {
    if (queries.length >= count) break;
    const im = images.get(cand.imageId);
    if (!im) continue;
    const frame = await readSourceFrame(join(opts.images, cand.file), frameOptions);
    const crop = coverCrop(im.width, im.height, frame.width, frame.height);
    const instances = cand.annotations.map((k) => {
      const a = coco.annotations[k] as Coco['annotations'][number];
      return frameInstance(segmentationToMask(a.segmentation, im.height, im.width, frame.height, frame.width, crop), frame.width);
    });
    const c: FormCase | null =
      form === 'spatial'
        ? spatialCase(cand.category, instances, frame.width, frame.height, queries.length)
        : colourCase(cand.category, instances, frame.data, frame.width, frame.height, queries.length);
    if (!c) continue;
    const truth = new Uint8Array(frame.width * frame.height);
    for (const i of c.truth) {
      const m = (instances[i] as { mask: Uint8Array }).mask;
      for (let p = 0; p < m.length; p++) truth[p] = (truth[p] as number) | (m[p] as number);
    }
    const scored = await model.score(frame, [c.query, c.plain]);
    const [q, p] = scored.maps as [RelevanceResult, RelevanceResult];
    const b = scored.baseline;
    const [sq, sp, sb] = [q, p, b].map((r) => auroc(r.map, truth)) as [number, number, number];
    scores.mmsc.push(sq);
    scores.plain.push(sp);
    scores.baseline.push(sb);
    coverage.mmsc.push(topPatchCoverage(q.patchScores, truth, frame.width));
    coverage.plain.push(topPatchCoverage(p.patchScores, truth, frame.width));
    const v = byVariant.get(c.variant) ?? { mmsc: [], plain: [] };
    v.mmsc.push(sq);
    v.plain.push(sp);
    byVariant.set(c.variant, v);
    queries.push({ file: cand.file, query: c.query, mmsc: Number(sq.toFixed(4)), plain: Number(sp.toFixed(4)) });
    bar.tick(cand.file);
  }
  bar.done();
  await model.release();
  if (queries.length === 0)
    throw new CliError(`no ${form} case in ${opts.annotations}: no image has two instances of a category`, EXIT.usage);
  const m = (xs: number[]) => Number(meanCi(xs).mean.toFixed(4));
  return {
    form,
    relevance: model.name,
    cases: queries.length,
    auroc: { mmsc: m(scores.mmsc), plain: m(scores.plain), baseline: m(scores.baseline) },
    coverage25: { mmsc: m(coverage.mmsc), plain: m(coverage.plain) },
    ci95: { aurocMmsc: Number(meanCi(scores.mmsc).ci95.toFixed(4)), aurocPlain: Number(meanCi(scores.plain).ci95.toFixed(4)) },
    variants: Object.fromEntries([...byVariant].map(([k, v]) => [k, { cases: v.mmsc.length, mmsc: m(v.mmsc), plain: m(v.plain) }])),
    queries,
  };
}

type EvalOptions = PairOptions & {
  models: string;
  detectorScale: string;
  form: string;
  personMask: string;
  relevance: string;
  json?: boolean;
};

/** The relevance `choice` names, as the evaluations ask of it. */
async function loadScorer(opts: { models: string }, choice: RelevanceChoice, options: DetectorRelevanceOptions): Promise<Scorer> {
  const open = await loadOpenRelevance(choice);
  return open ? openScorer(open) : detectorScorer(await loadRelevance(opts.models, options));
}

/** `--person-mask WxH|off` → the relevance's person option (the default floor), or null. */
export function personOption(v: string): DetectorRelevanceOptions['person'] {
  if (v === 'off') return null;
  const m = /^(\d+)x(\d+)$/.exec(v);
  const [w, h] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!(w >= 16 && h >= 16 && w <= 1024 && h <= 1024 && w % 16 === 0 && h % 16 === 0)) {
    throw new CliError('--person-mask must be WxH (multiples of 16, 16..1024) or off', EXIT.usage);
  }
  return { floor: DEFAULT_RELEVANCE.person?.floor ?? 0.3, minHeight: DEFAULT_RELEVANCE.person?.minHeight ?? 0.25, input: [w, h] };
}

/**
 * Text queries ("text", "the sign", "license plate", "the word "EXIT"") on the dev images with a word
 * drawn on each (`text-cases.ts`): AUROC against the drawn word's box (plate included), beside the
 * query-agnostic map of the same picture.
 */
async function textFormEval(
  opts: PairOptions & { models: string },
  frameOptions: FrameOptions,
  choice: RelevanceChoice,
  options: DetectorRelevanceOptions,
) {
  const { coco, count, seed } = await readCases(opts);
  const model = await loadScorer(opts, choice, options);
  const rnd = seededRandom(seed);
  const images = [...coco.images].sort((a, b) => a.id - b.id).slice(0, count);
  const scores = { mmsc: [] as number[], baseline: [] as number[] };
  const coverage: number[] = [];
  const ms: number[] = [];
  const msBaseline: number[] = [];
  const byQuery = new Map<string, number[]>();
  const bar = progress('relevance-eval text', images.length);
  for (const [i, im] of images.entries()) {
    const frame = await readSourceFrame(join(opts.images, im.file_name), frameOptions);
    const c = textCase(frame.width, frame.height, i, rnd);
    const overlay = await sharp(Buffer.from(c.svg)).ensureAlpha().raw().toBuffer();
    const truth = drawnBox(new Uint8Array(overlay), frame.width, frame.height);
    if (!truth.includes(1)) {
      throw new CliError('the text overlay drew nothing: no font for SVG text (install fonts-dejavu-core)', EXIT.failed);
    }
    const drawn = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
      .composite([{ input: Buffer.from(c.svg) }])
      .removeAlpha()
      .raw()
      .toBuffer();
    const f = { width: frame.width, height: frame.height, data: new Uint8Array(drawn) };
    const q = (await model.score(f, [c.query])).maps[0] as RelevanceResult;
    // Its own pass: what the frame costs without the text detector.
    const b = await model.baseline(f);
    ms.push(q.ms);
    msBaseline.push(b.ms);
    const s = auroc(q.map, truth);
    scores.mmsc.push(s);
    scores.baseline.push(auroc(b.map, truth));
    coverage.push(topPatchCoverage(q.patchScores, truth, frame.width));
    const key = c.query.startsWith('the word') ? 'the word "…"' : c.query;
    byQuery.set(key, [...(byQuery.get(key) ?? []), s]);
    bar.tick(im.file_name);
  }
  bar.done();
  await model.release();
  const m = (xs: number[]) => Number(meanCi(xs).mean.toFixed(4));
  return {
    form: 'text' as const,
    relevance: model.name,
    cases: images.length,
    auroc: { mmsc: m(scores.mmsc), baseline: m(scores.baseline) },
    coverage25: { mmsc: m(coverage) },
    ci95: { aurocMmsc: Number(meanCi(scores.mmsc).ci95.toFixed(4)) },
    queries: Object.fromEntries([...byQuery].map(([k, v]) => [k, { cases: v.length, mmsc: m(v) }])),
    msP50: Number(median(ms).toFixed(1)),
    msP50Baseline: Number(median(msBaseline).toFixed(1)),
    options: model.options,
  };
}
