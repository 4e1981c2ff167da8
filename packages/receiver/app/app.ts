/**
 * The operator's page as one object owning the session's state: it wires the connection, the decode
 * worker and the panels together. Frames are collected and acknowledged here, by the receiver's
 * FrameReceiver without decoders (feedback leaves as a frame completes, not after its decode), and
 * handed to the worker with their buffers; the worker makes the picture.
 */
import { type ErrorMessage, encodeMessage, type GroundingMessage, type HelloMessage, type RelevanceMessage } from '@mmsc/protocol';
import { type FinishedFrame, FrameReceiver, LinkStats, pictureSource, type SenderRate, SessionMachine } from '../src/index.js';
import { Connection } from './connection.js';
import { DecoderClient, type Picture } from './decoder.js';
import { EventLog } from './events.js';
import { SessionHistory } from './history.js';
import { type LevelMode, type OverlayElements, Overlays } from './overlays.js';
import { type QueryElements, QueryPanel } from './query-panel.js';
import { SenderStats } from './sender-stats.js';
import { type StageElements, StageView } from './stage.js';
import { type SparkCanvases, type StatsElements, StatsPanel } from './stats.js';
import { MessageLog } from './test-api.js';
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
}

export class ReceiverApp {
  readonly session: SessionMachine;
  readonly stats = new LinkStats();
  readonly history = new SessionHistory();
  readonly log: MessageLog;
  readonly view: PictureView;
  readonly query: QueryPanel;
  readonly decoder: DecoderClient;
  hello: HelloMessage | null = null;
  /** The h264 stream's coded format, from the last decoded picture (null until one). */
  private format: string | null = null;
  grounding: GroundingMessage | null = null;
  relevance: RelevanceMessage | null = null;
  /** Collects frames and their feedback (no decoders here: the worker decodes). */
  private readonly receiver = new FrameReceiver();
  private shownLevels: Uint8Array | null = null;
  private senderRate: SenderRate | null = null;
  private readonly senderStats: SenderStats;
  private readonly stage: StageView;
  private readonly statsPanel: StatsPanel;
  private readonly events: EventLog;
  private readonly overlays: Overlays;
  private readonly conn: Connection;

  constructor(config: AppConfig, ui: AppElements) {
    this.senderStats = new SenderStats(config.token);
    this.log = new MessageLog(config.debug);
    this.stage = new StageView(ui.stage);
    this.statsPanel = new StatsPanel(ui.stats, ui.sparks);
    this.events = new EventLog(ui.events);
    this.view = new PictureView(ui.stage.stage, ui.picture, ui.overlays.relevanceCanvas, ui.overlays.levelsCanvas);
    this.query = new QueryPanel(ui.query, (text) => this.session.query.submit(text));
    this.session = new SessionMachine({
      now: () => Date.now(),
      send: (queryId, text) => {
        const ctx = this.receiver.ctx;
        return ctx !== null && this.conn.send(encodeMessage({ type: 'query', queryId, text }, ctx));
      },
      status: (state, text) => this.query.status(state, text),
    });
    this.decoder = new DecoderClient(config.token, {
      epoch: () => this.session.epoch,
      ready: (epoch, models, loadMs) => {
        if (!this.session.decoderLoaded(epoch)) return;
        this.events.add(`decoders ready: ${models.join(', ')} (${loadMs} ms)`);
        this.renderStage();
      },
      decoded: (p) => this.decoded(p),
      show: (p) => this.show(p),
      error: (message, fatal) => {
        if (fatal) {
          this.session.decoderFailed(message);
          this.renderStage();
        }
        this.events.add(`decoder: ${message}`, true);
      },
      crashed: (message) => {
        const why = `the decode worker failed: ${message}`;
        this.session.decoderFailed(why);
        this.events.add(why, true);
        this.renderStage();
      },
    });
    this.conn = new Connection(config.signalUrl, {
      explainRefusal: () => this.senderStats.refusal(),
      state: (s, detail) => {
        this.session.linkChanged(s, detail);
        this.renderConnection();
        this.renderStage();
      },
      open: () => this.events.add('data channel open; waiting for hello'),
      message: (data, receiveTs) => this.onMessage(data, receiveTs),
      notice: (text) => this.events.add(text, true),
      closed: (reason) => {
        this.events.add(`disconnected: ${reason}`, true);
        // What arrived of the frame in progress is still worth showing.
        for (const f of this.receiver.close()) this.onFrame(f, false);
        this.senderRate = null;
      },
    });
    this.overlays = new Overlays(ui.overlays, this.view, config.params, (mode) => this.levelMap(mode));
    ui.reconnect.addEventListener('click', () => {
      this.events.add('reconnecting (operator)');
      this.conn.reconnectNow();
    });
  }

  start(): void {
    setInterval(() => this.tick(), 500);
    setInterval(() => void this.pollSenderStats(), 2000);
    this.query.grounding(null);
    this.conn.start();
    // Leaving the page closes the data channel, so the sender ends the session now rather than
    // streaming to nobody until it notices.
    addEventListener('pagehide', () => this.conn.stop());
    addEventListener('pageshow', (e) => {
      if (e.persisted) this.conn.start(); // back from the back/forward cache
    });
  }

  private onMessage(bytes: Uint8Array, receiveTs: number): void {
    this.stats.onBytes(bytes.length, receiveTs);
    this.log.keep(bytes);
    const r = this.receiver.receive(bytes, receiveTs);
    switch (r.type) {
      case 'invalid':
        this.stats.onProtocolError();
        this.events.add(`protocol: ${r.error.message}`, true);
        return;
      case 'hello':
        this.onHello(r.message);
        return;
      case 'frame':
        for (const f of r.frames) this.onFrame(f, true);
        return;
      case 'stray':
        return; // frames before hello cannot be interpreted
    }
    const msg = r.message;
    switch (msg.type) {
      case 'grounding':
        this.onGrounding(msg);
        break;
      case 'relevance':
        this.relevance = msg;
        this.history.addRelevance({
          frameId: msg.frameId,
          groundingId: this.grounding?.queryId ?? null,
          width: msg.width,
          height: msg.height,
          values: msg.values,
        });
        this.view.drawRelevance(msg.values, msg.width, msg.height);
        break;
      case 'error':
        this.onSenderError(msg);
        break;
      default:
        this.events.add(`unexpected ${msg.type} message from the sender`, true);
    }
  }

  private onHello(h: HelloMessage): void {
    this.hello = h;
    this.format = null;
    this.grounding = null;
    this.relevance = null;
    this.history.clear();
    this.stats.reset();
    this.log.restart();
    this.conn.healthy();
    const epoch = this.session.began(h.sessionId); // sends the operator's query again, if any
    this.decoder.session(epoch, h);
    this.view.configure(h.width, h.height, h.patchSize, h.levels);
    this.view.clearRelevance();
    this.overlays.session(h.levels);
    this.query.grounding(null);
    this.stage.session(h);
    this.events.add(`session ${h.sessionId}: ${h.width}×${h.height}, ${pictureSource(h.engine).describe(h, null)}`);
    this.renderStage();
    setTimeout(() => void this.pollSenderStats(), 300);
  }

  private onFrame({ frame, feedback }: FinishedFrame, live: boolean): void {
    const ctx = this.receiver.ctx;
    if (live && ctx) this.conn.send(encodeMessage(feedback, ctx));
    if (this.session.frameArrived()) this.renderStage();
    this.stats.onFrame(this.history.addFrame(frame, this.grounding?.queryId ?? null));
    this.decoder.frame(this.session.epoch, frame);
  }

  private onGrounding(g: GroundingMessage): void {
    this.grounding = g;
    this.query.grounding(g);
    if (this.session.query.grounded(g.queryId, g.fallback) === 'sender') this.query.offer(g.text);
  }

  private onSenderError(m: ErrorMessage): void {
    this.events.add(`sender: ${m.code}: ${m.message}`, true);
    if (this.session.senderError(m.code, m.message, m.ref)) this.renderStage();
  }

  /** Every frame's decode cost is recorded, including frames a faster successor kept off the screen. */
  private decoded(p: Picture): void {
    // An h264 picture that could not be decoded: the last one stays up and the sender is asked for a keyframe.
    const ctx = this.receiver.ctx;
    if (p.stats.refresh && ctx) {
      this.conn.send(encodeMessage({ type: 'refresh', reason: p.stats.refresh }, ctx));
      this.events.add(`picture ${p.frameId} not decoded (${p.stats.refresh}): keyframe asked for`, true);
    }
    const entry = this.history.find(p.frameId);
    if (entry) {
      entry.applyMs = p.stats.decodeMs;
      entry.decoded = p.stats.decoded;
    }
    this.stats.onDecoded(p.stats.decodeMs, entry?.receiveTs ?? null, p.queued);
  }

  private show(p: Picture): void {
    if (p.stats.format && p.stats.format !== this.format && this.hello) {
      // A stream that restarts in 4:2:0 (`unsupported-format`) says so here as well as in the events.
      if (this.format !== null) this.events.add(`stream now coded as ${p.stats.format}`);
      this.format = p.stats.format;
      this.stage.session(this.hello, this.format);
    }
    this.view.drawPicture(p.rgba, p.width, p.height);
    this.shownLevels = p.shown;
    const now = Date.now();
    this.stats.onShown(now, p.stats);
    const entry = this.history.find(p.frameId);
    if (entry) entry.shownAt = now;
    this.session.shown(p.frameId, entry?.receiveTs);
    this.overlays.drawLevels();
    this.renderStage();
    this.stage.frame(p.frameId, entry !== undefined && !entry.complete);
  }

  private levelMap(mode: LevelMode): Uint8Array | null {
    if (mode === 'shown') return this.shownLevels;
    const id = this.session.shownFrameId;
    return id === null ? null : (this.history.find(id)?.levels ?? null);
  }

  private renderConnection(): void {
    this.stage.connection(this.session.link, this.session.connectionText(Date.now(), this.conn.retryAt), this.session.detail);
  }

  private renderStage(): void {
    this.stage.show(this.session.stage());
  }

  private tick(): void {
    const open = this.session.link === 'open';
    this.statsPanel.show(this.stats.summary(Date.now(), this.hello?.fps ?? null, this.senderRate), open);
    if (this.session.link === 'waiting') this.renderConnection();
  }

  /** The sender's own estimate of this link's rate; an error answer keeps the last one. */
  private async pollSenderStats(): Promise<void> {
    if (this.session.link !== 'open' || !this.hello) return;
    const rate = await this.senderStats.rate(() => this.hello?.sessionId ?? null);
    if (rate !== undefined) this.senderRate = rate;
  }
}
