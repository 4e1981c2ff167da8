/**
 * Joins the pictures off the video track to their `picture` announcements on the data channel, by
 * RTP timestamp. Pure: either may come first; the joined frames come out in the track's order, in
 * the shape every receiver already decodes and acknowledges (a whole one-part video frame).
 *
 * A picture waits for its announcement at most `waitMs` (default 1.2 s), then is dropped and the
 * next one is marked `afterGap`. The data channel is reliable and ordered: an announcement that has
 * not come is held up by a retransmission (werift's minimum RTO is 1 s), and every later one with
 * it, so dropping sooner would only drop those pictures too and ask for a keyframe that arrives
 * behind the same stall; the bound is for a sender that never announces. An announcement whose
 * picture never comes is forgotten once a later picture is joined, or after `keepMs`. Both lists
 * are bounded.
 */
import type { PictureMessage } from '@mmsc/protocol';
import type { CollectedFrame } from '../collect-frame.js';

/** A whole coded picture off the video track: assembled here, or by the browser's jitter buffer. */
export interface TrackPicture {
  rtpTs: number;
  data: Uint8Array;
  /** A picture a decoder can start from (IDR / VP8 key frame), as its bytes say. */
  key: boolean;
  /** Arrival of its last packet (ms, this receiver's clock). */
  receiveTs: number;
  /** Pictures before it were lost: the ones it refers to may be missing. */
  afterGap: boolean;
}

/** A picture joined to its announcement: a whole frame, and whether pictures before it were lost. */
export interface JoinedFrame {
  frame: CollectedFrame;
  afterGap: boolean;
}

export interface JoinerOutput {
  frames: JoinedFrame[];
  /** A picture was dropped for want of its announcement. */
  dropped: boolean;
}

export interface JoinerCounters {
  joined: number;
  /** Pictures dropped: no announcement within `waitMs`, or too many waiting. */
  unannounced: number;
  /** Announcements whose picture never came (lost on the track, or dropped before joining). */
  unmatched: number;
}

export interface JoinerOptions {
  /** Patches per frame (the frame's level map, all 0: a whole picture). */
  patchCount: number;
  waitMs?: number;
  /** How long an announcement is kept for its picture (default 5 s). */
  keepMs?: number;
  /** The most pictures waiting for their announcement (default 64: 2 s at 30 fps). */
  maxPictures?: number;
  /** The most announcements waiting for their picture (default 128). */
  maxAnnouncements?: number;
}

export const DEFAULT_ANNOUNCE_WAIT_MS = 1200;

/** Whether RTP timestamp `a` comes before `b` (32-bit serial arithmetic). */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export class PictureJoiner {
  readonly stats: JoinerCounters = { joined: 0, unannounced: 0, unmatched: 0 };
  private readonly waitMs: number;
  private readonly keepMs: number;
  private readonly maxPictures: number;
  private readonly maxAnnouncements: number;
  /** Pictures waiting for their announcement, in track order, with the time each came. */
  private readonly queue: { picture: TrackPicture; since: number }[] = [];
  /** Announcements by RTP timestamp, in arrival order, with their arrival. */
  private readonly announced = new Map<number, { m: PictureMessage; at: number }>();
  /** The next frame out follows a dropped picture. */
  private gap = false;

  constructor(private readonly options: JoinerOptions) {
    this.waitMs = options.waitMs ?? DEFAULT_ANNOUNCE_WAIT_MS;
    this.keepMs = options.keepMs ?? 5000;
    this.maxPictures = options.maxPictures ?? 64;
    this.maxAnnouncements = options.maxAnnouncements ?? 128;
  }

  picture(p: TrackPicture, now: number): JoinerOutput {
    this.queue.push({ picture: p, since: now });
    const out: JoinerOutput = { frames: [], dropped: false };
    while (this.queue.length > this.maxPictures) this.dropHead(out);
    return this.drain(now, out);
  }

  announce(m: PictureMessage, now: number): JoinerOutput {
    this.announced.delete(m.rtpTs); // a repeat replaces it (and moves it to the end)
    this.announced.set(m.rtpTs, { m, at: now });
    while (this.announced.size > this.maxAnnouncements) this.forget(this.announced.keys().next().value as number);
    return this.drain(now, { frames: [], dropped: false });
  }

  poll(now: number): JoinerOutput {
    return this.drain(now, { frames: [], dropped: false });
  }

  /** When `poll` would drop the picture waiting first, or null. */
  nextDeadline(): number | null {
    const head = this.queue[0];
    return head ? head.since + this.waitMs : null;
  }

  /** Pictures waiting for their announcement. */
  get waiting(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue.length = 0;
    this.announced.clear();
    this.gap = false;
  }

  private drain(now: number, out: JoinerOutput): JoinerOutput {
    for (;;) {
      const head = this.queue[0];
      if (!head) break;
      const a = this.announced.get(head.picture.rtpTs);
      if (a) {
        this.queue.shift();
        this.announced.delete(head.picture.rtpTs);
        out.frames.push({ frame: joinedFrame(head.picture, a.m, this.options.patchCount), afterGap: head.picture.afterGap || this.gap });
        this.gap = false;
        this.stats.joined++;
        // Announcements of pictures before this one will find nothing now.
        for (const ts of [...this.announced.keys()]) if (before(ts, head.picture.rtpTs)) this.forget(ts);
        continue;
      }
      if (now - head.since < this.waitMs) break;
      this.dropHead(out);
    }
    for (const [ts, a] of [...this.announced]) if (now - a.at >= this.keepMs) this.forget(ts);
    return out;
  }

  private dropHead(out: JoinerOutput): void {
    this.queue.shift();
    this.stats.unannounced++;
    this.gap = true;
    out.dropped = true;
  }

  private forget(rtpTs: number): void {
    this.announced.delete(rtpTs);
    this.stats.unmatched++;
  }
}

/** The joined picture as a whole one-part video frame: the announcement's numbers, the track's bytes and arrival. */
export function joinedFrame(p: TrackPicture, m: PictureMessage, patchCount: number): CollectedFrame {
  return {
    frameId: m.frameId,
    captureTs: m.captureTs,
    budget: m.budget,
    parts: 1,
    partsReceived: 1,
    bytesReceived: m.bytes,
    lastReceiveTs: p.receiveTs,
    complete: true,
    levels: new Uint8Array(patchCount),
    received: [],
    video: { key: p.key, chunks: [p.data] },
    base: null,
  };
}
