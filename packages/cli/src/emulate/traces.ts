/**
 * Link traces in mahimahi's format: one line per 1500-byte delivery opportunity, the line's value
 * the millisecond it occurs; the file repeats with the period of its last line. Pure: generators
 * that write such traces, a parser, and the capacity a trace (with outages) offers in an interval.
 */

import { seededRandom } from '@mmsc/protocol';

/** Bytes one delivery opportunity carries. */
export const OPPORTUNITY_BYTES = 1500;

export class TraceError extends Error {
  override name = 'TraceError';
}

/** A parsed trace: opportunity times (ms, non-decreasing) and the period it repeats with. */
export interface Trace {
  opportunitiesMs: number[];
  periodMs: number;
}

/** Parses a mahimahi trace; `what` names it in errors. */
export function parseTrace(text: string, what = 'trace'): Trace {
  const out: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = (lines[i] as string).trim();
    if (l === '') continue;
    if (!/^\d+$/.test(l))
      throw new TraceError(`${what}: line ${i + 1} is not a whole number of milliseconds: ${JSON.stringify(l.slice(0, 40))}`);
    const v = Number(l);
    if (out.length > 0 && v < (out.at(-1) as number)) throw new TraceError(`${what}: line ${i + 1} (${v} ms) goes back in time`);
    out.push(v);
  }
  if (out.length === 0) throw new TraceError(`${what}: no delivery opportunities`);
  const periodMs = out.at(-1) as number;
  if (periodMs <= 0) throw new TraceError(`${what}: its last line must be after 0 ms (it sets the period)`);
  return { opportunitiesMs: out, periodMs };
}

export function formatTrace(opportunitiesMs: readonly number[]): string {
  return `${opportunitiesMs.join('\n')}\n`;
}

/** A trace from a rate function of time: `rateBps(ms)` for each millisecond of `durationMs`. */
export function traceFromRate(durationMs: number, rateBps: (ms: number) => number): number[] {
  const out: number[] = [];
  let credit = 0;
  for (let ms = 1; ms <= durationMs; ms++) {
    credit += Math.max(0, rateBps(ms)) / 8 / 1000 / OPPORTUNITY_BYTES;
    while (credit >= 1) {
      out.push(ms);
      credit -= 1;
    }
  }
  // The last line sets the period: make sure it is the trace's end.
  if (out.at(-1) !== durationMs) out.push(durationMs);
  return out;
}

/** Constant-rate steps, e.g. 5 → 1 → 5 Mbit/s. */
export function stepTrace(steps: readonly { bps: number; seconds: number }[]): number[] {
  const ends: number[] = [];
  let t = 0;
  for (const s of steps) {
    t += s.seconds * 1000;
    ends.push(t);
  }
  return traceFromRate(t, (ms) => {
    const k = ends.findIndex((e) => ms <= e);
    return (steps[k] as { bps: number }).bps;
  });
}

export interface LteLikeOptions {
  seconds: number;
  meanBps: number;
  seed: number;
  /** Seconds between rate changes (default 0.5). */
  stepSeconds?: number;
  /** Spread of the log-rate random walk, per step (default 0.25). */
  volatility?: number;
  /** Chance per step of a deep fade to 5–15 % of the mean for 1–3 s (default 0.02). */
  fadeChance?: number;
}

/**
 * A synthetic LTE-like downlink: the log of the rate does a mean-reverting random walk around the
 * mean (changes every half second, as a scheduler's share does), with occasional deep fades.
 */
export function lteLikeTrace(o: LteLikeOptions): number[] {
  const rnd = seededRandom(o.seed);
  const step = (o.stepSeconds ?? 0.5) * 1000;
  const vol = o.volatility ?? 0.25;
  const fade = o.fadeChance ?? 0.02;
  const n = Math.ceil((o.seconds * 1000) / step);
  const rates: number[] = [];
  let x = 0;
  let fadeLeft = 0;
  for (let i = 0; i < n; i++) {
    // Box–Muller normal, then a mean-reverting step.
    const g = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    x = 0.85 * x + vol * g;
    if (fadeLeft === 0 && rnd() < fade) fadeLeft = Math.ceil((1000 + 2000 * rnd()) / step);
    const depth = 0.05 + 0.1 * rnd();
    rates.push(fadeLeft > 0 ? o.meanBps * depth : o.meanBps * Math.exp(x - (vol * vol) / (2 * (1 - 0.85 * 0.85))));
    if (fadeLeft > 0) fadeLeft--;
  }
  return traceFromRate(o.seconds * 1000, (ms) => rates[Math.min(n - 1, Math.floor((ms - 1) / step))] as number);
}

/** A zero-capacity interval, seconds from the link's start. */
export interface Outage {
  atS: number;
  forS: number;
}

function inOutage(ms: number, outages: readonly Outage[]): boolean {
  return outages.some((o) => ms >= o.atS * 1000 && ms < (o.atS + o.forS) * 1000);
}

/**
 * Bytes the link can deliver in [t0Ms, t1Ms) from its start: the trace's opportunities (repeating
 * with its period), less those inside outages.
 */
export function traceCapacityBytes(trace: Trace, t0Ms: number, t1Ms: number, outages: readonly Outage[] = []): number {
  if (t1Ms <= t0Ms) return 0;
  const { opportunitiesMs: ops, periodMs } = trace;
  let count = 0;
  const firstCycle = Math.floor(t0Ms / periodMs);
  const lastCycle = Math.floor(t1Ms / periodMs);
  for (let c = firstCycle; c <= lastCycle; c++) {
    const base = c * periodMs;
    for (const o of ops) {
      const t = base + o;
      if (t >= t0Ms && t < t1Ms && !inOutage(t, outages)) count++;
    }
  }
  return count * OPPORTUNITY_BYTES;
}

/** Mean rate of a trace over one period, bit/s. */
export function traceMeanBps(trace: Trace): number {
  return (trace.opportunitiesMs.length * OPPORTUNITY_BYTES * 8 * 1000) / trace.periodMs;
}
