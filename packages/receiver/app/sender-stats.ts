/** The sender's HTTP side (/stats), which answers the same credentials as its signalling. */
import { refusalReason, type SenderRate, senderRateOf } from '../src/index.js';

export class SenderStats {
  private readonly headers: Record<string, string>;

  constructor(private readonly token: string | null) {
    this.headers = token ? { Authorization: `Bearer ${token}` } : {};
  }

  /** Why signalling was refused, if /stats tells: a refused WebSocket upgrade shows the page no status. */
  async refusal(): Promise<string | null> {
    try {
      const res = await fetch('/stats', { cache: 'no-store', headers: this.headers });
      return refusalReason(res.status, this.token !== null);
    } catch {
      return null; // unreachable: the socket's own reason stands
    }
  }

  /**
   * The sender's own estimate of a session's rate: null when it has none or cannot be reached,
   * undefined when it answered with an error (the last estimate stands). `sessionId` is read once
   * the answer is in, so it names the session current by then.
   */
  async rate(sessionId: () => string | null): Promise<SenderRate | null | undefined> {
    try {
      const res = await fetch('/stats', { cache: 'no-store', headers: this.headers });
      if (!res.ok) return undefined;
      const body: unknown = await res.json();
      const id = sessionId();
      return id === null ? null : senderRateOf(body, id);
    } catch {
      return null;
    }
  }
}
