/** Around the picture: the connection indicator, the session line, the message over the picture, the frame caption. */
import type { HelloMessage } from '@mmsc/protocol';
import { type LinkState, pictureSource, type StageMessage } from '../src/index.js';

export interface StageElements {
  conn: HTMLElement;
  connText: HTMLElement;
  session: HTMLElement;
  stage: HTMLElement;
  stageMsg: HTMLElement;
  frameInfo: HTMLElement;
}

export class StageView {
  constructor(private readonly ui: StageElements) {}

  connection(state: LinkState, text: string, detail: string): void {
    this.ui.conn.dataset.state = state;
    this.ui.connText.textContent = text;
    this.ui.conn.title = detail;
  }

  show(m: StageMessage): void {
    this.ui.stage.classList.toggle('stale', m.stale);
    this.ui.stageMsg.hidden = m.text === null;
    this.ui.stageMsg.classList.toggle('error', m.error);
    if (m.text !== null) this.ui.stageMsg.textContent = m.text;
  }

  session(h: HelloMessage, format: string | null = null): void {
    // A video stream's chroma format is in the stream (the SPS), not the hello: it shows from the first decoded picture.
    const engine = pictureSource(h.engine).describe(h, format);
    this.ui.session.textContent = `session ${h.sessionId} · ${h.width}×${h.height} · ${engine} · ${h.fps ?? '?'} fps`;
  }

  frame(frameId: number, incomplete: boolean): void {
    this.ui.frameInfo.textContent = `frame #${frameId}${incomplete ? ' (incomplete)' : ''}`;
  }
}
