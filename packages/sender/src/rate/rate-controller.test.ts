import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE, OUTAGE_PROBE_BYTES, OUTAGE_S, RateController, SENT_CAP } from './rate-controller.js';

/**
 * A bottleneck link: capacity(t) bits/s, FIFO queue, one-way delay `prop`. Frames of exactly their
 * budget are offered at `fps`; feedback returns to the sender `prop` after the last byte arrives.
 */
function simulate(
  capacity: (t: number) => number,
  seconds: number,
  prop = 0.02,
  options: Partial<typeof DEFAULT_RATE> = {},
  srttSamples = true,
  /** Bytes frame k actually uses of its budget (default: all of it, like the patches engine). */
  fill: (k: number, budget: number) => number = (_k, budget) => budget,
) {
  const rc = new RateController({ ...DEFAULT_RATE, initialBps: 1_000_000, ...options });
  const frames: { t: number; bytes: number; budget: number; arrive: number; rate: number }[] = [];
  const pending: { at: number; id: number; bytes: number; arrive: number }[] = [];
  let linkFree = 0;
  const dt = 1 / DEFAULT_RATE.fps;
  for (let k = 0, t = 0; t < seconds; k++, t = k * dt) {
    // Deliver feedback that is due.
    pending.sort((a, b) => a.at - b.at);
    while (pending.length && (pending[0] as { at: number }).at <= t) {
      const p = pending.shift() as { at: number; id: number; bytes: number; arrive: number };
      // Without samples the controller judges by feedback delay alone (werift's SCTP srtt is
      // smoothed and lags the queue by several frames at the start).
      if (srttSamples) rc.onSrtt(2 * prop + Math.max(0, linkFree - p.at));
      rc.onFeedback(p.id, p.bytes, p.arrive * 1000, p.at);
    }
    if (!rc.canSend(t)) continue;
    const budget = rc.budget();
    const bytes = Math.round(fill(k, budget));
    let start = Math.max(t, linkFree);
    // Serialise through a capacity that may change mid-frame (1 ms steps).
    let left = bytes * 8;
    while (left > 0) {
      const step = Math.min(0.001, left / capacity(start));
      left -= step * capacity(start);
      start += step;
    }
    linkFree = start;
    const arrive = linkFree + prop;
    rc.onSent(k, bytes, t, budget);
    pending.push({ at: arrive + prop, id: k, bytes, arrive });
    frames.push({ t, bytes, budget, arrive, rate: rc.state().rateBps });
  }
  return { rc, frames };
}

const goodput = (frames: { t: number; bytes: number }[], from: number, to: number) =>
  (frames.filter((f) => f.t >= from && f.t < to).reduce((s, f) => s + f.bytes, 0) * 8) / (to - from);

describe('rate controller on a simulated bottleneck', () => {
  it('finds a 10 Mbit/s link and keeps frame latency low', () => {
    const { frames } = simulate(() => 10e6, 12);
    expect(goodput(frames, 6, 12)).toBeGreaterThan(0.75 * 10e6);
    const late = frames.filter((f) => f.t > 6 && f.arrive - f.t > 0.4);
    expect(late.length).toBeLessThanOrEqual(1);
  });

  it('slow start: from 1 Mbit/s it uses most of a 10 Mbit/s link within 2 s, without late frames', () => {
    const { frames } = simulate(() => 10e6, 4);
    expect(goodput(frames, 2, 4)).toBeGreaterThan(0.75 * 10e6);
    expect(frames.filter((f) => f.arrive - f.t > 0.4)).toHaveLength(0);
    // Probing at the steady-state gain (per frame at 10 fps) from the start gets there later.
    const slow = simulate(() => 10e6, 4, 0.02, { startGain: Math.sqrt(DEFAULT_RATE.probeGain) }).frames;
    expect(goodput(frames, 0, 2)).toBeGreaterThan(2 * goodput(slow, 0, 2));
    expect(goodput(slow, 2, 4)).toBeLessThan(goodput(frames, 2, 4));
  });

  it('slow start pauses while frames take over two intervals to deliver: fewer skipped ticks and less delay on a link below the start rate', () => {
    // At 0.5 Mbit/s each 1 Mbit/s-start frame (~12 kB) takes ~0.19 s; judged by feedback delay
    // alone (no srtt samples), as at the start of a live link.
    const paused = simulate(() => 0.5e6, 3, 0.02, {}, false);
    const unpaused = simulate(() => 0.5e6, 3, 0.02, { startPauseS: Number.POSITIVE_INFINITY }, false);
    expect(paused.rc.state().framesSkipped).toBeLessThan(unpaused.rc.state().framesSkipped);
    const worst = (r: typeof paused) => Math.max(...r.frames.map((f) => f.arrive - f.t));
    expect(worst(paused)).toBeLessThan(worst(unpaused) - 0.1);
  });

  it('slow start grows only on frames that filled their budget: a keyframe that borrowed credit, then small frames repaying it, do not take a 1 Mbit/s link to 2 Mbit/s', () => {
    // The h264 engine's start: a keyframe at twice its budget, then three P-frames at a third of
    // theirs (x264 refilling its VBV), then full frames. The small frames arrive fast on any link.
    const h264Start = (k: number, budget: number) => (k === 0 ? 2 * budget : k <= 3 ? budget / 3 : budget);
    const run = simulate(() => 1e6, 4, 0.02, {}, false, h264Start);
    const peak = Math.max(...run.frames.filter((f) => f.t < 2).map((f) => f.rate));
    expect(peak).toBeLessThan(1.6e6);
    expect(run.rc.state().framesSkipped).toBeLessThanOrEqual(2);
    expect(goodput(run.frames, 2, 4)).toBeGreaterThan(0.75 * 1e6);
  });

  it('tracks a 10 → 2 Mbit/s step within 1 s and recovers latency', () => {
    const { frames } = simulate((t) => (t < 6 ? 10e6 : 2e6), 14);
    const after = frames.filter((f) => f.t >= 7);
    // Within 1 s of the step the estimate is at most 25 % above the new capacity, and stays so.
    for (const f of after) expect(f.rate).toBeLessThan(2e6 * 1.25 * (1 + 0.15));
    expect(goodput(frames, 9, 14)).toBeGreaterThan(0.7 * 2e6);
    const p95 = after.map((f) => f.arrive - f.t).sort((a, b) => a - b)[Math.floor(after.length * 0.95)] as number;
    expect(p95).toBeLessThan(0.4);
  });

  it('never hands out a budget above what the estimate allows for the time since the last tick', () => {
    // Ticks arrive late and irregularly (a loaded sender), so budgets come from the elapsed-time path.
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: 1_000_000 });
    const interval = 1 / DEFAULT_RATE.fps;
    const capacity = (t: number) => (t < 3 ? 2e6 : 8e6);
    const pending: { at: number; id: number; bytes: number; arrive: number }[] = [];
    let linkFree = 0;
    let lastTick: number | null = null;
    let over = 0;
    let checked = 0;
    let sentBits = 0;
    for (let k = 0, t = 0; t < 8; k++, t += interval * (0.6 + ((k * 7919) % 13) / 8)) {
      pending.sort((a, b) => a.at - b.at);
      while (pending.length && (pending[0] as { at: number }).at <= t) {
        const p = pending.shift() as { at: number; id: number; bytes: number; arrive: number };
        rc.onFeedback(p.id, p.bytes, p.arrive * 1000, p.at);
      }
      const may = rc.canSend(t);
      const elapsed = lastTick === null ? interval : Math.min(2 * interval, Math.max(interval, t - lastTick));
      lastTick = t;
      if (!may) continue;
      const allowed = Math.floor((rc.state().rateBps / 8) * (1 - DEFAULT_RATE.margin) * elapsed);
      const budget = rc.budget(t);
      checked++;
      if (budget > allowed) over++;
      const bytes = Math.round(budget * (0.7 + ((k * 31) % 4) / 10)); // frames use 70–100 % of it
      linkFree = Math.max(t, linkFree) + (bytes * 8) / capacity(t);
      rc.onSent(k, bytes, t, budget);
      if (t >= 6) sentBits += bytes * 8;
      pending.push({ at: linkFree + 0.04, id: k, bytes, arrive: linkFree + 0.02 });
    }
    expect(checked).toBeGreaterThan(40);
    expect(over).toBe(0);
    // It probes up after capacity rises (2 → 8 Mbit/s at t = 3 s).
    expect(sentBits / 2).toBeGreaterThan(0.5 * 8e6);
  });
});

describe('rate controller budget per tick', () => {
  const rate = 1e6;
  const per = (s: number) => Math.floor((rate / 8) * (1 - DEFAULT_RATE.margin) * s);

  it('is one interval’s worth before any frame, and follows the time since the last frame between one and two intervals', () => {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: rate });
    expect(rc.budget()).toBe(per(0.1));
    expect(rc.budget(5)).toBe(per(0.1));
    rc.onSent(0, 1000, 1);
    expect(rc.budget(1.05)).toBe(per(0.1)); // early: still one interval
    expect(rc.budget(1.15)).toBe(per(0.15));
    expect(rc.budget(1.9)).toBe(per(0.2)); // a long gap is worth two intervals at most
  });

  it('counts from budget to budget, so the time a frame spent being encoded is not lost from the next', () => {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: rate });
    rc.onSent(0, 1000, 1.05, per(0.1), 1.0); // budget taken at 1.0 s, the frame out at 1.05 s
    expect(rc.budget(1.12)).toBe(per(0.12)); // 120 ms since the last budget, not 70 ms (→ one interval)
  });

  it('does not let a skipped tick count as time to make up', () => {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: rate });
    rc.onSent(0, 45_000, 0); // 45 kB outstanding: 13.75 kB over 250 ms at 1 Mbit/s, more than a frame
    expect(rc.canSend(0.1)).toBe(false);
    expect(rc.canSend(0.2)).toBe(false);
    rc.onFeedback(0, 45_000, 1_764_230_400_000 + 250, 0.25);
    const r = rc.state().rateBps;
    expect(rc.canSend(0.3)).toBe(true);
    expect(rc.budget(0.3)).toBe(Math.floor((r / 8) * (1 - DEFAULT_RATE.margin) * 0.1)); // from the skipped tick at 0.2, not the frame at 0
  });

  it('makes a frame smaller by what the backlog stands above its bound, and skips only when little would be left', () => {
    const bound = (rate / 8) * DEFAULT_RATE.maxDelayS; // 31,250 B at 1 Mbit/s
    const at = (backlog: number) => {
      const rc = new RateController({ ...DEFAULT_RATE, initialBps: rate });
      rc.onSent(0, backlog, 1);
      return { may: rc.canSend(1.1), budget: rc.budget(1.1) };
    };
    expect(at(bound)).toEqual({ may: true, budget: per(0.1) }); // at the bound: the whole budget
    const over = 5000;
    const cut = at(bound + over);
    expect(cut.may).toBe(true);
    expect(Math.abs(cut.budget - (per(0.1) - over))).toBeLessThanOrEqual(1);
    // The queue after the frame is never above the bound plus one nominal frame.
    expect(bound + over + cut.budget).toBeLessThanOrEqual(bound + per(0.1) + 1);
    // Less than a quarter of the budget left: no frame at all.
    expect(at(bound + 0.8 * per(0.1)).may).toBe(false);
  });
});

describe('rate controller without link pressure', () => {
  it('holds its rate when frames use little of their budget (a still scene sent as "keep")', () => {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: 4e6 });
    for (let k = 0; k < 50; k++) {
      const t = k / 10;
      expect(rc.canSend(t)).toBe(true);
      rc.onSent(k, 300, t, rc.budget());
      rc.onFeedback(k, 300, (t + 0.01) * 1000, t + 0.02);
    }
    expect(rc.state().rateBps).toBeGreaterThanOrEqual(4e6);
    expect(rc.state().mode).toBe('hold');
  });

  it('takes a silent receiver as an outage: what was outstanding is written off, small probes go out 4 times a second', () => {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: 2e6 });
    rc.onSent(0, 90_000, 0);
    expect(rc.canSend(0.1)).toBe(false); // 90 kB queued: 250 ms at 2 Mbit/s and more than a frame over
    expect(rc.canSend(0.2)).toBe(false);
    expect(rc.canSend(OUTAGE_S - 0.1)).toBe(true); // not an outage yet: 90 kB is 360 ms at the rate
    expect(rc.state().mode).not.toBe('outage');
    expect(rc.canSend(OUTAGE_S)).toBe(true);
    expect(rc.state()).toMatchObject({ mode: 'outage', backlogBytes: 0, rateBps: 2e6 });
    expect(rc.budget(OUTAGE_S)).toBe(OUTAGE_PROBE_BYTES);
    let sent = 0;
    for (let k = 0; k < 100; k++) {
      const t = OUTAGE_S + k / 10;
      if (!rc.canSend(t)) continue;
      sent++;
      rc.onSent(1000 + k, rc.budget(t), t);
    }
    // 10 s of silence: 3–4 probes a second, and none of them left outstanding past 2 s.
    expect(sent).toBeGreaterThanOrEqual(33);
    expect(sent).toBeLessThanOrEqual(41);
    expect(rc.state().backlogBytes).toBeLessThanOrEqual(21 * OUTAGE_PROBE_BYTES);
    expect(rc.takeResumed()).toBe(false);
  });

  it('resumes at 80 % of the rate it had once a probe is answered, and says so once', () => {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: 3e6 });
    const ms = (t: number) => EPOCH_MS + t * 1000;
    rc.onSent(0, 10_000, 0);
    rc.onFeedback(0, 10_000, ms(0.05), 0.06);
    rc.onSent(1, 10_000, 0.1);
    expect(rc.canSend(1.2)).toBe(true); // 1.1 s without a report: not yet an outage
    expect(rc.state().mode).not.toBe('outage');
    rc.onSent(2, 10_000, 1.2);
    expect(rc.canSend(1.4)).toBe(true); // 1.3 s since frame 1 went out: an outage, the first probe
    expect(rc.state().mode).toBe('outage');
    rc.onSent(3, rc.budget(1.4), 1.4);
    expect(rc.onFeedback(2, 10_000, ms(1.42), 1.44)).toBeNull(); // written off: changes nothing
    expect(rc.state().mode).toBe('outage');
    expect(rc.onFeedback(3, OUTAGE_PROBE_BYTES, ms(1.43), 1.45)).toBeNull();
    expect(rc.state().mode).toBe('probe');
    expect(rc.state().rateBps).toBeGreaterThanOrEqual(0.8 * 3e6);
    expect(rc.takeResumed()).toBe(true);
    expect(rc.takeResumed()).toBe(false);
    expect(rc.budget(1.55)).toBeGreaterThan(OUTAGE_PROBE_BYTES);
  });
});

/** A receiver whose clock is the sender's plus an offset (as with `Date.now()`), 30 ms behind. */
const EPOCH_MS = 1_764_230_400_000;

describe('rate controller feedback sanity', () => {
  it('accepts normal feedback (null), and ignores a report for a frame no longer outstanding', () => {
    const rc = new RateController();
    rc.onSent(0, 10_000, 0);
    expect(rc.onFeedback(0, 10_000, EPOCH_MS + 30, 0.06)).toBeNull();
    expect(rc.state().backlogBytes).toBe(0);
    const before = rc.state();
    expect(rc.onFeedback(0, 10_000, EPOCH_MS + 30, 0.07)).toBeNull(); // duplicate
    expect(rc.onFeedback(99, 10_000, EPOCH_MS + 40, 0.08)).toBeNull(); // never sent
    expect(rc.state()).toEqual(before);
  });

  it('rejects receiveTs = MAX_SAFE_INTEGER amid normal feedback, and goodput keeps updating', () => {
    const rc = new RateController();
    const results: (string | null)[] = [];
    // 3 s of 25 kB frames at 10 fps (2 Mbit/s), then one report at 2^53 − 1, then 3 s of 50 kB frames.
    for (let k = 0; k < 61; k++) {
      const t = k / 10;
      const bytes = k < 30 ? 25_000 : 50_000;
      rc.onSent(k, bytes, t);
      const ts = k === 30 ? Number.MAX_SAFE_INTEGER : EPOCH_MS + (t + 0.03) * 1000;
      results.push(rc.onFeedback(k, bytes, ts, t + 0.06));
      if (k === 29) expect(rc.state().goodputBps).toBeCloseTo(2e6, -4);
    }
    expect(rc.state().goodputBps).toBeCloseTo(4e6, -4);
    expect(results[30]).toBe('feedback-time');
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(rc.historyLength().delivered).toBeLessThanOrEqual(8);
  });

  it('rejects timestamps that go backwards or run ahead of the sender clock', () => {
    const rc = new RateController();
    rc.onSent(0, 1000, 0);
    rc.onSent(1, 1000, 0.1);
    rc.onSent(2, 1000, 0.2);
    expect(rc.onFeedback(0, 1000, 10_000, 0.05)).toBeNull();
    expect(rc.onFeedback(1, 1000, 10_000 - 500, 0.15)).toBe('feedback-time'); // 0.5 s backwards
    expect(rc.onFeedback(1, 1000, 10_000 + 5_000, 0.15)).toBe('feedback-time'); // 5 s ahead in 0.1 s
    expect(rc.onFeedback(1, 1000, Number.NaN, 0.15)).toBe('feedback-time');
    expect(rc.state().backlogBytes).toBe(2000);
    expect(rc.onFeedback(1, 1000, 10_100, 0.15)).toBeNull();
    expect(rc.onFeedback(2, 1000, 10_190, 0.25)).toBeNull(); // small jitter is fine
  });

  it('follows a receiver clock that stepped, once reports agree with the new clock for 3 s', () => {
    const rc = new RateController();
    const results: (string | null)[] = [];
    for (let k = 0; k < 100; k++) {
      const t = k / 10;
      rc.onSent(k, 10_000, t);
      // The receiver's clock steps back by 60 s at 3 s.
      const ts = EPOCH_MS + (t + 0.03) * 1000 - (t >= 3 ? 60_000 : 0);
      results.push(rc.onFeedback(k, 10_000, ts, t + 0.06));
    }
    expect(results.slice(0, 30).every((r) => r === null)).toBe(true);
    expect(results.slice(30, 60).every((r) => r === 'feedback-time')).toBe(true);
    expect(results.slice(61).every((r) => r === null)).toBe(true);
    expect(rc.state().goodputBps).toBeCloseTo(0.8e6, -4);
  });

  it('stays bounded when receiveTs is always 0 for an hour at 10 fps, and rejects it', () => {
    const rc = new RateController();
    const counts = { null: 0, 'feedback-time': 0, 'feedback-bytes': 0 };
    let maxHistory = 0;
    let sentLastMinute = 0;
    for (let k = 0; k < 36_000; k++) {
      const t = k / 10;
      if (rc.canSend(t)) {
        const bytes = rc.budget(t);
        rc.onSent(k, bytes, t);
        counts[rc.onFeedback(k, bytes, 0, t + 0.03) ?? 'null']++;
        if (t >= 3540) sentLastMinute++;
      }
      const h = rc.historyLength();
      maxHistory = Math.max(maxHistory, h.delivered, h.capacity);
    }
    // Accepted only while the sender clock had advanced less than 2 s; refused ever after.
    expect(counts.null).toBeLessThanOrEqual(21);
    expect(counts['feedback-time']).toBeGreaterThan(1000);
    expect(maxHistory).toBeLessThanOrEqual(60);
    expect(rc.historyLength().sent).toBeLessThanOrEqual(30);
    // No report is accepted, so the link counts as out: only small probes go out (about 4 a
    // second), and the sender is not stalled.
    expect(rc.state().mode).toBe('outage');
    expect(rc.budget(3600)).toBeLessThanOrEqual(OUTAGE_PROBE_BYTES);
    expect(sentLastMinute).toBeGreaterThanOrEqual(190);
    expect(sentLastMinute).toBeLessThanOrEqual(241);
  });

  it('bounds the outstanding frames when there is no feedback and canSend is never called', () => {
    const rc = new RateController();
    for (let k = 0; k < 36_000; k++) rc.onSent(k, 1000, k / 10);
    expect(rc.state().backlogBytes).toBeLessThanOrEqual(SENT_CAP * 1000);
    expect(rc.historyLength().sent).toBe(SENT_CAP);
    expect(rc.state().mode).toBe('timeout');
  });

  it('rejects byte counts above what was sent, negative or NaN, leaving the state unchanged', () => {
    const rc = new RateController();
    for (let k = 0; k < 10; k++) {
      rc.onSent(k, 20_000, k / 10);
      expect(rc.onFeedback(k, 20_000, EPOCH_MS + (k / 10 + 0.03) * 1000, k / 10 + 0.06)).toBeNull();
    }
    rc.onSent(10, 20_000, 1);
    const before = rc.state();
    const results = [20_001, 1e12, -1, Number.NaN, Number.POSITIVE_INFINITY].map((bytes) =>
      rc.onFeedback(10, bytes, EPOCH_MS + 1030, 1.06),
    );
    expect(rc.state()).toEqual(before);
    expect(results.every((r) => r === 'feedback-bytes')).toBe(true);
    expect(rc.state().backlogBytes).toBe(20_000);
    expect(rc.onFeedback(10, 20_000, EPOCH_MS + 1030, 1.06)).toBeNull();
    expect(rc.state().backlogBytes).toBe(0);
  });
});
