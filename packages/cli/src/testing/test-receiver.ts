import { contextFromHello, decodeMessage, encodeMessage, type HelloMessage, type Message } from '@mmsc/protocol';
import { FrameCollector, feedbackFor } from '@mmsc/receiver';
import { type RTCDataChannel, RTCPeerConnection } from 'werift';
import WebSocket from 'ws';

/**
 * A bare receiver for tests: WebSocket signalling with the token, a werift answerer, and every
 * data-channel message decoded and each frame acknowledged with feedback (the sender's rate control
 * needs it). No decoders: tests look at messages, not pictures.
 */
export class TestReceiver {
  readonly messages: Message[] = [];
  readonly signals: { type: string; code?: string; message?: string }[] = [];
  hello: HelloMessage | null = null;
  closed: { code: number; reason: string } | null = null;
  private pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'] } as never);
  private dc: RTCDataChannel | null = null;
  private collector: FrameCollector | null = null;
  /** Complete frames received. */
  completeFrames = 0;

  private constructor(readonly ws: WebSocket) {}

  /** Connects; resolves once the data channel is open (or rejects with the refusal). */
  static async connect(url: string, token: string | null, timeoutMs = 15_000): Promise<TestReceiver> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/signal`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const r = new TestReceiver(ws);
    const pending: unknown[] = [];
    let remoteSet = false;
    r.pc.onIceCandidate.subscribe((c) => {
      if (c && ws.readyState === ws.OPEN)
        ws.send(
          JSON.stringify({ type: 'candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } }),
        );
    });
    ws.on('close', (code, reason) => {
      r.closed = { code, reason: reason.toString() };
    });
    ws.on('message', async (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { type: string; sdp?: string; candidate?: unknown; code?: string; message?: string };
      r.signals.push(m);
      if (m.type === 'offer' && m.sdp) {
        await r.pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        remoteSet = true;
        for (const c of pending.splice(0)) await r.pc.addIceCandidate(c as never);
        const answer = await r.pc.createAnswer();
        await r.pc.setLocalDescription(answer);
        ws.send(JSON.stringify({ type: 'answer', sdp: r.pc.localDescription?.sdp }));
      } else if (m.type === 'candidate' && m.candidate) {
        if (remoteSet) await r.pc.addIceCandidate(m.candidate as never);
        else pending.push(m.candidate);
      }
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no data channel within ${timeoutMs} ms`)), timeoutMs);
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`HTTP ${res.statusCode}`));
      });
      ws.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`signalling closed: ${JSON.stringify(r.signals.filter((s) => s.type === 'error'))}`));
      });
      r.pc.onDataChannel.subscribe((dc) => {
        r.dc = dc;
        dc.onMessage.subscribe((data) => {
          if (typeof data === 'string') return;
          const bytes = new Uint8Array(data);
          const m = decodeMessage(bytes, r.hello ? contextFromHello(r.hello) : undefined);
          if (m.type === 'hello') {
            r.hello = m;
            r.collector = new FrameCollector(contextFromHello(m));
          }
          if (m.type === 'frame' && r.collector)
            for (const f of r.collector.push(m, bytes.length, Date.now())) {
              r.completeFrames++;
              r.send(feedbackFor(f));
            }
          r.messages.push(m);
        });
        clearTimeout(timer);
        resolve();
      });
    });
    return r;
  }

  send(m: Message): void {
    this.dc?.send(Buffer.from(encodeMessage(m, this.hello ? contextFromHello(this.hello) : undefined)));
  }

  /** Waits until `pred` holds for the messages received so far. */
  async waitFor(pred: (ms: Message[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred(this.messages)) {
      if (Date.now() > end) throw new Error(`timed out; got ${this.messages.map((m) => m.type).join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Frames received whole (all parts). */
  frames(): number {
    return this.completeFrames;
  }

  async close(): Promise<void> {
    this.ws.close();
    await this.pc.close();
  }
}
