import { isAbsolute, join } from 'node:path';
import { CliError } from '../errors.js';
import { lteLikeTrace, type Outage, parseTrace, stepTrace, type Trace, traceCapacityBytes, traceMeanBps } from './traces.js';

/**
 * An emulation scenario as written in `packages/cli/scenarios/*.json`: a link per direction in the
 * emulator's own terms (snake_case, as `emulator/link_model.py` reads it), plus rates the harness
 * generates into trace files before the run.
 */
export type RateSpec =
  | { kind: 'constant'; bps: number }
  /** A mahimahi trace file; `traces:NAME` is looked up in the traces folder (`--traces`). */
  | { kind: 'trace'; file: string }
  | { kind: 'steps'; steps: { bps: number; seconds: number }[] }
  | { kind: 'lte-like'; seconds: number; mean_bps: number; seed: number };

export type LossSpec = { kind: 'iid'; p: number } | { kind: 'ge'; p_gb: number; p_bg: number; loss_good: number; loss_bad: number };

export interface DirectionSpec {
  rate: RateSpec | null;
  queue: { bytes: number } | { ms: number } | null;
  delay_ms: number;
  jitter_ms?: number;
  reorder?: boolean;
  loss: LossSpec | null;
  outages?: { at_s: number; for_s: number }[];
  seed?: number;
}

export interface Scenario {
  name: string;
  /** One line for tables: the link as a person would say it. */
  title: string;
  /** How long each peer streams once connected, s. */
  seconds: number;
  forward: DirectionSpec;
  /** B → A; default: the same as forward. */
  reverse?: DirectionSpec;
  /** `traces`: runs only where the real traces folder exists. */
  needs?: 'traces';
  /** `nat`: both hosts behind masquerading routers, reaching each other only through a TURN relay. */
  topology?: 'direct' | 'nat';
}

export class ScenarioError extends CliError {
  override readonly name = 'ScenarioError';
  constructor(message: string) {
    super(message, 2);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown, what: string, min: number, max = Number.POSITIVE_INFINITY): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new ScenarioError(`${what} must be a number in [${min}, ${max}]`);
  return v;
};

function checkRate(v: unknown, at: string): RateSpec | null {
  if (v === null) return null;
  if (!isObj(v)) throw new ScenarioError(`${at}.rate must be an object or null (unlimited)`);
  switch (v.kind) {
    case 'constant':
      return { kind: 'constant', bps: num(v.bps, `${at}.rate.bps`, 10_000) };
    case 'trace':
      if (typeof v.file !== 'string' || v.file === '') throw new ScenarioError(`${at}.rate.file must name a trace file`);
      return { kind: 'trace', file: v.file };
    case 'steps': {
      if (!Array.isArray(v.steps) || v.steps.length === 0) throw new ScenarioError(`${at}.rate.steps must be a non-empty list`);
      const steps = v.steps.map((s: unknown, i: number) => {
        if (!isObj(s)) throw new ScenarioError(`${at}.rate.steps[${i}] must be {bps, seconds}`);
        return { bps: num(s.bps, `${at}.rate.steps[${i}].bps`, 10_000), seconds: num(s.seconds, `${at}.rate.steps[${i}].seconds`, 0.1) };
      });
      return { kind: 'steps', steps };
    }
    case 'lte-like':
      return {
        kind: 'lte-like',
        seconds: num(v.seconds, `${at}.rate.seconds`, 1, 3600),
        mean_bps: num(v.mean_bps, `${at}.rate.mean_bps`, 10_000),
        seed: num(v.seed, `${at}.rate.seed`, 0),
      };
    default:
      throw new ScenarioError(`${at}.rate.kind must be constant, trace, steps or lte-like`);
  }
}

function checkDirection(v: unknown, at: string): DirectionSpec {
  if (!isObj(v)) throw new ScenarioError(`${at} must be an object`);
  const queue = v.queue;
  if (queue !== null && !(isObj(queue) && (typeof queue.bytes === 'number' || typeof queue.ms === 'number')))
    throw new ScenarioError(`${at}.queue must be {bytes: N}, {ms: N} or null (unbounded)`);
  let loss: LossSpec | null = null;
  if (v.loss !== null && v.loss !== undefined) {
    const l = v.loss;
    if (!isObj(l)) throw new ScenarioError(`${at}.loss must be an object or null`);
    if (l.kind === 'iid') loss = { kind: 'iid', p: num(l.p, `${at}.loss.p`, 0, 1) };
    else if (l.kind === 'ge')
      loss = {
        kind: 'ge',
        p_gb: num(l.p_gb, `${at}.loss.p_gb`, 0, 1),
        p_bg: num(l.p_bg, `${at}.loss.p_bg`, 1e-6, 1),
        loss_good: num(l.loss_good, `${at}.loss.loss_good`, 0, 1),
        loss_bad: num(l.loss_bad, `${at}.loss.loss_bad`, 0, 1),
      };
    else throw new ScenarioError(`${at}.loss.kind must be iid or ge`);
  }
  const outages = v.outages === undefined ? [] : v.outages;
  if (!Array.isArray(outages)) throw new ScenarioError(`${at}.outages must be a list`);
  return {
    rate: checkRate(v.rate ?? null, at),
    queue: queue as DirectionSpec['queue'],
    delay_ms: num(v.delay_ms ?? 0, `${at}.delay_ms`, 0, 10_000),
    jitter_ms: num(v.jitter_ms ?? 0, `${at}.jitter_ms`, 0, 10_000),
    reorder: v.reorder === true,
    loss,
    outages: outages.map((o: unknown, i: number) => {
      if (!isObj(o)) throw new ScenarioError(`${at}.outages[${i}] must be {at_s, for_s}`);
      return { at_s: num(o.at_s, `${at}.outages[${i}].at_s`, 0), for_s: num(o.for_s, `${at}.outages[${i}].for_s`, 0.001) };
    }),
    seed: num(v.seed ?? 1, `${at}.seed`, 0),
  };
}

/** Checks a parsed scenario file; every problem is one line naming the field. */
export function parseScenario(v: unknown, file: string): Scenario {
  try {
    if (!isObj(v)) throw new ScenarioError('must be a JSON object');
    if (typeof v.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(v.name))
      throw new ScenarioError('name must be lower-case letters, digits and dashes');
    if (typeof v.title !== 'string' || v.title === '') throw new ScenarioError('title must be a non-empty string');
    if (v.needs !== undefined && v.needs !== 'traces') throw new ScenarioError('needs must be "traces" when given');
    if (v.topology !== undefined && v.topology !== 'direct' && v.topology !== 'nat')
      throw new ScenarioError('topology must be direct or nat');
    return {
      name: v.name,
      title: v.title,
      seconds: num(v.seconds, 'seconds', 1, 3600),
      forward: checkDirection(v.forward, 'forward'),
      ...(v.reverse !== undefined ? { reverse: checkDirection(v.reverse, 'reverse') } : {}),
      ...(v.needs ? { needs: 'traces' as const } : {}),
      topology: (v.topology as 'direct' | 'nat' | undefined) ?? 'direct',
    };
  } catch (e) {
    if (e instanceof ScenarioError) throw new ScenarioError(`scenario ${file}: ${e.message}`);
    throw e;
  }
}

/** A direction as the emulator takes it: every rate a constant or a trace file. */
export interface LinkDirection extends Omit<DirectionSpec, 'rate'> {
  rate: { kind: 'constant'; bps: number } | { kind: 'trace'; file: string } | null;
}

export interface ResolveEnv {
  /** Folder of real traces (`traces:NAME`). */
  tracesDir: string;
  /** Where generated traces are written. */
  workDir: string;
  readText: (path: string) => string;
  writeText: (path: string, text: string) => void;
}

/** Turns generated rates into trace files and `traces:` names into paths. */
export function resolveDirection(d: DirectionSpec, tag: string, env: ResolveEnv): LinkDirection {
  const r = d.rate;
  let rate: LinkDirection['rate'];
  if (r === null || r.kind === 'constant') rate = r;
  else if (r.kind === 'trace') {
    const file = r.file.startsWith('traces:') ? join(env.tracesDir, r.file.slice('traces:'.length)) : r.file;
    rate = { kind: 'trace', file: isAbsolute(file) ? file : join(process.cwd(), file) };
  } else {
    const ops = r.kind === 'steps' ? stepTrace(r.steps) : lteLikeTrace({ seconds: r.seconds, meanBps: r.mean_bps, seed: r.seed });
    const file = join(env.workDir, `${tag}.trace`);
    env.writeText(file, `${ops.join('\n')}\n`);
    rate = { kind: 'trace', file };
  }
  return { ...d, rate };
}

/** The capacity model of one resolved direction: bytes it can deliver in an interval from its start. */
export class Capacity {
  private readonly trace: Trace | null;
  private readonly outages: Outage[];
  constructor(
    private readonly d: LinkDirection,
    readText: (path: string) => string,
  ) {
    this.trace = d.rate?.kind === 'trace' ? parseTrace(readText(d.rate.file), d.rate.file) : null;
    this.outages = (d.outages ?? []).map((o) => ({ atS: o.at_s, forS: o.for_s }));
  }
  /** Null for an unlimited link. */
  bytes(t0Ms: number, t1Ms: number): number | null {
    const r = this.d.rate;
    if (r === null) return null;
    if (this.trace) return traceCapacityBytes(this.trace, t0Ms, t1Ms, this.outages);
    let ms = Math.max(0, t1Ms - t0Ms);
    for (const o of this.outages) ms -= Math.max(0, Math.min(t1Ms, (o.atS + o.forS) * 1000) - Math.max(t0Ms, o.atS * 1000));
    return ((r as { bps: number }).bps / 8) * (ms / 1000);
  }
  /** Mean rate over [t0, t1), bit/s; null for an unlimited link. */
  bps(t0Ms: number, t1Ms: number): number | null {
    const b = this.bytes(t0Ms, t1Ms);
    return b === null || t1Ms <= t0Ms ? null : (b * 8 * 1000) / (t1Ms - t0Ms);
  }
  /** The trace's mean over a period (or the constant rate), bit/s. */
  meanBps(): number | null {
    if (this.d.rate === null) return null;
    return this.trace ? traceMeanBps(this.trace) : (this.d.rate as { bps: number }).bps;
  }
}
