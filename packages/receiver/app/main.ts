/**
 * The operator's page (index.html): reads its settings from the URL and wires the page's elements
 * to the receiver app (app.ts). `?debug` keeps the session's raw protocol messages for the tests;
 * `window.mmsc` (test-api.ts) exposes them, the state, the shown picture and a benchmark.
 */
import { ReceiverApp } from './app.js';
import { byId } from './dom.js';
import { testApi } from './test-api.js';

const params = new URLSearchParams(location.search);
/**
 * The operator token `mmsc serve` printed in its URL (`/?token=…`); kept for this tab so a reload
 * without it still works. Sent on /signal (query: a WebSocket cannot carry headers), /stats and
 * /models (Authorization header).
 */
const token = (() => {
  const t = params.get('token') ?? sessionStorage.getItem('mmsc-token');
  if (t) sessionStorage.setItem('mmsc-token', t);
  return t || null;
})();
// The token leaves the address bar (a shared screen or a copied link would show it); this tab keeps
// it for reconnects and reloads.
if (params.has('token')) {
  const clean = new URLSearchParams(params);
  clean.delete('token');
  const rest = clean.toString();
  history.replaceState(history.state, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
}
const signalUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal${token ? `?token=${encodeURIComponent(token)}` : ''}`;

const app = new ReceiverApp(
  { signalUrl, token, debug: params.has('debug'), params },
  {
    stage: {
      conn: byId('conn'),
      connText: byId('conn-text'),
      session: byId('session'),
      stage: byId('stage'),
      stageMsg: byId('stage-msg'),
      frameInfo: byId('frame-info'),
    },
    picture: byId<HTMLCanvasElement>('picture'),
    overlays: {
      relevance: byId<HTMLInputElement>('ov-relevance'),
      levels: byId<HTMLInputElement>('ov-levels'),
      levelMode: byId<HTMLSelectElement>('level-mode'),
      scale: byId<HTMLSelectElement>('scale'),
      relevanceCanvas: byId<HTMLCanvasElement>('overlay-relevance'),
      levelsCanvas: byId<HTMLCanvasElement>('overlay-levels'),
      legendLevels: byId('legend-levels'),
      legendRelevance: byId('legend-relevance'),
      levelsControls: byId('levels-controls'),
    },
    query: {
      form: byId<HTMLFormElement>('query-form'),
      input: byId<HTMLInputElement>('query'),
      history: byId<HTMLDataListElement>('query-history'),
      status: byId('query-status'),
      grounding: byId('grounding'),
    },
    stats: {
      fps: byId('st-fps'),
      latency: byId('st-latency'),
      rate: byId('st-rate'),
      bytes: byId('st-bytes'),
      budgetBar: byId('st-budget-bar'),
      link: byId('st-link'),
      decode: byId('st-decode'),
      patches: byId('st-patches'),
      frames: byId('st-frames'),
      quality: byId<HTMLButtonElement>('quality'),
    },
    sparks: {
      fps: byId<HTMLCanvasElement>('sp-fps'),
      latency: byId<HTMLCanvasElement>('sp-latency'),
      rate: byId<HTMLCanvasElement>('sp-rate'),
      link: byId<HTMLCanvasElement>('sp-link'),
      decode: byId<HTMLCanvasElement>('sp-decode'),
    },
    events: byId('events'),
    reconnect: byId<HTMLButtonElement>('reconnect'),
    rateCap: byId<HTMLSelectElement>('rate-cap'),
    relevanceFrame: byId('relevance-frame'),
    controls: {
      pause: byId<HTMLButtonElement>('pause'),
      snapshot: byId<HTMLButtonElement>('snapshot'),
      record: byId<HTMLButtonElement>('record'),
      fullscreen: byId<HTMLButtonElement>('fullscreen'),
    },
  },
);
// On a narrow screen the Link and Events panels start folded (the badge and a tap open them).
if (matchMedia('(max-width: 860px)').matches) for (const id of ['link-panel', 'events-panel']) byId<HTMLDetailsElement>(id).open = false;
byId('quality').addEventListener('click', () => {
  const panel = byId<HTMLDetailsElement>('link-panel');
  panel.open = true;
  panel.scrollIntoView({ block: 'nearest' });
});
(globalThis as unknown as { mmsc: ReturnType<typeof testApi> }).mmsc = testApi(app);
app.start();
