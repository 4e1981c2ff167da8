import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { makeClip, readClip } from '../emulate/clip.js';
import { emulationUnavailable } from '../emulate/netns.js';
import {
  type EmulationReport,
  markdownReport,
  type PeerName,
  peersOf,
  shareOfCapacity,
  summaryMarkdown,
  svgReport,
} from '../emulate/report.js';
import { runScenario } from '../emulate/run-scenario.js';
import { parseScenario, type Scenario } from '../emulate/scenario.js';
import { CliError } from '../errors.js';

export const SCENARIOS_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));
const CLIP_FRAMES = 300;
const CLIP_FPS = 10;

/** Every scenario file in a folder, in name order. */
export async function loadScenarios(dir = SCENARIOS_DIR): Promise<{ file: string; scenario: Scenario }[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const out: { file: string; scenario: Scenario }[] = [];
  for (const f of files) {
    const path = join(dir, f);
    let v: unknown;
    try {
      v = JSON.parse(await readFile(path, 'utf8'));
    } catch (e) {
      throw new CliError(`scenario ${path}: not JSON (${(e as Error).message})`, 2);
    }
    out.push({ file: path, scenario: parseScenario(v, path) });
  }
  return out;
}

/** The clip both peers send, made once and kept in the temp folder. */
async function clipDir(log: (s: string) => void): Promise<string> {
  const dir = join(tmpdir(), `mmsc-emulate-clip-v1-${CLIP_FRAMES}`);
  if (existsSync(join(dir, 'clip.json'))) {
    try {
      await readClip(dir);
      return dir;
    } catch {
      // remade below
    }
  }
  log(`making the emulation clip (${CLIP_FRAMES} frames) in ${dir}`);
  await makeClip({ out: dir, frames: CLIP_FRAMES, fps: CLIP_FPS });
  return dir;
}

/** Why a report shows that the harness (not mmsc) broke; empty when it worked. */
export function harnessProblems(r: EmulationReport): string[] {
  const out: string[] = [];
  if (!r.link.ok) out.push(`${r.scenario}: the link's self-check is off its setting`);
  for (const [name, p] of peersOf(r)) {
    if (p.pictures === 0) out.push(`${r.scenario}: ${name} showed no picture (${p.errors.join('; ') || 'no error reported'})`);
  }
  return out;
}

interface EmulateOpts {
  all?: boolean;
  list?: boolean;
  summarize?: string;
  seconds?: string;
  out: string;
  traces: string;
  peers: string;
  anchorCodec: 'VP8' | 'VP9' | 'AV1' | 'H264';
  anchorMaxBitrate: string;
  json?: boolean;
  check?: boolean;
  clip?: string;
  serveArgs?: string;
  serveLog?: boolean;
  pictures?: boolean;
}

export function emulateCommand(): Command {
  return new Command('emulate')
    .description(
      'run mmsc and a plain WebRTC video call (the anchor: Chromium → Chromium) on the same emulated link, one after the other, and report what each receiver showed\n' +
        'needs root (network namespaces, a TUN device), python3 and chromium; scenarios are JSON files in packages/cli/scenarios (or paths)\n' +
        'exit status: 0 reports written; 1 emulation unavailable or, with --check, a broken harness (self-check off, a peer with no picture); 2 bad options',
    )
    .argument('[scenarios...]', 'scenario names or .json paths')
    .option('--all', 'every scenario file (those that need the real traces only where the traces folder exists)')
    .option('--list', 'list the scenarios and exit')
    .option(
      '--summarize <dir>',
      "from the reports (<scenario>.json) in that folder: write each one's .md and .svg and the folder's summary.md again, and print the summary",
    )
    .option('--seconds <n>', "stream this long per peer instead of each scenario's own length")
    .option('--out <dir>', 'where reports go (<scenario>.json, .md, .svg and summary.md)', 'emulate-reports')
    .option('--traces <dir>', 'folder of real cellular traces (mahimahi format)', process.env.MMSC_TRACES ?? '../shared/data/traces')
    .option(
      '--peers <list>',
      'which peers run, in this order: mmsc (the probe), page (the served page in Chromium), anchor (a WebRTC call)',
      'mmsc,page,anchor',
    )
    .addOption(new Option('--anchor-codec <codec>', "the anchor call's video codec").choices(['VP8', 'VP9', 'AV1', 'H264']).default('VP8'))
    .option(
      '--anchor-max-bitrate <bps>',
      "the anchor's maximum bitrate (RTCRtpSender.setParameters), above the link so its own estimate limits it",
      '20000000',
    )
    .option('--clip <dir>', 'a clip folder (clip.json + stamped frames) to send instead of the default pan over the demo image')
    .option('--serve-args <args>', 'extra `mmsc serve` options for the mmsc peer, space-separated (e.g. "--engine patches")')
    .option(
      '--serve-log',
      'keep `mmsc serve`’s log beside the reports (<scenario>.serve.log); with --serve-args "--log-level debug" and MMSC_DEBUG_RATE=1 it holds the rate controller’s every step',
    )
    .option(
      '--pictures',
      'keep every picture each peer showed (ms on the link clock, age, PSNR) beside the reports (<scenario>.pictures.json)',
    )
    .option('--json', 'print each report as one JSON line')
    .option('--check', 'exit 1 when the harness broke: no report, self-check off, a peer that showed no picture')
    .action(async (names: string[], opts: EmulateOpts) => {
      const all = await loadScenarios();
      if (opts.summarize) {
        const dir = opts.summarize;
        const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
        const reports = (
          await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as EmulationReport))
        ).filter((r) => typeof r.scenario === 'string' && 'link' in r);
        if (reports.length === 0) throw new CliError(`${dir} holds no emulation reports (<scenario>.json)`, 2);
        // In the scenario files' order.
        const order = all.map((a) => a.scenario.name);
        reports.sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario));
        for (const r of reports) {
          await writeFile(join(dir, `${r.scenario}.md`), markdownReport(r));
          await writeFile(join(dir, `${r.scenario}.svg`), svgReport(r));
        }
        const table = summaryMarkdown(reports);
        await writeFile(join(dir, 'summary.md'), table);
        process.stdout.write(table);
        return;
      }
      if (opts.list) {
        for (const { scenario: s } of all) console.log(`${s.name.padEnd(18)} ${s.title}${s.needs ? ' (needs the real traces)' : ''}`);
        return;
      }
      const haveTraces = existsSync(opts.traces);
      let chosen: Scenario[];
      if (opts.all) chosen = all.map((s) => s.scenario).filter((s) => !s.needs || haveTraces);
      else if (names.length === 0) throw new CliError('name a scenario (see --list) or pass --all', 2);
      else
        chosen = await Promise.all(
          names.map(async (n) => {
            if (n.endsWith('.json')) return parseScenario(JSON.parse(await readFile(resolve(n), 'utf8')), n);
            const s = all.find((x) => x.scenario.name === n || basename(x.file, '.json') === n);
            if (!s) throw new CliError(`no scenario ${n}; known: ${all.map((x) => x.scenario.name).join(', ')}`, 2);
            return s.scenario;
          }),
        );
      for (const s of chosen)
        if (s.needs === 'traces' && !haveTraces)
          throw new CliError(`scenario ${s.name} needs the real traces: ${opts.traces} does not exist (pass --traces)`, 2);
      const seconds = opts.seconds === undefined ? undefined : Number(opts.seconds);
      if (seconds !== undefined && !(seconds >= 2)) throw new CliError('--seconds must be at least 2', 2);
      const peers = opts.peers.split(',').map((p) => p.trim());
      if (peers.length === 0 || peers.some((p) => p !== 'mmsc' && p !== 'page' && p !== 'anchor'))
        throw new CliError('--peers takes a comma-separated list of mmsc, page and anchor', 2);
      const maxBitrate = Number(opts.anchorMaxBitrate);
      if (!(maxBitrate >= 100_000)) throw new CliError('--anchor-max-bitrate must be at least 100000 bit/s', 2);
      const why = emulationUnavailable();
      if (why) throw new CliError(why, 1);

      const log = (s: string) => console.error(`mmsc emulate: ${s}`);
      const clip = opts.clip ?? (await clipDir(log));
      const fps = (await readClip(clip)).fps;
      await mkdir(opts.out, { recursive: true });
      const problems: string[] = [];
      const done: EmulationReport[] = [];
      for (const s of chosen) {
        const started = Date.now();
        let r: EmulationReport;
        try {
          r = await runScenario(s, {
            clipDir: clip,
            fps,
            serveArgs: opts.serveArgs ? opts.serveArgs.split(' ').filter((a) => a !== '') : [],
            tracesDir: opts.traces,
            ...(seconds !== undefined ? { seconds } : {}),
            peers: peers as PeerName[],
            anchorCodec: opts.anchorCodec,
            anchorMaxBitrateBps: maxBitrate,
            ...(opts.serveLog ? { serveLogDir: opts.out } : {}),
            ...(opts.pictures ? { picturesFile: join(opts.out, `${s.name}.pictures.json`) } : {}),
            log,
          });
        } catch (e) {
          problems.push(`${s.name}: no report: ${(e as Error).message}`);
          log(`${s.name}: no report: ${(e as Error).message}`);
          continue;
        }
        const base = join(opts.out, r.scenario);
        await writeFile(`${base}.json`, `${JSON.stringify(r, null, 1)}\n`);
        await writeFile(`${base}.md`, markdownReport(r));
        await writeFile(`${base}.svg`, svgReport(r));
        problems.push(...harnessProblems(r));
        const line = (name: string, p: EmulationReport['mmsc']) =>
          p
            ? `${name} ${shareOfCapacity(p)}, ${p.fps} fps, age p50 ${p.ageMsP50 ?? '–'} ms, stalls ${p.stalls}, first picture ${p.firstPictureMs ?? '–'} ms, PSNR ${p.psnr ?? '–'} / query ${p.queryPsnr ?? '–'} dB`
            : '';
        log(
          `${r.scenario} done in ${((Date.now() - started) / 1000).toFixed(0)} s: link self-check ${r.link.ok ? 'ok' : 'OFF'}; ${peersOf(r)
            .map(([name, p]) => line(name, p))
            .join('; ')}`,
        );
        log(`report: ${base}.json, .md, .svg`);
        done.push(r);
        if (opts.json) console.log(JSON.stringify(compactReport(r)));
      }
      await writeFile(join(opts.out, 'summary.md'), summaryMarkdown(done));
      for (const p of problems) console.error(`mmsc emulate: harness: ${p}`);
      if (opts.check && problems.length > 0) process.exitCode = 1;
    });
}

/** The report's headline, as `--json` prints it: the scenario, the link as measured and each peer's figures. */
export function compactReport(r: EmulationReport) {
  const peer = (p: EmulationReport['mmsc']) =>
    p && {
      goodputBps: p.goodputBps,
      capacityBps: p.capacityBps,
      fps: p.fps,
      ageMsP50: p.ageMsP50,
      ageMsP95: p.ageMsP95,
      stalls: p.stalls,
      maxStallMs: p.maxStallMs,
      firstPictureMs: p.firstPictureMs,
      psnr: p.psnr,
      queryPsnr: p.queryPsnr,
      connectFailures: p.connectFailures,
      estimateBpsMean: p.estimateBpsMean,
      pictures: p.pictures,
    };
  return {
    scenario: r.scenario,
    link: { ok: r.link.ok, measured: r.link.measured },
    mmsc: peer(r.mmsc),
    page: peer(r.page),
    anchor: peer(r.anchor),
  };
}
