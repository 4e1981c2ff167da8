import { describe, expect, it } from 'vitest';
import type { PeerSummary } from './metrics.js';
import { type EmulationReport, markdownReport, measuredLink, type PeerReport, summaryMarkdown, svgReport } from './report.js';

const summary: PeerSummary = {
  goodputBps: 500_000,
  capacityBps: 2_000_000,
  fps: 9.1,
  ageMsP50: 107,
  ageMsP95: 223,
  stalls: 2,
  maxStallMs: 865,
  firstPictureMs: 11_083,
  psnr: 36.89,
  queryPsnr: 43.32,
  connectFailures: 0,
  pictures: 181,
};
const peer = (o: Partial<PeerReport> = {}): PeerReport => ({
  ...summary,
  estimateBpsMean: 640_000,
  what: 'h264',
  errors: [],
  extra: {},
  ...o,
});
const rows = (fps: number) => Array.from({ length: 5 }, (_, t) => ({ t, fps, ageMs: 100, psnr: 37, queryPsnr: 40 }));
const measured = {
  ok: true,
  forward: { delayMs: { measured: 20.08 }, lossPct: { measured: 1.96 }, rateBps: { mean: 2_000_000 } },
};

function report(): EmulationReport {
  const series = { goodputBps: [0, 1e6, 1e6, 1e6, 0], estimateBps: [null, 1e6, 1e6, 1e6, null], rows: rows(9) };
  return {
    scenario: 'loss-2',
    title: '2 Mbit/s, 20 ms each way, 2 % random loss',
    date: '2026-12-06',
    machine: 'box (2 cores)',
    seconds: 30,
    link: { set: {}, measured, ok: true },
    mmsc: peer(),
    page: null,
    anchor: peer({ goodputBps: 1_600_000, firstPictureMs: 461, what: 'VP8, max 20 Mbit/s', psnr: 37.29, queryPsnr: 37.84 }),
    series: { t: [0, 1, 2, 3, 4], capacityBps: [2e6, 2e6, 2e6, 2e6, 2e6], mmsc: series, page: null, anchor: series },
  };
}

describe('emulation reports', () => {
  it('says the measured link in one phrase', () => {
    expect(measuredLink(measured)).toBe('20.1 ms · 2.0 % · 2.00 Mbit/s');
    expect(measuredLink({ forward: { delayMs: { measured: 0 }, lossPct: { measured: 0 }, rateBps: { note: 'unlimited' } } })).toBe(
      '0.0 ms · 0.0 % · unlimited',
    );
    expect(measuredLink(null)).toBe('not measured');
  });

  it('the summary has one row per run, each figure as probe / call for the peers that ran', () => {
    const t = summaryMarkdown([report()]).split('\n');
    expect(t[0]).toContain('goodput ÷ capacity (probe / call)');
    expect(t[2]).toContain('| 0.25 / 0.80 |');
    expect(t[2]).toContain('| 11.1 / 0.5 |');
    expect(t[2]).toContain('| 43.3 / 37.8 |');
    expect(t[2]).toContain('| 2 (0.9) / 2 (0.9) |');
  });

  it('a peer that never connected reads as such, not as zeros', () => {
    const r = report();
    r.mmsc = peer({ goodputBps: null, pictures: 0, firstPictureMs: null, connectFailures: 3, psnr: null, queryPsnr: null, fps: 0 });
    const row = summaryMarkdown([r]).split('\n')[2] as string;
    expect(row).toContain('| none / 0.80 |');
    expect(row).toContain('| none (3 failed) / 0.5 |');
  });

  it('the markdown names the link check and every peer; the SVG has the four plots', () => {
    const md = markdownReport(report());
    expect(md).toContain('Link self-check: ok');
    expect(md).toMatch(/\| mmsc \(h264\) \| 0\.50 \/ 2\.00 Mbit\/s \(0\.25\) \|/);
    expect(md).toMatch(/\| anchor \(VP8, max 20 Mbit\/s\) \|/);
    const svg = svgReport(report());
    expect(svg.match(/<title>/g)?.length).toBe(5); // the whole picture's and each plot's
    expect(svg).toContain('mmsc estimate');
    expect(svg).toContain('anchor query box');
  });
});
