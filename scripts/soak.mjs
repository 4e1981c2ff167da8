#!/usr/bin/env node
// @ts-check
// Soak run (issue "Hardening"): starts `mmsc serve` (the built sender) and keeps it busy for
// --minutes: honest probes receive back to back (14 s runs), and a second
// receiver reconnects every 30 s so sessions churn. Every 30 s it prints elapsed time, the sender's
// RSS and heap, the probe's frame rate in that window, receivers and refusals (a JSON line too with
// --json). At the end: PASS/FAIL "RSS growth after the first minute < 10 %" (and that the sender
// stayed up and frames kept coming), a closing "N passed, M failed" line, exit 1 if any failed.
// Usage: node scripts/soak.mjs [--minutes 10] [--json]   (npm run soak -- --minutes 10)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createChecks } from './lib/checks.mjs';
import { freePort } from './lib/free-port.mjs';

/** @import { SenderStats } from './lib/types.mjs' */

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let values;
try {
  ({ values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, json: { type: 'boolean', default: false } } }));
} catch (err) {
  const e = /** @type {Error} */ (err);
  // One line: parseArgs explains a missing or dash-led value over several.
  console.error(`soak: ${/--minutes/.test(e.message) ? '--minutes must be a positive number' : e.message.split('\n')[0]}`);
  process.exit(2);
}
const minutes = Number(values.minutes);
if (!(values.minutes.trim() !== '' && Number.isFinite(minutes) && minutes > 0)) {
  console.error(`soak: --minutes must be a positive number (got ${JSON.stringify(values.minutes)})`);
  process.exit(2);
}
const DURATION_MS = minutes * 60_000;
const WINDOW_MS = 30_000;
/** RSS is compared from the end of minute 1 (or half the run, when it is shorter) to the end. */
const REFERENCE_MS = Math.min(60_000, DURATION_MS / 2);
const MAX_GROWTH = 0.1;
/** One probe run, seconds: a fresh honest session about twice per 30 s window (more churn). */
const PROBE_S = 14;
const QUERY = 'dog';

const { probe } = await import('@mmsc/cli');
const { TestReceiver } = await import('@mmsc/cli/testing');

const { check, counts, finish } = createChecks();
const mb = (/** @type {number} */ bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;

const port = await freePort();
const token = `soak-${randomBytes(12).toString('hex')}`;
const url = `http://127.0.0.1:${port}`;
const args = ['packages/cli/bin/mmsc.js', 'serve', '--host', '127.0.0.1', '--port', String(port), '--token', token];
args.push('--source', 'pan:assets/images/dog.jpg', '--query', QUERY, '--max-receivers', '8', '--handshake-timeout', '3');
const serve = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
/** @type {number | null} */
let exitCode = null;
/** The sender's last output lines (shown if it dies) and what looked like a crash. */
/** @type {string[]} */
const tail = [];
/** @type {string[]} */
const problems = [];
for (const stream of [serve.stdout, serve.stderr]) {
  let buf = '';
  stream.on('data', (d) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      tail.push(l);
      if (tail.length > 20) tail.shift();
      let rec = null;
      try {
        rec = JSON.parse(l);
      } catch {
        // not a log record
      }
      if (
        rec && typeof rec.level === 'number'
          ? rec.level >= 60 || /uncaught|unhandled/i.test(String(rec.msg))
          : /uncaught|unhandled|Error:/i.test(l)
      )
        problems.push(l.slice(0, 300));
    }
  });
}
serve.on('exit', (code, signal) => {
  exitCode = code ?? -1;
  if (signal) tail.push(`(killed by ${signal})`);
});
const alive = () => exitCode === null;

async function stopServe() {
  if (!alive()) return;
  const exited = new Promise((r) => serve.once('exit', r));
  serve.kill('SIGTERM');
  const t = setTimeout(() => serve.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
}
process.on('exit', () => {
  if (alive()) serve.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`soak: ${sig}: stopping the sender`);
    void stopServe().finally(() => process.exit(130));
  });
}
// Bounded even if something hangs.
setTimeout(() => {
  console.error('soak: over time by 3 minutes, stopping');
  void stopServe().finally(() => process.exit(1));
}, DURATION_MS + 180_000).unref();

const healthDeadline = Date.now() + 90_000;
for (;;) {
  if (!alive()) {
    console.error(`soak: mmsc serve exited with ${exitCode}:\n${tail.join('\n')}`);
    process.exit(1);
  }
  if (Date.now() > healthDeadline) {
    console.error(`soak: mmsc serve did not answer /health within 90 s:\n${tail.join('\n')}`);
    await stopServe();
    process.exit(1);
  }
  try {
    if ((await fetch(`${url}/health`)).ok) break;
  } catch {
    // not listening yet
  }
  await sleep(250);
}

/** RSS of the sender (VmRSS from /proc), bytes; null off Linux. */
/** @param {number} pid */
function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
async function sample() {
  const res = await fetch(`${url}/stats`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/stats: HTTP ${res.status}`);
  const st = /** @type {SenderStats} */ (await res.json());
  return {
    rss: rssOf(/** @type {number} */ (serve.pid)) ?? st.process.rssBytes,
    heap: st.process.heapUsedBytes,
    receivers: st.receivers.length,
    refusals: Object.values(st.refusals).reduce((a, b) => a + b, 0),
  };
}

const t0 = Date.now();
const stopAt = t0 + DURATION_MS;
let stopping = false;
console.log(`soak: mmsc serve pid ${serve.pid} on ${url}, ${minutes} min, a line every ${WINDOW_MS / 1000} s`);

// The honest probe: runs back to back; the window's tick ends the current one early (its partial
// result counts in that window).
/** @type {{ frames: number, fps: number, errors: string[] }[]} */
let windowRuns = [];
let windowAbort = new AbortController();
/** The probe's current run: settles once its result is in windowRuns. */
let currentRun = Promise.resolve();
const probeLoop = (async () => {
  while (!stopping && alive()) {
    const signal = windowAbort.signal;
    currentRun = probe({ url, token, query: QUERY, seconds: PROBE_S, signal }).then(
      (r) => {
        windowRuns.push({ frames: r.frames, fps: r.fps, errors: r.errors });
      },
      (e) => {
        if (!signal.aborted) windowRuns.push({ frames: 0, fps: 0, errors: [String(e?.message ?? e)] });
      },
    );
    await currentRun;
    // The next run follows at once; one that failed is retried, but not in a tight loop.
    if (!signal.aborted && windowRuns.at(-1)?.frames === 0) await sleep(500);
  }
})();

// The second receiver: reconnects every 30 s, half a window out of step with the probe.
let churned = 0;
const churnLoop = (async () => {
  await sleep(WINDOW_MS / 2);
  while (!stopping && alive()) {
    /** @type {any} */
    let rx = null;
    try {
      rx = await TestReceiver.connect(url, token);
      churned++;
    } catch {
      // full or refused: try again next round
    }
    const until = Date.now() + WINDOW_MS;
    while (!stopping && Date.now() < until) await sleep(200);
    await rx?.close().catch(() => undefined);
  }
})();

const samples = [];
/** @type {{ at: number, rss: number } | null} */
let reference = null;
let windows = 0;
const zeroWindows = [];
let next = t0 + WINDOW_MS;
let referenceDue = t0 + REFERENCE_MS;
while (alive()) {
  const wake = Math.min(next, stopAt, reference ? Number.POSITIVE_INFINITY : referenceDue);
  await sleep(Math.max(0, wake - Date.now()));
  if (!alive()) break;
  const now = Date.now();
  if (!reference && now >= referenceDue) {
    const s = await sample().catch(() => null);
    if (s) reference = { at: now - t0, rss: s.rss };
    else referenceDue = now + 1000;
  }
  if (now < next && now < stopAt) continue;
  // End of a window: end the probe's run, take its frame rate, and sample the sender.
  const controller = windowAbort;
  windowAbort = new AbortController();
  const run = currentRun;
  controller.abort(new Error('window ended'));
  await Promise.race([run, sleep(5000)]); // the aborted run hands back its partial result
  const runs = windowRuns;
  windowRuns = [];
  const frames = runs.reduce((a, r) => a + r.frames, 0);
  const fps = frames > 0 ? Math.round((runs.reduce((a, r) => a + r.fps * r.frames, 0) / frames) * 100) / 100 : 0;
  const s = await sample().catch((e) => ({ error: String(e.message) }));
  windows++;
  if (fps === 0) zeroWindows.push(Math.round((now - t0) / 1000));
  const line = {
    elapsedS: Math.round((now - t0) / 1000),
    rssMB: 'rss' in s ? mb(s.rss) : null,
    heapMB: 'heap' in s ? mb(s.heap) : null,
    fps,
    frames,
    receivers: 'receivers' in s ? s.receivers : null,
    refusals: 'refusals' in s ? s.refusals : null,
    probeErrors: runs.flatMap((r) => r.errors).slice(0, 3),
  };
  if ('rss' in s) samples.push({ at: now - t0, rss: s.rss });
  const m = Math.floor(line.elapsedS / 60);
  const sec = String(line.elapsedS % 60).padStart(2, '0');
  console.log(
    `${m}:${sec}  rss ${line.rssMB} MB  heap ${line.heapMB} MB  probe ${fps} fps (${frames} frames)  receivers ${line.receivers}  refusals ${line.refusals}${line.probeErrors.length ? `  errors: ${line.probeErrors.join('; ')}` : ''}`,
  );
  if (values.json) console.log(JSON.stringify(line));
  if (now >= stopAt) break;
  while (next <= now) next += WINDOW_MS;
}

stopping = true;
windowAbort.abort(new Error('soak ended'));
const end = alive() ? await sample().catch(() => null) : null;
await Promise.race([Promise.all([probeLoop, churnLoop]), sleep(10_000)]);
const wasAlive = alive();
await stopServe();

check(
  'sender stayed up',
  wasAlive,
  wasAlive ? `pid ${serve.pid}, ${churned} churned sessions` : `exited ${exitCode}:\n${tail.slice(-10).join('\n')}`,
);
check(
  'the honest probe received frames in every window',
  windows > 0 && zeroWindows.length === 0,
  zeroWindows.length ? `no frames in the windows ending at ${zeroWindows.join(', ')} s` : `${windows} windows`,
);
check('nothing unhandled in the sender output', problems.length === 0, problems.length ? problems.slice(0, 3).join(' || ') : 'clean');
const growth = reference && end ? (end.rss - reference.rss) / reference.rss : null;
const refName = REFERENCE_MS === 60_000 ? 'the first minute' : `${Math.round(REFERENCE_MS / 1000)} s (half the run)`;
check(
  `RSS growth after ${refName} < ${MAX_GROWTH * 100} %`,
  growth !== null && growth < MAX_GROWTH,
  growth === null || !reference || !end
    ? 'no measurement'
    : `${mb(reference.rss)} MB at ${Math.round(reference.at / 1000)} s → ${mb(end.rss)} MB at the end (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} %)`,
);
if (values.json)
  console.log(
    JSON.stringify({
      summary: 'soak',
      minutes,
      windows,
      churned,
      rssMB: {
        reference: reference ? mb(reference.rss) : null,
        referenceAtS: reference ? Math.round(reference.at / 1000) : null,
        end: end ? mb(end.rss) : null,
      },
      growthPct: growth === null ? null : Math.round(growth * 1000) / 10,
      rssPerWindowMB: samples.map((s) => mb(s.rss)),
      passed: counts.passed,
      failed: counts.failed,
    }),
  );
finish();
