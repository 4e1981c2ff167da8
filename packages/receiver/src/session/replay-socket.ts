/**
 * A signalling socket opened before its session existed: the page's HTML opens the WebSocket while
 * the app's script is still loading (on a slow link that script takes a round trip or more), and
 * records what the socket says meanwhile. `ReplaySocket` hands that socket to a `ReceiverConnection`
 * as if it were new: the recorded events first, in order, then the live ones.
 */
import type { SignalSocket } from '../receive/receiver-connection.js';

/** What a WebSocket said before its session took it. */
export type EarlyEvent =
  | { type: 'open' }
  | { type: 'message'; data: unknown }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error' };

/** A socket opened early, as the page's HTML leaves it (`globalThis.mmscEarlySignal`). */
export interface EarlySignal {
  /** The URL it was opened on: the session adopts it only for the same URL. */
  readonly url: string;
  readonly socket: {
    readonly readyState: number;
    send(text: string): void;
    close(code?: number, reason?: string): void;
  };
  /** What it said so far, oldest first (emptied once taken). */
  readonly events: EarlyEvent[];
  /** Set once taken: where the socket's further events go instead of `events`. */
  deliver: ((e: EarlyEvent) => void) | null;
}

/**
 * The early socket as a `SignalSocket`. Its handlers are set by whoever takes it (synchronously,
 * like a new WebSocket's); the recorded events reach them on the next microtask, and the live ones
 * after those.
 */
export class ReplaySocket implements SignalSocket {
  onopen: SignalSocket['onopen'] = null;
  onmessage: SignalSocket['onmessage'] = null;
  onclose: SignalSocket['onclose'] = null;
  onerror: SignalSocket['onerror'] = null;
  private replaying = true;
  private readonly waiting: EarlyEvent[] = [];

  constructor(private readonly early: EarlySignal) {
    this.waiting.push(...early.events.splice(0));
    early.deliver = (e) => {
      if (this.replaying) this.waiting.push(e);
      else this.dispatch(e);
    };
    queueMicrotask(() => {
      // Handlers may close the socket mid-replay; what it said before still arrives in order.
      for (let e = this.waiting.shift(); e; e = this.waiting.shift()) this.dispatch(e);
      this.replaying = false;
    });
  }

  get readyState(): number {
    return this.early.socket.readyState;
  }

  send(text: string): void {
    this.early.socket.send(text);
  }

  close(code?: number, reason?: string): void {
    this.early.socket.close(code, reason);
  }

  private dispatch(e: EarlyEvent): void {
    switch (e.type) {
      case 'open':
        this.onopen?.({});
        break;
      case 'message':
        this.onmessage?.({ data: e.data });
        break;
      case 'close':
        this.onclose?.({ code: e.code, reason: e.reason });
        break;
      case 'error':
        this.onerror?.({});
        break;
    }
  }
}

/**
 * The early socket for `url`, taken (once): a `ReplaySocket` over it; null when there is none, it
 * was taken already, or it was opened on another URL (then it is closed, not left hanging on the sender).
 */
export function adoptEarlySignal(early: EarlySignal | undefined | null, url: string): ReplaySocket | null {
  if (!early || early.deliver) return null;
  if (early.url !== url) {
    early.deliver = () => {};
    early.socket.close(1000, 'not the session URL');
    return null;
  }
  return new ReplaySocket(early);
}
