/** What the page keeps of the current session's frames and relevance maps: for the level overlay, the stats and the tests. */
import type { CollectedFrame } from '../src/index.js';

export interface FrameEntry {
  frameId: number;
  receiveTs: number;
  captureTs: number;
  bytes: number;
  budget: number;
  parts: number;
  partsReceived: number;
  complete: boolean;
  /** Level symbols as sent (7 keep, 255 lost). */
  levels: Uint8Array;
  /** Query id of the latest grounding received when the frame completed. */
  groundingId: string | null;
  shownAt: number | null;
  applyMs: number | null;
  /** Patches decoded from this frame's payload (the rest reused or interpolated). */
  decoded: number | null;
}

export interface RelevanceEntry {
  frameId: number;
  /** Query id of the latest grounding received before the map. */
  groundingId: string | null;
  width: number;
  height: number;
  values: Uint8Array;
}

const FRAMES_KEPT = 600;
const MAPS_KEPT = 100;

export class SessionHistory {
  readonly frames: FrameEntry[] = [];
  readonly relevances: RelevanceEntry[] = [];

  clear(): void {
    this.frames.length = 0;
    this.relevances.length = 0;
  }

  /** `groundingId`: the query of the latest grounding received. */
  addFrame(f: CollectedFrame, groundingId: string | null): FrameEntry {
    const entry: FrameEntry = {
      frameId: f.frameId,
      receiveTs: f.lastReceiveTs,
      captureTs: f.captureTs,
      bytes: f.bytesReceived,
      budget: f.budget,
      parts: f.parts,
      partsReceived: f.partsReceived,
      complete: f.complete,
      levels: f.levels.slice(),
      groundingId,
      shownAt: null,
      applyMs: null,
      decoded: null,
    };
    this.frames.push(entry);
    if (this.frames.length > FRAMES_KEPT) this.frames.shift();
    return entry;
  }

  addRelevance(r: RelevanceEntry): void {
    this.relevances.push(r);
    if (this.relevances.length > MAPS_KEPT) this.relevances.shift();
  }

  /** The relevance map that came with frame `frameId` (the one that coded it), if one did. */
  relevanceOf(frameId: number): RelevanceEntry | undefined {
    for (let i = this.relevances.length - 1; i >= 0; i--) if (this.relevances[i]?.frameId === frameId) return this.relevances[i];
    return undefined;
  }

  find(frameId: number): FrameEntry | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) if (this.frames[i]?.frameId === frameId) return this.frames[i];
    return undefined;
  }
}
