import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarios } from '../commands/emulate.js';
import { Capacity, parseScenario, resolveDirection, ScenarioError } from './scenario.js';

const base = {
  name: 'x',
  title: 'x',
  seconds: 10,
  forward: { rate: { kind: 'constant', bps: 2e6 }, queue: { ms: 300 }, delay_ms: 20, loss: null },
};

describe('scenario files', () => {
  it('every scenario in the repository parses, with a unique name', async () => {
    const all = await loadScenarios();
    expect(all.length).toBeGreaterThanOrEqual(9);
    expect(new Set(all.map((s) => s.scenario.name)).size).toBe(all.length);
    const names = all.map((s) => s.scenario.name);
    for (const n of ['clean', '2mbit-40ms', 'loss-2', 'loss-5', 'bursts', 'step', 'outage-3', 'outage-10', 'lte-like'])
      expect(names).toContain(n);
  });

  it('names the field that is wrong', () => {
    expect(() => parseScenario({ ...base, seconds: 0 }, 'f.json')).toThrow(/scenario f.json: seconds must be/);
    expect(() => parseScenario({ ...base, forward: { ...base.forward, loss: { kind: 'iid', p: 2 } } }, 'f')).toThrow(/forward.loss.p/);
    expect(() => parseScenario({ ...base, forward: { ...base.forward, rate: { kind: 'warp' } } }, 'f')).toThrow(/forward.rate.kind/);
    expect(() => parseScenario({ ...base, forward: { ...base.forward, queue: 5 } }, 'f')).toThrow(/forward.queue/);
    expect(() => parseScenario({ ...base, name: 'Bad Name' }, 'f')).toThrow(ScenarioError);
  });

  it('generated rates become trace files whose capacity is the rate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsc-scn-'));
    const env = {
      tracesDir: '/nowhere',
      workDir: dir,
      readText: (p: string) => readFileSync(p, 'utf8'),
      writeText: (p: string, t: string) => writeFileSync(p, t),
    };
    const sc = parseScenario(
      {
        ...base,
        forward: {
          ...base.forward,
          rate: {
            kind: 'steps',
            steps: [
              { bps: 5e6, seconds: 10 },
              { bps: 1e6, seconds: 10 },
            ],
          },
          outages: [{ at_s: 2, for_s: 1 }],
        },
      },
      'f',
    );
    const d = resolveDirection(sc.forward, 'fwd', env);
    expect(d.rate).toEqual({ kind: 'trace', file: join(dir, 'fwd.trace') });
    const cap = new Capacity(d, env.readText);
    expect(cap.bps(0, 1000)).toBeCloseTo(5e6, -5);
    expect(cap.bps(2000, 3000)).toBe(0);
    expect(cap.bps(12_000, 14_000)).toBeCloseTo(1e6, -5);
    expect(resolveDirection({ ...sc.forward, rate: { kind: 'trace', file: 'traces:a.down' } }, 'r', env).rate).toEqual({
      kind: 'trace',
      file: '/nowhere/a.down',
    });
  });

  it('a constant link offers its rate less its outages; an unlimited one has no capacity figure', () => {
    const read = () => '';
    const c = new Capacity(
      { ...parseScenario(base, 'f').forward, rate: { kind: 'constant', bps: 2e6 }, outages: [{ at_s: 1, for_s: 0.5 }] },
      read,
    );
    expect(c.bps(0, 1000)).toBe(2e6);
    expect(c.bps(1000, 2000)).toBe(1e6);
    expect(new Capacity({ ...parseScenario(base, 'f').forward, rate: null }, read).bps(0, 1000)).toBeNull();
  });
});
