import { type Chroma, codecEntries, type PatchCodecs } from '@mmsc/codec';
import { DEFAULT_MAX_MESSAGE_BYTES, type HelloMessage, type IceServer, type VideoTransport } from '@mmsc/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import sharp from 'sharp';
import type { Engine, EngineOptions } from './engines/link-encoder.js';
import { DEFAULT_ENGINE, engineFor } from './engines/registry.js';
import { DEFAULT_FRAME, FRAME_SIZE, type FrameOptions } from './geometry.js';
import { curvesOf, helloFor } from './hello.js';
import { type Log, silentLog } from './log.js';
import { DEFAULT_MODELS_DIR, loadCodecs, readManifest } from './models.js';
import type { AllocatorName } from './pipeline/encode-frame.js';
import { DEFAULT_CHROMA } from './pipeline/encode-video.js';
import { type FramePipeline, InlineModels, type PipelineModels, SourcePipeline } from './pipeline/frame-pipeline.js';
import { loadPipelineRelevance, type PipelineRelevance } from './pipeline/pipeline-relevance.js';
import { WorkerModels } from './pipeline/worker-models.js';
import { type GroundedQuery, groundOpen, groundText } from './relevance/grounder.js';
import type { Lexicon } from './relevance/lexicon.js';
import { loadLexicon } from './relevance/load-relevance.js';
import { DEFAULT_RELEVANCE_CHOICE, type RelevanceChoice } from './relevance/relevance-choice.js';
import type { AnalysingRelevance } from './relevance/relevance-model.js';
import { type AppOptions, buildApp } from './server/app.js';
import { defaultLimits, type Limits } from './server/limits.js';
import { Links } from './server/links.js';
import { Streamer } from './server/streamer.js';
import type { PictureSize } from './sources/probe.js';
import { sourceGeometry } from './sources/probe.js';
import { type FrameSource, type Geometry, openSource } from './sources/sources.js';

/** Models already loaded, shared by several senders in one process (tests): this thread runs them. */
export interface LoadedModels {
  relevance: AnalysingRelevance | PipelineRelevance;
  encoders: PatchCodecs;
  /** The lexicon queries are grounded with; null for an open-vocabulary relevance (`relevance: onnx`). */
  lexicon: Lexicon | null;
}

/** What `startSender` needs; every field but `source` has the default `mmsc serve` has. */
export interface SenderConfig {
  /** A source spec (file, folder, video, camera:…, pan:…), framed at its own aspect by `frame`; or a source already open, its frames `frameSize`. */
  source: string | FrameSource;
  /** For a source spec: the long side and the fit (default 480, keep). */
  frame?: FrameOptions;
  /** For an open source: its frames' size (default 480×320). */
  frameSize?: Geometry;
  /** Models folder holding manifest.json (default the committed models). */
  modelsDir?: string;
  /** Where the detector, fusion and encoders run: a worker thread (default), this thread, or models already loaded. */
  models?: 'worker' | 'inline' | LoadedModels;
  /**
   * Which relevance scores the frames (default the detector's). An open-vocabulary export reads the
   * query's text in the models; queries are then not grounded with the lexicon.
   */
  relevance?: RelevanceChoice;
  /** A pipeline around the real one (record, replay), made once the links exist. */
  wrapPipeline?: (inner: FramePipeline, links: Links) => FramePipeline;
  /** The query new receivers start with (default 'dog and bicycle'). */
  query?: string;
  fps?: number;
  /** The engine's name (default the registry's default; check `engineFor(name).unavailable()` first). */
  engine?: string;
  allocator?: AllocatorName;
  chroma?: Chroma;
  /**
   * Where a codec engine's pictures travel (default `DEFAULT_TRANSPORT`): `rtp` on a video track,
   * `channel` on the data channel; `auto` is `rtp` for an engine with an RTP format, else `channel`.
   * `rtp` with an engine that has none (patches) is refused at start. On `auto`, a receiver whose
   * answer declines the video track is served on the data channel; on `rtp` it is refused (`track-declined`).
   */
  transport?: TransportChoice;
  /** Most bandwidth one receiver may use, bits per second (default 20 Mbit/s). */
  maxBps?: number;
  /** The peer-facing limits (defaults: `defaultLimits()`). */
  limits?: Partial<Limits>;
  /** STUN/TURN servers for every peer, the sender's and (through the offer) the receiver's (default: none). */
  iceServers?: readonly IceServer[];
  /** The browser app and onnxruntime-web's files, served at / and /ort/ (none: not served). */
  appDir?: string | null;
  ortDir?: string | null;
  /** The operator token; null: no authentication. */
  token: string | null;
  allowOrigins?: readonly string[];
  https?: AppOptions['https'];
  /** Where to listen; false: the app is built but neither listens nor streams (requests by `app.inject`). */
  listen?: { port: number; host: string } | false;
  /** The sender's logger (pino; fastify logs through it too). None: silent. */
  logger?: Logger;
}

/** Why `startSender` failed, by the step that failed (`cause` is the error itself); what it had started is stopped. */
export class SenderStartError extends Error {
  constructor(
    readonly step: 'query' | 'app' | 'listen',
    override readonly cause: unknown,
  ) {
    super(`${step}: ${(cause as Error)?.message ?? cause}`);
    this.name = 'SenderStartError';
  }
}

/** A running sender. */
export interface RunningSender {
  /** The address it listens on (e.g. http://127.0.0.1:8080); '' when not listening. */
  url: string;
  /** The frame size, and the source's own size when it was read. */
  frame: Geometry & { source: PictureSize | null };
  /** The source, in words. */
  description: string;
  engine: Engine;
  engineOptions: EngineOptions;
  hello: HelloMessage;
  app: FastifyInstance;
  streamer: Streamer;
  links: Links;
  /** Stops the frame clock (every link is told and closed, the models released), then the HTTP server. */
  close(): Promise<void>;
}

/** The models for `where`, and how queries are grounded (on this thread): with the lexicon, or left to an open-vocabulary model. */
async function loadModels(
  where: SenderConfig['models'],
  dir: string,
  choice: RelevanceChoice,
  log: Log,
): Promise<{ models: PipelineModels; ground: (text: string) => GroundedQuery }> {
  const open = choice.kind === 'onnx';
  const grounder = (lexicon: Lexicon | null) => {
    if (open || !lexicon) return groundOpen;
    return (text: string) => groundText(text, lexicon);
  };
  if (typeof where === 'object') return { models: new InlineModels(where.relevance, where.encoders), ground: grounder(where.lexicon) };
  const lexicon = open ? null : await loadLexicon(dir);
  const classes = lexicon?.classes ?? null;
  if (where === 'inline') {
    const [encoders, relevance] = await Promise.all([loadCodecs('encoder', dir), loadPipelineRelevance(dir, classes, choice)]);
    return { models: new InlineModels(relevance, encoders), ground: grounder(lexicon) };
  }
  return {
    models: await WorkerModels.start(dir, { log, ...(classes ? { classes } : {}), relevance: choice }),
    ground: grounder(lexicon),
  };
}

/** Runs `f`; when it throws, runs `undo` first. */
async function orUndo<T>(f: () => Promise<T>, undo: () => Promise<void>, step?: SenderStartError['step']): Promise<T> {
  try {
    return await f();
  } catch (e) {
    await undo();
    throw step ? new SenderStartError(step, e) : e;
  }
}

/** `serve --transport`: where a codec engine's pictures travel. */
export type TransportChoice = 'auto' | VideoTransport;
export const DEFAULT_TRANSPORT: TransportChoice = 'auto';

/** The transport `engine` runs on for `choice`; throws for `rtp` with an engine that has no RTP format. */
export function transportFor(engine: Engine, choice: TransportChoice): VideoTransport {
  if (choice === 'channel') return 'channel';
  if (engine.rtpFormat) return 'rtp';
  if (choice === 'rtp') throw new Error(`engine ${engine.name} has no RTP video format: its frames travel on the data channel`);
  return 'channel';
}

/**
 * Starts a sender: the source at its geometry, the models (a worker by default), the grounder, the
 * links, the frame clock and the fastify app; when it listens, it warms the models up, listens and
 * starts streaming. The one way the CLI (`serve`, `record`, `replay`) and the tests start one.
 */
export async function startSender(c: SenderConfig): Promise<RunningSender> {
  // The engine and where its pictures travel are settled first: a bad pair is refused before anything starts.
  const engine = engineFor(c.engine ?? DEFAULT_ENGINE);
  const transport = transportFor(engine, c.transport ?? DEFAULT_TRANSPORT);
  const dir = c.modelsDir ?? DEFAULT_MODELS_DIR;
  const fps = c.fps ?? 10;
  const log: Log = c.logger ?? silentLog;
  // libvips' operation cache (up to 50 MB) only grows for a live source whose every frame is new.
  sharp.cache(false);
  const codecs = codecEntries(await readManifest(dir));
  // The frame keeps the source's aspect (or is cropped with --fit crop): its size is read first.
  const frame =
    typeof c.source === 'string'
      ? await sourceGeometry(c.source, c.frame ?? DEFAULT_FRAME)
      : { ...(c.frameSize ?? FRAME_SIZE), source: null };
  const size = { width: frame.width, height: frame.height };
  const spec = c.source;
  const [loaded, source] = await Promise.allSettled([
    loadModels(c.models ?? 'worker', dir, c.relevance ?? DEFAULT_RELEVANCE_CHOICE, log),
    typeof spec === 'string' ? openSource(spec, size, fps, { log }) : Promise.resolve(spec),
  ]);
  if (loaded.status === 'rejected' || source.status === 'rejected') {
    if (loaded.status === 'fulfilled') await loaded.value.models.close();
    if (source.status === 'fulfilled' && typeof spec === 'string') source.value.close();
    throw loaded.status === 'rejected' ? loaded.reason : (source as PromiseRejectedResult).reason;
  }
  const { models, ground } = loaded.value;
  const stopEarly = async () => {
    await models.close();
    if (typeof spec === 'string') source.value.close();
  };
  const initialQuery = await orUndo(async (): Promise<GroundedQuery> => ground(c.query ?? 'dog and bicycle'), stopEarly, 'query');
  const hello = helloFor(codecs, fps, DEFAULT_MAX_MESSAGE_BYTES, engine.name, size);
  if (transport === 'rtp') hello.transport = 'rtp';
  const limits = { ...defaultLimits(), ...c.limits };
  const engineOptions: EngineOptions = { allocator: c.allocator ?? 'rd', curves: curvesOf(codecs), chroma: c.chroma ?? DEFAULT_CHROMA };
  const links = new Links({
    hello,
    engineOptions,
    engine,
    initialQuery,
    ground,
    fps,
    maxBps: c.maxBps ?? 20e6,
    relevanceEvery: fps,
    limits,
    // Forced onto the track, a receiver that declines it is refused; by default it gets the data channel.
    onTrackDeclined: c.transport === 'rtp' ? 'refuse' : 'channel',
    log,
  });
  const inner = new SourcePipeline(source.value, models, size);
  const pipeline = c.wrapPipeline ? c.wrapPipeline(inner, links) : inner;
  const streamer = new Streamer(pipeline, links, { fps, log });
  const app = await orUndo(
    () =>
      buildApp({
        streamer,
        appDir: c.appDir ?? null,
        ortDir: c.ortDir ?? null,
        modelsDir: dir,
        modelFiles: ['manifest.json', ...codecs.map((e) => e.decoder.file)],
        token: c.token,
        allowOrigins: c.allowOrigins ?? [],
        limits,
        iceServers: c.iceServers ?? [],
        ...(c.logger ? { logger: c.logger } : {}),
        ...(c.https ? { https: c.https } : {}),
      }),
    () => streamer.stop(),
    'app',
  );
  let url = '';
  if (c.listen) {
    const where = c.listen;
    await streamer.warmUp();
    url = await orUndo(
      () => app.listen(where),
      () => streamer.stop(),
      'listen',
    );
    streamer.start();
  }
  return {
    url,
    frame,
    description: source.value.description,
    engine,
    engineOptions,
    hello,
    app,
    streamer,
    links,
    async close() {
      await streamer.stop();
      await app.close();
    },
  };
}
