import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_ERROR_CODES } from './errors.js';
import { EXIT } from './exit-codes.js';
import { isSessionErrorCode, SESSION_ERROR_CODES } from './session-errors.js';

const doc = readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8');

describe('session error registry', () => {
  it('PROTOCOL.md documents every code, and only those, in § Session errors', () => {
    const section = doc.slice(doc.indexOf('## Session errors'));
    const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| code |') + 1));
    const documented = [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(SESSION_ERROR_CODES).sort());
  });

  it('does not reuse a ProtocolError code, so a receiver can tell them apart', () => {
    for (const c of PROTOCOL_ERROR_CODES) {
      if (c === 'too-large') continue; // the same meaning on both layers: a size limit
      expect(isSessionErrorCode(c), c).toBe(false);
    }
    expect(isSessionErrorCode('busy')).toBe(true);
    expect(isSessionErrorCode('toString')).toBe(false);
  });
});

describe('exit code registry', () => {
  it('PROTOCOL.md documents every exit status, and only those, in § Exit codes', () => {
    const section = doc.slice(doc.indexOf('## Exit codes'));
    const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| status |') + 1));
    const documented = [...table.matchAll(/^\| (\d+) \| `([a-z]+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(documented)).toEqual(EXIT);
    expect(new Set(Object.values(EXIT)).size).toBe(Object.keys(EXIT).length);
  });
});
