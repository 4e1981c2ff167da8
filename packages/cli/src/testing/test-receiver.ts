import { contextFromHello, encodeMessage, type HelloMessage, type Message } from '@mmsc/protocol';
import { FrameReceiver, ReceiverConnection } from '@mmsc/receiver';
import { type RTCDataChannel, RTCPeerConnection } from 'werift';
import WebSocket from 'ws';

/**
 * A bare receiver for tests: the receiver's own ReceiverConnection (ws signalling with the token, a
 * werift answerer) and FrameReceiver, every data-channel message decoded and each frame
 * acknowledged with feedback (the sender's rate control needs it). No decoders: tests look at
 * messages, not pictures.
 */
export class TestReceiver {
  readonly messages: Message[] = [];
  /** Every well-formed signalling message from the sender (offer, candidates, errors). */
  readonly signals: { type: string; code?: string; message?: string }[] = [];
  hello: HelloMessage | null = null;
  closed: { code: number; reason: string } | null = null;
  /** Frames received (all their parts, or given up for a newer one). */
  completeFrames = 0;
  private readonly receiver = new FrameReceiver();
  private conn: ReceiverConnection<RTCDataChannel> | null = null;

  private constructor(readonly ws: WebSocket) {}

  /** Connects; resolves once the data channel is open (or rejects with the refusal). */
  static async connect(url: string, token: string | null, timeoutMs = 15_000): Promise<TestReceiver> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/signal`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const r = new TestReceiver(ws);
    // However the session ends (the connection may close the socket itself), tests see the close.
    ws.on('close', (code, reason) => {
      r.closed = { code, reason: reason.toString() };
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no data channel within ${timeoutMs} ms`)), timeoutMs);
        ws.once('unexpected-response', (_req, res) => {
          clearTimeout(timer);
          reject(new Error(`HTTP ${res.statusCode}`));
        });
        r.conn = new ReceiverConnection<RTCDataChannel>(
          {
            socket: ws,
            createPeer: () => new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'] } as never),
          },
          {
            signal: (m) => r.signals.push(m),
            open: () => {
              clearTimeout(timer);
              resolve();
            },
            message: (bytes, receiveTs) => r.received(bytes, receiveTs),
            ended: (e) => {
              clearTimeout(timer);
              const errors = JSON.stringify(r.signals.filter((s) => s.type === 'error'));
              reject(
                new Error(e.kind === 'signalling-closed' ? `signalling closed: ${errors}` : `connection ended (${e.kind}): ${errors}`),
              );
            },
          },
        );
      });
    } catch (e) {
      await r.conn?.close();
      throw e;
    }
    return r;
  }

  private received(bytes: Uint8Array, receiveTs: number): void {
    const r = this.receiver.receive(bytes, receiveTs);
    if (r.type === 'invalid') return;
    if (r.type === 'hello') this.hello = r.message;
    if (r.type === 'frame')
      for (const f of r.frames) {
        this.completeFrames++;
        this.send(f.feedback);
      }
    this.messages.push(r.message);
  }

  send(m: Message): void {
    this.conn?.channel?.send(Buffer.from(encodeMessage(m, this.hello ? contextFromHello(this.hello) : undefined)));
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
    await this.conn?.close();
  }
}
