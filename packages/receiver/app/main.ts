/**
 * The operator's page: connects to the sender (signalling + WebRTC data channel), collects frame
 * parts into frames and acknowledges each with feedback, hands frames to the decode worker, shows
 * the pictures it returns, and carries the query box, grounding report, overlays and link stats.
 *
 * `?debug` keeps a bounded log of the raw protocol messages of the session for tests
 * (`window.mmsc.log()`); `window.mmsc` also exposes the state, the shown picture and a benchmark.
 */
import {
  contextFromHello,
  decodeMessage,
  type ErrorMessage,
  encodeMessage,
  type FrameMessage,
  type GroundingMessage,
  type HelloMessage,
  KEEP_LEVEL,
  LIMITS,
  type Message,
  type ProtocolContext,
  type RelevanceMessage,
} from '@mmsc/protocol';
import { type ApplyStats, type CollectedFrame, FrameCollector, feedbackFor, LinkStats, MISSING } from '../src/index.js';
import { Connection, type ConnectionState } from './connection.js';
import { byId, el } from './dom.js';
import { renderGrounding } from './grounding.js';
import { formatBits, formatBytes, Sparkline } from './stats.js';
import { PictureView } from './view.js';
import type { BenchMix, BenchResult, FromWorker, ToWorker } from './worker-api.js';

const params = new URLSearchParams(location.search);
const DEBUG = params.has('debug');
/**
 * The operator token `mmsc serve` printed in its URL (`/?token=…`); kept for this tab so a reload
 * without it still works. Sent on /signal (query: a WebSocket cannot carry headers), /stats and
 * /models (Authorization header).
 */
const TOKEN = (() => {
  const t = params.get('token') ?? sessionStorage.getItem('mmsc-token');
  if (t) sessionStorage.setItem('mmsc-token', t);
  return t;
})();
const AUTH: Record<string, string> = TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {};
/** Why frames stopped coming, as the sender said (`no-frames`); cleared by the next frame. */
let sourceProblem: string | null = null;
const LOG_LIMIT = { messages: 20_000, bytes: 96 * 1024 * 1024 };
const HISTORY = 600;

// ---- elements -------------------------------------------------------------------------------

const ui = {
  conn: byId('conn'),
  connText: byId('conn-text'),
  reconnect: byId<HTMLButtonElement>('reconnect'),
  session: byId('session'),
  stage: byId('stage'),
  stageMsg: byId('stage-msg'),
  frameInfo: byId('frame-info'),
  ovRelevance: byId<HTMLInputElement>('ov-relevance'),
  ovLevels: byId<HTMLInputElement>('ov-levels'),
  levelMode: byId<HTMLSelectElement>('level-mode'),
  scale: byId<HTMLSelectElement>('scale'),
  relevanceCanvas: byId<HTMLCanvasElement>('overlay-relevance'),
  levelsCanvas: byId<HTMLCanvasElement>('overlay-levels'),
  legendLevels: byId('legend-levels'),
  legendRelevance: byId('legend-relevance'),
  queryForm: byId<HTMLFormElement>('query-form'),
  query: byId<HTMLInputElement>('query'),
  queryStatus: byId('query-status'),
  grounding: byId('grounding'),
  events: byId('events'),
  st: {
    fps: byId('st-fps'),
    latency: byId('st-latency'),
    rate: byId('st-rate'),
    bytes: byId('st-bytes'),
    budgetBar: byId('st-budget-bar'),
    link: byId('st-link'),
    decode: byId('st-decode'),
    patches: byId('st-patches'),
    frames: byId('st-frames'),
  },
};

const view = new PictureView(ui.stage, byId<HTMLCanvasElement>('picture'), ui.relevanceCanvas, ui.levelsCanvas);
const sparks = {
  fps: new Sparkline(byId<HTMLCanvasElement>('sp-fps'), '#5cc8ff', 120, 10),
  latency: new Sparkline(byId<HTMLCanvasElement>('sp-latency'), '#f2c94c', 120, 50),
  rate: new Sparkline(byId<HTMLCanvasElement>('sp-rate'), '#3ecf8e', 120, 100_000),
  link: new Sparkline(byId<HTMLCanvasElement>('sp-link'), '#bb6bd9', 120, 100_000),
  decode: new Sparkline(byId<HTMLCanvasElement>('sp-decode'), '#ff8a65', 120, 10),
};
const stats = new LinkStats();

// ---- session state --------------------------------------------------------------------------

interface FrameEntry {
  frameId: number;
  receiveTs: number;
  captureTs: number;
  bytes: number;
  budget: number;
  parts: number;
  partsReceived: number;
  complete: boolean;
  /** Level symbols as sent (7 keep, 255 lost). */
  levels: Uint8Array;
  /** Query id of the latest grounding received when the frame completed. */
  groundingId: string | null;
  shownAt: number | null;
  applyMs: number | null;
  /** Patches decoded from this frame's payload (the rest reused or interpolated). */
  decoded: number | null;
}

interface Wanted {
  queryId: string;
  text: string;
  sentAt: number | null;
  groundedAt: number | null;
  firstFrameId: number | null;
}

let connState: ConnectionState = 'idle';
let connDetail = '';
let epoch = 0;
let hello: HelloMessage | null = null;
let ctx: ProtocolContext | null = null;
let collector: FrameCollector | null = null;
let grounding: GroundingMessage | null = null;
let relevance: RelevanceMessage | null = null;
let decoderReady = false;
let decoderError: string | null = null;
let shownFrameId: number | null = null;
let shownLevels: Uint8Array | null = null;
let framesShown = 0;
let lastApply: ApplyStats | null = null;
let workerQueue = 0;
let protocolErrors = 0;
let senderRate: { bps: number; mode: string } | null = null;
let wanted: Wanted | null = null;
let querySeq = 0;
const history: FrameEntry[] = [];
const relevances: { frameId: number; groundingId: string | null; width: number; height: number; values: Uint8Array }[] = [];
const log = { messages: [] as Uint8Array[], bytes: 0, truncated: false };

// ---- decode worker --------------------------------------------------------------------------

const workerUrl = new URL('./worker.js', import.meta.url);
if (TOKEN) workerUrl.searchParams.set('token', TOKEN); // the worker fetches /models with it
const worker = new Worker(workerUrl, { type: 'module', name: 'mmsc-decode' });
const post = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
let pendingPicture: Extract<FromWorker, { type: 'picture' }> | null = null;
let drawScheduled = false;
const benchWaiters = new Map<number, (r: BenchResult[]) => void>();

worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'ready':
      if (m.epoch !== epoch) return;
      decoderReady = true;
      decoderError = null;
      event(`decoders ready: ${m.models.join(', ')} (${m.loadMs} ms)`);
      updateStage();
      break;
    case 'picture':
      if (m.epoch !== epoch) return;
      workerQueue = m.queued;
      applied(m.frameId, m.stats);
      pendingPicture = m;
      if (!drawScheduled) {
        drawScheduled = true;
        requestAnimationFrame(draw);
      }
      break;
    case 'error':
      if (m.fatal) {
        decoderError = m.message;
        updateStage();
      }
      event(`decoder: ${m.message}`, true);
      break;
    case 'bench':
      benchWaiters.get(m.id)?.(m.results);
      benchWaiters.delete(m.id);
      break;
  }
};
worker.onerror = (e) => {
  decoderError = `the decode worker failed: ${e.message}`;
  event(decoderError, true);
  updateStage();
};

function draw(): void {
  drawScheduled = false;
  const p = pendingPicture;
  pendingPicture = null;
  if (!p || p.epoch !== epoch) return;
  view.drawPicture(p.rgba, p.width, p.height);
  shownFrameId = p.frameId;
  shownLevels = p.shown;
  lastApply = p.stats;
  framesShown++;
  const now = Date.now();
  stats.onShown(now, p.stats);
  const entry = findFrame(p.frameId);
  if (entry) entry.shownAt = now;
  if (wanted && wanted.groundedAt !== null && wanted.firstFrameId === null && entry && entry.receiveTs > wanted.groundedAt) {
    wanted.firstFrameId = p.frameId;
    setQueryStatus('applied', `“${wanted.text}” shapes the picture since frame #${p.frameId}.`);
  }
  drawLevels();
  updateStage();
  ui.frameInfo.textContent = `frame #${p.frameId}${entry && !entry.complete ? ' (incomplete)' : ''}`;
}

/** Every frame's decode cost is recorded, including frames a faster successor kept off the screen. */
function applied(frameId: number, s: ApplyStats): void {
  const entry = findFrame(frameId);
  if (entry) {
    entry.applyMs = s.decodeMs;
    entry.decoded = s.decoded;
  }
}

function findFrame(frameId: number): FrameEntry | undefined {
  for (let i = history.length - 1; i >= 0; i--) if (history[i]?.frameId === frameId) return history[i];
  return undefined;
}

// ---- connection -----------------------------------------------------------------------------

const signalUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal${TOKEN ? `?token=${encodeURIComponent(TOKEN)}` : ''}`;
const conn = new Connection(signalUrl, {
  async explainRefusal() {
    // A refused WebSocket upgrade shows the page no status; /stats answers the same check.
    try {
      const res = await fetch('/stats', { cache: 'no-store', headers: AUTH });
      if (res.status === 401)
        return TOKEN
          ? 'the sender refused this token (it makes a new one at each start unless --token is given): open the URL it printed'
          : 'the sender needs a token: open the URL `mmsc serve` printed (…/?token=…)';
    } catch {
      // unreachable: the socket's own reason stands
    }
    return null;
  },
  state(s, detail) {
    connState = s;
    connDetail = detail;
    renderConnection();
    updateStage();
  },
  open() {
    event('data channel open; waiting for hello');
  },
  message: onMessage,
  notice: (text) => event(text, true),
  closed(reason) {
    event(`disconnected: ${reason}`, true);
    // What arrived of the frame in progress is still worth showing.
    for (const f of collector?.flush() ?? []) onFrame(f, false);
    collector = null;
    senderRate = null;
  },
});

function onMessage(data: ArrayBuffer, receiveTs: number): void {
  const bytes = new Uint8Array(data);
  stats.onBytes(bytes.length, receiveTs);
  if (DEBUG) keepLog(bytes);
  let msg: Message;
  try {
    msg = decodeMessage(bytes, ctx ?? undefined);
  } catch (e) {
    protocolErrors++;
    event(`protocol: ${(e as Error).message}`, true);
    return;
  }
  switch (msg.type) {
    case 'hello':
      onHello(msg);
      break;
    case 'frame':
      if (!collector) return; // frames before hello cannot be interpreted
      for (const f of collector.push(msg, bytes.length, receiveTs)) onFrame(f, true);
      break;
    case 'grounding':
      onGrounding(msg);
      break;
    case 'relevance':
      relevance = msg;
      relevances.push({
        frameId: msg.frameId,
        groundingId: grounding?.queryId ?? null,
        width: msg.width,
        height: msg.height,
        values: msg.values,
      });
      if (relevances.length > 100) relevances.shift();
      view.drawRelevance(msg.values, msg.width, msg.height);
      break;
    case 'error':
      onSenderError(msg);
      break;
    default:
      event(`unexpected ${msg.type} message from the sender`, true);
  }
}

function onHello(h: HelloMessage): void {
  epoch++;
  hello = h;
  ctx = contextFromHello(h);
  collector = new FrameCollector(ctx);
  decoderReady = false;
  decoderError = null;
  grounding = null;
  relevance = null;
  history.length = 0;
  relevances.length = 0;
  stats.reset();
  if (DEBUG) {
    // The log restarts with each session, its hello first.
    log.messages = log.messages.slice(-1);
    log.bytes = log.messages[0]?.length ?? 0;
    log.truncated = false;
  }
  conn.healthy();
  post({ type: 'session', epoch, hello: h });
  view.configure(h.width, h.height, h.patchSize, h.levels);
  view.clearRelevance();
  renderLegend();
  renderGrounding(ui.grounding, null);
  ui.session.textContent = `session ${h.sessionId} · ${h.width}×${h.height} · ${h.levels.length} levels · ${h.fps ?? '?'} fps`;
  event(`session ${h.sessionId}: ${h.width}×${h.height}, patch ${h.patchSize}, levels ${h.levels.map((l) => l.bytes).join('/')} B`);
  // A query the operator chose outlives reconnects: the new session starts with the sender's default.
  if (wanted) sendWanted();
  updateStage();
  setTimeout(() => void pollSenderStats(), 300);
}

function onFrame(f: CollectedFrame, live: boolean): void {
  if (live && ctx) conn.send(encodeMessage(feedbackFor(f), ctx));
  if (sourceProblem) {
    sourceProblem = null;
    updateStage();
  }
  const entry: FrameEntry = {
    frameId: f.frameId,
    receiveTs: f.lastReceiveTs,
    captureTs: f.captureTs,
    bytes: f.bytesReceived,
    budget: f.budget,
    parts: f.parts,
    partsReceived: f.partsReceived,
    complete: f.complete,
    levels: f.levels.slice(),
    groundingId: grounding?.queryId ?? null,
    shownAt: null,
    applyMs: null,
    decoded: null,
  };
  history.push(entry);
  if (history.length > HISTORY) history.shift();
  stats.onFrame({
    frameId: f.frameId,
    receiveTs: f.lastReceiveTs,
    captureTs: f.captureTs,
    bytes: f.bytesReceived,
    budget: f.budget,
    complete: f.complete,
  });
  // Hand the parts' buffers over instead of copying them (the log, if any, holds its own copies).
  const transfer = new Set<ArrayBuffer>();
  for (const part of f.received as FrameMessage[]) {
    for (const b of [part.payload.buffer, part.levels.buffer]) if (b instanceof ArrayBuffer && b.byteLength > 0) transfer.add(b);
  }
  post({ type: 'frame', epoch, frame: f }, [...transfer]);
}

function onGrounding(g: GroundingMessage): void {
  grounding = g;
  renderGrounding(ui.grounding, g);
  if (wanted && g.queryId === wanted.queryId) {
    wanted.groundedAt = Date.now();
    const ms = wanted.sentAt === null ? 0 : wanted.groundedAt - wanted.sentAt;
    const lead = g.fallback ? 'Nothing in it grounded (query-agnostic fallback)' : `Grounded in ${ms} ms`;
    setQueryStatus('pending', `${lead}; waiting for the next frame…`);
  } else if (!wanted) {
    // The sender's initial query: show it in the box unless the operator is typing.
    if (document.activeElement !== ui.query && ui.query.value === '') ui.query.value = g.text;
    setQueryStatus('idle', `The sender's initial query. Type another and press Enter.`);
  }
}

function onSenderError(m: ErrorMessage): void {
  event(`sender: ${m.code}: ${m.message}`, true);
  if (m.code === 'no-frames') {
    sourceProblem = m.message;
    updateStage();
  }
  if (wanted && m.ref === wanted.queryId) setQueryStatus('error', `The sender rejected the query: ${m.message}`);
}

// ---- query ----------------------------------------------------------------------------------

ui.queryForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.query.value.trim().replace(/\s+/g, ' ');
  if (new TextEncoder().encode(text).length > LIMITS.textBytes) {
    setQueryStatus('error', `A query is at most ${LIMITS.textBytes} bytes.`);
    return;
  }
  wanted = { queryId: `q${++querySeq}-${Date.now().toString(36)}`, text, sentAt: null, groundedAt: null, firstFrameId: null };
  sendWanted();
});

function sendWanted(): void {
  if (!wanted) return;
  wanted.groundedAt = null;
  wanted.firstFrameId = null;
  if (ctx && conn.send(encodeMessage({ type: 'query', queryId: wanted.queryId, text: wanted.text }, ctx))) {
    wanted.sentAt = Date.now();
    setQueryStatus('pending', `“${wanted.text}” sent; waiting for the sender's grounding…`);
  } else {
    wanted.sentAt = null;
    setQueryStatus('pending', `“${wanted.text}” will be sent when the connection is back.`);
  }
}

function setQueryStatus(state: 'idle' | 'pending' | 'applied' | 'error', text: string): void {
  ui.queryStatus.dataset.state = state;
  ui.queryStatus.textContent = text;
}

// ---- overlays, legend, stage ----------------------------------------------------------------

const prefs = {
  get(key: string): string | null {
    try {
      return localStorage.getItem(`mmsc.${key}`);
    } catch {
      return null;
    }
  },
  set(key: string, value: string): void {
    try {
      localStorage.setItem(`mmsc.${key}`, value);
    } catch {
      // private mode: preferences just do not persist
    }
  },
};

ui.ovRelevance.checked = (params.get('relevance') ?? prefs.get('relevance')) === '1';
ui.ovLevels.checked = (params.get('levels') ?? prefs.get('levels')) === '1';
ui.levelMode.value = params.get('levelMode') ?? prefs.get('levelMode') ?? 'shown';
ui.scale.value = params.get('scale') ?? prefs.get('scale') ?? '2';

function applyOverlayToggles(): void {
  ui.relevanceCanvas.hidden = !ui.ovRelevance.checked;
  ui.levelsCanvas.hidden = !ui.ovLevels.checked;
  ui.legendLevels.hidden = !ui.ovLevels.checked;
  ui.legendRelevance.hidden = !ui.ovRelevance.checked;
  ui.levelMode.disabled = !ui.ovLevels.checked;
  prefs.set('relevance', ui.ovRelevance.checked ? '1' : '0');
  prefs.set('levels', ui.ovLevels.checked ? '1' : '0');
  prefs.set('levelMode', ui.levelMode.value);
  renderLegend();
  drawLevels();
}
for (const c of [ui.ovRelevance, ui.ovLevels, ui.levelMode]) c.addEventListener('change', applyOverlayToggles);
ui.scale.addEventListener('change', () => {
  view.setScale(Number(ui.scale.value) || 2);
  prefs.set('scale', ui.scale.value);
});
view.setScale(Number(ui.scale.value) || 2);
applyOverlayToggles();
ui.reconnect.addEventListener('click', () => {
  event('reconnecting (operator)');
  conn.reconnectNow();
});

function levelMap(): Uint8Array | null {
  if (ui.levelMode.value === 'sent') return shownFrameId === null ? null : (findFrame(shownFrameId)?.levels ?? null);
  return shownLevels;
}

function drawLevels(): void {
  const map = levelMap();
  if (ui.ovLevels.checked && map) view.drawLevels(map);
}

function renderLegend(): void {
  const sent = ui.levelMode.value === 'sent';
  const skipIds = new Set((hello?.levels ?? []).filter((l) => l.kind === 'skip').map((l) => l.id));
  // On screen there is always a copy (or an interpolation): skip and keep only describe a frame.
  const items = [...view.levelStyles.values()].filter((s) => sent || (s.symbol !== KEEP_LEVEL && !skipIds.has(s.symbol)));
  ui.legendLevels.replaceChildren(
    el('span', { class: 'muted' }, sent ? 'sent in the frame:' : 'copy on screen:'),
    ...items.map((s) =>
      el(
        'span',
        { data: { symbol: String(s.symbol) } },
        el('span', { class: 'swatch', style: `background:${s.css}` }),
        s.symbol === MISSING ? (sent ? 'lost (part missing)' : 'interpolated (no copy yet)') : s.label,
      ),
    ),
  );
}

const CONN_TEXT: Record<ConnectionState, string> = {
  idle: 'Idle',
  connecting: 'Connecting…',
  negotiating: 'Negotiating…',
  open: 'Connected',
  waiting: 'Disconnected',
};

function renderConnection(): void {
  ui.conn.dataset.state = connState;
  let text = CONN_TEXT[connState];
  if (connState === 'waiting') {
    const s = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
    text += ` — ${connDetail}; retrying in ${s} s`;
  } else if (connState === 'negotiating') text += ` (${connDetail})`;
  ui.connText.textContent = text;
  ui.conn.title = connDetail;
}

function updateStage(): void {
  const stale = connState !== 'open' && shownFrameId !== null;
  ui.stage.classList.toggle('stale', stale);
  let msg: string | null = null;
  let error = false;
  if (decoderError) {
    msg = `Cannot decode: ${decoderError}`;
    error = true;
  } else if (connState !== 'open') {
    msg = connState === 'waiting' ? `Connection lost: ${connDetail}. Reconnecting…` : `${CONN_TEXT[connState]} ${connDetail}`;
    if (shownFrameId !== null) msg += ` (showing frame #${shownFrameId})`;
  } else if (!hello) msg = 'Connected; waiting for the session to start…';
  else if (sourceProblem && shownFrameId === null) {
    msg = `The sender has no picture to send: ${sourceProblem}`;
    error = true;
  } else if (!decoderReady) msg = 'Loading the patch decoders (onnxruntime-web)…';
  else if (shownFrameId === null) msg = 'Waiting for the first frame…';
  ui.stageMsg.hidden = msg === null;
  ui.stageMsg.classList.toggle('error', error);
  if (msg !== null) ui.stageMsg.textContent = msg;
}

// ---- events and stats -----------------------------------------------------------------------

function event(text: string, bad = false): void {
  const t = new Date();
  const time = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}:${String(t.getSeconds()).padStart(2, '0')}`;
  ui.events.prepend(el('li', { class: bad ? 'bad' : '' }, el('time', {}, time), text));
  while (ui.events.childElementCount > 40) ui.events.lastElementChild?.remove();
}

function tick(): void {
  const now = Date.now();
  const fps = stats.fps(now);
  const latency = stats.latency();
  const rate = stats.bitrate(now);
  const last = stats.last;
  const fromBudgets = stats.rateFromBudgets(now, hello?.fps ?? null);
  const link = senderRate?.bps ?? fromBudgets;
  ui.st.fps.textContent = `${fps.toFixed(1)} fps`;
  ui.st.latency.textContent = latency === null ? '–' : `${Math.round(latency)} ms`;
  ui.st.rate.textContent = formatBits(rate);
  if (last) {
    const share = last.budget > 0 ? last.bytes / last.budget : 0;
    ui.st.bytes.textContent = `${formatBytes(last.bytes)} / ${formatBytes(last.budget)}`;
    ui.st.budgetBar.style.width = `${Math.min(100, share * 100).toFixed(0)}%`;
    ui.st.budgetBar.classList.toggle('over', share > 1);
  }
  ui.st.link.textContent = link === null ? '–' : `${formatBits(link)} ${senderRate ? `(sender, ${senderRate.mode})` : '(from budgets)'}`;
  let peak = 0;
  for (const f of history) if (f.receiveTs > now - 10_000 && f.applyMs !== null) peak = Math.max(peak, f.applyMs);
  ui.st.decode.textContent = lastApply
    ? `${lastApply.decodeMs.toFixed(1)} ms · peak ${peak.toFixed(1)}${workerQueue > 0 ? ` · ${workerQueue} queued` : ''}`
    : '–';
  if (lastApply) {
    ui.st.patches.textContent = `${lastApply.decoded} decoded · ${lastApply.reused} reused · ${lastApply.interpolated} interpolated`;
  }
  ui.st.frames.textContent = `${stats.framesReceived} received · ${framesShown} shown · ${stats.framesIncomplete} incomplete · ${stats.budgetViolations} over budget${protocolErrors ? ` · ${protocolErrors} protocol errors` : ''}`;
  const open = connState === 'open';
  sparks.fps.push(open ? fps : null);
  sparks.latency.push(open ? latency : null);
  sparks.rate.push(open ? rate : null);
  sparks.link.push(open ? link : null);
  sparks.decode.push(open && lastApply ? lastApply.decodeMs : null);
  if (connState === 'waiting') renderConnection();
}
setInterval(tick, 500);

/** The sender's own estimate of this link's rate, from /stats. */
async function pollSenderStats(): Promise<void> {
  if (connState !== 'open' || !hello) return;
  try {
    const res = await fetch('/stats', { cache: 'no-store', headers: AUTH });
    if (!res.ok) return;
    const s = (await res.json()) as { receivers?: { id: string; rate?: { rateBps?: number; mode?: string } }[] };
    const me = s.receivers?.find((r) => r.id === hello?.sessionId);
    senderRate = me?.rate?.rateBps ? { bps: me.rate.rateBps, mode: me.rate.mode ?? '?' } : null;
  } catch {
    senderRate = null;
  }
}
setInterval(() => void pollSenderStats(), 2000);

// ---- debug / test API -----------------------------------------------------------------------

function keepLog(bytes: Uint8Array): void {
  if (log.truncated) return;
  if (log.messages.length >= LOG_LIMIT.messages || log.bytes + bytes.length > LOG_LIMIT.bytes) {
    log.truncated = true;
    return;
  }
  log.messages.push(bytes.slice());
  log.bytes += bytes.length;
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

let benchSeq = 0;
const api = {
  state: () => ({
    connection: connState,
    detail: connDetail,
    sessionId: hello?.sessionId ?? null,
    epoch,
    decoderReady,
    decoderError,
    shownFrameId,
    framesShown,
    framesReceived: stats.framesReceived,
    grounding,
    queryStatus: { state: ui.queryStatus.dataset.state ?? 'idle', text: ui.queryStatus.textContent },
    wanted,
    relevanceFrameId: relevance?.frameId ?? null,
  }),
  /** The picture as the canvas holds it (unscaled RGBA, base64) and the frame it shows. */
  snapshot: () => {
    const img = view.pixels();
    return { frameId: shownFrameId, epoch, width: img.width, height: img.height, rgba: base64(new Uint8Array(img.data.buffer)) };
  },
  /** The session's raw protocol messages (needs ?debug), oldest first, base64. */
  log: () => ({ enabled: DEBUG, truncated: log.truncated, messages: log.messages.map(base64) }),
  frames: () => history.map((f) => ({ ...f, levels: base64(f.levels) })),
  relevances: () => relevances.map((r) => ({ ...r, values: base64(r.values) })),
  /** Decode + reassembly time of synthetic frames with the given level mixes, in the worker. */
  bench: (mixes: BenchMix[], frames = 50) =>
    new Promise<BenchResult[]>((resolve) => {
      const id = ++benchSeq;
      benchWaiters.set(id, resolve);
      post({ type: 'bench', id, mixes, frames });
    }),
};
(globalThis as unknown as { mmsc: typeof api }).mmsc = api;

renderGrounding(ui.grounding, null);
conn.start();
// Leaving the page closes the data channel, so the sender ends the session now rather than
// streaming to nobody until it notices.
addEventListener('pagehide', () => conn.stop());
addEventListener('pageshow', (e) => {
  if (e.persisted) conn.start(); // back from the back/forward cache
});
