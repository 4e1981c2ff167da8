import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FramePipeline, GroundedQuery, Links, PipelineFrame } from '@mmsc/sender';
import sharp from 'sharp';
import { CliError } from '../errors.js';

/**
 * Record and replay of a sender's session. A recording folder holds:
 * - `frames/frame-000000.png …`: every source frame the pipeline made, in order (frame i is the
 *   i-th frame made while a receiver was connected);
 * - `queries.json`: the receivers' queries, as a list of changes `{frame, queries}` (the queries in
 *   force from that frame on, one per receiver in connection order);
 * - `link.jsonl`: the link as the sender saw it, one line per frame (each receiver's rate estimate).
 * Replaying plays the frames as the source and applies the query changes at the same frame indices,
 * so a change in rate control or coding is compared on identical input.
 */
export interface QueryChange {
  frame: number;
  queries: string[];
}

export interface RecordingManifest {
  version: 1;
  frames: number;
  fps: number;
  queries: QueryChange[];
}

export function frameFile(i: number): string {
  return `frame-${String(i).padStart(6, '0')}.png`;
}

/** The query changes in a list of per-frame query sets: an entry wherever the set differs from the one before. */
export function queryChanges(perFrame: readonly (readonly string[])[]): QueryChange[] {
  const out: QueryChange[] = [];
  let last: string | null = null;
  perFrame.forEach((qs, frame) => {
    const key = JSON.stringify(qs);
    if (key !== last) out.push({ frame, queries: [...qs] });
    last = key;
  });
  return out;
}

/** The queries in force at `frame` under a list of changes (null before the first). */
export function queriesAt(changes: readonly QueryChange[], frame: number): string[] | null {
  let cur: string[] | null = null;
  for (const c of changes) {
    if (c.frame > frame) break;
    cur = c.queries;
  }
  return cur;
}

export function readRecording(dir: string): RecordingManifest {
  let m: RecordingManifest;
  try {
    m = JSON.parse(readFileSync(join(dir, 'queries.json'), 'utf8')) as RecordingManifest;
  } catch (e) {
    throw new CliError(`${dir} is not a recording (queries.json: ${(e as Error).message})`, 2);
  }
  if (m.version !== 1 || !Array.isArray(m.queries) || !(m.frames >= 0))
    throw new CliError(`${dir}/queries.json is not a recording manifest`, 2);
  return m;
}

export interface RecordingOptions {
  /** Where to record (frames, queries, link); null to record nothing. */
  recordDir: string | null;
  /** A recording whose query changes are applied at the same frame indices; null for live queries. */
  replay: RecordingManifest | null;
  fps: number;
}

/**
 * A pipeline that records what the sender streamed and/or replays a recording's query changes. The
 * links are handed in once they exist; a replayed query reaches each link as a query message would
 * (same checks, same grounding report to its receiver).
 */
export class RecordingPipeline implements FramePipeline {
  private index = 0;
  /** Frames made so far: the index after the last frame the inner pipeline finished (one in flight at close is not kept). */
  private made = 0;
  private readonly perFrame: string[][] = [];
  private writes: Promise<unknown> = Promise.resolve();
  private links: Pick<Links, 'serving'> | null = null;
  private readonly startedAt = Date.now();

  constructor(
    private readonly inner: FramePipeline,
    private readonly o: RecordingOptions,
  ) {
    if (o.recordDir) mkdirSync(join(o.recordDir, 'frames'), { recursive: true });
    if (o.recordDir) writeFileSync(join(o.recordDir, 'link.jsonl'), '');
  }

  attach(links: Pick<Links, 'serving'>): void {
    this.links = links;
  }

  get description() {
    return this.inner.description;
  }
  get still() {
    return this.inner.still;
  }
  health() {
    return this.inner.health();
  }
  warmUp() {
    return this.inner.warmUp();
  }

  async next(queries: readonly GroundedQuery[]): Promise<PipelineFrame> {
    const i = this.index++;
    const open = this.links?.serving() ?? [];
    let current = queries;
    // Replaying: every frame carries the recording's queries for its index (a receiver's own query
    // is overridden at the next frame), so the sequence of queries is the recording's exactly.
    const wanted = this.o.replay ? queriesAt(this.o.replay.queries, i) : null;
    if (wanted && wanted.length > 0) {
      open.forEach((s, k) => {
        const text = wanted[Math.min(k, wanted.length - 1)] as string;
        if (text !== s.currentQuery.text) s.setQuery(`replay-${i}`, text);
      });
      current = open.map((s) => s.currentQuery);
    }
    // The queries this frame is made for, as they stand now (a query arriving meanwhile counts from the next frame).
    this.perFrame[i] = current.map((q) => q.text);
    const frame = await this.inner.next(current);
    this.made = i + 1;
    const dir = this.o.recordDir;
    if (dir) {
      const link = {
        frame: i,
        t: Date.now() - this.startedAt,
        receivers: open.map((s) => ({ id: s.id, rateBps: Math.round(s.snapshot().rate.rateBps) })),
      };
      const img = frame.image;
      this.writes = this.writes.then(() =>
        Promise.all([
          sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
            raw: { width: img.width, height: img.height, channels: 3 },
          })
            .png({ compressionLevel: 1 })
            .toFile(join(dir, 'frames', frameFile(i))),
          appendFile(join(dir, 'link.jsonl'), `${JSON.stringify(link)}\n`),
        ]),
      );
    }
    return frame;
  }

  /** Waits for every frame to be written and writes the manifest. */
  async flush(): Promise<RecordingManifest | null> {
    await this.writes;
    const dir = this.o.recordDir;
    if (!dir) return null;
    const perFrame = Array.from({ length: this.made }, (_, i) => this.perFrame[i] ?? []);
    const m: RecordingManifest = { version: 1, frames: this.made, fps: this.o.fps, queries: queryChanges(perFrame) };
    writeFileSync(join(dir, 'queries.json'), `${JSON.stringify(m, null, 1)}\n`);
    return m;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.inner.close();
  }
}
