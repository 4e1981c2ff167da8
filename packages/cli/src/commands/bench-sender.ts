import { codecEntries, patchify } from '@mmsc/codec';
import { contextFromHello, DEFAULT_MAX_MESSAGE_BYTES, ENGINES, EXIT } from '@mmsc/protocol';
import {
  type AllocatorName,
  type Analysis,
  curvesOf,
  DEFAULT_CHROMA,
  DEFAULT_MODELS_DIR,
  DEMO_IMAGE,
  type Engine,
  engineFor,
  FRAME_SIZE,
  helloFor,
  isEngineName,
  loadCodecs,
  loadRelevance,
  PanSource,
  PatchCodeCache,
  type PipelineFrame,
  patchVariances,
  type RgbImage,
  readFrame,
  readManifest,
} from '@mmsc/sender';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { median } from '../metrics.js';

/** `mmsc bench-sender`: per-frame sender time (relevance + allocate + encode + pack), one receiver, no network. */
export function benchSenderCommand(): Command {
  return new Command('bench-sender')
    .description(
      'benchmark the sender pipeline for one 320×480 frame: relevance + allocation + encoding + framing, through the engine a link runs',
    )
    .option('--image <file>', 'image to stream', DEMO_IMAGE)
    .option('--query <text>', 'query', 'dog and bicycle')
    .option('--rate <r>', 'channel rate as a share of raw (budget = r × 2,400 × 192 bytes)', '0.1')
    .option('--bitrate <bps>', 'link bitrate instead of --rate (budget = bitrate / 8 / 10 fps), e.g. 1000000')
    .option(
      '--engine <name>',
      `${ENGINES.join(' or ')} (an engine with references codes a pan over the image: moving frames, one stream)`,
      'patches',
    )
    .option('--allocator <name>', 'rd or paper', 'rd')
    .option('--runs <n>', 'frames timed', '30')
    .option('--reuse-relevance', 'compute the detector pass once (a still source) instead of every frame')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--json', 'print one JSON object')
    .action(
      async (opts: {
        image: string;
        query: string;
        rate: string;
        bitrate?: string;
        engine: string;
        allocator: string;
        runs: string;
        reuseRelevance?: boolean;
        models: string;
        json?: boolean;
      }) => {
        const runs = Number(opts.runs);
        const rate = Number(opts.rate);
        if (!Number.isInteger(runs) || runs < 1) throw new CliError('--runs must be a positive integer', EXIT.usage);
        if (!(rate > 0 && rate <= 1.1)) throw new CliError('--rate must be in (0, 1.1]', EXIT.usage);
        if (opts.allocator !== 'rd' && opts.allocator !== 'paper') throw new CliError('--allocator must be rd or paper', EXIT.usage);
        if (!isEngineName(opts.engine)) throw new CliError(`--engine must be one of ${ENGINES.join(', ')}`, EXIT.usage);
        const bitrate = opts.bitrate === undefined ? null : Number(opts.bitrate);
        if (bitrate !== null && !(bitrate >= 50_000)) throw new CliError('--bitrate must be ≥ 50000 (bits/s)', EXIT.usage);
        const budget = bitrate === null ? Math.round(rate * 2400 * 192) : Math.floor(bitrate / 8 / 10);
        const r = await bench(engineFor(opts.engine), {
          image: opts.image,
          query: opts.query,
          budget,
          runs,
          models: opts.models,
          allocator: opts.allocator as AllocatorName,
          reuseRelevance: Boolean(opts.reuseRelevance),
        });
        if (opts.json) console.log(JSON.stringify(r));
        else
          console.log(
            `frame p50 ${r.frameMsP50} ms = relevance ${r.relevanceMsP50} + allocate ${r.allocateMsP50} + encode ${r.encodeMsP50} + pack ${r.packMsP50} (${runs} frames, budget ${budget} B, ${r.engine}: ${r.settings})`,
          );
      },
    );
}

/**
 * One receiver's frames through the engine's `LinkEncoder`, as a link codes them: an engine whose
 * pictures predict from earlier ones codes a pan over the image (moving frames, one stream); one
 * without references codes the still image whole each frame (a fresh encoder: a receiver that holds
 * nothing yet, since a still's steady state keeps every patch and would measure nothing).
 */
async function bench(
  engine: Engine,
  o: { image: string; query: string; budget: number; runs: number; models: string; allocator: AllocatorName; reuseRelevance: boolean },
) {
  const codecs = codecEntries(await readManifest(o.models));
  const [enc, relevance] = await Promise.all([loadCodecs('encoder', o.models), loadRelevance(o.models)]);
  const hello = helloFor(codecs, 10, DEFAULT_MAX_MESSAGE_BYTES, engine.name);
  const ctx = contextFromHello(hello);
  const settings = { allocator: o.allocator, curves: curvesOf(codecs), chroma: DEFAULT_CHROMA };
  const pan = engine.temporal ? await PanSource.open(o.image, FRAME_SIZE, 10) : null;
  const still = pan ? null : await readFrame(o.image);
  let link = engine.createLinkEncoder(hello, ctx, settings);
  const t = { frame: [] as number[], relevance: [] as number[], allocate: [] as number[], encode: [] as number[], pack: [] as number[] };
  let analysis: Analysis | null = null;
  let bytes = 0;
  let sent = 0;
  for (let i = 0; i < o.runs + 3; i++) {
    const image = pan ? await pan.next() : (still as RgbImage);
    if (!engine.temporal) {
      link.close();
      link = engine.createLinkEncoder(hello, ctx, settings);
    }
    const t0 = performance.now();
    const patches = patchify(image.data, image.width, image.height);
    const variances = patchVariances(patches);
    const a: Analysis = o.reuseRelevance && analysis ? analysis : await relevance.analyse(image);
    analysis = a;
    const scores = relevance.fromAnalysis(a, o.query).patchScores;
    const tRel = performance.now() - t0;
    const frame: PipelineFrame = {
      image,
      captureTs: i * 100,
      patches,
      variances,
      analysisMs: a.ms,
      codes: new PatchCodeCache(patches, enc),
      ms: 0,
      relevance: async () => ({ patchScores: scores, best: new Float32Array(relevance.detector.classes.length), ms: 0 }),
    };
    const out = await link.encode(frame, { frameId: i, captureTs: i * 100, budget: o.budget }, scores);
    if (!out && !engine.temporal) throw new CliError(`budget ${o.budget} B is too small for one frame`, EXIT.failed);
    if (i < 3 || !out) continue; // warm-up (a stream's first frame is its keyframe); a skipped frame costs no coding
    bytes += out.wireBytes;
    sent++;
    t.frame.push(performance.now() - t0);
    t.relevance.push(tRel);
    t.allocate.push(out.ms.allocate);
    t.encode.push(out.ms.encode);
    t.pack.push(out.ms.pack);
  }
  link.close();
  const p50 = (xs: number[]) => Number(median(xs).toFixed(1));
  return {
    frameMsP50: p50(t.frame),
    relevanceMsP50: p50(t.relevance),
    /** The allocation (a patch engine) or the picture's conversion (an engine on FFmpeg). */
    allocateMsP50: p50(t.allocate),
    encodeMsP50: p50(t.encode),
    packMsP50: p50(t.pack),
    runs: o.runs,
    framesSent: sent,
    budget: o.budget,
    meanWireBytes: Math.round(bytes / Math.max(1, sent)),
    engine: engine.name,
    settings: engine.describe(settings),
    allocator: o.allocator,
    relevanceReused: o.reuseRelevance,
  };
}
