import { codecEntries, patchify } from '@mmsc/codec';
import { contextFromHello, DEFAULT_MAX_MESSAGE_BYTES, EXIT } from '@mmsc/protocol';
import { patchVariances } from '@mmsc/sender/allocate/distortion.js';
import { DEMO_IMAGE } from '@mmsc/sender/assets.js';
import { FRAME_SIZE } from '@mmsc/sender/geometry.js';
import { curvesOf, helloFor } from '@mmsc/sender/hello.js';
import { readFrame } from '@mmsc/sender/images.js';
import { median } from '@mmsc/sender/metrics.js';
import { DEFAULT_MODELS_DIR, loadCodecs, readManifest } from '@mmsc/sender/models.js';
import { type AllocatorName, FrameEncoder } from '@mmsc/sender/pipeline/encode-frame.js';
import { VideoLinkEncoder } from '@mmsc/sender/pipeline/encode-video.js';
import { loadRelevance } from '@mmsc/sender/relevance/load-relevance.js';
import { PanSource } from '@mmsc/sender/sources/sources.js';
import { Command } from 'commander';
import { CliError } from '../errors.js';

/** `mmsc bench-sender`: per-frame sender time (relevance + allocate + encode + pack), one receiver, no network. */
export function benchSenderCommand(): Command {
  return new Command('bench-sender')
    .description('benchmark the sender pipeline for one 320×480 frame: relevance + allocation + encoding + framing')
    .option('--image <file>', 'image to stream', DEMO_IMAGE)
    .option('--query <text>', 'query', 'dog and bicycle')
    .option('--rate <r>', 'channel rate as a share of raw (budget = r × 2,400 × 192 bytes)', '0.1')
    .option('--bitrate <bps>', 'link bitrate instead of --rate (budget = bitrate / 8 / 10 fps), e.g. 1000000')
    .option('--engine <name>', 'patches (a still image) or h264 (a pan over the image: moving frames, one stream)', 'patches')
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
        if (opts.engine !== 'patches' && opts.engine !== 'h264') throw new CliError('--engine must be patches or h264', EXIT.usage);
        const bitrate = opts.bitrate === undefined ? null : Number(opts.bitrate);
        if (bitrate !== null && !(bitrate >= 50_000)) throw new CliError('--bitrate must be ≥ 50000 (bits/s)', EXIT.usage);
        const budget = bitrate === null ? Math.round(rate * 2400 * 192) : Math.floor(bitrate / 8 / 10);
        if (opts.engine === 'h264') {
          const r = await benchVideo(opts.image, opts.query, budget, runs, opts.models);
          if (opts.json) console.log(JSON.stringify(r));
          else
            console.log(
              `frame p50 ${r.frameMsP50} ms = relevance ${r.relevanceMsP50} + convert ${r.convertMsP50} + encode ${r.encodeMsP50} + pack ${r.packMsP50} (${runs} frames, budget ${budget} B, h264)`,
            );
          return;
        }
        const codecs = codecEntries(await readManifest(opts.models));
        const [enc, relevance] = await Promise.all([loadCodecs('encoder', opts.models), loadRelevance(opts.models)]);
        const hello = helloFor(codecs, 10, DEFAULT_MAX_MESSAGE_BYTES);
        const encoder = new FrameEncoder(hello, contextFromHello(hello), enc, opts.allocator as AllocatorName, curvesOf(codecs));
        const frame = await readFrame(opts.image);
        const t = {
          frame: [] as number[],
          relevance: [] as number[],
          allocate: [] as number[],
          encode: [] as number[],
          pack: [] as number[],
        };
        let analysis = opts.reuseRelevance ? await relevance.analyse(frame) : null;
        let bytes = 0;
        for (let i = 0; i < runs + 3; i++) {
          const t0 = performance.now();
          const patches = patchify(frame.data, frame.width, frame.height);
          const variances = patchVariances(patches);
          const a = opts.reuseRelevance && analysis ? analysis : await relevance.analyse(frame);
          analysis = a;
          const r = relevance.fromAnalysis(a, opts.query);
          const tRel = performance.now() - t0;
          const out = await encoder.encode({ frameId: i, captureTs: Date.now(), budget }, patches, variances, r.patchScores);
          if (!out) throw new CliError(`budget ${budget} B is too small for one frame`, EXIT.failed);
          if (i < 3) continue; // warm-up
          bytes += out.wireBytes;
          t.frame.push(performance.now() - t0);
          t.relevance.push(tRel);
          t.allocate.push(out.ms.allocate);
          t.encode.push(out.ms.encode);
          t.pack.push(out.ms.pack);
        }
        const p50 = (xs: number[]) => Number(median(xs).toFixed(1));
        const result = {
          frameMsP50: p50(t.frame),
          relevanceMsP50: p50(t.relevance),
          allocateMsP50: p50(t.allocate),
          encodeMsP50: p50(t.encode),
          packMsP50: p50(t.pack),
          runs,
          budget,
          meanWireBytes: Math.round(bytes / runs),
          allocator: opts.allocator,
          relevanceReused: Boolean(opts.reuseRelevance),
        };
        if (opts.json) console.log(JSON.stringify(result));
        else
          console.log(
            `frame p50 ${result.frameMsP50} ms = relevance ${result.relevanceMsP50} + allocate ${result.allocateMsP50} + encode ${result.encodeMsP50} + pack ${result.packMsP50} (${runs} frames, budget ${budget} B, ${opts.allocator})`,
          );
      },
    );
}

/** The h264 engine's frame: a pan over the image (so frames differ), relevance every frame, one receiver's stream. */
async function benchVideo(image: string, query: string, budget: number, runs: number, models: string) {
  const codecs = codecEntries(await readManifest(models));
  const relevance = await loadRelevance(models);
  const hello = helloFor(codecs, 10, DEFAULT_MAX_MESSAGE_BYTES, 'h264');
  const pan = await PanSource.open(image, FRAME_SIZE, 10);
  const enc = new VideoLinkEncoder(hello, 10);
  const t = { frame: [] as number[], relevance: [] as number[], convert: [] as number[], encode: [] as number[], pack: [] as number[] };
  let bytes = 0;
  let sent = 0;
  for (let i = 0; i < runs + 3; i++) {
    const frame = await pan.next();
    const t0 = performance.now();
    const r = relevance.fromAnalysis(await relevance.analyse(frame), query);
    const tRel = performance.now() - t0;
    const out = await enc.encode({ frameId: i, captureTs: i * 100, budget }, frame, r.patchScores);
    if (i < 3 || !out) continue; // warm-up (the first is the keyframe); a skipped frame costs no coding
    bytes += out.wireBytes;
    sent++;
    t.frame.push(performance.now() - t0);
    t.relevance.push(tRel);
    t.convert.push(out.ms.convert);
    t.encode.push(out.ms.encode);
    t.pack.push(out.ms.pack);
  }
  enc.close();
  const p50 = (xs: number[]) => Number(median(xs).toFixed(1));
  return {
    frameMsP50: p50(t.frame),
    relevanceMsP50: p50(t.relevance),
    convertMsP50: p50(t.convert),
    encodeMsP50: p50(t.encode),
    packMsP50: p50(t.pack),
    runs,
    framesSent: sent,
    budget,
    meanWireBytes: Math.round(bytes / Math.max(1, sent)),
    engine: 'h264',
  };
}
