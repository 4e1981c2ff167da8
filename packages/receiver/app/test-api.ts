/**
 * `window.mmsc`: what the browser tests and the receiver benchmark read (packages/receiver/e2e). Its
 * shape is theirs; change the two together.
 */
import type { ReceiverApp } from './app.js';
import type { BenchMix } from './worker-api.js';

const LOG_LIMIT = { messages: 20_000, bytes: 96 * 1024 * 1024 };

/** The session's raw protocol messages, with `?debug` only: tests replay them through the Node receiver. */
export class MessageLog {
  messages: Uint8Array[] = [];
  bytes = 0;
  truncated = false;

  constructor(readonly enabled: boolean) {}

  keep(bytes: Uint8Array): void {
    if (!this.enabled || this.truncated) return;
    if (this.messages.length >= LOG_LIMIT.messages || this.bytes + bytes.length > LOG_LIMIT.bytes) {
      this.truncated = true;
      return;
    }
    this.messages.push(bytes.slice());
    this.bytes += bytes.length;
  }

  /** A new session: the log restarts with its hello, the message just kept. */
  restart(): void {
    if (!this.enabled) return;
    this.messages = this.messages.slice(-1);
    this.bytes = this.messages[0]?.length ?? 0;
    this.truncated = false;
  }
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function testApi(app: ReceiverApp) {
  const { session, stats, history, log } = app;
  return {
    state: () => ({
      connection: session.link,
      detail: session.detail,
      sessionId: session.sessionId,
      epoch: session.epoch,
      decoderReady: session.decoderReady,
      decoderError: session.decoderError,
      shownFrameId: session.shownFrameId,
      framesShown: stats.framesShown,
      framesReceived: stats.framesReceived,
      grounding: app.grounding,
      queryStatus: app.query.current(),
      wanted: session.query.wanted,
      relevanceFrameId: app.relevance?.frameId ?? null,
    }),
    /** The picture as the canvas holds it (unscaled RGBA, base64) and the frame it shows. */
    snapshot: () => {
      const img = app.view.pixels();
      return {
        frameId: session.shownFrameId,
        epoch: session.epoch,
        width: img.width,
        height: img.height,
        rgba: base64(new Uint8Array(img.data.buffer)),
      };
    },
    /** The session's raw protocol messages (needs ?debug), oldest first, base64. */
    log: () => ({ enabled: log.enabled, truncated: log.truncated, messages: log.messages.map(base64) }),
    frames: () => history.frames.map((f) => ({ ...f, levels: base64(f.levels) })),
    relevances: () => history.relevances.map((r) => ({ ...r, values: base64(r.values) })),
    /** Decode + reassembly time of synthetic frames with the given level mixes, in the worker. */
    bench: (mixes: BenchMix[], frames = 50) => app.decoder.bench(mixes, frames),
  };
}
