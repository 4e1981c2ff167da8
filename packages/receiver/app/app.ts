/**
 * The operator's page as an adapter over the receiver's ReceivingSession: the session owns the
 * link, collection, feedback, the query and the stats; the decode worker (DecoderClient) makes the
 * pictures; this object wires both to the panels and owns what only the page shows.
 */
import type { HelloMessage } from '@mmsc/protocol';
import { linkQuality, PAGE_RETRY, pictureSource, ReceivingSession, type SessionError } from '../src/index.js';
import { pageTransport } from './connection.js';
import { type ControlElements, PictureControls } from './controls.js';
import { DecoderClient, type Picture } from './decoder.js';
import { EventLog } from './events.js';
import { SessionHistory } from './history.js';
import { MessageLog } from './message-log.js';
import { type LevelMode, type OverlayElements, Overlays } from './overlays.js';
import { type QueryElements, QueryPanel } from './query-panel.js';
import { SenderStats } from './sender-stats.js';
import { type StageElements, StageView } from './stage.js';
import { type SparkCanvases, type StatsElements, StatsPanel } from './stats.js';
import { PictureView } from './view.js';

export interface AppConfig {
  signalUrl: string;
  /** The operator token: for /stats here, /models in the worker (the signal URL carries its own). */
  token: string | null;
  /** Keep the session's raw messages for the tests. */
  debug: boolean;
  params: URLSearchParams;
}

export interface AppElements {
  stage: StageElements;
  picture: HTMLCanvasElement;
  overlays: OverlayElements;
  query: QueryElements;
  stats: StatsElements;
  sparks: SparkCanvases;
  events: HTMLElement;
  reconnect: HTMLButtonElement;
  rateCap: HTMLSelectElement;
  relevanceFrame: HTMLElement;
  controls: Omit<ControlElements, 'stage' | 'picture'>;
}

export class ReceiverApp {
  readonly session: ReceivingSession<RTCDataChannel>;
  readonly history = new SessionHistory();
  readonly log: MessageLog;
  readonly view: PictureView;
  readonly query: QueryPanel;
  readonly decoder: DecoderClient;
  /** A video stream's coded format, from the last decoded picture (null until one). */
  private format: string | null = null;
  private shownLevels: Uint8Array | null = null;
  private readonly senderStats: SenderStats;
  private readonly stage: StageView;
  private readonly statsPanel: StatsPanel;
  private readonly events: EventLog;
  private readonly overlays: Overlays;
  readonly controls: PictureControls;
  /** Tells the sender the operator's view again when a data channel opens (a new session starts without it). */
  private readonly sendView: () => void;
  private readonly relevanceFrame: HTMLElement;
  /** The frame whose relevance map the overlay shows (null: none yet). */
  overlayFrameId: number | null = null;

  constructor(config: AppConfig, ui: AppElements) {
    this.senderStats = new SenderStats(config.token);
    this.log = new MessageLog(config.debug);
    this.stage = new StageView(ui.stage);
    this.statsPanel = new StatsPanel(ui.stats, ui.sparks);
    this.events = new EventLog(ui.events);
    this.view = new PictureView(ui.stage.stage, ui.picture, ui.overlays.relevanceCanvas, ui.overlays.levelsCanvas);
    this.decoder = new DecoderClient(config.token, {
      show: (p) => this.show(p),
      crashed: (message) => {
        const why = `the decode worker failed: ${message}`;
        this.session.machine.decoderFailed(why);
        this.events.add(why, true);
        this.renderStage();
      },
    });
    const page = pageTransport(config.signalUrl, () => this.senderStats.refusal());
    const s = new ReceivingSession<RTCDataChannel>({
      // The video track's pictures are logged beside the messages (?debug).
      transport: {
        ...page,
        createPeer: (servers, media) =>
          page.createPeer(servers, {
            ...media,
            picture: (p) => {
              this.log.keepPicture(p);
              media.picture(p);
            },
          }),
      },
      retry: PAGE_RETRY,
      decoding: this.decoder,
    });
    this.session = s;
    this.query = new QueryPanel(ui.query, (text) => s.query(text));
    s.on('state', () => this.renderConnection());
    s.on('stage', () => this.renderStage());
    s.on('open', () => {
      this.events.add('data channel open');
      this.sendView();
    });
    s.on('data', (bytes) => this.log.keep(bytes));
    s.on('hello', (h) => this.onHello(h));
    s.on('frame', ({ frame }) => this.history.addFrame(frame, s.grounding?.queryId ?? null));
    s.on('decoderReady', (_epoch, r) => this.events.add(`decoders ready: ${r.models.join(', ')} (${r.loadMs} ms)`));
    s.on('decoded', (p) => {
      const entry = this.history.find(p.frameId);
      if (entry) {
        entry.applyMs = p.stats.decodeMs;
        entry.decoded = p.stats.decoded;
      }
    });
    s.on('refresh', (frameId, reason) =>
      this.events.add(
        frameId === null
          ? `pictures lost on the video track (${reason}): keyframe asked for`
          : `picture ${frameId} not decoded (${reason}): keyframe asked for`,
        true,
      ),
    );
    s.on('grounding', (g, whose) => {
      this.query.grounding(g);
      if (whose === 'sender') this.query.offer(g.text);
    });
    // A map is drawn with the picture it coded (same frame id), when that picture is shown.
    s.on('relevance', (m) => {
      this.history.addRelevance({
        frameId: m.frameId,
        groundingId: s.grounding?.queryId ?? null,
        width: m.width,
        height: m.height,
        values: m.values,
      });
    });
    s.on('query', (state, text) => this.query.status(state, text));
    s.on('error', (e) => this.onError(e));
    s.on('notice', (text) => this.events.add(text, true));
    s.on('closed', (reason) => this.events.add(`disconnected: ${reason}`, true));
    this.overlays = new Overlays(ui.overlays, this.view, config.params, (mode) => this.levelMap(mode));
    // The operator's view (`view` message): maps with every frame while the overlay is on, the rate cap.
    const sendView = () => s.send({ type: 'view', maps: ui.overlays.relevance.checked, maxBps: Number(ui.rateCap.value) || 0 });
    ui.overlays.relevance.addEventListener('change', sendView);
    ui.rateCap.addEventListener('change', () => {
      sendView();
      this.events.add(ui.rateCap.value === '0' ? 'rate cap lifted' : `rate cap ${Number(ui.rateCap.value) / 1e6} Mbit/s`);
    });
    this.sendView = () => {
      if (ui.overlays.relevance.checked || ui.rateCap.value !== '0') sendView();
    };
    this.relevanceFrame = ui.relevanceFrame;
    this.controls = new PictureControls({ ...ui.controls, stage: ui.stage.stage, picture: ui.picture }, () => ({
      frameId: s.machine.shownFrameId,
      query: s.grounding?.text ?? null,
    }));
    ui.reconnect.addEventListener('click', () => {
      this.events.add('reconnecting (operator)');
      s.reconnectNow();
    });
  }

  start(): void {
    setInterval(() => this.tick(), 500);
    setInterval(() => void this.pollSenderStats(), 2000);
    this.query.grounding(null);
    this.session.start();
    // Leaving the page closes the data channel, so the sender ends the session now rather than
    // streaming to nobody until it notices.
    addEventListener('pagehide', () => void this.session.stop());
    addEventListener('pageshow', (e) => {
      if (e.persisted) this.session.start(); // back from the back/forward cache
    });
  }

  private onHello(h: HelloMessage): void {
    this.format = null;
    this.history.clear();
    this.log.restart();
    this.view.configure(h.width, h.height, h.patchSize, h.levels);
    this.view.clearRelevance();
    const source = pictureSource(h.engine);
    this.overlays.session(h.levels, source.patchLevels);
    this.statsPanel.session(source.patchLevels);
    this.overlayFrameId = null;
    this.query.grounding(null);
    this.stage.session(h);
    this.events.add(`session ${h.sessionId}: ${h.width}×${h.height}, ${pictureSource(h.engine).describe(h, null)}`);
    setTimeout(() => void this.pollSenderStats(), 300);
  }

  private onError(e: SessionError): void {
    if (e.kind === 'protocol') this.events.add(`protocol: ${e.message}`, true);
    else if (e.kind === 'sender') this.events.add(`sender: ${e.code}: ${e.message}`, true);
    else if (e.kind === 'decoder' || e.kind === 'decode') this.events.add(`decoder: ${e.message}`, true);
    else if (e.kind === 'malformed-signal')
      this.events.add(`ignored a malformed signalling message from the sender (${e.error.code}: ${e.error.message})`, true);
    // The sender's signalling errors and failed negotiation end the attempt: `closed` says why.
  }

  private show(p: Picture): void {
    const hello = this.session.hello;
    if (p.stats.format && p.stats.format !== this.format && hello) {
      // A stream that restarts in 4:2:0 (`unsupported-format`) says so here as well as in the events.
      if (this.format !== null) this.events.add(`stream now coded as ${p.stats.format}`);
      this.format = p.stats.format;
      this.stage.session(hello, this.format);
    }
    // Paused, the screen holds the last picture drawn; the newest is drawn on resume.
    this.controls.picture(() => {
      this.view.drawPicture(p.rgba, p.width, p.height);
      // The map that coded this picture, if it came with it; else the overlay says which frame's it shows.
      const map = this.history.relevanceOf(p.frameId);
      if (map) {
        this.view.drawRelevance(map.values, map.width, map.height);
        this.overlayFrameId = p.frameId;
      }
      this.relevanceFrame.textContent =
        this.overlayFrameId === null
          ? ''
          : this.overlayFrameId === p.frameId
            ? `(frame #${p.frameId})`
            : `(from frame #${this.overlayFrameId})`;
    });
    this.shownLevels = p.shown;
    const now = Date.now();
    const entry = this.history.find(p.frameId);
    if (entry) entry.shownAt = now;
    this.session.shown(p.frameId, p.stats, entry?.receiveTs, now);
    this.overlays.drawLevels();
    this.stage.frame(p.frameId, entry !== undefined && !entry.complete);
  }

  private levelMap(mode: LevelMode): Uint8Array | null {
    if (mode === 'shown') return this.shownLevels;
    const id = this.session.machine.shownFrameId;
    return id === null ? null : (this.history.find(id)?.levels ?? null);
  }

  private renderConnection(): void {
    const m = this.session.machine;
    this.stage.connection(m.link, m.connectionText(Date.now(), this.session.link.retryAt), m.detail);
  }

  private renderStage(): void {
    this.stage.show(this.session.machine.stage());
  }

  private tick(): void {
    const link = this.session.machine.link;
    const summary = this.session.summary(Date.now());
    this.statsPanel.show(summary, link === 'open');
    this.statsPanel.quality(linkQuality(summary, this.session.hello?.fps ?? null, link === 'open'));
    if (link === 'waiting') this.renderConnection();
  }

  /** The sender's own estimate of this link's rate; an error answer keeps the last one. */
  private async pollSenderStats(): Promise<void> {
    if (this.session.machine.link !== 'open' || !this.session.hello) return;
    const rate = await this.senderStats.rate(() => this.session.hello?.sessionId ?? null);
    if (rate !== undefined) this.session.senderRate = rate;
  }
}
