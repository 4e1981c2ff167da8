#!/usr/bin/env node
// @ts-check
// Many receivers on loopback: starts `mmsc serve` (the built sender), runs N `mmsc probe` processes at
// once, and prints one JSON object per N: each probe's fps, budget violations and errors, the sender's
// CPU per frame (whole process, model worker included, over the probes' run) and its main-thread
// event-loop delay (/stats, the last 10 s window). Then the ratio of CPU per frame at the largest N to
// that at the smallest. A fresh sender per N, so each starts from the same state.
// --light: the receivers are bare werift receivers in this process (TestReceiver: collect and
// acknowledge, no decoding), so the 2 cores go to the sender and its cost per receiver shows.
// Usage: node scripts/bench-receivers.mjs [--receivers 1,4] [--seconds 15] [--max-rate 4] [--pipeline worker] [--light]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from './lib/free-port.mjs';

/** @import { ProbeReport, SenderStats } from './lib/types.mjs' */

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MMSC = 'packages/cli/bin/mmsc.js';
/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { values } = parseArgs({
  options: {
    receivers: { type: 'string', default: '1,4' },
    seconds: { type: 'string', default: '15' },
    'max-rate': { type: 'string', default: '4' },
    pipeline: { type: 'string', default: 'worker' },
    query: { type: 'string', default: 'dog' },
    light: { type: 'boolean', default: false },
  },
});
const counts = values.receivers.split(',').map(Number);
const seconds = Number(values.seconds);
if (counts.some((n) => !(Number.isInteger(n) && n >= 1)) || !(seconds > 0)) {
  console.error('bench-receivers: --receivers takes positive integers (e.g. 1,4), --seconds a positive number');
  process.exit(2);
}

/** @param {string} url @param {string} token @returns {Promise<SenderStats>} */
async function stats(url, token) {
  const res = await fetch(`${url}/stats`, { headers: { authorization: `Bearer ${token}` } });
  return /** @type {Promise<SenderStats>} */ (res.json());
}

/**
 * Runs `cmd` and resolves with its stdout (and exit code).
 * @param {string[]} args
 * @returns {Promise<{ code: number | null, out: string, err: string }>}
 */
function run(args) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** @param {number} n */
async function measure(n) {
  const port = await freePort();
  const token = `bench-${randomBytes(8).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;
  const serve = spawn(
    process.execPath,
    [MMSC, 'serve', '--host', '127.0.0.1', '--port', String(port), '--token', token, '--max-rate', values['max-rate']].concat([
      '--pipeline',
      values.pipeline,
      '--query',
      values.query,
      '--max-receivers',
      String(Math.max(8, n)),
      '--log-level',
      'warn',
    ]),
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 120) throw new Error('the sender did not come up within 60 s');
      await sleep(500);
    }
    const before = await stats(url, token);
    const results = values.light
      ? await lightReceivers(n, url, token)
      : await Promise.all(
          Array.from({ length: n }, () =>
            run([MMSC, 'probe', '--url', url, '--token', token, '--query', values.query, '--seconds', String(seconds), '--json']),
          ),
        );
    const after = await stats(url, token);
    const cpuMs = (/** @type {SenderStats} */ s) => s.process.cpuUserMs + s.process.cpuSystemMs;
    const frames = after.framesMade - before.framesMade;
    const reports = results.map((r) => {
      try {
        return /** @type {ProbeReport} */ (JSON.parse(r.out));
      } catch {
        return { fps: 0, budgetViolations: null, errors: [`probe exit ${r.code}: ${r.err.trim().split('\n').at(-1)}`] };
      }
    });
    return {
      receivers: n,
      fps: reports.map((r) => r.fps),
      budgetViolations: reports.map((r) => r.budgetViolations),
      latencyMsP50: reports.map((r) => r.latencyMsP50),
      errors: reports.flatMap((r) => r.errors ?? []),
      framesMade: frames,
      cpuMsPerFrame: frames > 0 ? Math.round(((cpuMs(after) - cpuMs(before)) / frames) * 10) / 10 : null,
      eventLoop: after.eventLoop,
    };
  } finally {
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('exit', r));
  }
}

/**
 * `n` bare receivers for `seconds`; each result looks like a probe's JSON (fps, budget violations from the sender).
 * @param {number} n @param {string} url @param {string} token
 */
async function lightReceivers(n, url, token) {
  const { TestReceiver } = await import('@mmsc/cli/testing');
  const rx = await Promise.all(Array.from({ length: n }, () => TestReceiver.connect(url, token)));
  const start = rx.map((r) => r.frames());
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const s = (performance.now() - t0) / 1000;
  const fps = rx.map((r, i) => Math.round(((r.frames() - (start[i] ?? 0)) / s) * 100) / 100);
  const perSession = (await stats(url, token)).receivers.map((x) => x.budgetViolations);
  await Promise.all(rx.map((r) => r.close()));
  return fps.map((f, i) => ({
    code: 0,
    out: JSON.stringify({ fps: f, budgetViolations: perSession[i] ?? null, latencyMsP50: null, errors: [] }),
    err: '',
  }));
}

const rows = [];
for (const n of counts) {
  const row = await measure(n);
  rows.push(row);
  console.log(JSON.stringify(row));
}
const [first, last] = [rows[0], rows.at(-1)];
if (first && last && rows.length > 1 && first.cpuMsPerFrame && last.cpuMsPerFrame) {
  console.log(
    JSON.stringify({
      summary: 'bench-receivers',
      pipeline: values.pipeline,
      receivers: values.light ? 'bare werift receivers in one process (no decoding)' : 'mmsc probe processes (decoding)',
      maxRateMbit: Number(values['max-rate']),
      cpuPerFrameRatio: Math.round((last.cpuMsPerFrame / first.cpuMsPerFrame) * 100) / 100,
      of: `${last.receivers} vs ${first.receivers} receivers`,
    }),
  );
}
