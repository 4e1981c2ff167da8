/**
 * The operator's query from the box to the picture: sent (or held until a channel is open),
 * grounded by the sender, then shaping the first frame received after that grounding.
 */
import { LIMITS } from '@mmsc/protocol';

/** `absent`: grounded and applied, but none of the objects it asks for is in view. */
export type QueryState = 'idle' | 'pending' | 'applied' | 'absent' | 'error';

export interface QueryPorts {
  now(): number;
  /** Sends the query to the sender; false when no open session can carry it. */
  send(queryId: string, text: string): boolean;
  status(state: QueryState, text: string): void;
}

export interface Wanted {
  queryId: string;
  text: string;
  sentAt: number | null;
  groundedAt: number | null;
  firstFrameId: number | null;
  /** Its words the sender reports not in view, and how many of its words ask for objects (not negated). */
  notInView: string[];
  asked: number;
}

export class QueryWorkflow {
  /** The query the operator chose; it outlives reconnects. */
  wanted: Wanted | null = null;
  private seq = 0;

  constructor(private readonly ports: QueryPorts) {}

  submit(raw: string): void {
    const text = raw.trim().replace(/\s+/g, ' ');
    if (new TextEncoder().encode(text).length > LIMITS.textBytes) {
      this.ports.status('error', `A query is at most ${LIMITS.textBytes} bytes.`);
      return;
    }
    this.wanted = {
      queryId: `q${++this.seq}-${this.ports.now().toString(36)}`,
      text,
      sentAt: null,
      groundedAt: null,
      firstFrameId: null,
      notInView: [],
      asked: 0,
    };
    this.resend();
  }

  /** (Re)sends the operator's query, if any: a new session starts with the sender's default one. */
  resend(): void {
    const w = this.wanted;
    if (!w) return;
    w.groundedAt = null;
    w.firstFrameId = null;
    if (this.ports.send(w.queryId, w.text)) {
      w.sentAt = this.ports.now();
      this.ports.status('pending', `“${w.text}” sent; waiting for the sender's grounding…`);
    } else {
      w.sentAt = null;
      this.ports.status('pending', `“${w.text}” will be sent when the connection is back.`);
    }
  }

  /**
   * The sender grounded a query. 'sender' when it is the sender's own (the operator chose none yet),
   * 'operator' when it is the one the operator chose, 'stale' for an older one of theirs.
   */
  grounded(queryId: string, fallback: boolean, notInView: readonly string[] = [], asked = 0): 'operator' | 'sender' | 'stale' {
    const w = this.wanted;
    if (w && queryId === w.queryId) {
      w.notInView = [...notInView];
      w.asked = asked;
      if (w.groundedAt !== null) {
        // The same query again: what of it is in view changed.
        if (w.firstFrameId !== null) this.applied(w, w.firstFrameId);
        return 'operator';
      }
      w.groundedAt = this.ports.now();
      const ms = w.sentAt === null ? 0 : w.groundedAt - w.sentAt;
      const lead = fallback ? 'Nothing in it grounded (query-agnostic fallback)' : `Grounded in ${ms} ms`;
      this.ports.status('pending', `${lead}; waiting for the next frame…`);
      return 'operator';
    }
    if (w) return 'stale';
    this.ports.status('idle', `The sender's initial query. Type another and press Enter.`);
    return 'sender';
  }

  /**
   * A frame reached the screen; `receiveTs` is when it arrived (undefined if no longer known).
   * Only a frame that arrived after the grounding can have been allocated under the query.
   */
  shown(frameId: number, receiveTs: number | undefined): void {
    const w = this.wanted;
    if (!w || w.groundedAt === null || w.firstFrameId !== null || receiveTs === undefined || receiveTs <= w.groundedAt) return;
    w.firstFrameId = frameId;
    this.applied(w, frameId);
  }

  /** The status of a query in force: shaping the picture, or with (some of) its objects not in view. */
  private applied(w: Wanted, frameId: number): void {
    const missing = w.notInView.map((m) => `“${m}”`).join(', ');
    if (w.notInView.length > 0 && w.notInView.length >= w.asked)
      this.ports.status('absent', `Not in view: nothing in the picture matches ${missing}.`);
    else if (w.notInView.length > 0)
      this.ports.status('applied', `“${w.text}” shapes the picture since frame #${frameId}; not in view: ${missing}.`);
    else this.ports.status('applied', `“${w.text}” shapes the picture since frame #${frameId}.`);
  }

  /** A sender error; it concerns the query when its `ref` names it. */
  rejected(ref: string | null, message: string): void {
    if (this.wanted && ref === this.wanted.queryId) this.ports.status('error', `The sender rejected the query: ${message}`);
  }
}
