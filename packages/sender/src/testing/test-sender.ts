import { codecEntries, type PatchCodecs } from '@mmsc/codec';
import { DEFAULT_MAX_MESSAGE_BYTES, type HelloMessage } from '@mmsc/protocol';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { DEMO_IMAGE } from '../assets.js';
import { FRAME_SIZE } from '../geometry.js';
import { curvesOf, helloFor } from '../hello.js';
import { DEFAULT_MODELS_DIR, loadCodecs, readManifest } from '../models.js';
import { DEFAULT_CHROMA } from '../pipeline/encode-video.js';
import { InlineModels, SourcePipeline } from '../pipeline/frame-pipeline.js';
import { WorkerModels } from '../pipeline/worker-models.js';
import { groundText } from '../relevance/grounder.js';
import { loadRelevance } from '../relevance/load-relevance.js';
import type { DetectorRelevance } from '../relevance/relevance-model.js';
import { type AppOptions, buildApp } from '../server/app.js';
import { defaultLimits, type Limits } from '../server/limits.js';
import { Links } from '../server/links.js';
import { Streamer } from '../server/streamer.js';
import { type FrameSource, openSource } from '../sources/sources.js';

/** What the sender logged, one parsed pino record per line. */
export interface LogRecord {
  level: number;
  msg: string;
  [k: string]: unknown;
}

interface Models {
  encoders: PatchCodecs;
  relevance: DetectorRelevance;
  hello: HelloMessage;
  curves: ReturnType<typeof curvesOf>;
  decoderFiles: string[];
}
let models: Promise<Models> | null = null;

/** The committed models, loaded once per test file. */
export function testModels(): Promise<Models> {
  models ??= (async () => {
    const codecs = codecEntries(await readManifest());
    const [encoders, relevance] = await Promise.all([loadCodecs('encoder'), loadRelevance()]);
    return {
      encoders,
      relevance,
      hello: helloFor(codecs, 10, DEFAULT_MAX_MESSAGE_BYTES),
      curves: curvesOf(codecs),
      decoderFiles: codecs.map((c) => c.decoder.file),
    };
  })();
  return models;
}

export interface TestSender {
  app: FastifyInstance;
  streamer: Streamer;
  url: string;
  token: string | null;
  logs: LogRecord[];
  /** The logger the sender writes to (into `logs`). */
  logger: pino.Logger;
  close(): Promise<void>;
}

/** The real sender (models, streamer, fastify app) in this process, listening on 127.0.0.1. */
export async function startTestSender(
  o: {
    source?: FrameSource;
    token?: string | null;
    limits?: Partial<Limits>;
    listen?: boolean;
    /** Where the models run: this thread (default, shared by the file's senders) or a worker of its own. */
    pipeline?: 'inline' | 'worker';
  } & Partial<Pick<AppOptions, 'allowOrigins' | 'https' | 'appDir'>> = {},
): Promise<TestSender> {
  const m = await testModels();
  const source = o.source ?? (await openSource(DEMO_IMAGE, FRAME_SIZE, 10));
  const logs: LogRecord[] = [];
  const logger = pino(
    { level: 'debug', base: null },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as LogRecord);
      },
    },
  );
  const models =
    o.pipeline === 'worker'
      ? await WorkerModels.start(DEFAULT_MODELS_DIR, { log: logger, classes: m.relevance.lexicon.classes })
      : new InlineModels(m.relevance, m.encoders);
  const pipeline = new SourcePipeline(source, models, { width: m.hello.width, height: m.hello.height });
  const lexicon = m.relevance.lexicon;
  const limits = { ...defaultLimits(), ...o.limits };
  const links = new Links({
    hello: m.hello,
    engineOptions: { allocator: 'rd', curves: m.curves, chroma: DEFAULT_CHROMA },
    initialQuery: groundText('dog', lexicon),
    ground: (text) => groundText(text, lexicon),
    fps: 10,
    maxBps: 20e6,
    relevanceEvery: 10,
    limits,
    log: logger,
  });
  const streamer = new Streamer(pipeline, links, { fps: 10, log: logger });
  const token = o.token === undefined ? 'test-token-0123456789' : o.token;
  const app = await buildApp({
    streamer,
    appDir: o.appDir ?? null,
    ortDir: null,
    modelsDir: DEFAULT_MODELS_DIR,
    modelFiles: ['manifest.json', ...m.decoderFiles],
    token,
    allowOrigins: o.allowOrigins ?? [],
    ...(o.limits ? { limits: o.limits } : {}),
    logger,
    ...(o.https ? { https: o.https } : {}),
  });
  let url = '';
  if (o.listen !== false) {
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    streamer.start();
  }
  return {
    app,
    streamer,
    url,
    token,
    logs,
    logger,
    async close() {
      await streamer.stop();
      await app.close();
    },
  };
}
