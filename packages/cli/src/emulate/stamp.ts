/**
 * A frame number stamped into a picture's bottom-left corner, and the picture measures that use it.
 *
 * Pure and dependency-free: the same compiled module runs in Node (RGB pictures) and in the anchor's
 * browser pages (RGBA canvas pixels), so both peers are read and scored by one piece of code.
 *
 * The stamp is a row of 16×16 blocks on the bottom 16 pixel rows: a white and a black reference block,
 * then 12 bits of the frame number (most significant first, white = 1), then an even-parity block.
 * Blocks this large survive any quantizer a video codec picks at low rates (only their mean is read:
 * the central 8×8 pixels' luma against the midpoint of the two references).
 */

export const STAMP_BLOCK = 16;
export const STAMP_BITS = 12;
/** Frame numbers wrap at this count. */
export const STAMP_MODULO = 1 << STAMP_BITS;
/** Blocks in the stamp: two references, the bits, one parity block. */
export const STAMP_BLOCKS = 2 + STAMP_BITS + 1;
/** Rows at the bottom of the picture that hold the stamp: excluded from every picture score. */
export const STAMP_ROWS = STAMP_BLOCK;

/** A rectangle in picture pixels: x0, y0 inclusive; x1, y1 exclusive. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function stampLevels(n: number): number[] {
  const v = ((n % STAMP_MODULO) + STAMP_MODULO) % STAMP_MODULO;
  const bits: number[] = [];
  let parity = 0;
  for (let b = STAMP_BITS - 1; b >= 0; b--) {
    const bit = (v >> b) & 1;
    parity ^= bit;
    bits.push(bit);
  }
  return [1, 0, ...bits, parity];
}

/** Writes frame number `n` (mod 4096) into `data` (`channels` 3 = RGB or 4 = RGBA, row-major). */
export function writeStamp(data: Uint8Array | Uint8ClampedArray, width: number, height: number, channels: number, n: number): void {
  if (width < STAMP_BLOCKS * STAMP_BLOCK || height < 2 * STAMP_BLOCK)
    throw new RangeError(`picture ${width}×${height} too small for a stamp`);
  const levels = stampLevels(n);
  for (let k = 0; k < levels.length; k++) {
    const v = levels[k] ? 255 : 0;
    for (let y = height - STAMP_BLOCK; y < height; y++) {
      for (let x = k * STAMP_BLOCK; x < (k + 1) * STAMP_BLOCK; x++) {
        const i = (y * width + x) * channels;
        data[i] = v;
        data[i + 1] = v;
        data[i + 2] = v;
      }
    }
  }
}

function blockLuma(data: ArrayLike<number>, width: number, height: number, channels: number, k: number): number {
  const q = STAMP_BLOCK / 4;
  let sum = 0;
  let count = 0;
  for (let y = height - STAMP_BLOCK + q; y < height - q; y++) {
    for (let x = k * STAMP_BLOCK + q; x < (k + 1) * STAMP_BLOCK - q; x++) {
      const i = (y * width + x) * channels;
      sum += 0.299 * (data[i] as number) + 0.587 * (data[i + 1] as number) + 0.114 * (data[i + 2] as number);
      count++;
    }
  }
  return sum / count;
}

/**
 * Reads the frame number stamped by {@link writeStamp}; null when the picture holds no readable
 * stamp (references too close, parity wrong).
 */
export function readStamp(data: ArrayLike<number>, width: number, height: number, channels: number): number | null {
  if (width < STAMP_BLOCKS * STAMP_BLOCK || height < 2 * STAMP_BLOCK) return null;
  const white = blockLuma(data, width, height, channels, 0);
  const black = blockLuma(data, width, height, channels, 1);
  if (white - black < 64) return null;
  const mid = (white + black) / 2;
  let v = 0;
  let parity = 0;
  for (let b = 0; b < STAMP_BITS; b++) {
    const bit = blockLuma(data, width, height, channels, 2 + b) > mid ? 1 : 0;
    parity ^= bit;
    v = (v << 1) | bit;
  }
  const p = blockLuma(data, width, height, channels, 2 + STAMP_BITS) > mid ? 1 : 0;
  return p === parity ? v : null;
}

/**
 * The frame number a stamp read (mod 4096) stands for, given the last one matched: the nearest
 * number at or after `previous − 2048`. Without a previous one, the stamp itself.
 */
export function unwrapStamp(stamp: number, previous: number | null): number {
  if (previous === null) return stamp;
  const base = previous - STAMP_MODULO / 2;
  const k = Math.ceil((base - stamp) / STAMP_MODULO);
  return stamp + k * STAMP_MODULO;
}

/** Squared error sums over a region: the sum and the number of samples (3 per pixel). */
function squaredError(
  a: ArrayLike<number>,
  aChannels: number,
  b: ArrayLike<number>,
  bChannels: number,
  width: number,
  box: Box,
): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const p = y * width + x;
      const i = p * aChannels;
      const j = p * bChannels;
      for (let c = 0; c < 3; c++) {
        const d = (a[i + c] as number) - (b[j + c] as number);
        sum += d * d;
      }
      count += 3;
    }
  }
  return { sum, count };
}

/** PSNR in dB from a mean squared error (8-bit samples); capped at 100 dB for identical pictures. */
export function psnrOf(mse: number): number {
  return mse <= 0 ? 100 : Math.min(100, 10 * Math.log10((255 * 255) / mse));
}

/** The scored area of a picture: everything above the stamp rows. */
export function scoredArea(width: number, height: number): Box {
  return { x0: 0, y0: 0, x1: width, y1: height - STAMP_ROWS };
}

/** Clips boxes to the scored area, dropping empty ones. */
export function clipBoxes(boxes: readonly Box[], width: number, height: number): Box[] {
  const area = scoredArea(width, height);
  const out: Box[] = [];
  for (const b of boxes) {
    const c = {
      x0: Math.max(area.x0, Math.floor(b.x0)),
      y0: Math.max(area.y0, Math.floor(b.y0)),
      x1: Math.min(area.x1, Math.ceil(b.x1)),
      y1: Math.min(area.y1, Math.ceil(b.y1)),
    };
    if (c.x1 > c.x0 && c.y1 > c.y0) out.push(c);
  }
  return out;
}

export interface PictureScore {
  /** PSNR over the picture above the stamp rows, dB. */
  psnr: number;
  /** PSNR inside the query's region (the union of `boxes`), dB; null without a region. */
  queryPsnr: number | null;
}

/**
 * Scores a shown picture against its source frame: over the frame (stamp rows excluded) and inside
 * the union of `boxes` (pixels covered by several boxes count once).
 */
export function scorePicture(
  shown: ArrayLike<number>,
  shownChannels: number,
  source: ArrayLike<number>,
  sourceChannels: number,
  width: number,
  height: number,
  boxes: readonly Box[],
): PictureScore {
  const all = squaredError(shown, shownChannels, source, sourceChannels, width, scoredArea(width, height));
  const clipped = clipBoxes(boxes, width, height);
  if (clipped.length === 0) return { psnr: psnrOf(all.sum / all.count), queryPsnr: null };
  let sum = 0;
  let count = 0;
  // The union row by row: each row's covered spans, merged.
  for (let y = 0; y < height; y++) {
    const spans = clipped
      .filter((b) => y >= b.y0 && y < b.y1)
      .map((b) => [b.x0, b.x1] as [number, number])
      .sort((p, q) => p[0] - q[0]);
    let cur: [number, number] | null = null;
    const flush = () => {
      if (!cur) return;
      const e = squaredError(shown, shownChannels, source, sourceChannels, width, { x0: cur[0], y0: y, x1: cur[1], y1: y + 1 });
      sum += e.sum;
      count += e.count;
    };
    for (const s of spans) {
      if (cur && s[0] <= cur[1]) cur[1] = Math.max(cur[1], s[1]);
      else {
        flush();
        cur = [s[0], s[1]];
      }
    }
    flush();
  }
  return { psnr: psnrOf(all.sum / all.count), queryPsnr: count > 0 ? psnrOf(sum / count) : null };
}
