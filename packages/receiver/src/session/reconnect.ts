/**
 * The receiver's link and session as the page tells the operator about them, without DOM or WebRTC
 * objects: the transport's connection state, the numbering of sessions (each reconnect starts a
 * new one and a new picture), what the sender's refusals mean, the operator's query surviving
 * reconnects, and the one message the stage shows for all of it. When and how fast to retry is the
 * transport's (app/connection.ts); this only learns the outcome.
 */
import { type QueryPorts, QueryWorkflow } from './query.js';

export type LinkState = 'idle' | 'connecting' | 'negotiating' | 'open' | 'waiting';

export const LINK_LABEL: Record<LinkState, string> = {
  idle: 'Idle',
  connecting: 'Connecting…',
  negotiating: 'Negotiating…',
  open: 'Connected',
  waiting: 'Disconnected',
};

/** What the stage shows over (or instead of) the picture. */
export interface StageMessage {
  text: string | null;
  error: boolean;
  /** An old picture stays on screen while there is no link: it is marked as stale. */
  stale: boolean;
}

/**
 * Why the sender refused the signalling upgrade, from the status its /stats answers to the same
 * credentials (a refused WebSocket upgrade shows the page no status); null when that says nothing.
 */
export function refusalReason(status: number, withToken: boolean): string | null {
  if (status !== 401) return null;
  return withToken
    ? 'the sender refused this token (it makes a new one at each start unless --token is given): open the URL it printed'
    : 'the sender needs a token: open the URL `mmsc serve` printed (…/?token=…)';
}

export class SessionMachine {
  link: LinkState = 'idle';
  detail = '';
  /** Numbers sessions: what the decode worker says about an older one is dropped. */
  epoch = 0;
  /** The latest session's; it stays after the link goes, like its picture. */
  sessionId: string | null = null;
  decoderReady = false;
  decoderError: string | null = null;
  shownFrameId: number | null = null;
  /** Why frames stopped coming, as the sender said (`no-frames`); cleared by the next frame. */
  sourceProblem: string | null = null;
  readonly query: QueryWorkflow;
  /** The session began on a hello signalled ahead of the data channel, which is still opening. */
  private beforeChannel = false;

  constructor(ports: QueryPorts) {
    this.query = new QueryWorkflow(ports);
  }

  linkChanged(state: LinkState, detail: string): void {
    this.link = state;
    this.detail = detail;
    if (!this.beforeChannel || state === 'negotiating') return;
    this.beforeChannel = false;
    if (state === 'open') this.query.resend();
  }

  /**
   * The sender's hello: a new session, whose decoders load afresh, and the operator's query is sent
   * again, as the sender starts with its own default. `beforeChannel`: the hello came on signalling
   * and the data channel is still opening; the session shows its pictures meanwhile, and the query
   * goes when the link is open.
   */
  began(sessionId: string, beforeChannel = false): number {
    this.epoch++;
    this.sessionId = sessionId;
    this.decoderReady = false;
    this.decoderError = null;
    this.beforeChannel = beforeChannel;
    if (!beforeChannel) this.query.resend();
    return this.epoch;
  }

  /** The decoders of session `epoch` are loaded; false (and ignored) if that session is over. */
  decoderLoaded(epoch: number): boolean {
    if (epoch !== this.epoch) return false;
    this.decoderReady = true;
    this.decoderError = null;
    return true;
  }

  /** Nothing can be decoded any more (the worker died, or a decoder cannot load). */
  decoderFailed(message: string): void {
    this.decoderError = message;
  }

  /** A frame arrived; true when it ends a reported source problem (the stage changes). */
  frameArrived(): boolean {
    if (this.sourceProblem === null) return false;
    this.sourceProblem = null;
    return true;
  }

  /** A frame reached the screen; `receiveTs` is when it arrived, if still known. */
  shown(frameId: number, receiveTs: number | undefined): void {
    this.shownFrameId = frameId;
    this.query.shown(frameId, receiveTs);
  }

  /** An error message from the sender, inside a session; true when the stage changes. */
  senderError(code: string, message: string, ref: string | null): boolean {
    this.query.rejected(ref, message);
    if (code !== 'no-frames') return false;
    this.sourceProblem = message;
    return true;
  }

  /** The connection indicator's text; `retryAt` is when the transport tries again. */
  connectionText(now: number, retryAt: number): string {
    const label = LINK_LABEL[this.link];
    if (this.link === 'waiting') return `${label} — ${this.detail}; retrying in ${Math.max(0, Math.ceil((retryAt - now) / 1000))} s`;
    if (this.link === 'negotiating') return `${label} (${this.detail})`;
    return label;
  }

  stage(): StageMessage {
    const shown = this.shownFrameId;
    const open = this.link === 'open' || this.beforeChannel;
    const say = (text: string | null, error = false): StageMessage => ({ text, error, stale: !open && shown !== null });
    if (this.decoderError) return say(`Cannot decode: ${this.decoderError}`, true);
    if (!open) {
      const lost = this.link === 'waiting' ? `Connection lost: ${this.detail}. Reconnecting…` : `${LINK_LABEL[this.link]} ${this.detail}`;
      return say(shown === null ? lost : `${lost} (showing frame #${shown})`);
    }
    if (this.sessionId === null) return say('Connected; waiting for the session to start…');
    if (this.sourceProblem && shown === null) return say(`The sender has no picture to send: ${this.sourceProblem}`, true);
    if (!this.decoderReady) return say('Loading the patch decoders (onnxruntime-web)…');
    return say(shown === null ? 'Waiting for the first frame…' : null);
  }
}
