import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Chroma } from '@mmsc/codec';
import { describeIceServers, ENGINES, EXIT, PROTOCOL_VERSION } from '@mmsc/protocol';
import { APP_DIR, ORT_DIR } from '@mmsc/receiver/assets';
import {
  type AllocatorName,
  createLogger,
  DEFAULT_ENGINE,
  DEFAULT_MODELS_DIR,
  DEFAULT_TRANSPORT,
  DEMO_IMAGE,
  defaultLimits,
  describeRelevanceChoice,
  engineFor,
  FALLBACK_ENGINE,
  isEngineName,
  type LogLevel,
  makeToken,
  type RunningSender,
  SenderStartError,
  startSender,
  type TransportChoice,
  transportFor,
} from '@mmsc/sender';
import { Command } from 'commander';
import { RecordingPipeline, readRecording } from '../emulate/record.js';
import { CliError } from '../errors.js';
import { frameOptionsOf, withFrameOptions } from './frame-options.js';
import { type IceOptions, iceServersOf, withIceOptions } from './ice-options.js';
import { loadOpenRelevance, relevanceChoiceOf, withRelevanceOption } from './relevance-option.js';

/** Reads --tls-cert/--tls-key (both or neither), with one-line errors. */
function readTls(certPath?: string, keyPath?: string): { cert: Buffer; key: Buffer } | null {
  if (!certPath && !keyPath) return null;
  if (!certPath || !keyPath) throw new CliError('--tls-cert and --tls-key go together', EXIT.usage);
  const read = (p: string, what: string) => {
    try {
      return readFileSync(p);
    } catch (e) {
      throw new CliError(`cannot read ${what} ${p}: ${(e as Error).message}`, EXIT.usage);
    }
  };
  const cert = read(certPath, '--tls-cert');
  const key = read(keyPath, '--tls-key');
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`--tls-cert ${certPath} is not a PEM certificate`, EXIT.usage);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString()))
    throw new CliError(`--tls-key ${keyPath} is not a PEM private key`, EXIT.usage);
  return { cert, key };
}

/** A failed listen as one line a user can act on. */
function listenError(e: unknown, host: string, port: number): CliError {
  const err = e as NodeJS.ErrnoException;
  const where = `${host}:${port}`;
  if (err.code === 'EADDRINUSE')
    return new CliError(`port ${port} on ${host} is already in use (another mmsc serve?); pick another with --port`, 1);
  if (err.code === 'EACCES') return new CliError(`no permission to listen on ${where} (ports below 1024 need root)`, EXIT.failed);
  if (err.code === 'EADDRNOTAVAIL') return new CliError(`${host} is not an address of this machine`, EXIT.failed);
  if (/key|cert|PEM|SSL|tls/i.test(err.message ?? '')) return new CliError(`TLS: ${err.message}`, EXIT.usage);
  return new CliError(`cannot listen on ${where}: ${err.message ?? err}`, EXIT.failed);
}

/** `serve`, or `record` (serve and keep what was streamed: --out). */
export function serveCommand(mode: 'serve' | 'record' = 'serve'): Command {
  const cmd = new Command(mode).description(
    mode === 'serve'
      ? "stream a source to browser receivers over WebRTC, spending each link's bytes where its query points"
      : "serve (same options) and record the session into --out: every source frame streamed, the receivers' query changes with their frame indices, and the link as the sender saw it (replay it with `mmsc replay`)",
  );
  if (mode === 'record') cmd.requiredOption('--out <dir>', 'recording folder (frames/, queries.json, link.jsonl)');
  return withRelevanceOption(withIceOptions(withFrameOptions(cmd)))
    .option(
      '--replay <dir>',
      'a recording (`mmsc record`) whose query changes are applied at the same frame indices (pair it with --source <dir>/frames)',
    )
    .option('--source <spec>', 'image file, folder of images, video file, camera:/dev/videoN, or pan:<image>', `pan:${DEMO_IMAGE}`)
    .option('--query <text>', 'initial query for new receivers', 'dog and bicycle')
    .option('--port <n>', 'HTTP port', '8080')
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--fps <n>', 'frame rate', '10')
    .option('--allocator <name>', 'rd (rate–distortion, ours) or paper (relevance top-down)', 'rd')
    .option(
      '--engine <name>',
      `how frames are coded: ${ENGINES.map((e) => `${e} (${engineFor(e).summary})`).join(', ')}; default ${DEFAULT_ENGINE}`,
    )
    .option(
      '--chroma <format>',
      'engine h264: 444 (High 4:4:4, the default) or 420 (for decoders without 4:4:4, e.g. hardware ones)',
      '444',
    )
    .option(
      '--transport <where>',
      'where a codec engine’s pictures travel: rtp (a video track: the receiver’s jitter buffer, NACK and PLI repair losses; a receiver that declines the track is refused), channel (the data channel), or auto (rtp for the codec engines, channel for patches and for a receiver that declines the track)',
      DEFAULT_TRANSPORT,
    )
    .option('--max-receivers <n>', 'most receivers served at once', '8')
    .option('--max-rate <mbit>', 'most bandwidth one receiver may use, Mbit/s', '20')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--token <token>', 'operator token for /signal, /stats and /models (default: $MMSC_TOKEN, else a random one)')
    .option('--no-auth', 'serve without a token: anyone who reaches the port may watch and query')
    .option('--allow-origin <origin...>', 'another origin whose pages may open /signal (e.g. https://ops.example.org; * for any)')
    .option('--tls-cert <pem>', 'serve HTTPS/WSS with this certificate (PEM); remote browsers need a secure context')
    .option('--tls-key <pem>', 'private key (PEM) for --tls-cert')
    .option('--handshake-timeout <s>', 'close a connection whose data channel has not opened this many seconds after the offer', '15')
    .option('--pipeline <where>', 'worker (models in a worker thread, off the event loop) or inline (same thread)', 'worker')
    .option('--log-level <level>', 'debug, info, warn, error or silent', 'info')
    .option('--log-json', 'log JSON lines even on a terminal (the default when stdout is not a TTY)')
    .action(
      async (
        opts: IceOptions & {
          source: string;
          query: string;
          port: string;
          host: string;
          fps: string;
          allocator: string;
          engine?: string;
          chroma: string;
          transport: string;
          maxReceivers: string;
          maxRate: string;
          models: string;
          token?: string;
          auth: boolean;
          allowOrigin?: string[];
          tlsCert?: string;
          tlsKey?: string;
          handshakeTimeout: string;
          pipeline: string;
          logLevel: string;
          logJson?: boolean;
          out?: string;
          replay?: string;
          size: string;
          fit: string;
          relevance: string;
        },
      ) => {
        const fps = Number(opts.fps);
        const port = Number(opts.port);
        const maxReceivers = Number(opts.maxReceivers);
        if (!(fps > 0 && fps <= 60)) throw new CliError('--fps must be in (0, 60]', EXIT.usage);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('--port must be 0..65535', EXIT.usage);
        if (!Number.isInteger(maxReceivers) || maxReceivers < 1) throw new CliError('--max-receivers must be ≥ 1', EXIT.usage);
        const maxBps = Number(opts.maxRate) * 1e6;
        if (!(maxBps >= 0.2e6)) throw new CliError('--max-rate must be at least 0.2 (Mbit/s)', EXIT.usage);
        if (opts.allocator !== 'rd' && opts.allocator !== 'paper') throw new CliError('--allocator must be rd or paper', EXIT.usage);
        if (opts.engine !== undefined && !isEngineName(opts.engine))
          throw new CliError(`--engine must be one of ${ENGINES.join(', ')}`, EXIT.usage);
        if (opts.chroma !== '444' && opts.chroma !== '420') throw new CliError('--chroma must be 444 or 420', EXIT.usage);
        let engine = engineFor(opts.engine ?? DEFAULT_ENGINE);
        const why = await engine.unavailable();
        if (why !== null) {
          if (opts.engine !== undefined) throw new CliError(`--engine ${engine.name}: ${why}`, EXIT.failed);
          console.error(`mmsc serve: ${why}; serving --engine ${FALLBACK_ENGINE} instead`);
          engine = engineFor(FALLBACK_ENGINE);
        }
        if (!['auto', 'rtp', 'channel'].includes(opts.transport))
          throw new CliError('--transport must be auto, rtp or channel', EXIT.usage);
        const transport = opts.transport as TransportChoice;
        try {
          transportFor(engine, transport);
        } catch (e) {
          throw new CliError(`--transport rtp: ${(e as Error).message}`, EXIT.usage);
        }
        if (!isIP(opts.host) && opts.host !== 'localhost')
          throw new CliError(`--host ${opts.host} is not an IP address (e.g. 127.0.0.1, 0.0.0.0 or ::)`, EXIT.usage);
        const handshakeS = Number(opts.handshakeTimeout);
        if (!(handshakeS >= 1 && handshakeS <= 600)) throw new CliError('--handshake-timeout must be 1..600 seconds', EXIT.usage);
        if (opts.pipeline !== 'worker' && opts.pipeline !== 'inline') throw new CliError('--pipeline must be worker or inline', EXIT.usage);
        if (!['debug', 'info', 'warn', 'error', 'silent'].includes(opts.logLevel))
          throw new CliError('--log-level must be debug, info, warn, error or silent', EXIT.usage);
        const token = opts.auth ? (opts.token ?? process.env.MMSC_TOKEN ?? makeToken()) : null;
        if (token !== null && !/^[\w.~-]{8,256}$/.test(token))
          throw new CliError('--token must be 8–256 URL-safe characters (letters, digits, - _ . ~)', EXIT.usage);
        if (token !== null && token.length < 16)
          console.error(
            `mmsc serve: warning: the token has ${token.length} characters, few enough to guess; use 16 or more (leave --token out for a random one)`,
          );
        const iceServers = iceServersOf(opts);
        const frameOptions = frameOptionsOf(opts);
        const relevance = relevanceChoiceOf(opts);
        // An export that is not one is refused here, in one line, before the models' thread loads it.
        await (await loadOpenRelevance(relevance))?.release();
        const https = readTls(opts.tlsCert, opts.tlsKey);
        const log = createLogger(opts.logLevel as LogLevel, opts.logJson ?? !process.stdout.isTTY);
        const replay = opts.replay ? readRecording(opts.replay) : null;
        const recordDir = opts.out ?? null;
        let sender: RunningSender;
        try {
          sender = await startSender({
            source: opts.source,
            frame: frameOptions,
            modelsDir: opts.models,
            models: opts.pipeline as 'worker' | 'inline',
            relevance,
            ...(recordDir || replay
              ? {
                  wrapPipeline: (inner, links) => {
                    const recording = new RecordingPipeline(inner, { recordDir, replay, fps });
                    recording.attach(links);
                    return recording;
                  },
                }
              : {}),
            query: opts.query,
            fps,
            engine: engine.name,
            allocator: opts.allocator as AllocatorName,
            chroma: opts.chroma as Chroma,
            transport,
            maxBps,
            limits: { ...defaultLimits(maxReceivers), handshakeTimeoutMs: handshakeS * 1000 },
            iceServers,
            appDir: APP_DIR,
            ortDir: ORT_DIR,
            token,
            allowOrigins: opts.allowOrigin ?? [],
            ...(https ? { https } : {}),
            listen: { port, host: opts.host },
            logger: log,
          });
        } catch (e) {
          if (!(e instanceof SenderStartError)) throw e;
          const cause = e.cause as Error;
          if (e.step === 'query') throw new CliError(`--query: ${cause.message}`, EXIT.usage);
          if (e.step === 'listen') throw listenError(cause, opts.host, port);
          throw https ? new CliError(`TLS: ${cause.message} (do --tls-cert and --tls-key belong together?)`, EXIT.usage) : cause;
        }
        const { frame, streamer } = sender;
        // A bug reached from a peer's input (in our code or werift's) is logged loudly, but does not
        // end the service for every other receiver; the abuse suite fails on any such line.
        process.on('unhandledRejection', (e) => log.error({ err: e }, `unhandled rejection (a bug): ${(e as Error)?.message ?? e}`));
        process.on('uncaughtException', (e) => log.error({ err: e }, `uncaught exception (a bug): ${e.message}`));
        const shown = sender.url.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
        const withToken = token === null ? `${shown}/` : `${shown}/?token=${token}`;
        console.log(
          `mmsc serve: ${sender.description}, ${frame.width}×${frame.height}${frame.source ? ` (from ${frame.source.width}×${frame.source.height}, fit ${frameOptions.fit})` : ''}, ${fps} fps, engine ${engine.name} (${engine.describe(sender.engineOptions)}), pictures on ${sender.hello.transport === 'rtp' ? 'an RTP video track' : 'the data channel'}, protocol v${PROTOCOL_VERSION}`,
        );
        if (relevance.kind === 'onnx')
          console.log(`mmsc serve: relevance from ${describeRelevanceChoice(relevance)}: the model reads each query; no lexicon grounding`);
        console.log(
          `mmsc serve: ICE servers: ${iceServers.length > 0 ? describeIceServers(iceServers) : 'none (host candidates only; --ice-server adds STUN/TURN)'}`,
        );
        if (opts.out)
          console.log(
            `mmsc ${mode}: recording into ${opts.out} (frames/, queries.json, link.jsonl; written as the session goes, manifest on stop)`,
          );
        if (replay)
          console.log(`mmsc serve: replaying ${opts.replay}: ${replay.queries.length} query changes over ${replay.frames} frames`);
        if (token === null)
          console.log('mmsc serve: AUTHENTICATION IS OFF (--no-auth): anyone who reaches this port can watch the stream and send queries');
        console.log(`open ${withToken} in a browser${token === null ? '' : ' (the token is in the URL; keep it private)'}`);
        if (!https && opts.host !== '127.0.0.1' && opts.host !== 'localhost' && opts.host !== '::1')
          console.log(
            'note: remote browsers need HTTPS for this page (WebCodecs, WebCrypto): use --tls-cert/--tls-key or a TLS reverse proxy',
          );
        const health = streamer.health();
        if (!health.ok) log.error({}, `the source produces no frames: ${health.reason}`);
        const stop = async () => {
          await sender.close();
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      },
    );
}
