import { type BaseLayer, baseImage, decodeBase, placePatches } from '@mmsc/codec';
import { KEEP_LEVEL, type ProtocolContext } from '@mmsc/protocol';
import { type CollectedFrame, MISSING } from './collect-frame.js';

/** Anything that turns `bytes`-per-patch codes into 192-byte RGB patches (PatchCodecs does). */
export interface PatchDecoder {
  decode(bytes: number, codes: Uint8Array): Promise<Uint8Array>;
}

export interface ApplyStats {
  /** Patches decoded from this frame's payload. */
  decoded: number;
  /** Patches kept from the previous picture (keep, skip or lost, with a copy at hand). */
  reused: number;
  /** Patches that had no copy and were interpolated from their neighbours. */
  interpolated: number;
  /** Patches painted from the frame's base layer (skipped patches of a frame that carried one). */
  based?: number;
  decodeMs: number;
  /** Set when the picture could not be brought up to date and the sender should send a keyframe (why). */
  refresh?: string;
  /** What the decoded picture was coded as (video engines): `H.264 4:4:4` or `H.264 4:2:0`. */
  format?: string;
}

/**
 * The receiver's picture: decodes each frame's patches with their level's decoder, one batch per
 * level, and conceals what a frame does not carry — a skipped, kept or lost patch shows the last
 * copy the receiver has, and a patch never received is interpolated from its neighbours, so the
 * picture has no black holes. Same code in Node (probe, eval, tests) and in the browser.
 */
export class Reassembler {
  readonly width: number;
  readonly height: number;
  readonly ps: number;
  /** RGB uint8, row-major: the picture to show. */
  readonly image: Uint8Array;
  /** Per patch: 1 when the picture holds a decoded copy (not an interpolation). */
  readonly have: Uint8Array;
  /** Per patch: the level symbol last shown (MISSING for interpolated patches), for overlays. */
  readonly shownLevel: Uint8Array;

  constructor(
    private readonly ctx: ProtocolContext,
    private readonly decoder: PatchDecoder,
  ) {
    this.width = ctx.width;
    this.height = ctx.height;
    this.ps = ctx.patchSize;
    this.image = new Uint8Array(ctx.width * ctx.height * 3);
    this.have = new Uint8Array(ctx.patchCount);
    this.shownLevel = new Uint8Array(ctx.patchCount).fill(MISSING);
  }

  async apply(frame: CollectedFrame): Promise<ApplyStats> {
    const t0 = performance.now();
    const patchBytes = this.ps * this.ps * 3;
    // Gather every patch's code by level, across the frame's parts.
    const byLevel = new Map<number, { idx: number[]; codes: Uint8Array[] }>();
    for (const part of frame.received) {
      let off = 0;
      for (let k = 0; k < part.levels.length; k++) {
        const sym = part.levels[k] as number;
        const bytes = this.ctx.levelBytes[sym] ?? 0;
        if (bytes > 0) {
          let g = byLevel.get(sym);
          if (!g) {
            g = { idx: [], codes: [] };
            byLevel.set(sym, g);
          }
          g.idx.push(part.firstPatch + k);
          g.codes.push(part.payload.subarray(off, off + bytes));
          off += bytes;
        }
      }
    }
    let decoded = 0;
    for (const [sym, g] of byLevel) {
      const bytes = this.ctx.levelBytes[sym] as number;
      const codes = new Uint8Array(g.idx.length * bytes);
      for (const [i, c] of g.codes.entries()) codes.set(c, i * bytes);
      const pixels = bytes === patchBytes ? codes : await this.decoder.decode(bytes, codes);
      placePatches(this.image, this.width, pixels, g.idx, this.ps);
      for (const p of g.idx) {
        this.have[p] = 1;
        this.shownLevel[p] = sym;
      }
      decoded += g.idx.length;
    }
    // With a base layer, skipped patches show it: the current frame, coarse, never an older one.
    const base = frame.base ? this.decodeBase(frame.base) : null;
    let based = 0;
    if (base) {
      const img = baseImage(base);
      const cols = this.width / this.ps;
      const row = this.ps * 3;
      for (let p = 0; p < frame.levels.length; p++) {
        const sym = frame.levels[p] as number;
        if (sym === KEEP_LEVEL || sym === MISSING || (this.ctx.levelBytes[sym] ?? 0) > 0) continue;
        const x0 = (p % cols) * this.ps;
        const y0 = Math.floor(p / cols) * this.ps;
        for (let dy = 0; dy < this.ps; dy++) {
          const o = ((y0 + dy) * this.width + x0) * 3;
          this.image.set(img.subarray(o, o + row), o);
        }
        this.have[p] = 1;
        this.shownLevel[p] = sym;
        based++;
      }
    }
    // Everything else keeps its last copy; patches with none are interpolated.
    let reused = 0;
    const holes: number[] = [];
    for (let p = 0; p < frame.levels.length; p++) {
      const sym = frame.levels[p] as number;
      if ((this.ctx.levelBytes[sym] ?? 0) > 0 && sym !== MISSING) continue;
      if (base && sym !== KEEP_LEVEL && sym !== MISSING) continue; // painted from the base
      if (this.have[p]) {
        reused++;
        if (sym === KEEP_LEVEL) this.shownLevel[p] = KEEP_LEVEL;
      } else holes.push(p);
    }
    const interpolated = this.fillHoles(holes);
    return { decoded, reused, interpolated, based, decodeMs: performance.now() - t0 };
  }

  /** A base layer for this session's grid, or null when its bytes are malformed (the frame goes on without it). */
  private decodeBase(bytes: Uint8Array): BaseLayer | null {
    try {
      return decodeBase(bytes, this.width / this.ps, this.height / this.ps, this.ps);
    } catch {
      this.badBases++;
      return null;
    }
  }

  /** Base layers that could not be decoded (a sender bug or a tampered stream). */
  badBases = 0;

  /** Holds nothing to release (the decoders are the caller's). */
  close(): void {}

  /**
   * Fills patches without a copy from the nearest known pixels of their four neighbours, in waves
   * outward from known patches, so any pattern of holes ends up filled.
   */
  private fillHoles(holes: number[]): number {
    if (holes.length === 0) return 0;
    const cols = this.width / this.ps;
    const rows = this.height / this.ps;
    const known = Uint8Array.from(this.have);
    let pending = holes;
    let filled = 0;
    while (pending.length) {
      const next: number[] = [];
      const wave: number[] = [];
      for (const p of pending) {
        const c = p % cols;
        const r = (p - c) / cols;
        const n = [r > 0 && known[p - cols], r < rows - 1 && known[p + cols], c > 0 && known[p - 1], c < cols - 1 && known[p + 1]];
        if (n.some(Boolean)) wave.push(p);
        else next.push(p);
      }
      if (wave.length === 0) {
        // Nothing known anywhere (first frame carried nothing): mid-grey, not black.
        for (const p of next) this.fillFlat(p, 128);
        return filled + next.length;
      }
      for (const p of wave) this.interpolate(p, known, cols, rows);
      for (const p of wave) {
        known[p] = 1;
        this.shownLevel[p] = MISSING;
      }
      filled += wave.length;
      pending = next;
    }
    return filled;
  }

  /** Each pixel: inverse-distance blend of the facing edge pixels of the known neighbours. */
  private interpolate(p: number, known: Uint8Array, cols: number, rows: number) {
    const ps = this.ps;
    const w = this.width;
    const img = this.image;
    const c = p % cols;
    const r = (p - c) / cols;
    const x0 = c * ps;
    const y0 = r * ps;
    const up = r > 0 && known[p - cols];
    const down = r < rows - 1 && known[p + cols];
    const left = c > 0 && known[p - 1];
    const right = c < cols - 1 && known[p + 1];
    for (let y = 0; y < ps; y++) {
      for (let x = 0; x < ps; x++) {
        for (let ch = 0; ch < 3; ch++) {
          let sum = 0;
          let wsum = 0;
          const add = (px: number, py: number, d: number) => {
            const wt = 1 / d;
            sum += wt * (img[(py * w + px) * 3 + ch] as number);
            wsum += wt;
          };
          if (up) add(x0 + x, y0 - 1, y + 1);
          if (down) add(x0 + x, y0 + ps, ps - y);
          if (left) add(x0 - 1, y0 + y, x + 1);
          if (right) add(x0 + ps, y0 + y, ps - x);
          img[((y0 + y) * w + x0 + x) * 3 + ch] = Math.round(sum / wsum);
        }
      }
    }
  }

  private fillFlat(p: number, v: number) {
    const cols = this.width / this.ps;
    const c = p % cols;
    const r = (p - c) / cols;
    for (let y = 0; y < this.ps; y++) {
      const o = ((r * this.ps + y) * this.width + c * this.ps) * 3;
      this.image.fill(v, o, o + this.ps * 3);
    }
  }
}
