import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { type ProbeResult, probe } from '../commands/probe.js';
import { CliError } from '../errors.js';
import { loadClipFrames, readClip } from './clip.js';
import type { Shown } from './metrics.js';
import { readStamp, scorePicture, unwrapStamp } from './stamp.js';

const MMSC_BIN = fileURLToPath(new URL('../../bin/mmsc.js', import.meta.url));

/** What the scored probe saw, as its JSON line reports it. */
export interface MmscPeerRaw {
  probe: ProbeResult | null;
  /** Why the run failed (no data channel, refused, …); null when it ran. */
  failure: string | null;
  startedAt: number;
  endAt: number;
  shown: Shown[];
  unreadableStamps: number;
  /** Data-channel bytes per 100 ms bucket: [epoch ms, bytes]. */
  bytes: [number, number][];
  /** The sender's rate estimate for this receiver, polled once a second: [epoch ms, bit/s]. */
  estimates: [number, number][];
}

/**
 * `mmsc probe` with eyes: decodes like the page, reads each picture's frame stamp and scores it
 * against the clip's frame with that number; polls the sender's estimate every second.
 */
export async function scoredProbe(o: { url: string; token: string; clipDir: string; seconds: number }): Promise<MmscPeerRaw> {
  const clip = await readClip(o.clipDir);
  const frames = await loadClipFrames(o.clipDir, clip);
  const shown: Shown[] = [];
  const buckets = new Map<number, number>();
  const estimates: [number, number][] = [];
  let unreadable = 0;
  let lastN: number | null = null;
  const startedAt = Date.now();
  const statsUrl = `${new URL(o.url).origin}/stats`;
  const poll = setInterval(() => {
    fetch(statsUrl, { headers: { Authorization: `Bearer ${o.token}` }, signal: AbortSignal.timeout(900) })
      .then((r) => r.json() as Promise<{ receivers: { rate: { rateBps: number } }[] }>)
      .then((s) => {
        const r = s.receivers[0];
        if (r) estimates.push([Date.now(), Math.round(r.rate.rateBps)]);
      })
      .catch(() => undefined);
  }, 1000);
  let result: ProbeResult | null = null;
  let failure: string | null = null;
  try {
    result = await probe({
      url: o.url,
      token: o.token,
      query: clip.query,
      seconds: o.seconds,
      onBytes: (bytes, at) => {
        const k = Math.floor(at / 100) * 100;
        buckets.set(k, (buckets.get(k) ?? 0) + bytes);
      },
      onPicture: (pic, frame, shownAt) => {
        const stamp = readStamp(pic.image, pic.width, pic.height, 3);
        if (stamp === null) {
          unreadable++;
          return;
        }
        const n = unwrapStamp(stamp, lastN);
        if (n === lastN) return; // the same picture again is not a new one
        lastN = n;
        const src = frames[n % clip.frames] as Uint8Array;
        const score = scorePicture(pic.image, 3, src, 3, pic.width, pic.height, clip.boxes[n % clip.frames] ?? []);
        shown.push({
          n,
          shownAt,
          capturedAt: frame.captureTs,
          psnr: Number(score.psnr.toFixed(3)),
          queryPsnr: score.queryPsnr === null ? null : Number(score.queryPsnr.toFixed(3)),
        });
      },
    });
  } catch (e) {
    failure = (e as Error).message;
  } finally {
    clearInterval(poll);
  }
  return {
    probe: result,
    failure,
    startedAt,
    endAt: Date.now(),
    shown,
    unreadableStamps: unreadable,
    bytes: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
    estimates,
  };
}

/** The hidden command the harness runs inside the receiver's namespace: one JSON line on stdout. */
export function emulateProbeCommand(): Command {
  return new Command('emulate-probe')
    .description('(internal to mmsc emulate) a scored probe: one JSON line')
    .requiredOption('--url <url>')
    .requiredOption('--token <token>')
    .requiredOption('--clip <dir>')
    .requiredOption('--seconds <n>')
    .action(async (opts: { url: string; token: string; clip: string; seconds: string }) => {
      const r = await scoredProbe({ url: opts.url, token: opts.token, clipDir: opts.clip, seconds: Number(opts.seconds) });
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    });
}

/** Sends SIGTERM and waits for the process to close; SIGKILL after `graceMs`. */
export function stopChild(p: ChildProcess, graceMs: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      resolve();
    }, graceMs);
    p.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

/** Runs a command to its end; resolves with its stdout (rejects with stderr's tail on failure). */
export function run(cmd: string, args: string[], o: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    const timer = o.timeoutMs ? setTimeout(() => p.kill('SIGKILL'), o.timeoutMs) : undefined;
    p.on('error', (e) => reject(new CliError(`cannot run ${cmd}: ${e.message}`, 1)));
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new CliError(
            `${cmd} ${args.slice(0, 4).join(' ')} … ${code === null ? `killed by ${sig}` : `exited ${code}`}: ${err.trim().split('\n').slice(-3).join(' | ')}`,
            1,
          ),
        );
    });
  });
}

export interface MmscPeerOptions {
  senderNs: string;
  receiverNs: string;
  senderAddr: string;
  /** The address the receiver reaches the sender's signalling at (its NAT's public side); default senderAddr. */
  connectAddr?: string;
  port?: number;
  clipDir: string;
  fps: number;
  seconds: number;
  /** Extra `mmsc serve` options. */
  serveArgs?: string[];
  /** Extra environment for `mmsc serve` (e.g. MMSC_ICE_CREDENTIAL). */
  serveEnv?: Record<string, string>;
  /** Where `serve`'s whole log is appended (none: only its tail is kept, for errors). */
  serveLogFile?: string;
  /** Called once the sender is ready, right before the receiver connects (restart the link here). */
  beforeConnect: () => Promise<void>;
  log?: (s: string) => void;
}

async function waitHealthy(ns: string, url: string, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new CliError(`mmsc serve exited (${proc.exitCode}) before it was ready`, 1);
    try {
      await run('ip', [
        'netns',
        'exec',
        ns,
        process.execPath,
        '-e',
        `fetch('${url}/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))`,
      ]);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new CliError(`mmsc serve did not answer ${url}/health within ${timeoutMs / 1000} s`, 1);
}

/** A running `mmsc serve` in the sender's namespace. */
export interface ServeHandle {
  /** Where the sender listens (its own address). */
  url: string;
  /** Where a receiver reaches it (its NAT's public side, or the same). */
  publicUrl: string;
  token: string;
  /** The last 20 kB it printed. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts `mmsc serve` on the clip in the sender's namespace and waits until it answers /health. */
export async function startServe(o: Omit<MmscPeerOptions, 'receiverNs' | 'seconds' | 'beforeConnect'>): Promise<ServeHandle> {
  const port = o.port ?? 8080;
  const token = randomBytes(12).toString('hex');
  const url = `http://${o.senderAddr}:${port}`;
  const clip = await readClip(o.clipDir);
  // Every receiver starts with the clip's query (the page and the probe alike).
  const args = [
    'serve',
    '--host',
    o.senderAddr,
    '--port',
    String(port),
    '--source',
    o.clipDir,
    '--fps',
    String(o.fps),
    '--token',
    token,
    '--query',
    clip.query,
  ];
  const serve = spawn('ip', ['netns', 'exec', o.senderNs, process.execPath, MMSC_BIN, ...args, ...(o.serveArgs ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...o.serveEnv },
  });
  let serveLog = '';
  const keep = (d: Buffer) => {
    serveLog = (serveLog + d.toString()).slice(-20_000);
    if (o.serveLogFile) appendFileSync(o.serveLogFile, d);
  };
  serve.stdout?.on('data', keep);
  serve.stderr?.on('data', keep);
  const stop = () => stopChild(serve, 5000);
  try {
    await waitHealthy(o.senderNs, url, serve, 60_000);
  } catch (e) {
    await stop();
    throw new CliError(`${(e as Error).message}: ${serveLog.trim().split('\n').slice(-3).join(' | ')}`, 1);
  }
  return { url, publicUrl: `http://${o.connectAddr ?? o.senderAddr}:${port}`, token, log: () => serveLog, stop };
}

/** One mmsc run on the link: `serve` in the sender's namespace, the scored probe in the receiver's. */
export async function runMmscPeer(o: MmscPeerOptions): Promise<{ raw: MmscPeerRaw; serveLog: string }> {
  const serve = await startServe(o);
  try {
    await o.beforeConnect();
    const args = ['emulate-probe', '--url', serve.publicUrl, '--token', serve.token, '--clip', o.clipDir, '--seconds', String(o.seconds)];
    const out = await run('ip', ['netns', 'exec', o.receiverNs, process.execPath, MMSC_BIN, ...args], {
      timeoutMs: (o.seconds + 90) * 1000,
    });
    const line = out.trim().split('\n').pop() ?? '';
    return { raw: JSON.parse(line) as MmscPeerRaw, serveLog: serve.log() };
  } finally {
    await serve.stop();
  }
}
