import { describe, expect, it } from 'vitest';
import { NackList } from './nack-list.js';

describe('NackList', () => {
  it('asks for a gap at once, again only after 1.5 round trips, and stops when the packet comes', () => {
    const n = new NackList({ initialRttMs: 50 });
    n.packet(10, 0);
    n.packet(13, 5); // 11 and 12 missed
    expect(n.due(5)).toEqual([11, 12]);
    expect(n.due(60)).toEqual([]); // the retransmissions may be on their way
    expect(n.nextDue(60)).toBe(80);
    n.packet(11, 40);
    // 11 was asked for once at 5 and came at 40: the round trip is 35 ms now, a retry waits 52.5.
    expect(n.rttMs).toBe(35);
    expect(n.due(57)).toEqual([]);
    expect(n.due(58)).toEqual([12]);
    expect(n.stats).toEqual({ missed: 2, recovered: 1, abandoned: 0, requested: 3 });
    expect(n.due(110)).toEqual([]);
    expect(n.due(111)).toEqual([12]);
  });

  it('tells which packets a NACK had asked for', () => {
    const n = new NackList();
    expect(n.packet(10, 0)).toBe(false);
    expect(n.packet(14, 1)).toBe(false); // 11, 12, 13 missed
    expect(n.packet(11, 2)).toBe(false); // reordered before any NACK named it
    expect(n.due(3)).toEqual([12, 13]);
    expect(n.packet(12, 20)).toBe(true); // the repair
    expect(n.packet(12, 21)).toBe(false); // a duplicate
    expect(n.packet(15, 22)).toBe(false);
  });

  it('learns the round trip from repairs asked for once only', () => {
    const n = new NackList({ initialRttMs: 100 });
    n.packet(0, 0);
    n.packet(2, 0);
    n.due(0);
    n.due(150); // asked twice: its repair says nothing of the round trip
    n.packet(1, 170);
    expect(n.rttMs).toBe(100);
    n.packet(4, 200);
    n.due(200);
    n.packet(3, 260);
    expect(n.rttMs).toBe(60);
    n.packet(6, 300);
    n.due(300);
    n.packet(5, 340);
    expect(n.rttMs).toBe(56); // 0.8·60 + 0.2·40
  });

  it('follows the sequence number around its wrap', () => {
    const n = new NackList();
    n.packet(65534, 0);
    n.packet(1, 1);
    expect(n.due(1)).toEqual([65535, 0]);
    n.packet(0, 2);
    n.packet(65535, 3);
    expect(n.pending).toBe(0);
  });

  it('gives a packet up after maxRetries asks or maxAgeMs', () => {
    const n = new NackList({ initialRttMs: 10, maxRetries: 3, maxAgeMs: 1000 });
    n.packet(0, 0);
    n.packet(2, 0);
    const asks = [0, 15, 30, 45, 60].map((t) => n.due(t).length);
    expect(asks).toEqual([1, 1, 1, 0, 0]);
    expect(n.stats.abandoned).toBe(1);
    const old = new NackList({ initialRttMs: 10, maxAgeMs: 100 });
    old.packet(0, 0);
    old.packet(2, 0);
    old.due(0);
    old.setMaxAge(50);
    expect(old.nextDue(20)).toBe(20);
    expect(old.due(50)).toEqual([]);
    expect(old.pending).toBe(0);
    expect(old.nextDue(60)).toBeNull();
  });

  it('does not ask packet by packet across an outage, and stays bounded', () => {
    const n = new NackList({ maxMissing: 100 });
    n.packet(0, 0);
    n.packet(500, 10);
    expect(n.due(10)).toEqual([]);
    expect(n.stats.abandoned).toBe(499);
    for (let s = 501; s < 1000; s += 2) n.packet(s, 20);
    expect(n.pending).toBeLessThanOrEqual(100);
    expect(n.due(20).length).toBeLessThanOrEqual(100);
  });

  it('ignores duplicates, old packets and what is not a sequence number', () => {
    const n = new NackList();
    n.packet(5, 0);
    n.packet(5, 1);
    n.packet(3, 2);
    n.packet(70000, 3);
    n.packet(-1, 3);
    expect(n.pending).toBe(0);
    expect(n.stats.missed).toBe(0);
  });

  it('asks for the numbers before the first packet received when told to look back (a keyframe’s lost start)', () => {
    const n = new NackList({ lookBack: 3 });
    n.packet(1, 0); // 65534, 65535 and 0 may have been sent and lost
    expect(n.due(0)).toEqual([65534, 65535, 0]);
    n.packet(0, 5);
    expect(n.stats).toMatchObject({ missed: 1, recovered: 1 });
    // The others were never sent: given up without counting.
    n.due(2000);
    expect(n.pending).toBe(0);
    expect(n.stats.abandoned).toBe(0);
  });
});
