import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Length } from './check.js';
import { truncateUtf8 } from './truncate.js';

describe('truncateUtf8', () => {
  it('leaves short strings alone', () => {
    expect(truncateUtf8('dog', 64)).toBe('dog');
    expect(truncateUtf8('a'.repeat(64), 64)).toBe('a'.repeat(64));
  });

  it('cuts ASCII and CJK on a character boundary, marking the cut', () => {
    const a = truncateUtf8('a'.repeat(65), 64);
    expect(utf8Length(a)).toBeLessThanOrEqual(64);
    expect(a.endsWith('…')).toBe(true);
    const zh = truncateUtf8('猫'.repeat(23), 64); // 69 bytes
    expect(utf8Length(zh)).toBeLessThanOrEqual(64);
    expect(zh).toBe(`${'猫'.repeat(20)}…`);
  });

  it('never splits a surrogate pair', () => {
    const s = truncateUtf8('🐶'.repeat(30), 10);
    expect(s.isWellFormed()).toBe(true);
    expect(s).toBe('🐶…');
  });

  it('always fits and is well-formed (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.integer({ min: 0, max: 80 }), (s, n) => {
        const t = truncateUtf8(s, n);
        expect(utf8Length(t)).toBeLessThanOrEqual(n);
        expect(t.isWellFormed()).toBe(true);
        if (utf8Length(s) <= n) expect(t).toBe(s);
      }),
    );
  });
});
