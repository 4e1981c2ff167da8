import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { codecEntries } from '@mmsc/codec';
import { h264Available } from '@mmsc/codec/h264-node';
import { DEFAULT_MAX_MESSAGE_BYTES, type EngineName, EXIT } from '@mmsc/protocol';
import {
  curvesOf,
  DEFAULT_ENGINE,
  DEFAULT_MODELS_DIR,
  engineFor,
  groundQuery,
  helloFor,
  loadCodecs,
  loadLexicon,
  loadRelevance,
  type RelevanceModel,
  readManifest,
} from '@mmsc/sender';
import { Command } from 'commander';
import sharp from 'sharp';
import { CliError } from '../errors.js';
import { lineChart } from '../eval/plot.js';
import { CLIPS, type Clip, clipGeometry, makeClip } from '../eval/video/clips.js';
import { COCO_CLIPS, isCocoClip, makeCocoClip } from '../eval/video/coco-clips.js';
import { complementMasks, movingMasks } from '../eval/video/regions.js';
import {
  DEFAULT_VIDEO_METHODS,
  engineMethods,
  type FrameRelevance,
  type MethodRun,
  queryBoxes,
  runEngine,
  runPatches,
  runPeer,
  VIDEO_METHODS,
  type VideoMethod,
} from '../eval/video/run-video.js';
import { readTruthDir } from '../eval/video/truth-files.js';
import { progress } from '../progress.js';
import { frameOptionsOf, withFrameOptions } from './frame-options.js';
import { loadOpenRelevance, relevanceChoiceOf, withRelevanceOption } from './relevance-option.js';

interface Options {
  clip: string;
  query: string;
  bitrates: string;
  methods: string;
  frames: string;
  fps: string;
  out?: string;
  models: string;
  json?: boolean;
  size: string;
  fit: string;
  coco: string;
  truth?: string;
  relevance: string;
}

/** Where the COCO clips' images and annotations are by default (the project's data folder beside the checkout). */
export const DEFAULT_COCO_DIR = '../shared/data/coco-val';

/** "500k", "1M", "2.5M", "800000" → bits per second. */
export function parseBitrate(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new CliError(`bitrate ${s}: expected e.g. 500k, 1M or 800000`, EXIT.usage);
  const v = Number(m[1]) * ({ k: 1e3, m: 1e6 }[(m[2] ?? '').toLowerCase()] ?? 1);
  if (!(v >= 50e3 && v <= 50e6)) throw new CliError(`bitrate ${s}: must be 50k..50M`, EXIT.usage);
  return v;
}

const mean = (xs: readonly (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
};
const r2 = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(2)) : null);

export function evalVideoCommand(): Command {
  return withRelevanceOption(withFrameOptions(new Command('eval-video')))
    .description(
      'mmsc against WebRTC-like video (VP8 realtime, x264 zerolatency) on a clip at link bitrates: PSNR of the frame, of the query’s ground truth (or, without annotations, of the moving pixels) and inside the detector’s own boxes',
    )
    .option(
      '--clip <name|file>',
      `${CLIPS.join(' (default demo source) or ')} (pan/zoom across several images with cuts); ${COCO_CLIPS.join(' or ')} (annotated COCO images under --coco, scored against their ground truth); or a video file (resampled to --fps)`,
      'pan',
    )
    .option('--coco <dir>', `COCO folder (images/, instances_val2017.json) for the ${COCO_CLIPS.join(' and ')} clips`, DEFAULT_COCO_DIR)
    .option(
      '--truth <dir>',
      'per-frame masks of the query’s objects for any clip: one image per frame, in name order, non-black = object (docs/eval-video.md)',
    )
    .option('--query <text>', 'the operator’s query (a COCO clip’s truth: the COCO categories it names)', 'dog')
    .option('--bitrates <list>', 'link bitrates', '500k,1M,2M')
    .option(
      '--methods <list>',
      `among ${VIDEO_METHODS.join(', ')} (mmsc = the default engine, mmsc-<name> each other engine of the sender's registry, patches = the paper engine; vp8, x264, x264-444 = the peers)`,
      DEFAULT_VIDEO_METHODS.join(','),
    )
    .option('--frames <n>', 'frames of the clip', '100')
    .option('--fps <n>', 'frame rate', '10')
    .option('--out <dir>', 'also write results.json (per-frame series), table.md and plots there')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (o: Options) => {
      const bitrates = o.bitrates.split(',').map(parseBitrate);
      const methods = o.methods.split(',') as VideoMethod[];
      const byEngine = engineMethods();
      for (const m of methods)
        if (!VIDEO_METHODS.includes(m)) throw new CliError(`unknown method ${m}: use ${VIDEO_METHODS.join(', ')}`, EXIT.usage);
      const frames = Number(o.frames);
      const fps = Number(o.fps);
      if (!(Number.isInteger(frames) && frames >= 2 && frames <= 3000)) throw new CliError('--frames must be 2..3000', EXIT.usage);
      if (!(fps > 0 && fps <= 60)) throw new CliError('--fps must be in (0, 60]', EXIT.usage);
      if (!(await h264Available()))
        throw new CliError('eval-video needs node-av’s FFmpeg (libx264, libvpx), which did not load', EXIT.failed);
      const frameOptions = frameOptionsOf(o);
      const open = await loadOpenRelevance(relevanceChoiceOf(o));
      const t0 = performance.now();
      // The clip's own aspect (or --fit crop): the hello and every method's frames follow it.
      const g = await clipGeometry(isCocoClip(o.clip) ? 'pan' : o.clip, frameOptions);
      const size = { width: g.width, height: g.height };
      const clip: Clip = await (isCocoClip(o.clip)
        ? makeCocoClip(o.clip, o.coco, o.query, frames, fps, size)
        : makeClip(o.clip, frames, fps, size)
      ).catch((e: unknown) => {
        throw new CliError(`--clip: ${(e as Error).message}`, EXIT.usage);
      });
      const [relevance, lexicon, manifest] = await Promise.all([
        open ? (open as RelevanceModel) : loadRelevance(o.models),
        loadLexicon(o.models),
        readManifest(o.models),
      ]);
      // A query that negates its objects ("everything except the dog") asks for the rest of the picture
      // (read with the lexicon whichever relevance scores the frames: it is the truth's, not the model's).
      const grounded = groundQuery(o.query, lexicon).words;
      const negated = grounded.filter((w) => w.negated);
      if (clip.region?.kind === 'truth' && negated.length > 0) {
        if (negated.length < grounded.length)
          throw new CliError(
            `--query: "${o.query}" both asks for and negates objects; a ${o.clip} clip's truth is one or the other`,
            EXIT.usage,
          );
        clip.region = {
          kind: 'truth',
          label: `the rest of the picture: ${clip.region.label.replace(/^ground truth: /, '')}, negated`,
          masks: complementMasks(clip.region.masks, size.width * size.height),
        };
      }
      if (o.truth) {
        if (clip.region?.kind === 'truth') throw new CliError(`--truth: the ${o.clip} clip brings its own ground truth`, EXIT.usage);
        clip.region = await readTruthDir(o.truth, clip.frames.length, size).catch((e: unknown) => {
          throw new CliError(`--truth: ${(e as Error).message}`, EXIT.usage);
        });
      }
      // Without annotations: what moves against the clip's median background (a fixed camera's
      // objects), a region the detector did not choose.
      clip.region ??= {
        kind: 'moving',
        label: 'moving pixels (against the clip’s median background; detector-independent, meaningful for a fixed camera)',
        masks: movingMasks(
          clip.frames.map((f) => f.data),
          size.width,
          size.height,
        ),
      };
      const region = clip.region;
      const entries = codecEntries(manifest);
      const hello = helloFor(entries, fps, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_ENGINE, size);
      const patchCodecs = methods.some((m) => m === 'patches' || usesPatchCodes(byEngine.get(m)))
        ? { encoders: await loadCodecs('encoder', o.models), decoders: await loadCodecs('decoder', o.models), curves: curvesOf(entries) }
        : null;
      const bar = progress('relevance', clip.frames.length);
      const rel: FrameRelevance[] = [];
      for (const f of clip.frames) {
        const r = await relevance.relevance(f, o.query);
        rel.push({ scores: r.patchScores, boxes: queryBoxes(r.detections) });
        bar.tick();
      }
      bar.done();
      const runs: Record<string, MethodRun[]> = {};
      const total = progress('encode', methods.length * bitrates.length);
      for (const m of methods) {
        runs[m] = [];
        for (const b of bitrates) {
          const engine = byEngine.get(m);
          const run = engine
            ? await runEngine(engine, clip, rel, b, hello, patchCodecs ?? undefined)
            : m === 'patches'
              ? await runPatches(clip, rel, b, hello, patchCodecs as NonNullable<typeof patchCodecs>)
              : await runPeer(m as 'vp8' | 'x264' | 'x264-444', clip, rel, b);
          (runs[m] as MethodRun[]).push(run);
          total.tick(`${m} ${b / 1000} kbit/s`);
        }
      }
      total.done();
      const summary = {
        clip: clip.name,
        width: size.width,
        height: size.height,
        query: o.query,
        relevance: relevance.name,
        frames: clip.frames.length,
        framesWithQueryBoxes: rel.filter((r) => r.boxes.length > 0).length,
        region: { kind: region.kind, label: region.label, frames: region.masks.filter((m) => m !== null).length },
        bitrates,
        methods: Object.fromEntries(
          methods.map((m) => [
            m,
            {
              kbps: (runs[m] as MethodRun[]).map((r) => r2((mean(r.bytes) * 8 * fps) / 1000)),
              psnr: (runs[m] as MethodRun[]).map((r) => r2(mean(r.psnr))),
              detectorBoxPsnr: (runs[m] as MethodRun[]).map((r) => r2(mean(r.detectorBoxPsnr))),
              regionPsnr: (runs[m] as MethodRun[]).map((r) => r2(mean(r.regionPsnr))),
              encodeMsP50: (runs[m] as MethodRun[]).map((r) =>
                r2([...r.encodeMs].sort((a, b) => a - b)[Math.floor(r.encodeMs.length / 2)] ?? Number.NaN),
              ),
            },
          ]),
        ),
        seconds: Math.round((performance.now() - t0) / 1000),
      };
      if (o.out) await writeOutputs(o.out, summary, runs, methods, bitrates);
      if (o.json) console.log(JSON.stringify(summary));
      else {
        console.log(table(summary, methods, bitrates));
        if (o.out) console.error(`wrote ${o.out}/{results.json,table.md,*.svg,*.png}`);
      }
    });
}

type Series = (number | null)[];
type Summary = {
  clip: string;
  query: string;
  frames: number;
  region: { kind: 'truth' | 'moving'; label: string; frames: number };
  bitrates: number[];
  methods: Record<string, { kbps: Series; psnr: Series; detectorBoxPsnr: Series; regionPsnr: Series }>;
};

/** The region's name in tables and plots. */
const regionName = (kind: 'truth' | 'moving') => (kind === 'truth' ? 'truth' : 'moving');

function table(s: Summary, methods: readonly string[], bitrates: readonly number[]): string {
  const rn = regionName(s.region.kind);
  const head = `| method | ${bitrates.map((b) => `${b / 1e6} Mbit/s: kbit/s · frame · ${rn} · detector boxes (dB)`).join(' | ')} |`;
  const sep = `|---|${bitrates.map(() => '---').join('|')}|`;
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(v));
  const rows = methods.map((m) => {
    const r = s.methods[m];
    return `| ${m} | ${bitrates.map((_, i) => `${cell(r?.kbps[i])} · ${cell(r?.psnr[i])} · ${cell(r?.regionPsnr[i])} · ${cell(r?.detectorBoxPsnr[i])}`).join(' | ')} |`;
  });
  // Each method against VP8 (the WebRTC call's codec), where both ran.
  const vp8 = s.methods.vp8;
  const diff = (a: number | null | undefined, b: number | null | undefined) =>
    a === null || a === undefined || b === null || b === undefined ? '–' : (a - b >= 0 ? '+' : '') + (a - b).toFixed(2);
  const gains = vp8
    ? methods
        .filter((m) => m !== 'vp8')
        .map((m) => {
          const r = s.methods[m];
          return `| ${m} − vp8 | ${bitrates.map((_, i) => `${diff(r?.psnr[i], vp8.psnr[i])} · ${diff(r?.regionPsnr[i], vp8.regionPsnr[i])} · ${diff(r?.detectorBoxPsnr[i], vp8.detectorBoxPsnr[i])}`).join(' | ')} |`;
        })
    : [];
  return [
    `clip ${s.clip}, query "${s.query}", ${s.frames} frames`,
    `${rn}: ${s.region.label} (${s.region.frames} frames hold some)`,
    'detector boxes: the detector’s own boxes of the query, the ones that set the quantizer (they reward its mistakes)',
    '',
    head,
    sep,
    ...rows,
    ...gains,
  ].join('\n');
}

async function writeOutputs(
  out: string,
  s: Summary,
  runs: Record<string, MethodRun[]>,
  methods: readonly string[],
  bitrates: readonly number[],
) {
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'results.json'), `${JSON.stringify({ summary: s, series: runs })}\n`);
  await writeFile(join(out, 'table.md'), `${table(s, methods, bitrates)}\n`);
  const png = (svg: string, file: string) =>
    Promise.all([
      writeFile(join(out, `${file}.svg`), svg),
      sharp(Buffer.from(svg))
        .png()
        .toFile(join(out, `${file}.png`)),
    ]);
  for (const key of ['psnr', 'regionPsnr', 'detectorBoxPsnr'] as const) {
    const name = key === 'psnr' ? 'frame' : key === 'regionPsnr' ? regionName(s.region.kind) : 'detector-box';
    await png(
      lineChart({
        title: `${s.clip}: ${name} PSNR by bitrate`,
        yLabel: 'PSNR (dB)',
        x: bitrates.map((b) => b / 1e6),
        xLabel: 'bitrate (Mbit/s, log scale)',
        series: methods.map((m) => ({ name: m, mean: (s.methods[m]?.[key] ?? []).map((v) => v ?? Number.NaN), ci95: [] })),
      }),
      `${name}-psnr`,
    );
    for (const [i, b] of bitrates.entries()) {
      const x = Array.from({ length: s.frames }, (_, k) => k);
      await png(
        lineChart({
          title: `${s.clip} at ${b / 1e6} Mbit/s: ${name} PSNR per frame`,
          yLabel: 'PSNR (dB)',
          x,
          xLabel: 'frame',
          linearX: true,
          series: methods.map((m) => ({ name: m, mean: (runs[m]?.[i]?.[key] ?? []).map((v: number | null) => v ?? Number.NaN), ci95: [] })),
        }),
        `${name}-psnr-${b / 1e3}k`,
      );
    }
  }
}

/** Whether an engine method's encoders read the learned patch codes (the patch encoders are then loaded). */
const usesPatchCodes = (engine: EngineName | undefined) => engine !== undefined && engineFor(engine).patchCodes === true;
