import type { CollectedFrame } from '@mmsc/receiver';
import { DEFAULT_MODELS_DIR } from '@mmsc/sender';
import { Command, Option } from 'commander';
import { CliError } from '../errors.js';
import { type ProbeResult, ProbeRun } from '../receive/probe-run.js';
import { EXIT_BUSY, ProbeRefusedError, senderEndpoints, senderEstimate } from '../receive/sender-endpoints.js';

export { EXIT_BUSY, ProbeRefusedError, type ProbeResult, senderEndpoints };

export interface ProbeOptions {
  /** Sender URL, e.g. `http://127.0.0.1:8080` or `http://127.0.0.1:8080/?token=…` (path, query and hash are dropped). */
  url: string;
  query: string;
  /** How long to receive once the data channel is up. */
  seconds: number;
  /** Models folder holding manifest.json (the patch decoders). */
  modelsDir?: string;
  /** Sent as `Authorization: Bearer <token>` on /signal and /stats; defaults to the URL's `token` parameter. */
  token?: string;
  log?: (s: string) => void;
  /** How long the data channel may take to open, ms (default 15,000). */
  connectTimeoutMs?: number;
  /** Called with each picture decoded (RGB, the hello's width × height, as the operator would see it) and the frame it came from. */
  onPicture?: (picture: { image: Uint8Array; width: number; height: number }, frame: CollectedFrame, shownAt: number) => void;
  /** Called with the size of every data-channel message as it arrives (per-second goodput). */
  onBytes?: (bytes: number, at: number) => void;
  /** Aborting stops the run early: the partial result is returned (or, before the connection is up, the promise rejects with the reason). */
  signal?: AbortSignal;
}

/**
 * A headless receiver in Node: the receiver's ReceivingSession over `ws` signalling and a werift
 * peer (ProbeRun), decoding every frame in this thread, and a report of what it saw.
 *
 * Rejects when it cannot start: bad URL (CliError, exit 2), sender unreachable, token or Origin
 * refused or sender busy ({@link ProbeRefusedError}), no data channel within 15 s, models missing,
 * the sender's decoders not the ones in the models folder. A disconnect once connected ends the
 * run early: the partial result is returned with the reason in `errors`.
 */
export async function probe(o: ProbeOptions): Promise<ProbeResult> {
  const ep = senderEndpoints(o.url);
  const token = o.token || ep.token || undefined;
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  o.signal?.throwIfAborted();
  const { query, seconds, modelsDir, onPicture, onBytes, signal } = o;
  const opts = { query, seconds, modelsDir, onPicture, onBytes, signal, log: o.log ?? (() => {}) };
  const run = new ProbeRun({ ...opts, signalUrl: ep.signalUrl, headers, connectTimeoutMs: o.connectTimeoutMs ?? 15_000 });
  const end = await run.run();
  let estimate: number | null = null;
  const sessionId = run.session.hello?.sessionId;
  if (end.kind === 'done' && sessionId)
    estimate = await senderEstimate(ep.statsUrl, headers, sessionId).catch((e: Error) => {
      run.errors.push(`stats: ${e.message}`);
      return null;
    });
  await run.close();
  if (end.kind === 'busy') throw new ProbeRefusedError('busy', `sender busy: ${end.message}`, EXIT_BUSY);
  if (end.kind === 'fatal') throw end.error;
  return run.result(estimate);
}

export function probeCommand(): Command {
  return new Command('probe')
    .description(
      'connect to a sender like the browser does, decode every frame headlessly, and report fps, bytes, latency and rate\n' +
        'exit status: 0 clean run; 1 sender unreachable, token or Origin refused, or errors during the run (the report is printed first); 2 bad options; 3 sender busy',
    )
    .option(
      '--url <url>',
      'sender URL (as the sender prints it; a ?token=… in it is used when --token is not given)',
      'http://127.0.0.1:8080',
    )
    .addOption(new Option('--token <token>', 'access token the sender printed (sent as Authorization: Bearer)').env('MMSC_TOKEN'))
    .option('--query <text>', 'query to send', 'dog and bicycle')
    .option('--seconds <n>', 'how long to receive', '10')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--json', 'print one JSON object')
    .action(async (opts: { url: string; token?: string; query: string; seconds: string; models: string; json?: boolean }, cmd: Command) => {
      const seconds = Number(opts.seconds);
      if (!(seconds > 0)) throw new CliError('--seconds must be positive', 2);
      const ep = senderEndpoints(opts.url);
      // --token beats a token in the URL, which beats MMSC_TOKEN.
      const fromEnv = cmd.getOptionValueSource('token') === 'env';
      const token = (fromEnv && ep.token) || opts.token || undefined;
      const started = Date.now();
      const log = opts.json ? () => {} : (s: string) => console.error(s);
      const r = await probe({ url: opts.url, query: opts.query, seconds, modelsDir: opts.models, token, log });
      if (opts.json) console.log(JSON.stringify(r));
      else printReport(r, opts.seconds, (Date.now() - started) / 1000);
      process.exit(r.errors.length > 0 ? 1 : 0);
    });
}

function printReport(r: ProbeResult, seconds: string, took: number): void {
  const span = r.errors.length > 0 && took < Number(seconds) ? `${took.toFixed(1)} s (stopped early)` : `${seconds} s`;
  console.log(
    `${r.frames} frames in ${span} (${r.fps} fps), ${r.meanFrameBytes} B/frame, goodput ${(r.goodputBps / 1e6).toFixed(2)} Mbit/s`,
  );
  console.log(
    `latency p50 ${r.latencyMsP50} ms, p95 ${r.latencyMsP95} ms; budget violations ${r.budgetViolations}; sender estimate ${r.estimatedRateBps ?? '?'} bit/s`,
  );
  console.log(`data channel after ${r.channelMs ?? '–'} ms, first picture after ${r.firstPictureMs ?? '–'} ms`);
  const t = r.track;
  if (t)
    console.log(
      `video track: ${t.packets} packets (${t.late} late, ${t.duplicates} duplicate); pictures lost ${t.dropped}, undecodable ${t.undecodable}, without a valid trailer ${t.badTrailer}, stale ${t.stale}, held for a keyframe ${t.skipped}; ${t.keyframeRequests} keyframe requests, ${t.plis} PLIs`,
    );
  const g = r.grounding;
  if (g) {
    const words = g.words.map((w) => `${w.word} → ${w.classes.map((c) => c.name).join('/')}`).join('; ');
    console.log(`grounding: ${words}${g.ungrounded.length ? `; not grounded: ${g.ungrounded.join(', ')}` : ''}`);
  }
  for (const e of r.errors) console.log(`error: ${e}`);
}
