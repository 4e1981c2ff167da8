import type { HelloMessage, Message } from '@mmsc/protocol';
import { ReceivingSession } from '@mmsc/receiver';
import type { RTCDataChannel } from 'werift';
import type WebSocket from 'ws';
import { nodeTransport } from '../receive/node-transport.js';

/**
 * A bare receiver for tests: the receiver's own ReceivingSession (ws signalling with the token, a
 * werift answerer) without decoding: every data-channel message decoded and each frame
 * acknowledged with feedback (the sender's rate control needs it). Tests look at messages, not pictures.
 */
export class TestReceiver {
  readonly messages: Message[] = [];
  /** Every well-formed signalling message from the sender (offer, candidates, errors). */
  readonly signals: { type: string; code?: string; message?: string }[] = [];
  hello: HelloMessage | null = null;
  closed: { code: number; reason: string } | null = null;
  /** Frames received (all their parts, or given up for a newer one). */
  completeFrames = 0;

  /** The signalling socket (tests send raw signalling on it). */
  ws!: WebSocket;

  private constructor(private readonly session: ReceivingSession<RTCDataChannel>) {
    session.on('signal', (m) => this.signals.push(m));
    session.on('message', (m) => {
      if (m.type === 'hello') this.hello = m;
      this.messages.push(m);
    });
    session.on('frame', (_f, live) => {
      if (live) this.completeFrames++;
    });
  }

  /** Connects; resolves once the data channel is open (or rejects with the refusal). */
  static async connect(url: string, token: string | null, timeoutMs = 15_000): Promise<TestReceiver> {
    const node = nodeTransport({
      signalUrl: `${url.replace(/^http/, 'ws')}/signal`,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      refused: (status) => new Error(`HTTP ${status}`),
      unreachable: (e) => e,
    });
    const session = new ReceivingSession<RTCDataChannel>({ transport: node.transport, openTimeoutMs: timeoutMs });
    const r = new TestReceiver(session);
    const opened = new Promise<void>((resolve, reject) => {
      session.on('open', () => resolve());
      session.on('closed', (_reason, e) => {
        const errors = JSON.stringify(r.signals.filter((s) => s.type === 'error'));
        if (e.kind === 'open-timeout') reject(new Error(`no data channel within ${timeoutMs} ms`));
        // Closed before it was accepted: the upgrade was refused, and `connected` says how.
        else if (e.kind === 'signalling-closed' && !e.accepted) node.connected.then(() => reject(new Error('signalling closed')), reject);
        else reject(new Error(e.kind === 'signalling-closed' ? `signalling closed: ${errors}` : `connection ended (${e.kind}): ${errors}`));
      });
    });
    session.start();
    try {
      await opened;
    } catch (e) {
      await session.close();
      throw e;
    }
    r.ws = node.socket as WebSocket;
    // However the session ends (the link may close the socket itself), tests see the close.
    r.ws.on('close', (code, reason) => {
      r.closed = { code, reason: reason.toString() };
    });
    return r;
  }

  send(m: Message): void {
    this.session.send(m);
  }

  /** Waits until `pred` holds for the messages received so far. */
  async waitFor(pred: (ms: Message[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred(this.messages)) {
      if (Date.now() > end) throw new Error(`timed out; got ${this.messages.map((m) => m.type).join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Frames received (as completeFrames counts them). */
  frames(): number {
    return this.completeFrames;
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}
