import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EMULATOR_DIR, PYTHON } from './netns.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MMSC = `${ROOT}packages/cli/bin/mmsc.js`;
const mmsc = (...args: string[]) => spawnSync(process.execPath, [MMSC, ...args], { encoding: 'utf8' });
const mmscEnv = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [MMSC, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('the link emulator', () => {
  // The packet loop's timing model (rate and traces, queues, delay and jitter, i.i.d. and burst loss, outages) is Python: its own unit tests.
  it.skipIf(!existsSync(PYTHON))(`timing model unit tests pass (skipped: no ${PYTHON})`, () => {
    const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', EMULATOR_DIR, '-p', 'test_*.py'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/\nOK\n?/);
    expect(r.stderr).toMatch(/Ran [1-9]\d* tests/);
    expect(r.status).toBe(0);
  });
});

describe('mmsc emulate (options)', () => {
  it('lists the scenarios', () => {
    const r = mmsc('emulate', '--list');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^loss-2\s+2 Mbit\/s, 20 ms each way, 2 % random loss$/m);
  });

  it('refuses unknown scenarios and bad options with exit 2 and a reason', () => {
    const a = mmsc('emulate', 'no-such-scenario');
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/no scenario no-such-scenario; known: clean, /);
    const b = mmsc('emulate', 'clean', '--peers', 'mmsc,skype');
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--peers takes a comma-separated list of mmsc, page and anchor/);
    const c = mmsc('emulate');
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/name a scenario/);
  });

  it('where it cannot emulate, it says why and fails: never a silent pass', () => {
    const r = mmscEnv({ MMSC_PYTHON: '/nonexistent/python3' }, 'emulate', 'clean');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^mmsc: (no \/nonexistent\/python3: install python3|mmsc emulate needs root|no \/dev\/net\/tun)/m);
  });
});
