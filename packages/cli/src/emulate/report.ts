import { lineChart } from '../eval/plot.js';
import type { PeerSummary, SecondRow } from './metrics.js';

export type PeerName = 'mmsc' | 'page' | 'anchor';

/** One peer's figures over time, on the link's clock (s from the link's start). */
export interface PeerSeries {
  /** Null where not measured per second (the page). */
  goodputBps: (number | null)[];
  /** The sender's estimate of the link (mmsc: its rate controller; anchor: GCC's available bitrate). */
  estimateBps: (number | null)[];
  rows: SecondRow[];
}

export interface PeerReport extends PeerSummary {
  /** The sender's estimate, mean over the streaming seconds. */
  estimateBpsMean: number | null;
  /** What ran: the engine, or the anchor's codec and its maximum bitrate. */
  what: string;
  errors: string[];
  /** Peer-specific counters (anchor: NACKs, PLIs, freezes; mmsc: refreshes, budget violations). */
  extra: Record<string, number | string | null>;
}

export interface EmulationReport {
  scenario: string;
  title: string;
  date: string;
  machine: string;
  seconds: number;
  link: { set: unknown; measured: unknown; ok: boolean };
  /** mmsc as the probe (a Node receiver that decodes like the page) saw it. */
  mmsc: PeerReport | null;
  /** mmsc as the operator's page in Chromium showed it. */
  page: PeerReport | null;
  /** A plain Chromium → Chromium WebRTC video call. */
  anchor: PeerReport | null;
  series: { t: number[]; capacityBps: (number | null)[]; mmsc: PeerSeries | null; page: PeerSeries | null; anchor: PeerSeries | null };
  /** As the peers reported it: the probe's own result, and the anchor's getStats() once a second (both ends). */
  raw?: { probe: unknown; anchorStats: unknown[] | null };
}

/** The peers of a report that ran, in table order. */
export function peersOf<T>(r: { mmsc: T | null; page?: T | null; anchor: T | null }): [PeerName, T][] {
  return (
    [
      ['mmsc', r.mmsc],
      ['page', r.page ?? null],
      ['anchor', r.anchor],
    ] as [PeerName, T | null][]
  ).filter((e): e is [PeerName, T] => e[1] !== null);
}

const mbps = (v: number | null | undefined) => (v === null || v === undefined ? '–' : (v / 1e6).toFixed(2));
const fmt = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '–' : v.toFixed(d));

/** Goodput as a share of the link's capacity over the same seconds ("uncapped" on an unlimited link). */
export function shareOfCapacity(p: PeerSummary): string {
  if (p.goodputBps === null) return '–';
  if (p.capacityBps === null) return `${mbps(p.goodputBps)} Mbit/s (uncapped)`;
  return `${mbps(p.goodputBps)} / ${mbps(p.capacityBps)} Mbit/s (${(p.goodputBps / p.capacityBps).toFixed(2)})`;
}

/** The report's markdown summary: the link as measured, then one row per peer. */
export function markdownReport(r: EmulationReport): string {
  const lines = [
    `# ${r.scenario}: ${r.title}`,
    '',
    `${r.date}, ${r.machine}, ${r.seconds} s per peer, one run. Link self-check: ${r.link.ok ? 'ok' : '**off its setting**'}.`,
    '',
    '```json',
    JSON.stringify(r.link.measured),
    '```',
    '',
    '| peer | goodput / capacity | estimate (mean) | fps | frame age p50 / p95 (ms) | stalls (max ms) | first picture (ms) | PSNR frame / query (dB) | failed connects |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, p] of peersOf(r)) {
    lines.push(
      `| ${name} (${p.what}) | ${shareOfCapacity(p)} | ${mbps(p.estimateBpsMean)} | ${fmt(p.fps)} | ${p.ageMsP50 ?? '–'} / ${p.ageMsP95 ?? '–'} | ${p.stalls} (${p.maxStallMs}) | ${p.firstPictureMs ?? '–'} | ${fmt(p.psnr, 2)} / ${fmt(p.queryPsnr, 2)} | ${p.connectFailures} |`,
    );
  }
  for (const [name, p] of peersOf(r)) {
    const extra = Object.entries(p.extra)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push('', `${name}: ${extra || 'no counters'}${p.errors.length ? `; errors: ${p.errors.join('; ')}` : ''}`);
  }
  lines.push(
    '',
    'PSNR: each shown picture against its own source frame (read from the stamp in its corner), the stamp rows excluded; "query" is inside the ground-truth boxes of the query\'s object, boxed by hand (independent of the detector).',
  );
  return `${lines.join('\n')}\n`;
}

/** One colour per peer in every plot; estimates and query-box PSNR dashed. */
const PEER_COLORS: Record<PeerName | 'capacity', string> = { capacity: '#222222', mmsc: '#d62728', page: '#ff7f0e', anchor: '#1f77b4' };

interface Line {
  name: string;
  values: (number | null)[];
  color?: string;
  dashed?: boolean;
}

function chart(title: string, yLabel: string, t: number[], series: Line[]): string {
  const kept = series.filter((s) => s.values.some((v) => v !== null && Number.isFinite(v)));
  if (kept.length === 0 || t.length < 2) return '';
  return lineChart({
    title,
    yLabel,
    xLabel: 'seconds from the link start',
    linearX: true,
    x: t,
    series: kept.map((s) => ({
      name: s.name,
      mean: s.values.map((v) => (v === null ? Number.NaN : v)),
      ci95: s.values.map(() => 0),
      ...(s.color ? { color: s.color } : {}),
      ...(s.dashed ? { dashed: true } : {}),
    })),
  });
}

/** The run's plots in one SVG: rates, frame age, frames per second, PSNR, each over time. */
export function svgReport(r: EmulationReport): string {
  const { t, capacityBps } = r.series;
  const toM = (v: (number | null)[]) => v.map((x) => (x === null ? null : x / 1e6));
  const peers = peersOf(r.series);
  const rates: Line[] = [{ name: 'capacity', values: toM(capacityBps), color: PEER_COLORS.capacity }];
  for (const [name, p] of peers) {
    rates.push(
      { name: `${name} goodput`, values: toM(p.goodputBps), color: PEER_COLORS[name] },
      { name: `${name} estimate`, values: toM(p.estimateBps), color: PEER_COLORS[name], dashed: true },
    );
  }
  const per = (key: 'ageMs' | 'fps' | 'psnr' | 'queryPsnr') =>
    peers.map(
      ([name, p]): Line => ({
        name: key === 'queryPsnr' ? `${name} query box` : name,
        values: p.rows.map((row) => row[key]),
        color: PEER_COLORS[name],
        dashed: key === 'queryPsnr',
      }),
    );
  const charts = [
    chart(`${r.scenario}: rates`, 'Mbit/s', t, rates),
    chart('frame age (capture → shown)', 'ms', t, per('ageMs')),
    chart('new pictures per second', 'fps', t, per('fps')),
    chart('PSNR of shown pictures', 'dB', t, [...per('psnr'), ...per('queryPsnr')]),
  ].filter((c) => c !== '');
  const height = 420;
  const body = charts.map(
    (c, i) => `<g transform="translate(0 ${i * height})">${c.replace(/^<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '')}</g>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="${charts.length * height}" viewBox="0 0 640 ${charts.length * height}" font-family="sans-serif"><title>${r.scenario}: rates, frame age, pictures per second and PSNR over time</title>${body.join('')}</svg>\n`;
}

interface MeasuredDirection {
  delayMs?: { measured: number | null };
  lossPct?: { measured: number | null };
  rateBps?: { mean?: number | null; note?: string };
}

/** The link as the self-check measured it, forward direction: "20.1 ms · 2.0 % · 2.00 Mbit/s". */
export function measuredLink(measured: unknown): string {
  const f = (measured as { forward?: MeasuredDirection } | null)?.forward;
  if (!f) return 'not measured';
  const d = f.delayMs?.measured;
  const l = f.lossPct?.measured;
  const r = f.rateBps?.mean;
  return `${d === null || d === undefined ? '–' : d.toFixed(1)} ms · ${l === null || l === undefined ? '–' : l.toFixed(1)} % · ${r ? `${(r / 1e6).toFixed(2)} Mbit/s` : 'unlimited'}`;
}

/** One table for a set of runs: each figure as probe / page / call (the peers that ran, in that order). */
export function summaryMarkdown(reports: readonly EmulationReport[]): string {
  const names = (['mmsc', 'page', 'anchor'] as const).filter((n) => reports.some((r) => r[n] !== null));
  const label = { mmsc: 'probe', page: 'page', anchor: 'call' } as const;
  const each = (r: EmulationReport, f: (p: PeerReport) => string) => names.map((n) => (r[n] ? f(r[n] as PeerReport) : '–')).join(' / ');
  const head = names.map((n) => label[n]).join(' / ');
  const lines = [
    `| scenario | link as measured (one-way delay · loss · rate) | goodput ÷ capacity (${head}) | fps | frame age p50, ms | stalls (longest, s) | first picture, s | PSNR frame, dB | PSNR query box, dB |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of reports) {
    const share = (p: PeerReport) =>
      p.goodputBps === null
        ? 'none'
        : p.capacityBps === null
          ? `${(p.goodputBps / 1e6).toFixed(2)} Mb/s`
          : (p.goodputBps / p.capacityBps).toFixed(2);
    lines.push(
      [
        `**${r.scenario}**: ${r.title}`,
        `${measuredLink(r.link.measured)}${r.link.ok ? '' : ' (**off**)'}`,
        each(r, share),
        each(r, (p) => (p.pictures === 0 ? '–' : fmt(p.fps))),
        each(r, (p) => String(p.ageMsP50 ?? '–')),
        each(r, (p) => (p.pictures === 0 ? '–' : `${p.stalls} (${(p.maxStallMs / 1000).toFixed(1)})`)),
        each(r, (p) => (p.firstPictureMs === null ? `none (${p.connectFailures} failed)` : (p.firstPictureMs / 1000).toFixed(1))),
        each(r, (p) => fmt(p.psnr)),
        each(r, (p) => fmt(p.queryPsnr)),
      ].join(' | '),
    );
  }
  return `${lines.map((l) => (l.startsWith('|') ? l : `| ${l} |`)).join('\n')}\n`;
}
