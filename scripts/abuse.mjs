#!/usr/bin/env node
// @ts-check
// Abuse run (issue "Hardening"): starts `mmsc serve` (the built sender) and, one attack at a time,
// runs a hostile client against it while an honest probe (a child process) watches. Two senders, one
// after the other, each with its own baseline, control and checks: the data-channel attacks against a
// sender that puts the pictures on the data channel (`--transport channel`), then the video track's
// RTCP attacks (scripts/lib/rtcp-attacks.mjs: NACK, PLI, malformed and lying transport-wide feedback,
// report and SDES garbage) against one on the default transport (an RTP video track). Each attack is
// bounded in count and time and stops by itself. Checks: the sender stays up, the honest probe keeps
// ≥ 70 % of its frame rate without the attack during every attack (a failed ratio is retried once):
// of the undisturbed baseline, measured first in the same run, or, for attacks that must hold an
// authenticated receiver session, of the control phase (the honest probe beside one more honest
// receiver); the sender's RSS grows < 50 MB over the last of --repeat passes over the attacks (the
// first pass warms the allocators up; growth from the one-receiver baseline is printed too), nothing unhandled shows in its output (an error-level log record is allowed only for a session
// closing itself), and each attack is refused the way the limits say. A control phase (one more
// well-behaved receiver, not checked) shows what any extra session costs. Prints PASS/FAIL per check,
// one JSON summary per attack and for the run, and a closing "N passed, M failed" line; exit 1 if any failed.
// Usage: node scripts/abuse.mjs [--seconds 8] [--only name,name] [--repeat n]   (npm run test:abuse)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from './lib/free-port.mjs';
import { trackAttacks, trackControl } from './lib/rtcp-attacks.mjs';

/** @import { HelloMessage, ProtocolContext } from '@mmsc/protocol' */
/** @import { CollectedFrame, FrameCollector as Collector } from '@mmsc/receiver' */
/** @import { ProbeResult } from '@mmsc/cli' */
/** @import { SenderStats } from './lib/types.mjs' */

/** What the honest probe reported (its ProbeResult), or fps 0 and why. @typedef {Pick<ProbeResult, 'fps' | 'frames' | 'errors'> & { busyRetries: number }} HonestResult */
/** @typedef {ReturnType<typeof rawSocket>} RawSocket */
/** @typedef {ReturnType<typeof makeReceiver>} Receiver */
/** @typedef {{ feedback?: (f: any) => any, onPart?: (rx: any, m: any) => void, deadline?: number, peerConfig?: object, onPeer?: (pc: import('werift').RTCPeerConnection) => void }} ReceiverOptions */

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
/** @param {number} ms @returns {Promise<void>} */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The honest probe runs in its own process (this file with --honest-probe), so the attacker's work in
// this process cannot slow its event loop: what it measures is the sender.
if (process.argv[2] === '--honest-probe') {
  await honestProbeChild(JSON.parse(process.argv[3] ?? '{}'));
  process.exit(0);
}

const { encodeMessage, decodeMessage, contextFromHello } = await import('@mmsc/protocol');
const { FrameCollector, feedbackFor } = await import('@mmsc/receiver');
const { RTCPeerConnection } = await import('werift');
const { default: WebSocket } = await import('ws');

/**
 * @param {{ url: string, token: string, query: string, seconds: number, retryBusyS: number }} o
 * Prints JSON lines: {event:'connected'}, {event:'busy'} per refusal retried, then {event:'result', ...ProbeResult}
 * or {event:'refused'|'failed', message}.
 */
async function honestProbeChild(o) {
  const { probe, ProbeRefusedError } = await import('@mmsc/cli');
  const out = (/** @type {object} */ m) => process.stdout.write(`${JSON.stringify(m)}\n`);
  const until = Date.now() + o.retryBusyS * 1000;
  let busy = 0;
  for (;;) {
    try {
      const r = await probe({
        url: o.url,
        token: o.token,
        query: o.query,
        seconds: o.seconds,
        log: (s) => {
          if (s.startsWith('connected')) out({ event: 'connected', busyRetries: busy });
        },
      });
      out({ event: 'result', busyRetries: busy, ...r });
      return;
    } catch (err) {
      const e = /** @type {{ reason?: string, message?: string }} */ (err);
      if (e instanceof ProbeRefusedError && e.reason === 'busy' && Date.now() < until) {
        busy++;
        out({ event: 'busy' });
        await sleep(250);
        continue;
      }
      out({
        event: e instanceof ProbeRefusedError ? 'refused' : 'failed',
        reason: e?.reason ?? null,
        message: String(e?.message ?? e),
        busyRetries: busy,
      });
      return;
    }
  }
}

/** @type {{ seconds: string, only?: string, repeat: string }} */
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      seconds: { type: 'string', default: '8' },
      only: { type: 'string' },
      repeat: { type: 'string', default: '1' },
    },
  }));
} catch (e) {
  console.error(`abuse: ${String(/** @type {Error} */ (e).message).split('\n')[0]}`);
  process.exit(2);
}
const SECONDS = Number(opts.seconds);
if (!(SECONDS > 0 && SECONDS <= 60)) {
  console.error('abuse: --seconds must be a number in (0, 60]');
  process.exit(2);
}
/** Run the (selected) attacks this many times over: does memory keep growing? */
const REPEAT = Number(opts.repeat);
if (!(Number.isInteger(REPEAT) && REPEAT >= 1 && REPEAT <= 20)) {
  console.error('abuse: --repeat must be an integer in 1..20');
  process.exit(2);
}
/** Every attack stops by itself after this long. */
const ATTACK_MS = SECONDS * 1000;
const MIN_RATIO = 0.7;
const MAX_RSS_GROWTH_MB = 50;
const MAX_RECEIVERS = 8;
const HANDSHAKE_S = 3;
const QUERY = 'dog';

// ---------------------------------------------------------------------------------------------
// Checks and bookkeeping

let passed = 0;
let failed = 0;
/** @type {{name: string, ok: boolean, detail: string}[]} */
const results = [];
/** @param {string} name @param {unknown} ok @param {string} [detail] */
const check = (name, ok, detail = '') => {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  results.push({ name, ok: !!ok, detail });
  if (ok) passed++;
  else failed++;
};
const mb = (/** @type {number} */ bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;

// ---------------------------------------------------------------------------------------------
// The sender under test

/** A session closing itself after an unexpected error (ReceiverSession.fail): logged at error level, allowed. */
const SESSION_FAIL = /^session \S+: .+ failed, closing it/;
/** What in a non-JSON output line means something escaped: Node's crash output, a stack frame. */
const CRASH = /unhandled|uncaught|Error:|^\s+at\s/i;

const children = new Set();
/** @typedef {Awaited<ReturnType<typeof startServe>>} Serve */
/** The sender under test (null until it is started). */
let serve = /** @type {Serve} */ (/** @type {unknown} */ (null));

/**
 * Starts `mmsc serve` and waits until /health answers; watches its output.
 * @param {'channel' | 'track'} pictures where the pictures travel: the data channel, or the default (an RTP video track)
 */
async function startServe(pictures) {
  const port = await freePort();
  const token = `abuse-${randomBytes(12).toString('hex')}`;
  const args = [
    'packages/cli/bin/mmsc.js',
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--token',
    token,
    '--source',
    'pan:assets/images/dog.jpg',
    '--query',
    QUERY,
    '--max-receivers',
    String(MAX_RECEIVERS),
    '--handshake-timeout',
    String(HANDSHAKE_S),
    // The data-channel attackers speak the data channel (frame parts, feedback): their sender puts the
    // pictures there too. The RTCP attacks (scripts/lib/rtcp-attacks.mjs) get a sender of their own on
    // the default transport, which puts the codec engines' pictures on an RTP video track.
    ...(pictures === 'channel' ? ['--transport', 'channel'] : []),
    // Extra serve options for comparisons, e.g. MMSC_ABUSE_SERVE_ARGS="--engine patches".
    ...(process.env.MMSC_ABUSE_SERVE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  const s = {
    proc,
    pid: /** @type {number} */ (proc.pid),
    port,
    token,
    url: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    /** @type {number | null} */
    exitCode: null,
    /** @type {string | null} */
    exitSignal: null,
    /** Output that means something escaped (uncaught, stack traces, unexpected error records). */
    problems: /** @type {string[]} */ ([]),
    /** Error-level records of sessions closing themselves (allowed, reported). */
    sessionFailures: /** @type {string[]} */ ([]),
    /** Other stderr lines (warnings), reported. */
    stderr: /** @type {string[]} */ ([]),
    tail: /** @type {string[]} */ ([]),
    warnings: 0,
  };
  /** @param {string} line @param {'stdout' | 'stderr'} stream */
  const onLine = (line, stream) => {
    if (!line.trim()) return;
    s.tail.push(line);
    if (s.tail.length > 40) s.tail.shift();
    let rec = null;
    try {
      rec = JSON.parse(line);
    } catch {
      // not a log record
    }
    if (rec && typeof rec === 'object' && typeof rec.level === 'number') {
      const msg = String(rec.msg ?? '');
      if (rec.level >= 40) s.warnings++;
      if (/uncaught|unhandled/i.test(msg) || rec.level >= 60) s.problems.push(line.slice(0, 400));
      else if (rec.level >= 50) (SESSION_FAIL.test(msg) ? s.sessionFailures : s.problems).push(line.slice(0, 400));
    } else if (CRASH.test(line)) s.problems.push(`${stream}: ${line.slice(0, 400)}`);
    else if (stream === 'stderr') s.stderr.push(line.slice(0, 400));
  };
  for (const stream of /** @type {const} */ (['stdout', 'stderr'])) {
    let buf = '';
    proc[stream].on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) onLine(l, stream);
    });
  }
  proc.on('exit', (code, signal) => {
    s.exitCode = code ?? -1;
    s.exitSignal = signal;
    children.delete(proc);
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (s.exitCode !== null) throw new Error(`mmsc serve exited with ${s.exitCode}:\n${s.tail.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`mmsc serve did not answer /health within 90 s:\n${s.tail.join('\n')}`);
    try {
      if ((await fetch(`${s.url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  return s;
}

/** The sender's /stats (with the token). @returns {Promise<SenderStats>} */
async function stats() {
  const res = await fetch(`${serve.url}/stats`, { headers: { authorization: `Bearer ${serve.token}` }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/stats: HTTP ${res.status}`);
  return /** @type {Promise<SenderStats>} */ (res.json());
}

/** RSS of the serve process from /proc (VmRSS, and its anonymous and file-backed parts), bytes; null off Linux. */
/** @param {number | undefined} pid */
function rssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (/** @type {string} */ field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
    const rss = kb('VmRSS');
    return Number.isFinite(rss) ? { rss, anon: kb('RssAnon'), file: kb('RssFile') } : null;
  } catch {
    return null;
  }
}

/** RSS (from /proc, else from /stats) and /stats of the sender now. */
async function snapshot() {
  const st = await stats();
  const p = rssOf(serve.pid);
  return {
    rss: p?.rss ?? st.process.rssBytes,
    anon: p?.anon ?? Number.NaN,
    file: p?.file ?? Number.NaN,
    heap: st.process.heapUsedBytes,
    stats: st,
  };
}

const alive = () => serve.exitCode === null;

/** @param {Record<string, number>} before @param {Record<string, number>} after */
function refusalDelta(before, after) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[k] ?? 0) - (before[k] ?? 0);
    if (d) out[k] = d;
  }
  return out;
}

/**
 * Waits until `pred()` holds (polling), or `ms` passed; returns whether it held.
 * @param {() => boolean} pred @param {number} ms
 */
async function until(pred, ms) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The honest receiver (mmsc probe in a child process)

/**
 * Starts the honest probe. `connected` resolves true once its data channel is up (false if it never
 * is); `result` with its ProbeResult (fps 0 when it could not connect).
 * @param {{ retryBusyS?: number, seconds?: number }} [o]
 */
function honest(o = {}) {
  const conf = { url: serve.url, token: serve.token, query: QUERY, seconds: o.seconds ?? SECONDS, retryBusyS: o.retryBusyS ?? 10 };
  const child = spawn(process.execPath, [SELF, '--honest-probe', JSON.stringify(conf)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  /** @type {(v: boolean) => void} */
  let connected = (_v) => {};
  /** @type {Promise<boolean>} */
  const connectedP = new Promise((r) => {
    connected = r;
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  /** What the child printed last: its result, or why it has none. @typedef {{ event: string, message?: string, busyRetries?: number } & Partial<ProbeResult>} ChildLine */
  /** @type {Promise<HonestResult>} */
  const result = new Promise((resolve) => {
    let buf = '';
    /** @type {ChildLine | null} */
    let last = null;
    child.stdout.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        /** @type {ChildLine} */
        let m;
        try {
          m = JSON.parse(l);
        } catch {
          continue;
        }
        if (m.event === 'connected') connected(true);
        else if (m.event !== 'busy') last = m;
      }
    });
    child.on('exit', (code) => {
      children.delete(child);
      connected(false);
      if (last?.event === 'result') resolve(/** @type {HonestResult} */ (last));
      else
        resolve({
          fps: 0,
          frames: 0,
          errors: [last ? `${last.event}: ${last.message}` : `probe exited with ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`],
          busyRetries: last?.busyRetries ?? 0,
        });
    });
  });
  return { connected: connectedP, result };
}

// ---------------------------------------------------------------------------------------------
// Hostile clients

/**
 * A signalling socket with nothing behind it. `got` collects the JSON messages the sender sends,
 * `status` the HTTP status of a refused upgrade, `closed` the close code and reason.
 * @param {{ token?: string | null, headers?: Record<string, string> }} [o]
 */
function rawSocket(o = {}) {
  const token = o.token === undefined ? serve.token : o.token;
  const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(o.headers ?? {}) };
  const ws = new WebSocket(`${serve.ws}/signal`, { headers });
  const s = {
    ws,
    /** @type {{type: string, code?: string, sdp?: string, message?: string}[]} */
    got: [],
    /** @type {number | null} */
    status: null,
    /** @type {{code: number, reason: string} | null} */
    closed: null,
    /** @type {Promise<boolean>} */
    opened: Promise.resolve(false),
    /** @type {Promise<{code: number, reason: string}>} */
    closedP: Promise.resolve({ code: 0, reason: '' }),
    codes: () => s.got.filter((m) => m.type === 'error').map((m) => m.code),
    /**
     * Sends while the socket is open; resolves when written (false if it was not).
     * @param {string | Buffer} data @returns {Promise<boolean>}
     */
    send: (data) =>
      new Promise((resolve) => {
        if (ws.readyState !== ws.OPEN) return resolve(false);
        ws.send(data, (err) => resolve(!err));
      }),
  };
  ws.on('error', () => {});
  s.opened = new Promise((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('unexpected-response', (_req, res) => {
      s.status = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
      resolve(false);
    });
    ws.once('error', () => resolve(false));
    ws.once('close', () => resolve(false));
  });
  s.closedP = new Promise((resolve) => {
    ws.once('close', (code, reason) => {
      s.closed = { code, reason: reason.toString() };
      resolve(s.closed);
    });
  });
  ws.on('message', (d) => {
    try {
      s.got.push(JSON.parse(d.toString()));
    } catch {
      s.got.push({ type: 'not-json' });
    }
  });
  return s;
}

/** A raw signalling socket that has been accepted (offer received); retries while the sender says busy. */
async function acceptedSocket(deadline = Date.now() + 10_000) {
  for (;;) {
    const s = rawSocket();
    if (!(await s.opened)) throw new Error(`signalling refused (HTTP ${s.status})`);
    await until(() => s.closed !== null || s.got.some((m) => m.type === 'offer'), 5000);
    if (s.got.some((m) => m.type === 'offer')) return s;
    s.ws.terminate();
    if (!s.codes().includes('busy') || Date.now() > deadline)
      throw new Error(`no offer: ${JSON.stringify(s.got)} ${JSON.stringify(s.closed)}`);
    await sleep(200);
  }
}

/**
 * A werift receiver with hooks, like the browser's but without decoders: every frame part is
 * counted, complete frames are acknowledged with `feedback(f)` (default: the honest report).
 * `peerConfig` is added to its RTCPeerConnection's (e.g. the codecs that take the video track),
 * `onPeer` sees the peer before the offer is answered.
 * @param {ReceiverOptions} [o]
 */
async function receiver(o = {}) {
  const deadline = o.deadline ?? Date.now() + 15_000;
  for (;;) {
    const rx = makeReceiver(o);
    try {
      await rx.ready;
      return rx;
    } catch (e) {
      await rx.close();
      if (!rx.busy || Date.now() > deadline) throw e;
      await sleep(250);
    }
  }
}

/** @param {ReceiverOptions} o */
function makeReceiver(o) {
  const ws = new WebSocket(`${serve.ws}/signal`, { headers: { authorization: `Bearer ${serve.token}` } });
  const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], maxMessageSize: 262144, ...o.peerConfig });
  o.onPeer?.(pc);
  const rx = {
    ws,
    pc,
    /** @type {any} */
    dc: null,
    hello: /** @type {HelloMessage | null} */ (null),
    ctx: /** @type {ProtocolContext | undefined} */ (undefined),
    collector: /** @type {Collector | null} */ (null),
    parts: 0,
    frames: 0,
    protocolErrors: 0,
    /** Error codes the sender sent over the data channel. */
    errors: /** @type {string[]} */ ([]),
    groundings: /** @type {any[]} */ ([]),
    /** Signalling messages from the sender. */
    signals: /** @type {any[]} */ ([]),
    closed: /** @type {{code: number, reason: string} | null} */ (null),
    busy: false,
    gone: false,
    ready: Promise.resolve(),
    /** @param {import('@mmsc/protocol').Message} m */
    send(m) {
      if (rx.dc && rx.dc.readyState === 'open' && !rx.gone) rx.dc.send(Buffer.from(encodeMessage(m, rx.ctx)));
    },
    /** @param {string | object} m */
    signal(m) {
      if (ws.readyState === ws.OPEN) ws.send(typeof m === 'string' ? m : JSON.stringify(m));
    },
    async close() {
      rx.gone = true;
      ws.terminate();
      await pc.close().catch(() => undefined);
    },
  };
  ws.on('error', () => {});
  pc.onIceCandidate.subscribe((c) => {
    if (c)
      rx.signal({
        type: 'candidate',
        candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null },
      });
  });
  /** @type {any[]} */
  const pending = [];
  let remoteSet = false;
  let chain = Promise.resolve();
  ws.on('message', (data) => {
    let m;
    try {
      m = JSON.parse(data.toString());
    } catch {
      return;
    }
    rx.signals.push(m);
    if (m.type === 'error' && m.code === 'busy') rx.busy = true;
    chain = chain
      .then(async () => {
        if (rx.gone) return;
        if (m.type === 'offer' && typeof m.sdp === 'string') {
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          remoteSet = true;
          for (const c of pending.splice(0)) await pc.addIceCandidate(c);
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          rx.signal({ type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp });
        } else if (m.type === 'candidate' && m.candidate) {
          if (remoteSet) await pc.addIceCandidate(m.candidate);
          else pending.push(m.candidate);
        }
      })
      .catch(() => undefined);
  });
  rx.ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no data channel within 15 s')), 15_000);
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      res.resume();
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    ws.once('close', (code, reason) => {
      rx.closed = { code, reason: reason.toString() };
      if (code === 1013) rx.busy = true;
      clearTimeout(timer);
      reject(new Error(`signalling closed (${code} ${reason})`));
    });
    pc.onDataChannel.subscribe((dc) => {
      rx.dc = dc;
      dc.onMessage.subscribe((data) => {
        if (rx.gone || typeof data === 'string') return;
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        let m;
        try {
          m = decodeMessage(bytes, rx.ctx);
        } catch {
          rx.protocolErrors++;
          return;
        }
        if (m.type === 'hello') {
          const ctx = contextFromHello(m);
          rx.hello = m;
          rx.ctx = ctx;
          rx.collector = new FrameCollector(ctx);
        } else if (m.type === 'grounding') rx.groundings.push(m);
        else if (m.type === 'error') rx.errors.push(m.code);
        else if ((m.type === 'frame' || m.type === 'video') && rx.collector) {
          rx.parts++;
          o.onPart?.(rx, m);
          if (rx.gone) return;
          const done =
            m.type === 'video' ? rx.collector.pushVideo(m, bytes.length, Date.now()) : rx.collector.push(m, bytes.length, Date.now());
          for (const f of done) {
            rx.frames++;
            const fb = o.feedback ? o.feedback(f) : feedbackFor(f);
            if (fb) rx.send(fb);
          }
        }
      });
      clearTimeout(timer);
      resolve();
    });
  });
  ws.on('close', (code, reason) => {
    rx.closed = { code, reason: reason.toString() };
  });
  return rx;
}

/** @param {unknown[]} xs @param {unknown} x */
const count = (xs, x) => xs.filter((v) => v === x).length;

/** A host candidate line for 127.0.0.1 (werift will check it: the sender does real work per candidate). */
const candidateLine = (/** @type {number} */ i) => `candidate:${i} 1 udp 2122260223 127.0.0.1 ${20000 + (i % 40000)} typ host generation 0`;

// ---------------------------------------------------------------------------------------------
// The attacks. Each returns its own checks ([name, ok, detail]) and what it observed; each is bounded.

/**
 * @typedef {{ checks: [string, boolean, string][], info: Record<string, unknown> }} AttackOutcome
 * @typedef {{ name: string, holdsSession?: boolean, probeAfterMs?: number, track?: boolean, run: () => Promise<AttackOutcome> }} Attack
 */
/** @type {Attack[]} */
const ATTACKS = [
  {
    name: 'long-word-query',
    holdsSession: true,
    async run() {
      const end = Date.now() + ATTACK_MS;
      const rx = await receiver();
      await until(() => rx.hello !== null, 5000);
      const texts = [
        'a'.repeat(65),
        '猫'.repeat(23),
        `${'a'.repeat(65)} ${'猫'.repeat(23)}`,
        `dog ${'b'.repeat(65)} and ${'猫'.repeat(23)}`,
      ];
      const textAt = (/** @type {number} */ i) => /** @type {string} */ (texts[i % texts.length]);
      let sent = 0;
      let framesAtFirstQuery = 0;
      while (Date.now() < end && alive()) {
        if (sent === 0) framesAtFirstQuery = rx.frames;
        rx.send({ type: 'query', queryId: `long-${sent}`, text: textAt(sent) });
        sent++;
        await sleep(250); // 4/s: under the 5 queries/s the sender allows
      }
      await sleep(300);
      const grounded = rx.groundings.filter((g) => g.queryId.startsWith('long-')).length;
      const framesAfter = rx.frames - framesAtFirstQuery;
      await rx.close();
      return {
        checks: [
          ['long-word-query: every query is grounded', grounded >= sent - 1 && grounded > 0, `${grounded} of ${sent} groundings`],
          [
            'long-word-query: echoes fit the protocol, no internal error',
            rx.protocolErrors === 0 && !rx.errors.includes('internal'),
            `${rx.protocolErrors} undecodable messages; errors ${JSON.stringify(rx.errors)}`,
          ],
          ['long-word-query: the attacker keeps getting frames', framesAfter >= 2, `${framesAfter} frames after the first query`],
        ],
        info: { queries: sent, grounded, errors: rx.errors },
      };
    },
  },
  {
    name: 'many-words-query',
    holdsSession: true,
    async run() {
      const end = Date.now() + ATTACK_MS;
      const rx = await receiver();
      await until(() => rx.hello !== null, 5000);
      const words = ['dog', 'cat', 'bicycle', 'car', 'person', 'tree', 'xylophone', 'zebra', 'apple', 'chair'];
      let sent = 0;
      while (Date.now() < end && alive()) {
        const text = Array.from({ length: 100 }, (_, i) => words[(i + sent) % words.length]).join(' ');
        rx.send({ type: 'query', queryId: `many-${sent}`, text });
        sent++;
        await sleep(250);
      }
      await sleep(300);
      const bad = count(rx.errors, 'bad-query');
      const lastGrounded = rx.groundings.at(-1)?.queryId ?? null;
      await rx.close();
      return {
        checks: [
          [
            'many-words-query: 100-word queries are refused as bad-query',
            bad >= sent - 1 && bad > 0,
            `${bad} bad-query of ${sent} queries`,
          ],
          [
            'many-words-query: the previous query stays',
            !rx.groundings.some((g) => g.queryId.startsWith('many-')),
            `last grounding ${JSON.stringify(lastGrounded)}`,
          ],
        ],
        info: { queries: sent, badQuery: bad, frames: rx.frames },
      };
    },
  },
  {
    name: 'no-token',
    async run() {
      const end = Date.now() + ATTACK_MS;
      /** @type {{ what: string, expect: number, go: () => Promise<number | null> }[]} */
      const jobs = [];
      /** @type {Record<string, string>[]} */
      const auths = [{}, { authorization: 'Bearer wrong-token-123' }, { authorization: 'Basic Zm9vOmJhcg==' }];
      /** @param {string} path @param {Record<string, string>} headers */
      const http = (path, headers) => async () => {
        const res = await fetch(`${serve.url}${path}`, { headers, signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        return res.status;
      };
      /** @param {{ token?: string | null, headers?: Record<string, string> }} o */
      const wsStatus = (o) => async () => {
        const s = rawSocket(o);
        const ok = await s.opened;
        if (ok) s.ws.terminate();
        return ok ? 101 : s.status;
      };
      for (let i = 0; i < 60; i++) {
        const h = auths[i % auths.length] ?? {};
        jobs.push({ what: '/stats', expect: 401, go: http(i % 4 === 3 ? '/stats?token=wrong-token-123' : '/stats', h) });
        jobs.push({ what: '/models/manifest.json', expect: 401, go: http('/models/manifest.json', h) });
        jobs.push({ what: '/signal', expect: 401, go: wsStatus({ token: i % 2 ? 'wrong-token-123' : null }) });
      }
      for (let i = 0; i < 20; i++)
        jobs.push({
          what: '/signal Origin: http://evil.example',
          expect: 403,
          go: wsStatus({ headers: { origin: 'http://evil.example' } }),
        });
      /** @type {Record<string, Record<string, number>>} */
      const got = {};
      let done = 0;
      let wrong = 0;
      for (let i = 0; i < jobs.length && Date.now() < end; i += 8) {
        await Promise.all(
          jobs.slice(i, i + 8).map(async (j) => {
            const status = await j.go().catch(() => null);
            got[j.what] ??= {};
            const byStatus = got[j.what] ?? {};
            byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
            done++;
            if (status !== j.expect) wrong++;
          }),
        );
        await sleep(20);
      }
      return {
        checks: [
          [
            'no-token: every request without a valid token gets 401, a foreign Origin 403',
            done === jobs.length && wrong === 0,
            `${done}/${jobs.length} requests, ${wrong} unexpected; ${JSON.stringify(got)}`,
          ],
        ],
        info: { requests: done, statuses: got },
      };
    },
  },
  {
    name: 'idle-websockets',
    probeAfterMs: 500,
    async run() {
      /** @type {RawSocket[]} */
      const sockets = [];
      for (let i = 0; i < MAX_RECEIVERS; i++) {
        sockets.push(rawSocket());
        await sleep(10);
      }
      await Promise.all(sockets.map((s) => s.opened));
      // Hold them: they never answer. The sender must turn the surplus away and time out the rest.
      await until(() => sockets.every((s) => s.closed !== null), (HANDSHAKE_S + 3) * 1000);
      const busy = sockets.filter((s) => s.codes().includes('busy')).length;
      const timedOut = sockets.filter((s) => s.codes().includes('handshake-timeout')).length;
      const open = sockets.filter((s) => s.closed === null).length;
      for (const s of sockets) s.ws.terminate();
      return {
        checks: [
          [
            'idle-websockets: surplus sockets are told busy, the rest time out',
            busy >= 1 && busy + timedOut === sockets.length && open === 0,
            `${busy} busy, ${timedOut} handshake-timeout, ${open} still open of ${sockets.length}`,
          ],
        ],
        info: { busy, timedOut, stillOpen: open },
      };
    },
  },
  {
    name: 'ice-candidates',
    holdsSession: true,
    async run() {
      const end = Date.now() + ATTACK_MS;
      // (b) Two connected receivers trickle 5,000 candidates: one floods, one keeps under the signalling rate.
      const b = await Promise.all([receiver(), receiver()]);
      /** @param {Receiver} rx @param {boolean} paced */
      const trickle = async (rx, paced) => {
        let sent = 0;
        // The paced one goes on past the phase's deadline until it has sent more than the session's
        // candidate cap (128), ~6.5 s at 22/s: it must reach the cap, not run out of time.
        const more = (/** @type {number} */ i) => Date.now() < end || (paced && i < 140);
        for (let i = 0; i < 5000 && more(i) && rx.ws.readyState === rx.ws.OPEN; i++) {
          rx.signal({ type: 'candidate', candidate: { candidate: candidateLine(i), sdpMid: '0', sdpMLineIndex: 0 } });
          sent++;
          if (paced) await sleep(45);
          else if (i % 50 === 49) await sleep(5);
        }
        await until(() => rx.closed !== null, 5000);
        return sent;
      };
      // (a) Before the answer: 2,000 candidates of ~60 KB, and 2,000 small ones.
      const before = async (/** @type {boolean} */ big) => {
        const s = await acceptedSocket();
        const line = big ? `candidate:1 1 udp 1 127.0.0.1 9 typ host ${'x'.repeat(60_000)}` : null;
        let sent = 0;
        for (let i = 0; i < 2000 && Date.now() < end; i++) {
          const c = line ?? candidateLine(i);
          if (!(await s.send(JSON.stringify({ type: 'candidate', candidate: { candidate: c, sdpMid: '0', sdpMLineIndex: 0 } })))) break;
          sent++;
        }
        // The sender closes at once; seeing the close handshake complete can take this client longer
        // while four attack sockets and the honest probe share the 2 cores (it once took over 2 s in CI).
        await until(() => s.closed !== null, 5000);
        s.ws.terminate();
        return { sent, codes: [...new Set(s.codes())], closed: s.closed };
      };
      const [flood, paced, big, small] = await Promise.all([trickle(b[0], false), trickle(b[1], true), before(true), before(false)]);
      const bCodes = b.map((rx) => [...new Set(rx.signals.filter((m) => m.type === 'error').map((m) => m.code))]);
      for (const rx of b) await rx.close();
      /** @param {{ closed: unknown, codes: (string | undefined)[] }} r @param {string[]} codes */
      const closedWith = (r, codes) => r.closed !== null && codes.some((c) => r.codes.includes(c));
      return {
        checks: [
          [
            'ice-candidates: 60 KB candidates before the answer are refused and the socket closed',
            closedWith(big, ['rate-limited', 'too-many-candidates']) && big.codes.includes('too-large'),
            `${big.sent} sent, codes ${JSON.stringify(big.codes)}, closed ${JSON.stringify(big.closed)}`,
          ],
          [
            'ice-candidates: 2,000 small candidates before the answer close the socket',
            closedWith(small, ['too-many-candidates', 'rate-limited']),
            `${small.sent} sent, codes ${JSON.stringify(small.codes)}, closed ${JSON.stringify(small.closed)}`,
          ],
          [
            'ice-candidates: 5,000 trickled candidates after the connection end the session',
            b.every((rx, i) => rx.closed !== null && ['rate-limited', 'too-many-candidates'].some((c) => bCodes[i]?.includes(c))),
            `flood: ${flood} sent, codes ${JSON.stringify(bCodes[0])}; paced: ${paced} sent, codes ${JSON.stringify(bCodes[1])}`,
          ],
        ],
        info: { big, small, trickled: { flood, paced, codes: bCodes } },
      };
    },
  },
  {
    name: 'bogus-sdp',
    async run() {
      const end = Date.now() + ATTACK_MS;
      const junk = () =>
        randomBytes(600)
          .toString('base64')
          .match(/.{1,60}/g)
          ?.join('\r\n') ?? '';
      /** Answers that checkAnswerSdp refuses: the sender must say bad-sdp. */
      const refused = {
        'v=0': () => 'v=0',
        'no m-line': () => 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n',
        garbage: () => `v=0\r\n${junk()}\r\n`,
        '2,000 lines': () => `v=0\r\n${'a=x\r\n'.repeat(2000)}`,
      };
      /** Answers that pass the check but are wrong (from the offer, mangled): whatever werift does, no crash. */
      const mangled = {
        'bad fingerprint': (/** @type {string} */ offer) =>
          offer
            .replace(/a=fingerprint:.*/g, 'a=fingerprint:sha-256 00:11:ZZ')
            .replace(/a=setup:actpass/g, 'a=setup:active')
            .replace(/a=ice-pwd:.*/g, `a=ice-pwd:${randomBytes(12).toString('hex')}`),
        'bad sctp attributes': (/** @type {string} */ offer) =>
          offer
            .replace(/a=sctp-port:.*/g, 'a=sctp-port:notaport')
            .replace(/a=max-message-size:.*/g, 'a=max-message-size:-1')
            .replace(/a=setup:actpass/g, 'a=setup:passive')
            .replace(/m=application \d+/, 'm=application 99999999999'),
      };
      /** @param {string} name @param {(offer: string) => string} make */
      const answer = async (name, make) => {
        const s = await acceptedSocket(end + 5000);
        const offer = s.got.find((m) => m.type === 'offer')?.sdp ?? '';
        await s.send(JSON.stringify({ type: 'answer', sdp: make(offer) }));
        await until(() => s.closed !== null, (HANDSHAKE_S + 3) * 1000);
        s.ws.terminate();
        return { name, codes: s.codes(), closed: s.closed };
      };
      const outcomes = [];
      let rounds = 0;
      while (Date.now() < end - 1000 && alive() && rounds < 4) {
        outcomes.push(...(await Promise.all(Object.entries(refused).map(([n, f]) => answer(n, f)))));
        outcomes.push(...(await Promise.all(Object.entries(mangled).map(([n, f]) => answer(n, f)))));
        rounds++;
      }
      const isRefused = (/** @type {{ name: string }} */ o) => o.name in refused;
      const bad = outcomes.filter((o) => isRefused(o) && !(o.closed && o.codes.includes('bad-sdp')));
      const m = outcomes.filter((o) => !isRefused(o));
      return {
        checks: [
          [
            'bogus-sdp: v=0, no m-line, garbage, 2,000 lines: each gets bad-sdp before the close',
            outcomes.length > 0 && bad.length === 0,
            `${outcomes.filter(isRefused).length} answers, ${bad.length} without bad-sdp ${JSON.stringify(bad.slice(0, 3))}`,
          ],
          [
            'bogus-sdp: mangled answers (bad fingerprint, bad SCTP attributes) end the session',
            m.every((o) => o.closed !== null),
            m.map((o) => `${o.name}: ${JSON.stringify(o.codes)} closed ${o.closed?.code}`).join('; '),
          ],
        ],
        info: { rounds, outcomes: outcomes.map((o) => ({ name: o.name, codes: o.codes, close: o.closed?.code })) },
      };
    },
  },
  {
    name: 'bad-feedback',
    holdsSession: true,
    async run() {
      const end = Date.now() + ATTACK_MS;
      const kinds = {
        'receiveTs MAX_SAFE_INTEGER': (/** @type {CollectedFrame} */ f) => ({ ...feedbackFor(f), receiveTs: Number.MAX_SAFE_INTEGER }),
        'receiveTs 0': (/** @type {CollectedFrame} */ f) => ({ ...feedbackFor(f), receiveTs: 0 }),
        'absurd bytesReceived': (/** @type {CollectedFrame} */ f) => ({
          ...feedbackFor(f),
          bytesReceived: Number.MAX_SAFE_INTEGER - (f.frameId % 7),
        }),
      };
      const rxs = await Promise.all(Object.values(kinds).map((feedback) => receiver({ feedback })));
      await until(() => Date.now() > end || !alive(), ATTACK_MS);
      const each = rxs.map((rx, i) => ({ kind: Object.keys(kinds)[i], frames: rx.frames, told: count(rx.errors, 'feedback-rejected') }));
      for (const rx of rxs) await rx.close();
      return {
        checks: [
          [
            'bad-feedback: MAX_SAFE_INTEGER receive times and absurd byte counts are told feedback-rejected',
            (each[0]?.told ?? 0) > 0 && (each[2]?.told ?? 0) > 0,
            each.map((e) => `${e.kind}: ${e.told} told, ${e.frames} frames`).join('; '),
          ],
        ],
        info: { receivers: each },
      };
    },
  },
  {
    // The h264 engine answers a receiver's refresh with a keyframe: a flood of them must cost that
    // receiver's own stream at most one keyframe per 500 ms, and nobody else anything.
    name: 'refresh-flood',
    holdsSession: true,
    async run() {
      const end = Date.now() + ATTACK_MS;
      let keys = 0;
      const rx = await receiver({
        onPart: (_r, m) => {
          if (m.type === 'video' && m.key && m.part === 0) keys++;
        },
      });
      await until(() => rx.hello !== null, 5000);
      const framesAtStart = rx.frames;
      const keysAtStart = keys;
      const t0 = Date.now();
      let sent = 0;
      while (Date.now() < end && alive()) {
        rx.send({ type: 'refresh', reason: 'decode-error' });
        sent++;
        await sleep(20);
      }
      const seconds = (Date.now() - t0) / 1000;
      const floodKeys = keys - keysAtStart;
      const frames = rx.frames - framesAtStart;
      await rx.close();
      const h264 = rx.hello?.engine === 'h264';
      return {
        checks: [
          [
            'refresh-flood: keyframes stay at most one per 500 ms',
            !h264 || floodKeys <= Math.ceil(seconds * 2) + 1,
            h264
              ? `${floodKeys} keyframes in ${seconds.toFixed(1)} s for ${sent} refreshes`
              : `engine ${rx.hello?.engine}: refresh is refused`,
          ],
          ['refresh-flood: the flooding receiver keeps getting frames', frames >= 2, `${frames} frames during the flood`],
          ['refresh-flood: no undecodable message reached it', rx.protocolErrors === 0, `${rx.protocolErrors}`],
        ],
        info: { sent, keys: floodKeys, frames, seconds: Number(seconds.toFixed(1)) },
      };
    },
  },
  {
    name: 'close-mid-frame',
    holdsSession: true,
    async run() {
      const end = Date.now() + ATTACK_MS + 4000;
      const modes = ['terminate', 'pc-close', 'ws-terminate-only'];
      let started = 0;
      let closedMidFrame = 0;
      /** @type {string[]} */
      const failures = [];
      // Waves of ≤ 4: max-receivers is 8, the honest probe holds one, pending handshakes are capped at 4.
      while (started < 20 && Date.now() < end && alive()) {
        const wave = Array.from({ length: Math.min(4, 20 - started) }, (_, k) => modes[(started + k) % modes.length]);
        started += wave.length;
        await Promise.all(
          wave.map(async (mode) => {
            let hit = () => {};
            /** @type {Promise<void>} */
            const first = new Promise((r) => {
              hit = r;
            });
            try {
              const rx = await receiver({
                deadline: end,
                onPart: (r) => {
                  if (r.gone) return;
                  r.gone = true;
                  // Abruptly, in the middle of the frame: no close handshake, no goodbye.
                  if (mode !== 'pc-close') r.ws.terminate();
                  if (mode !== 'ws-terminate-only') void r.pc.close().catch(() => undefined);
                  hit();
                },
              });
              const ok = await Promise.race([first.then(() => true), sleep(5000).then(() => false)]);
              if (ok) closedMidFrame++;
              else failures.push(`${mode}: no frame part within 5 s`);
              await sleep(300);
              await rx.close();
            } catch (e) {
              failures.push(`${mode}: ${/** @type {Error} */ (e).message}`);
            }
          }),
        );
      }
      return {
        checks: [
          [
            'close-mid-frame: 20 receivers connect and vanish after their first frame part',
            closedMidFrame >= 18,
            `${closedMidFrame} of ${started}${failures.length ? `; ${failures.slice(0, 3).join('; ')}` : ''}`,
          ],
        ],
        info: { started, closedMidFrame, failures },
      };
    },
  },
  {
    name: 'signalling-junk',
    async run() {
      const end = Date.now() + ATTACK_MS;
      /** @type {{ junk: { codes: (string | undefined)[], stayedOpen: boolean }, big: { closed: number | null }, flood: { sent: number, codes: (string | undefined)[], closed: number | null } }[]} */
      const rounds = [];
      while (Date.now() < end - 1500 && alive() && rounds.length < 3) {
        // Bad JSON, wrong shapes, binary frames, a text message just over 64 KB (under the WebSocket
        // payload cap): each refused, the socket stays.
        const a = await acceptedSocket(end);
        for (const t of ['{', 'null', '[]', '"text"', '{"type":"nope"}', '{"type":"answer"}', '{"type":"candidate","candidate":5}'])
          await a.send(t);
        for (let i = 0; i < 5; i++) await a.send(randomBytes(200));
        await a.send(JSON.stringify({ type: 'candidate', candidate: { candidate: 'x'.repeat(64 * 1024 + 200) } }));
        await sleep(300);
        const aCodes = [...new Set(a.codes())];
        const aOpen = a.closed === null;
        a.ws.terminate();
        // 70 KB: over the WebSocket payload limit, the socket is closed (1009).
        const b = await acceptedSocket(end);
        await b.send(JSON.stringify({ type: 'candidate', candidate: { candidate: 'y'.repeat(70 * 1024) } }));
        await until(() => b.closed !== null, 2000);
        b.ws.terminate();
        // A flood of 500 messages per second for up to 2 s: rate-limited and closed.
        const c = await acceptedSocket(end);
        let flood = 0;
        const floodEnd = Date.now() + 2000;
        while (Date.now() < floodEnd && c.closed === null) {
          for (let i = 0; i < 25; i++) c.ws.readyState === c.ws.OPEN && c.ws.send('{"type":"candidate","candidate":null}');
          flood += 25;
          await sleep(50);
        }
        await until(() => c.closed !== null, 2000);
        c.ws.terminate();
        rounds.push({
          junk: { codes: aCodes, stayedOpen: aOpen },
          big: { closed: b.closed?.code ?? null },
          flood: { sent: flood, codes: [...new Set(c.codes())], closed: c.closed?.code ?? null },
        });
      }
      /** @param {(r: (typeof rounds)[number]) => boolean} f */
      const ok = (f) => rounds.length > 0 && rounds.every(f);
      return {
        checks: [
          [
            'signalling-junk: bad JSON, binary and just-over-64 KB messages are refused (bad-json, bad-signal, too-large)',
            ok((r) => ['bad-json', 'bad-signal', 'too-large'].every((c) => r.junk.codes.includes(c))),
            JSON.stringify(rounds.map((r) => r.junk)),
          ],
          [
            'signalling-junk: a 70 KB message closes the socket (1009)',
            ok((r) => r.big.closed === 1009),
            JSON.stringify(rounds.map((r) => r.big)),
          ],
          [
            'signalling-junk: 500 messages/s are rate-limited and closed',
            ok((r) => r.flood.codes.includes('rate-limited') && r.flood.closed !== null),
            JSON.stringify(rounds.map((r) => r.flood)),
          ],
        ],
        info: { rounds },
      };
    },
  },
];
// The video track's RTCP: run against a sender of their own, on the default transport.
const TRACK_SUITE = { receiver, stats, alive, until, sleep, attackMs: ATTACK_MS };
ATTACKS.push(...trackAttacks(TRACK_SUITE));

/** One more receiver that behaves (honest feedback, no queries): the capacity cost of a session. */
/** @type {Attack} */
const CONTROL = {
  name: 'control-one-receiver',
  async run() {
    const rx = await receiver();
    await sleep(ATTACK_MS);
    await rx.close();
    return { checks: [], info: { frames: rx.frames } };
  },
};
/** The same on the track sender: one more receiver on the video track that behaves. */
/** @type {Attack} */
const TRACK_CONTROL = trackControl(TRACK_SUITE);

// ---------------------------------------------------------------------------------------------
// Phases

/**
 * Runs the honest probe and, concurrently, `attack` (started once the probe is connected, or first
 * when the attack says `probeAfterMs`). Returns the measurements and the attack's own checks.
 * @param {Attack} attack @param {number} fps0
 */
async function phase(attack, fps0) {
  const before = await snapshot();
  /** @type {ReturnType<typeof honest>} */
  let h;
  /** @type {Promise<any>} */
  let run;
  /** @param {Promise<AttackOutcome>} p @returns {Promise<AttackOutcome>} */
  const safely = (p) =>
    p.catch((e) => ({
      checks: [
        [
          `${attack.name}: the attack ran`,
          false,
          String(e?.stack ?? e)
            .split('\n')
            .slice(0, 3)
            .join(' | '),
        ],
      ],
      info: {},
    }));
  if (attack.probeAfterMs !== undefined) {
    run = safely(attack.run());
    await sleep(attack.probeAfterMs);
    h = honest({ retryBusyS: HANDSHAKE_S + 10 });
  } else {
    h = honest();
    await Promise.race([h.connected, sleep(20_000)]);
    run = safely(attack.run());
  }
  const [r, a] = await Promise.all([h.result, run]);
  // Let the sender release what the attack and the probe held.
  await sleep(500);
  let after = await snapshot();
  for (let i = 0; i < 25 && after.stats.receivers.length > 0; i++) {
    await sleep(200);
    after = await snapshot();
  }
  const fps = r.fps ?? 0;
  return {
    name: attack.name,
    fps,
    frames: r.frames ?? 0,
    ratio: fps0 > 0 ? Math.round((fps / fps0) * 1000) / 1000 : 0,
    probeErrors: r.errors ?? [],
    busyRetries: r.busyRetries ?? 0,
    rssMB: { before: mb(before.rss), after: mb(after.rss), anonAfter: mb(after.anon), fileAfter: mb(after.file) },
    rssAfter: after.rss,
    heapMB: { before: mb(before.heap), after: mb(after.heap) },
    refusals: refusalDelta(before.stats.refusals, after.stats.refusals),
    leftReceivers: after.stats.receivers.length,
    checks: a.checks,
    info: a.info,
  };
}

/**
 * One sender and the attacks against it: start, warm-up, baseline, control, `attacks` × --repeat,
 * then the sender-wide checks (alive, RSS growth, nothing unhandled in its output).
 * @param {'channel' | 'track'} pictures where this sender puts the pictures @param {Attack[]} selected
 */
async function runSender(pictures, selected) {
  const t0 = Date.now();
  // The data-channel sender's checks keep their names; the track sender's say which sender.
  const tag = pictures === 'channel' ? '' : 'track sender: ';
  console.log(`abuse: starting mmsc serve (pictures on ${pictures === 'channel' ? 'the data channel' : 'the default transport'})`);
  serve = await startServe(pictures);
  console.log(`abuse: mmsc serve pid ${serve.pid} on ${serve.url}`);
  const start = await snapshot();

  // Warm-up (the sender's first frames run cold code), then the baseline: the honest probe alone,
  // twice (one 8 s run on a 2-core box is off by ±15 %), the mean.
  await honest({ seconds: 3 }).result;
  const bs = [await honest().result, await honest().result];
  const fps0 = Math.round((bs.reduce((a, b) => a + b.fps, 0) / 2) * 100) / 100;
  const afterBase = await snapshot();
  const baseErrors = bs.flatMap((b) => b.errors ?? []);
  console.log(
    JSON.stringify({
      phase: 'baseline',
      sender: pictures,
      fps: fps0,
      runs: bs.map((b) => b.fps),
      frames: bs.map((b) => b.frames),
      probeErrors: baseErrors,
      rssMB: { start: mb(start.rss), after: mb(afterBase.rss) },
    }),
  );
  check(
    `${tag}baseline: the honest probe receives frames`,
    bs.every((b) => b.fps > 0) && baseErrors.length === 0,
    `${fps0} fps (runs ${bs.map((b) => b.fps).join(', ')}), errors ${JSON.stringify(baseErrors)}`,
  );

  // Control (not checked): what one more well-behaved receiver costs the honest one. Attacks that
  // hold an authenticated session cost at least this much; it tells capacity from damage.
  const control = await phase(pictures === 'channel' ? CONTROL : TRACK_CONTROL, fps0);
  console.log(JSON.stringify({ phase: 'control', attack: control.name, fps: control.fps, ratio: control.ratio, rssMB: control.rssMB }));
  console.log(`note: with one more well-behaved receiver the honest probe gets ${control.fps} fps (ratio ${control.ratio}); not checked`);
  const summaries = [];
  /** RSS after each full pass over the attacks (the last pass is the leak check). */
  /** @type {number[]} */
  const passEnds = [];
  const plan = Array.from({ length: REPEAT }, () => selected).flat();
  for (const [i, attack] of plan.entries()) {
    if (!alive()) break;
    console.log(`abuse: ${attack.name}`);
    // An attack that needs an authenticated receiver session is also one more receiver: on 2 cores
    // any second receiver costs the honest one (the control phase measures how much). Its damage is
    // what it costs beyond that, so its reference is the control's fps; the others' is the baseline.
    const refFps = attack.holdsSession ? control.fps : fps0;
    const refName = attack.holdsSession ? 'with one more honest receiver' : 'undisturbed';
    const refRatio = (/** @type {{ fps: number }} */ q) => (refFps > 0 ? Math.round((q.fps / refFps) * 1000) / 1000 : 0);
    /** @type {Awaited<ReturnType<typeof phase>> & { firstTry?: { fps: number, ratio: number, ratioVsReference: number } }} */
    let p = await phase(attack, fps0);
    let retried = false;
    if (refRatio(p) < MIN_RATIO && alive()) {
      console.log(`abuse: ${attack.name}: honest fps ratio ${refRatio(p)} < ${MIN_RATIO}; retrying once (a statistical measurement)`);
      const first = p;
      p = await phase(attack, fps0);
      p.firstTry = { fps: first.fps, ratio: first.ratio, ratioVsReference: refRatio(first) };
      retried = true;
    }
    for (const [name, ok, detail] of p.checks) check(name, ok, detail);
    check(
      `${attack.name}: honest fps ≥ ${MIN_RATIO} × its fps ${refName}`,
      refRatio(p) >= MIN_RATIO,
      `${p.fps} fps / ${refFps} = ${refRatio(p)} (vs undisturbed ${fps0}: ${p.ratio})${retried ? ` (retried; first try ${p.firstTry?.ratioVsReference})` : ''}${p.probeErrors.length ? `; probe errors ${JSON.stringify(p.probeErrors)}` : ''}`,
    );
    check(`${attack.name}: sender alive`, alive(), alive() ? `pid ${serve.pid}` : `exited ${serve.exitCode} ${serve.exitSignal ?? ''}`);
    check(`${attack.name}: no session left behind`, p.leftReceivers === 0, `${p.leftReceivers} receivers in /stats after the phase`);
    const { checks: _c, name, ...rest } = p;
    const summary = {
      attack: name,
      ...rest,
      ratioVsControl: control.fps > 0 ? Math.round((p.fps / control.fps) * 1000) / 1000 : null,
      reference: refName,
      ratioVsReference: refRatio(p),
      retried,
    };
    summaries.push(summary);
    console.log(JSON.stringify(summary));
    if ((i + 1) % selected.length === 0) {
      passEnds.push(p.rssAfter);
      console.log(`note: pass ${passEnds.length} of ${REPEAT} over the attacks done: sender RSS ${mb(p.rssAfter)} MB`);
    }
  }

  // End of run.
  let end = null;
  if (alive()) {
    await sleep(1000);
    end = await snapshot().catch(() => null);
  }
  const health = alive()
    ? await fetch(`${serve.url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    : false;
  check(
    `${tag}sender alive after all attacks`,
    alive() && health,
    alive() ? `/health ${health ? 'ok' : 'not ok'}` : `exited ${serve.exitCode} ${serve.exitSignal ?? ''}`,
  );
  // A leak grows with every pass over the attacks; allocator warm-up (onnxruntime's arenas, malloc,
  // V8 sizing its heap for a few receivers at once: a one-time step of ~50–70 MB, measured) happens
  // in the first. So the check is the growth over the last pass; with one pass, from the warm state
  // after the control phase. Growth from the one-receiver baseline is printed either way.
  const warm = (passEnds.length >= 2 ? passEnds[passEnds.length - 2] : undefined) ?? control.rssAfter;
  const warmName = passEnds.length >= 2 ? `the end of pass ${passEnds.length - 1}` : 'the control phase';
  const growth = end ? mb(end.rss - warm) : null;
  const fromBaseline = end ? mb(end.rss - afterBase.rss) : null;
  check(
    `${tag}RSS growth over ${passEnds.length >= 2 ? 'the last pass over the attacks' : 'the attacks'} < ${MAX_RSS_GROWTH_MB} MB`,
    growth !== null && growth < MAX_RSS_GROWTH_MB,
    growth === null || !end || fromBaseline === null
      ? 'no measurement'
      : `${mb(warm)} MB after ${warmName} → ${mb(end.rss)} MB at the end (${growth >= 0 ? '+' : ''}${growth} MB; from the one-receiver baseline ${mb(afterBase.rss)} MB: ${fromBaseline >= 0 ? '+' : ''}${fromBaseline} MB; per pass ${passEnds.map(mb).join(', ')} MB)`,
  );
  check(
    `${tag}no unhandled error or stack trace in the sender output`,
    serve.problems.length === 0,
    serve.problems.length === 0 ? `${serve.sessionFailures.length} session failures (allowed)` : serve.problems.slice(0, 5).join(' || '),
  );
  for (const l of serve.sessionFailures.slice(0, 5)) console.log(`note: a session closed itself: ${l}`);
  for (const l of serve.stderr.slice(0, 5)) console.log(`note: sender stderr: ${l}`);
  console.log(
    JSON.stringify({
      summary: 'abuse',
      sender: pictures,
      baselineFps: fps0,
      controlFps: control.fps,
      controlRatio: control.ratio,
      ratios: Object.fromEntries(summaries.map((s) => [s.attack, s.ratio])),
      ratiosVsReference: Object.fromEntries(summaries.map((s) => [s.attack, s.ratioVsReference])),
      rssPerPhaseMB: summaries.map((s) => s.rssMB.after),
      retried: summaries.filter((s) => s.retried).map((s) => s.attack),
      rssMB: {
        start: mb(start.rss),
        afterBaseline: mb(afterBase.rss),
        afterControl: mb(warm),
        end: end ? mb(end.rss) : null,
        growth,
        fromBaseline,
      },
      heapMB: { afterBaseline: mb(afterBase.heap), end: end ? mb(end.heap) : null },
      refusals: end?.stats.refusals ?? null,
      alive: alive(),
      problems: serve.problems.length,
      sessionFailures: serve.sessionFailures.length,
      warnings: serve.warnings,
      stderrLines: serve.stderr.length,
      seconds: Math.round((Date.now() - t0) / 1000),
      passed,
      failed,
    }),
  );
}

async function main() {
  const only = opts.only ? opts.only.split(',').map((s) => s.trim()) : null;
  if (only) {
    const unknown = only.filter((n) => !ATTACKS.some((a) => a.name === n));
    if (unknown.length) throw new Error(`--only: unknown attack ${unknown.join(', ')} (attacks: ${ATTACKS.map((a) => a.name).join(', ')})`);
  }
  const selected = ATTACKS.filter((a) => !only || only.includes(a.name));
  for (const pictures of /** @type {const} */ (['channel', 'track'])) {
    const attacks = selected.filter((a) => !!a.track === (pictures === 'track'));
    if (attacks.length === 0) continue;
    await runSender(pictures, attacks);
    await shutdown();
  }
}

/** Stops the sender (SIGTERM, then SIGKILL) and any probe still running. */
async function shutdown() {
  for (const c of children) if (c !== serve?.proc) c.kill('SIGKILL');
  if (!serve || serve.exitCode !== null) return;
  const exited = new Promise((r) => serve.proc.once('exit', r));
  serve.proc.kill('SIGTERM');
  const t = setTimeout(() => serve.proc.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
}
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`abuse: ${sig}: stopping the sender`);
    void shutdown().finally(() => process.exit(130));
  });
}
// Bounded even if something hangs (CI budget).
const watchdog = setTimeout(
  () => {
    check('abuse run finished within 12 minutes', false, 'stopped by the watchdog');
    console.log(`${passed} passed, ${failed} failed`);
    void shutdown().finally(() => process.exit(1));
  },
  12 * 60 * 1000,
);
watchdog.unref();

try {
  await main();
} catch (e) {
  check('abuse run completed', false, String(/** @type {Error} */ (e)?.stack ?? e));
  if (serve) for (const l of serve.tail.slice(-10)) console.log(`sender: ${l}`);
} finally {
  await shutdown();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
