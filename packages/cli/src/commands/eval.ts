import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { codecEntries } from '@mmsc/codec';
import { DEFAULT_MAX_MESSAGE_BYTES, EXIT } from '@mmsc/protocol';
import { curvesOf, DEFAULT_MODELS_DIR, engineFor, helloFor, loadCodecs, loadRelevance, readManifest, readSourceFrame } from '@mmsc/sender';
import { Command } from 'commander';
import sharp from 'sharp';
import { CliError } from '../errors.js';
import { gtMask } from '../eval/build-pairs.js';
import { DEFAULT_METHODS, Evaluator, METHODS, type Method, type PairResult, STILL_ENGINES } from '../eval/evaluate.js';
import { hasX264 } from '../eval/peers.js';
import { lineChart } from '../eval/plot.js';
import { meanCi } from '../metrics.js';
import { progress } from '../progress.js';
import { frameOptionsOf } from './frame-options.js';
import { loadPairs, type PairOptions, pairOptions } from './relevance-eval.js';
import { loadOpenRelevance, relevanceChoiceOf } from './relevance-option.js';

const METRICS = ['maskedMse', 'l1Relevance', 'semantic', 'psnr', 'bytes'] as const;
type Metric = (typeof METRICS)[number];

interface EvalOptions extends PairOptions {
  rates: string;
  methods: string;
  allocator: string;
  out: string;
  models: string;
  relevance: string;
  json?: boolean;
}

/** Means and 95 % CIs per method × rate (one entry per rate, in --rates order). */
export function summarise(results: PairResult[], rates: number[], methods: readonly Method[]) {
  const pick = (m: Method, r: number, k: Metric) => results.filter((x) => x.method === m && x.rate === r).map((x) => x[k]);
  const round = (v: number) => (Number.isFinite(v) ? Number(v.toFixed(4)) : null);
  const by = (f: (m: Method, k: Metric) => (number | null)[]) =>
    Object.fromEntries(methods.map((m) => [m, Object.fromEntries(METRICS.map((k) => [k, f(m, k)]))]));
  return {
    pairs: new Set(results.map((r) => r.imageId)).size,
    rates,
    methods: by((m, k) => rates.map((r) => round(meanCi(pick(m, r, k)).mean))),
    ci95: by((m, k) => rates.map((r) => round(meanCi(pick(m, r, k)).ci95))),
  };
}

export function evalCommand(): Command {
  return pairOptions(
    new Command('eval').description(
      "reproduce the paper's Figs 4–6 offline (relevance, allocation, codecs, framing, decoding), against standard codecs at equal bytes",
    ),
  )
    .option(
      '--rates <list>',
      'channel rates: budget = rate × the frame’s raw bytes (width × height × 3; 2,400 × 192 at 480×320)',
      '0.02,0.05,0.1,0.25,0.5,1',
    )
    .option(
      '--methods <list>',
      `methods among ${METHODS.join(', ')} (${STILL_ENGINES.join(', ')}: mmsc's video engines, one keyframe each (h264 is mmsc serve's default); mmsc: the paper's patch engine; jpeg, webp, avif, x264, x264-444, x264-roi: standard codecs at the same bytes, x264-roi with ROI boxes from mmsc's relevance; oracle, oracle-box: the GT mask or GT boxes as relevance, ceilings)`,
      DEFAULT_METHODS.join(','),
    )
    .option('--allocator <name>', 'rd or paper (for mmsc and baseline)', 'rd')
    .requiredOption('--out <dir>', 'output folder: results.json, summary.json, figures, table.md')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--json', 'print summary.json on stdout')
    .option(
      '--relevance <spec>',
      "what scores the relevance that mmsc's methods allocate by: detector (default) or onnx:<file> (an open-vocabulary text–image export; the baseline, oracles and the semantic score stay the detector's)",
      'detector',
    )
    .action(async (opts: EvalOptions) => {
      const rates = opts.rates.split(',').map(Number);
      if (rates.some((r) => !(r > 0 && r <= 1.5))) throw new CliError('--rates must be numbers in (0, 1.5]', EXIT.usage);
      const methods = opts.methods.split(',') as Method[];
      for (const m of methods) if (!METHODS.includes(m)) throw new CliError(`unknown method ${m}: use ${METHODS.join(', ')}`, EXIT.usage);
      if (opts.allocator !== 'rd' && opts.allocator !== 'paper') throw new CliError('--allocator must be rd or paper', EXIT.usage);
      for (const m of methods) {
        const why = (STILL_ENGINES as readonly string[]).includes(m) ? await engineFor(m).unavailable() : null;
        if (why) throw new CliError(`method ${m}: ${why}`, EXIT.failed);
      }
      if (methods.some((m) => m.startsWith('x264')) && !(await hasX264()))
        throw new CliError('methods x264 and x264-roi need ffmpeg with libx264 on PATH (Debian: apt-get install ffmpeg)', EXIT.usage);
      const frameOptions = frameOptionsOf(opts);
      const open = await loadOpenRelevance(relevanceChoiceOf(opts));
      const { coco, pairs } = await loadPairs(opts);
      const codecs = codecEntries(await readManifest(opts.models));
      const [relevance, enc, dec] = await Promise.all([
        loadRelevance(opts.models),
        loadCodecs('encoder', opts.models),
        loadCodecs('decoder', opts.models),
      ]);
      const evaluator = new Evaluator(
        relevance,
        enc,
        dec,
        helloFor(codecs, 10, DEFAULT_MAX_MESSAGE_BYTES),
        opts.allocator,
        curvesOf(codecs),
        open,
      );
      await mkdir(opts.out, { recursive: true });
      const results: PairResult[] = [];
      const t0 = performance.now();
      const bar = progress('eval', pairs.length);
      for (const pair of pairs) {
        const frame = await readSourceFrame(join(opts.images, pair.file), frameOptions);
        const mask = gtMask(coco, pair, frame.height, frame.width);
        const boxes = methods.includes('oracle-box') ? gtMask(coco, pair, frame.height, frame.width, undefined, 'box') : undefined;
        results.push(...(await evaluator.evaluate(frame, pair, mask, rates, methods, boxes)));
        bar.tick(pair.file);
      }
      bar.done();
      const summary = {
        ...summarise(results, rates, methods),
        allocator: opts.allocator,
        seconds: Math.round((performance.now() - t0) / 1000),
        relevance: open ? open.name : relevance.name,
        notes: {
          semantic:
            'detector score retention: strongest CenterNet peak of the queried classes on the reconstruction / on the original (no CLIP is obtainable here)',
          budget:
            'h264, mmsc, baseline, uniform, oracles: wire bytes including protocol framing (h264: x264 settings SEI stripped); jpeg, webp, avif: file bytes; x264, x264-444, x264-roi: Annex-B bitstream bytes without the informational SEI',
        },
      };
      await writeFile(join(opts.out, 'results.json'), `${JSON.stringify(results)}\n`);
      await writeFile(join(opts.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
      await writeFigures(opts.out, summary, methods);
      if (opts.json) console.log(JSON.stringify(summary));
      else
        console.error(
          `wrote ${opts.out}/{results.json,summary.json,table.md,fig*.svg,fig*.png} (${summary.pairs} pairs, ${summary.seconds} s)`,
        );
    });
}

const FIGURES: { file: string; metric: Metric; title: string; y: string; logY?: boolean }[] = [
  {
    file: 'fig4-masked-mse',
    metric: 'maskedMse',
    title: 'MSE inside the queried objects (Fig. 4)',
    y: 'masked MSE (0–255², lower is better)',
    logY: true,
  },
  {
    file: 'fig5-l1-relevance',
    metric: 'l1Relevance',
    title: 'Relevance-map L1, original vs reconstruction (Fig. 5)',
    y: 'mean |S(orig) − S(recon)|',
  },
  {
    file: 'fig6-semantic',
    metric: 'semantic',
    title: 'Semantic retention (Fig. 6; detector, not CLIP)',
    y: 'queried-class score, recon / original',
  },
  { file: 'psnr', metric: 'psnr', title: 'Full-image PSNR', y: 'PSNR (dB)' },
];

async function writeFigures(out: string, s: ReturnType<typeof summarise>, methods: readonly Method[]) {
  for (const f of FIGURES) {
    const series = methods.map((m) => ({
      name: m,
      mean: (s.methods[m]?.[f.metric] ?? []).map((v) => v ?? Number.NaN),
      ci95: (s.ci95[m]?.[f.metric] ?? []).map((v) => v ?? 0),
    }));
    const svg = lineChart({ title: f.title, yLabel: f.y, x: s.rates, series, logY: f.logY });
    await writeFile(join(out, `${f.file}.svg`), svg);
    await sharp(Buffer.from(svg))
      .png()
      .toFile(join(out, `${f.file}.png`));
  }
  const header = `| method | metric | ${s.rates.map((r) => `rate ${r}`).join(' | ')} |`;
  const sep = `|---|---|${s.rates.map(() => '---').join('|')}|`;
  const rows = methods.flatMap((m) =>
    METRICS.map(
      (k) =>
        `| ${m} | ${k} | ${(s.methods[m]?.[k] ?? []).map((v, i) => (v === null ? '–' : `${v} ± ${s.ci95[m]?.[k]?.[i] ?? 0}`)).join(' | ')} |`,
    ),
  );
  await writeFile(join(out, 'table.md'), `${[header, sep, ...rows].join('\n')}\n`);
}
