import { access, constants, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EXIT } from '@mmsc/protocol';
import {
  bestPerClass,
  DEFAULT_MODELS_DIR,
  groundQuery,
  groundText,
  LexiconError,
  loadRelevance,
  type OnnxTextImageRelevance,
  readSourceFrame,
  wordsNotInView,
  writeOverlay,
} from '@mmsc/sender';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { frameOptionsOf, withFrameOptions } from './frame-options.js';
import { loadOpenRelevance, relevanceChoiceOf, withRelevanceOption } from './relevance-option.js';

/** Fails early (before any model runs) when `out` cannot be written: its folder is missing, not a folder, or read-only. */
async function checkWritable(out: string): Promise<void> {
  const dir = dirname(resolve(out));
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error(`${dir} is not a folder`);
    await access(dir, constants.W_OK);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'ENOENT' ? `no folder ${dir}` : err.code === 'EACCES' ? `${dir} is not writable` : err.message;
    throw new CliError(`cannot write ${out}: ${reason}`, EXIT.usage);
  }
}

interface Options {
  image: string;
  query: string;
  baseline?: boolean;
  out?: string;
  models: string;
  json?: boolean;
  size: string;
  fit: string;
  relevance: string;
}

/** `mmsc relevance`: S_inf of one image for one query, as JSON or a readable report, optionally an overlay PNG. */
export function relevanceCommand(): Command {
  return withRelevanceOption(withFrameOptions(new Command('relevance')))
    .description(
      'score every 8×8 patch of an image (scaled to the frame serve makes of it: long side --size, aspect kept) by its relevance to a text query',
    )
    .requiredOption('--image <file>', 'image file (any format sharp reads)')
    .option('--query <text>', 'free-text query, e.g. "dog and bicycle"', '')
    .option('--baseline', 'use the query-agnostic baseline map instead (the query is ignored)')
    .option('--out <png>', 'write the image with the relevance map overlaid')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--json', 'print one JSON object')
    .action(async (opts: Options) => {
      const frameOptions = frameOptionsOf(opts);
      const choice = relevanceChoiceOf(opts);
      if (opts.out) await checkWritable(opts.out);
      const open = await loadOpenRelevance(choice);
      if (open) return openRelevance(open, opts, await readSourceFrame(opts.image, frameOptions));
      const model = await loadRelevance(opts.models);
      if (!opts.baseline) {
        // Query limits (length, word count) are checked before the detector runs.
        try {
          groundQuery(opts.query, model.lexicon);
        } catch (e) {
          if (e instanceof LexiconError) throw new CliError(`--query: ${e.message}`, EXIT.usage);
          throw e;
        }
      }
      const frame = await readSourceFrame(opts.image, frameOptions);
      const a = await model.analyse(frame, opts.baseline ? {} : model.analyseOptions(opts.query));
      const r = opts.baseline ? model.baselineFromAnalysis(a) : model.fromAnalysis(a, opts.query);
      if (opts.out) {
        try {
          await writeOverlay(opts.out, frame, r.map);
        } catch (e) {
          throw new CliError(`cannot write ${opts.out}: ${(e as Error).message}`, EXIT.failed);
        }
      }
      const classes = model.detector.classes;
      // Whether each word's objects are in view (as the sender tells a receiver; negated words are not judged).
      const best = bestPerClass(r.detections, classes.length, a.text);
      const absent = opts.baseline ? [] : wordsNotInView(groundText(opts.query, model.lexicon), best);
      const grounding = r.grounding.map((w, i) => (w.negated ? w : { ...w, inView: !absent.includes(i) }));
      if (opts.json) {
        console.log(
          JSON.stringify({
            width: r.width,
            height: r.height,
            model: opts.baseline ? 'query-agnostic baseline' : model.name,
            patchScores: Array.from(r.patchScores, (v) => Number(v.toFixed(4))),
            grounding,
            ungrounded: r.ungrounded,
            fallback: r.fallback,
            detections: r.detections
              .sort((x, y) => y.score - x.score)
              .slice(0, 20)
              .map((d) => ({
                class: classes[d.cls],
                score: Number(d.score.toFixed(3)),
                box: [d.x0, d.y0, d.x1, d.y1].map((v) => Math.round(v)),
              })),
            ms: Number(r.ms.toFixed(1)),
          }),
        );
        return;
      }
      console.log(
        `${opts.image} → ${frame.width}×${frame.height}, ${opts.baseline ? 'query-agnostic baseline' : `query "${opts.query}"`}, ${r.ms.toFixed(1)} ms`,
      );
      for (const w of grounding)
        console.log(
          `  ${w.negated ? 'not ' : ''}"${w.word}"${w.modifiers ? ` (${w.modifiers.join(' · ')})` : ''} → ${w.classes.map((c) => `${c.name} ${c.weight.toFixed(2)}`).join(', ')}${'inView' in w && !w.inView ? ' (not in view)' : ''}`,
        );
      for (const w of r.ungrounded)
        console.log(`  "${w}" → matched nothing (not among the 80 COCO classes the detector knows, nor a word for text)`);
      if (r.fallback) console.log('  no word grounded: showing the query-agnostic baseline map');
      const top = [...r.detections].sort((x, y) => y.score - x.score).slice(0, 5);
      console.log(`  strongest detections: ${top.map((d) => `${classes[d.cls]} ${d.score.toFixed(2)}`).join(', ') || 'none'}`);
      const hot = r.patchScores.filter((v) => v >= 0.5).length;
      console.log(`  ${hot} of ${r.patchScores.length} patches score ≥ 0.5`);
      if (opts.out) console.log(`  overlay written to ${opts.out}`);
    });
}

/** `mmsc relevance --relevance onnx:<file>`: the open-vocabulary model reads the query; nothing is grounded by the lexicon. */
async function openRelevance(model: OnnxTextImageRelevance, opts: Options, frame: Awaited<ReturnType<typeof readSourceFrame>>) {
  const r = await model.relevance(frame, opts.baseline ? '' : opts.query);
  await model.release();
  if (opts.out) {
    try {
      await writeOverlay(opts.out, frame, r.map);
    } catch (e) {
      throw new CliError(`cannot write ${opts.out}: ${(e as Error).message}`, EXIT.failed);
    }
  }
  const label = opts.baseline || r.fallback ? 'query-agnostic baseline' : model.name;
  if (opts.json) {
    console.log(
      JSON.stringify({
        width: r.width,
        height: r.height,
        model: label,
        patchScores: Array.from(r.patchScores, (v) => Number(v.toFixed(4))),
        grounding: [],
        ungrounded: [],
        fallback: r.fallback,
        detections: [],
        ms: Number(r.ms.toFixed(1)),
      }),
    );
    return;
  }
  console.log(
    `${opts.image} → ${frame.width}×${frame.height}, ${opts.baseline ? 'query-agnostic baseline' : `query "${opts.query}"`}, ${r.ms.toFixed(1)} ms`,
  );
  console.log(
    r.fallback
      ? '  no query: every patch weighs the same (query-agnostic)'
      : `  scored by ${model.name} (${model.entry.sha256.slice(0, 12)}…), which reads the query itself: no lexicon grounding, no detections`,
  );
  const hot = r.patchScores.filter((v) => v >= 0.5).length;
  console.log(`  ${hot} of ${r.patchScores.length} patches score ≥ 0.5`);
  if (opts.out) console.log(`  overlay written to ${opts.out}`);
}
