import { EXIT } from '@mmsc/protocol';
import { DEFAULT_MODELS_DIR, DEMO_IMAGE, loadRelevance, readFrame } from '@mmsc/sender';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { median } from '../metrics.js';

/** `mmsc bench-relevance`: time of S_inf for one 320×480 frame already in memory (resize + model + fusion). */
export function benchRelevanceCommand(): Command {
  return new Command('bench-relevance')
    .description('benchmark relevance for one in-memory 320×480 frame: resize + detector + fusion, with the query and for the baseline')
    .option('--image <file>', 'image to use', DEMO_IMAGE)
    .option('--query <text>', 'query', 'dog and bicycle')
    .option('--runs <n>', 'timed runs per method', '30')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--json', 'print one JSON object')
    .action(async (opts: { image: string; query: string; runs: string; models: string; json?: boolean }) => {
      const runs = Number(opts.runs);
      if (!Number.isInteger(runs) || runs < 1) throw new CliError('--runs must be a positive integer', EXIT.usage);
      const model = await loadRelevance(opts.models);
      const frame = await readFrame(opts.image);
      const query: number[] = [];
      const baseline: number[] = [];
      for (let i = 0; i < runs + 2; i++) {
        // Each call does the full work: frame → model input, detector, fusion.
        const q = model.fromAnalysis(await model.analyse(frame, model.analyseOptions(opts.query)), opts.query);
        const b = model.baselineFromAnalysis(await model.analyse(frame));
        if (i >= 2) {
          query.push(q.ms);
          baseline.push(b.ms);
        }
      }
      const out = {
        runs,
        relevanceMsP50: Number(median(query).toFixed(1)),
        baselineMsP50: Number(median(baseline).toFixed(1)),
        relevanceMsP90: Number([...query].sort((a, b) => a - b)[Math.floor(runs * 0.9)]?.toFixed(1)),
        image: opts.image,
        query: opts.query,
      };
      if (opts.json) console.log(JSON.stringify(out));
      else
        console.log(
          `relevance p50 ${out.relevanceMsP50} ms (p90 ${out.relevanceMsP90}), baseline p50 ${out.baselineMsP50} ms over ${runs} runs`,
        );
    });
}
