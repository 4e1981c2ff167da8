import { describe, expect, it } from 'vitest';
import { perSecond, pictureRows, type Shown, stallsOf, summarise } from './metrics.js';

const shown = (n: number, at: number, age = 100, psnr = 30, q: number | null = 32): Shown => ({
  n,
  shownAt: at,
  capturedAt: at - age,
  psnr,
  queryPsnr: q,
});

describe('what the operator saw', () => {
  it('counts a gap over 500 ms as a stall, the tail after the last picture included', () => {
    expect(stallsOf([0, 100, 200], 300)).toEqual({ stalls: 0, maxStallMs: 0 });
    expect(stallsOf([0, 100, 800, 900], 1000)).toEqual({ stalls: 1, maxStallMs: 700 });
    expect(stallsOf([0, 100], 2100)).toEqual({ stalls: 1, maxStallMs: 2000 });
  });

  it('summarises rate, age, stalls, first picture and PSNR', () => {
    const t0 = 1_000_000;
    const pics = Array.from({ length: 11 }, (_, i) => shown(i, t0 + 2000 + i * 100, 100 + i * 10, 30 + (i % 2), i === 0 ? null : 32));
    const s = summarise({ shown: pics, startAt: t0, endAt: t0 + 3000, bytes: 125_000, capacityBps: 2e6, connectFailures: 1 });
    expect(s.firstPictureMs).toBe(2000);
    expect(s.fps).toBe(10);
    expect(s.goodputBps).toBe(1_000_000); // 125 kB over the 1 s from the first to the last picture
    expect(s.capacityBps).toBe(2e6);
    expect(s.ageMsP50).toBe(150);
    expect(s.ageMsP95).toBe(200);
    expect(s.stalls).toBe(0);
    expect(s.psnr).toBeCloseTo(30 + 5 / 11, 2);
    expect(s.queryPsnr).toBe(32);
    expect(s.connectFailures).toBe(1);
    expect(s.pictures).toBe(11);
  });

  it('a peer that showed nothing has no figures, not zeros that look like measurements', () => {
    const s = summarise({ shown: [], startAt: 0, endAt: 1000, bytes: null, capacityBps: null, connectFailures: 3 });
    expect(s.firstPictureMs).toBeNull();
    expect(s.psnr).toBeNull();
    expect(s.goodputBps).toBeNull();
    expect(s.pictures).toBe(0);
  });

  it('bins pictures per second of the link clock', () => {
    const rows = perSecond([shown(0, 100), shown(1, 900), shown(2, 1500, 300)], 0, 3);
    expect(rows.map((r) => r.fps)).toEqual([2, 1, 0]);
    expect(rows[1]?.ageMs).toBe(300);
    expect(rows[2]?.psnr).toBeNull();
  });
});

describe('--pictures rows', () => {
  it('puts each shown picture on the link clock with its age, keeping unread ones as unknown', () => {
    const shown: Shown[] = [
      { n: 7, shownAt: 10_250, capturedAt: 10_100, psnr: 38.5, queryPsnr: 41 },
      { n: null, shownAt: 10_400, capturedAt: null, psnr: null, queryPsnr: null },
    ];
    expect(pictureRows(shown, 10_000)).toEqual([
      { t: 250, n: 7, ageMs: 150, psnr: 38.5, queryPsnr: 41 },
      { t: 400, n: null, ageMs: null, psnr: null, queryPsnr: null },
    ]);
  });
});
