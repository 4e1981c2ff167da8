import { describe, expect, it } from 'vitest';
import { StaleHold, type StaleHoldTimers } from './stale-hold.js';

/** Timers on a clock the test moves. */
function clock() {
  let now = 0;
  let seq = 0;
  const due = new Map<number, { at: number; f: () => void }>();
  const timers: StaleHoldTimers = {
    set: (f, ms) => {
      due.set(++seq, { at: now + ms, f });
      return seq;
    },
    clear: (h) => void due.delete(h as number),
  };
  const advance = (ms: number) => {
    now += ms;
    for (const [k, t] of [...due].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at > now) continue;
      due.delete(k);
      t.f();
    }
  };
  return { timers, advance };
}

function setup(holdMs = 1000) {
  const c = clock();
  const shown: number[] = [];
  const hold = new StaleHold<number>((p) => shown.push(p), holdMs, c.timers);
  return { hold, shown, advance: c.advance };
}

describe('StaleHold', () => {
  it('shows a fresh picture at once', () => {
    const t = setup();
    t.hold.offer(1, false);
    t.hold.offer(2, false);
    expect(t.shown).toEqual([1, 2]);
  });

  it('after an outage: the drained stale pictures are never shown when fresh ones follow within the hold', () => {
    const t = setup();
    for (const p of [10, 11, 12]) t.hold.offer(p, true);
    t.advance(300);
    t.hold.offer(13, false);
    t.advance(2000);
    expect(t.shown).toEqual([13]);
    expect(t.hold.superseded).toBe(3);
  });

  it('on a link that stays slow: the newest stale picture is shown once per hold, counted from the first held', () => {
    const t = setup();
    t.hold.offer(1, true);
    t.advance(600);
    t.hold.offer(2, true); // replaces 1; the deadline stays 1000 ms after 1
    t.advance(399);
    expect(t.shown).toEqual([]);
    t.advance(1);
    expect(t.shown).toEqual([2]);
    t.hold.offer(3, true);
    t.advance(1000);
    expect(t.shown).toEqual([2, 3]);
    expect(t.hold.superseded).toBe(1);
  });

  it('clear forgets what is held without showing it', () => {
    const t = setup();
    t.hold.offer(1, true);
    t.hold.clear();
    t.advance(5000);
    expect(t.shown).toEqual([]);
  });
});
