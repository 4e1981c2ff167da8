import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT } from '@mmsc/protocol';
import { DEFAULT_MODELS_DIR, DEFAULT_RELEVANCE, loadRelevance, readSourceFrame } from '@mmsc/sender';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { buildPairs, type Coco, gtMask, type Pair, parseCoco, parsePairsFile } from '../eval/build-pairs.js';
import { auroc, meanCi, median, topPatchCoverage } from '../metrics.js';
import { progress } from '../progress.js';
import { frameOptionsOf, withFrameOptions } from './frame-options.js';

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
export const QUERY_FORMS = ['plain', 'negation'] as const;
export type QueryForm = (typeof QUERY_FORMS)[number];

/** The query of a form: the pair's own, or "everything except" it. */
export function formQuery(form: QueryForm, query: string): string {
  return form === 'negation' ? `everything except ${query}` : query;
}

/** The truth of a form: the pair's mask, or what it leaves (the rest of the picture). */
export function formMask(form: QueryForm, mask: Uint8Array): Uint8Array {
  return form === 'negation' ? mask.map((v) => (v ? 0 : 1)) : mask;
}

export function relevanceEvalCommand(): Command {
  return pairOptions(
    new Command('relevance-eval').description(
      'evaluate the relevance map against COCO query masks (AUROC, coverage), with and without the query',
    ),
  )
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--detector-scale <s>', 'detector input pixels per frame pixel (1 = native frame size)', String(DEFAULT_RELEVANCE.inputScale))
    .option(
      '--form <form>',
      `how each pair's query is put: ${QUERY_FORMS.join(', ')} ("everything except Q", scored against the rest of the picture: the complement of Q's mask)`,
      'plain',
    )
    .option('--json', 'print one JSON object')
    .action(async (opts: PairOptions & { models: string; detectorScale: string; form: string; json?: boolean }) => {
      const inputScale = Number(opts.detectorScale);
      if (!(inputScale >= 0.25 && inputScale <= 4)) throw new CliError('--detector-scale must be a number in [0.25, 4]', EXIT.usage);
      if (!(QUERY_FORMS as readonly string[]).includes(opts.form))
        throw new CliError(`--form must be one of ${QUERY_FORMS.join(', ')}`, EXIT.usage);
      const form = opts.form as QueryForm;
      const frameOptions = frameOptionsOf(opts);
      const { coco, pairs } = await loadPairs(opts);
      const model = await loadRelevance(opts.models, { ...DEFAULT_RELEVANCE, inputScale });
      const classes = model.detector.classes;
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
        const a = await model.analyse(frame);
        const q = model.fromAnalysis(a, formQuery(form, pair.query));
        const b = model.baselineFromAnalysis(a);
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
        if (!q.fallback && negatedAsked && pair.categories.every((c) => classes.includes(c) && weightOf(c) >= 0.5)) grounded++;
        bar.tick(pair.file);
      }
      bar.done();
      const m = (xs: number[]) => Number(meanCi(xs).mean.toFixed(4));
      const out = {
        pairs: pairs.length,
        form,
        auroc: { mmsc: m(res.auroc.mmsc), baseline: m(res.auroc.baseline) },
        coverage25: { mmsc: m(res.coverage25.mmsc), baseline: m(res.coverage25.baseline) },
        groundedShare: Number((grounded / pairs.length).toFixed(4)),
        msP50: Number(median(ms).toFixed(1)),
        msP50Baseline: Number(median(msBaseline).toFixed(1)),
        ci95: {
          aurocMmsc: Number(meanCi(res.auroc.mmsc).ci95.toFixed(4)),
          aurocBaseline: Number(meanCi(res.auroc.baseline).ci95.toFixed(4)),
        },
        options: model.options,
      };
      if (opts.json) console.log(JSON.stringify(out));
      else {
        console.log(`${out.pairs} pairs (${form} queries): AUROC mmsc ${out.auroc.mmsc} vs baseline ${out.auroc.baseline}`);
        console.log(`top-25 % patch coverage of the query mask: mmsc ${out.coverage25.mmsc} vs baseline ${out.coverage25.baseline}`);
        console.log(`queries grounded to their categories: ${(100 * out.groundedShare).toFixed(1)} %; relevance p50 ${out.msP50} ms`);
      }
    });
}
