import { EventEmitter } from 'node:events';
import type { HelloMessage } from '@mmsc/protocol';
import type { Engine, EngineOptions, RtpVideoFormat } from '../engines/link-encoder.js';
import { engineFor } from '../engines/registry.js';
import { type Log, silentLog } from '../log.js';
import type { GroundedQuery } from '../relevance/grounder.js';
import type { Limits } from './limits.js';
import type { LinkStats } from './link-stats.js';
import type { TrackDeclined } from './peer.js';
import { type LinkPeer, ReceiverLink } from './receiver-link.js';

export interface LinksOptions {
  /** The sender's hello (each link's carries its own `sessionId`); its `engine` picks each link's encoder. */
  hello: HelloMessage;
  engineOptions: EngineOptions;
  /** The engine (default: the registry's under `hello.engine`). */
  engine?: Engine;
  /** The query a new receiver starts with, grounded. */
  initialQuery: GroundedQuery;
  /** Grounds a receiver's query text (throws for a query the lexicon refuses). */
  ground: (text: string) => GroundedQuery;
  fps: number;
  /** Upper bound on each receiver's rate, bits per second. */
  maxBps: number;
  /** Send the low-resolution relevance map every this many frames (and after a query change). */
  relevanceEvery: number;
  limits?: Pick<Limits, 'queriesPerSecond' | 'queryBurst'>;
  /**
   * On transport `rtp`, a receiver whose answer declines the video track: served on the data channel
   * (default, `serve --transport auto`) or refused (`serve --transport rtp`).
   */
  onTrackDeclined?: TrackDeclined;
  log?: Log;
}

export interface LinksEvents {
  /** A link was made (its peer is not open yet). */
  added: [link: ReceiverLink];
  /** A link closed and was forgotten. */
  removed: [id: string, reason: string];
  /** A link refused something its peer did (the sender-wide count). */
  refused: [code: string];
}

/**
 * The sender's receivers: makes a link per receiver, forgets it when it closes, and gives /stats their
 * snapshots. `close()` cascades: every link's peer closes, each link closes and leaves this set.
 */
export class Links extends EventEmitter<LinksEvents> {
  private readonly links = new Map<string, ReceiverLink>();
  private readonly engine: Engine;

  constructor(private readonly o: LinksOptions) {
    super();
    this.engine = o.engine ?? engineFor(o.hello.engine);
  }

  get hello(): HelloMessage {
    return this.o.hello;
  }

  get engineOptions(): EngineOptions {
    return this.o.engineOptions;
  }

  /** What each peer offers for its video track: the engine's RTP format on transport `rtp`, else null (no track). */
  get videoFormat(): RtpVideoFormat | null {
    return this.o.hello.transport === 'rtp' ? (this.engine.rtpFormat?.(this.o.engineOptions) ?? null) : null;
  }

  /** What each peer does when its receiver's answer declines the video track. */
  get onTrackDeclined(): TrackDeclined {
    return this.o.onTrackDeclined ?? 'channel';
  }

  get size(): number {
    return this.links.size;
  }

  /** Links whose data channel has not opened yet. */
  get pending(): number {
    return [...this.links.values()].filter((l) => !l.connected).length;
  }

  has(id: string): boolean {
    return this.links.has(id);
  }

  /** Every link, in the order they came. */
  all(): ReceiverLink[] {
    return [...this.links.values()];
  }

  /** The links being served (peer open, hello sent). */
  serving(): ReceiverLink[] {
    return this.all().filter((l) => l.open);
  }

  /** A new receiver's link over its peer. */
  create(id: string, peer: LinkPeer): ReceiverLink {
    const o = this.o;
    const link = new ReceiverLink(peer, {
      hello: { ...o.hello, sessionId: id },
      engine: this.engine,
      engineOptions: o.engineOptions,
      initialQuery: o.initialQuery,
      ground: o.ground,
      fps: o.fps,
      maxBps: o.maxBps,
      relevanceEvery: o.relevanceEvery,
      ...(o.limits ? { limits: o.limits } : {}),
      log: o.log ?? silentLog,
    });
    this.links.set(id, link);
    link.on('refused', (code) => this.emit('refused', code));
    link.once('closed', (reason) => {
      this.links.delete(id);
      this.emit('removed', id, reason);
    });
    this.emit('added', link);
    return link;
  }

  snapshots(): LinkStats[] {
    return this.all().map((l) => l.snapshot());
  }

  /** Closes every link (each receiver is told why); each leaves this set as its peer closes. */
  close(reason: string): void {
    for (const link of this.all()) link.close(reason);
  }
}
