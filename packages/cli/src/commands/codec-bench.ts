import { PATCH_VALUES, type PatchCodecs, patchify } from '@mmsc/codec';
import { EXIT } from '@mmsc/protocol';
import { DEFAULT_MODELS_DIR, listImages, loadCodecs, ORT_SESSION_OPTIONS, patchVariances, readRgb } from '@mmsc/sender';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { median, psnr, sumSquaredError } from '../metrics.js';
import { progress } from '../progress.js';

const FRAME_PATCHES = 2400; // one 320×480 frame

interface LevelResult {
  bytes: number;
  psnr: number | null;
  mse: number;
  exact: boolean;
  encodeMs: number | null;
  decodeMs: number | null;
}

/** `mmsc codec-bench`: PSNR of every level over all 8×8 patches of a folder, and codec speed. */
export function codecBenchCommand(): Command {
  return new Command('codec-bench')
    .description('measure each patch level: PSNR over all 8×8 patches of a folder of images, and encode/decode time per 2,400-patch frame')
    .requiredOption('--images <dir>', 'folder of images (e.g. ../shared/data/kodak)')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--runs <n>', 'timed runs per level (median reported)', '15')
    .option('--json', 'print one JSON object instead of a table')
    .action(async (opts: { images: string; models: string; runs: string; json?: boolean }) => {
      const runs = Number(opts.runs);
      if (!Number.isInteger(runs) || runs < 1) throw new CliError('--runs must be a positive integer', EXIT.usage);
      const result = await codecBench(opts.images, opts.models, runs);
      if (opts.json) console.log(JSON.stringify(result));
      else printTable(result);
    });
}

export async function codecBench(dir: string, modelsDir: string, runs: number) {
  const files = await listImages(dir);
  const [enc, dec] = [await loadCodecs('encoder', modelsDir), await loadCodecs('decoder', modelsDir)];
  const levels = [...enc.levels, PATCH_VALUES];
  const sse = new Map<number, number>(levels.map((b) => [b, 0]));
  // Per level, squared error and variance sums per variance bin: the rd allocator's D(var) curve.
  const BINS = [0, 25, 100, 250, 500, 1000, 2000, 4000, Number.POSITIVE_INFINITY];
  const fit = new Map<number, { n: number[]; v: number[]; e: number[] }>(
    levels.map((b) => [b, { n: BINS.map(() => 0), v: BINS.map(() => 0), e: BINS.map(() => 0) }]),
  );
  let values = 0;
  let sample: Uint8Array | null = null;
  const bar = progress('codec-bench', files.length);
  for (const file of files) {
    const img = await readRgb(file, 8);
    const patches = patchify(img.data, img.width, img.height);
    sample ??= patches;
    values += patches.length;
    for (const bytes of levels) {
      const out = await dec.decode(bytes, await enc.encode(bytes, patches));
      sse.set(bytes, (sse.get(bytes) as number) + sumSquaredError(patches, out));
      const f = fit.get(bytes) as { n: number[]; v: number[]; e: number[] };
      const vars = patchVariances(patches);
      for (let p = 0; p < vars.length; p++) {
        const v = vars[p] as number;
        const b = BINS.findIndex((lim) => v < lim) - 1;
        const o = p * PATCH_VALUES;
        f.n[b] = (f.n[b] as number) + 1;
        f.v[b] = (f.v[b] as number) + v;
        f.e[b] =
          (f.e[b] as number) + sumSquaredError(patches.subarray(o, o + PATCH_VALUES), out.subarray(o, o + PATCH_VALUES)) / PATCH_VALUES;
      }
    }
    bar.tick(file);
  }
  bar.done();
  const frame = tile(sample as Uint8Array, FRAME_PATCHES);
  const results: LevelResult[] = [];
  for (const bytes of levels) {
    const mse = (sse.get(bytes) as number) / values;
    const learned = bytes !== PATCH_VALUES;
    results.push({
      bytes,
      psnr: mse === 0 ? null : round(psnr(mse), 2),
      mse: round(mse, 3),
      exact: mse === 0,
      encodeMs: learned ? round(await timeIt(runs, () => enc.encode(bytes, frame)), 2) : null,
      decodeMs: learned ? round(await timeIt(runs, async () => dec.decode(bytes, await codesFor(enc, bytes, frame))), 2) : null,
    });
  }
  await Promise.all([enc.release(), dec.release()]);
  const learned = results.filter((r) => r.encodeMs !== null);
  const curve = enc.levels.map((bytes) => ({ bytes, points: binPoints(fit.get(bytes) as { n: number[]; v: number[]; e: number[] }) }));
  return {
    images: files.length,
    patches: values / PATCH_VALUES,
    levels: results,
    // The slowest learned level's median: the worst case for one frame's worth of patches.
    encodeMs: Math.max(...learned.map((r) => r.encodeMs as number)),
    decodeMs: Math.max(...learned.map((r) => r.decodeMs as number)),
    runtime: `onnxruntime-node, ${ORT_SESSION_OPTIONS.intraOpNumThreads} intra-op thread(s)`,
    // Patch MSE against patch variance per level: [mean variance, mean MSE] per variance bin.
    curve,
  };
}

function binPoints(f: { n: number[]; v: number[]; e: number[] }): [number, number][] {
  return f.n.flatMap((n, i) =>
    n ? [[Number(((f.v[i] as number) / n).toFixed(1)), Number(((f.e[i] as number) / n).toFixed(3))] as [number, number]] : [],
  );
}

const codeCache = new Map<number, Uint8Array>();
async function codesFor(enc: PatchCodecs, bytes: number, frame: Uint8Array) {
  let c = codeCache.get(bytes);
  if (!c) {
    c = await enc.encode(bytes, frame);
    codeCache.set(bytes, c);
  }
  return c;
}

/** Repeats patches to exactly `count` (a frame's worth), so timing does not depend on image size. */
function tile(patches: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count * PATCH_VALUES);
  for (let o = 0; o < out.length; o += patches.length) out.set(patches.subarray(0, Math.min(patches.length, out.length - o)), o);
  return out;
}

async function timeIt(runs: number, f: () => Promise<unknown>): Promise<number> {
  await f();
  await f(); // warm-up: first runs allocate
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function round(x: number, digits: number) {
  return Number(x.toFixed(digits));
}

function printTable(r: Awaited<ReturnType<typeof codecBench>>) {
  console.log(`${r.images} images, ${r.patches} patches (8×8×3), ${r.runtime}`);
  console.log('bytes/patch  bits/pixel  PSNR dB   encode ms  decode ms   (ms per 2,400 patches, median)');
  for (const l of r.levels) {
    const p = l.exact ? 'exact' : String(l.psnr);
    const bpp = ((l.bytes * 8) / 64).toFixed(2);
    console.log(
      `${String(l.bytes).padStart(11)}  ${bpp.padStart(10)}  ${p.padStart(7)}  ${String(l.encodeMs ?? '-').padStart(10)}  ${String(l.decodeMs ?? '-').padStart(9)}`,
    );
  }
}
