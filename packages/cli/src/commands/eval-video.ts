import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { codecEntries } from '@mmsc/codec';
import { h264Available } from '@mmsc/codec/h264-node';
import { DEFAULT_MAX_MESSAGE_BYTES, type EngineName, EXIT } from '@mmsc/protocol';
import { curvesOf, DEFAULT_ENGINE, DEFAULT_MODELS_DIR, engineFor, helloFor, loadCodecs, loadRelevance, readManifest } from '@mmsc/sender';
import { Command } from 'commander';
import sharp from 'sharp';
import { CliError } from '../errors.js';
import { lineChart } from '../eval/plot.js';
import { CLIPS, clipGeometry, makeClip } from '../eval/video/clips.js';
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
import { progress } from '../progress.js';
import { frameOptionsOf, withFrameOptions } from './frame-options.js';

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
}

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
  return withFrameOptions(new Command('eval-video'))
    .description(
      'mmsc against WebRTC-like video (VP8 realtime, x264 zerolatency) on a clip at link bitrates: PSNR of the frame and inside the query’s boxes',
    )
    .option(
      '--clip <name|file>',
      `${CLIPS.join(' (default demo source) or ')} (pan/zoom across several images with cuts), or a video file`,
      'pan',
    )
    .option('--query <text>', 'the operator’s query (its boxes are the detector’s on the original frames)', 'dog')
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
      const t0 = performance.now();
      // The clip's own aspect (or --fit crop): the hello and every method's frames follow it.
      const g = await clipGeometry(o.clip, frameOptions);
      const size = { width: g.width, height: g.height };
      const clip = await makeClip(o.clip, frames, fps, size).catch((e: unknown) => {
        throw new CliError(`--clip: ${(e as Error).message}`, EXIT.usage);
      });
      const [relevance, manifest] = await Promise.all([loadRelevance(o.models), readManifest(o.models)]);
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
        frames: clip.frames.length,
        framesWithQueryBoxes: rel.filter((r) => r.boxes.length > 0).length,
        bitrates,
        methods: Object.fromEntries(
          methods.map((m) => [
            m,
            {
              kbps: (runs[m] as MethodRun[]).map((r) => r2((mean(r.bytes) * 8 * fps) / 1000)),
              psnr: (runs[m] as MethodRun[]).map((r) => r2(mean(r.psnr))),
              queryPsnr: (runs[m] as MethodRun[]).map((r) => r2(mean(r.queryPsnr))),
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

type Summary = {
  clip: string;
  query: string;
  frames: number;
  bitrates: number[];
  methods: Record<string, { kbps: (number | null)[]; psnr: (number | null)[]; queryPsnr: (number | null)[] }>;
};

function table(s: Summary, methods: readonly string[], bitrates: readonly number[]): string {
  const head = `| method | ${bitrates.map((b) => `${b / 1e6} Mbit/s: kbit/s · frame PSNR · query PSNR`).join(' | ')} |`;
  const sep = `|---|${bitrates.map(() => '---').join('|')}|`;
  const rows = methods.map((m) => {
    const r = s.methods[m];
    return `| ${m} | ${bitrates.map((_, i) => `${r?.kbps[i] ?? '–'} · ${r?.psnr[i] ?? '–'} · ${r?.queryPsnr[i] ?? '–'}`).join(' | ')} |`;
  });
  return [`clip ${s.clip}, query "${s.query}", ${s.frames} frames`, '', head, sep, ...rows].join('\n');
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
  for (const key of ['psnr', 'queryPsnr'] as const) {
    const name = key === 'psnr' ? 'frame' : 'query-box';
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
          series: methods.map((m) => ({ name: m, mean: (runs[m]?.[i]?.[key] ?? []).map((v) => v ?? Number.NaN), ci95: [] })),
        }),
        `${name}-psnr-${b / 1e3}k`,
      );
    }
  }
}

/** Whether an engine method's encoders read the learned patch codes (the patch encoders are then loaded). */
const usesPatchCodes = (engine: EngineName | undefined) => engine !== undefined && engineFor(engine).patchCodes === true;
