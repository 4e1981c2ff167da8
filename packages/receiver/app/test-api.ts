/**
 * `window.mmsc`: what the browser tests and the receiver benchmark read (packages/receiver/e2e). Its
 * shape is theirs; change the two together.
 */
import type { ReceiverApp } from './app.js';
import type { BenchMix } from './worker-api.js';

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function testApi(app: ReceiverApp) {
  const { history, log } = app;
  const { machine: session, stats } = app.session;
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
      grounding: app.session.grounding,
      queryStatus: app.query.current(),
      wanted: session.query.wanted,
      relevanceFrameId: app.session.relevance?.frameId ?? null,
      paused: app.controls.paused,
      overlayFrameId: app.overlayFrameId,
      queryHistory: app.query.history,
      fullscreen: document.fullscreenElement?.id ?? null,
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
    /**
     * The session's raw protocol messages (needs ?debug), oldest first, base64; and the video track's
     * pictures (a session on transport `rtp`), each with the index of the message it came before.
     */
    log: () => ({
      enabled: log.enabled,
      truncated: log.truncated,
      messages: log.messages.map(base64),
      pictures: log.pictures.map((p) => ({ ...p, data: base64(p.data) })),
    }),
    frames: () => history.frames.map((f) => ({ ...f, levels: base64(f.levels) })),
    relevances: () => history.relevances.map((r) => ({ ...r, values: base64(r.values) })),
    /** Decode + reassembly time of synthetic frames with the given level mixes, in the worker. */
    bench: (mixes: BenchMix[], frames = 50) => app.decoder.bench(mixes, frames),
  };
}
