import { DEFAULT_GEOMETRY } from '@mmsc/protocol';

/** The default frame (the protocol's default geometry) and its patch grid, for callers with no source to measure. */
export const GEOMETRY = { width: DEFAULT_GEOMETRY.width, height: DEFAULT_GEOMETRY.height, patchSize: DEFAULT_GEOMETRY.patchSize };
/** The default frame size alone, as sources and images take it. */
export const FRAME_SIZE = { width: GEOMETRY.width, height: GEOMETRY.height };

/**
 * The grid every frame side is a multiple of: the patch (8 px; also even, as 4:2:0 needs). The
 * codec engines code a partial last row or column of 16×16 macroblocks (their encoders pad, the
 * stream carries the visible size), so a 4:3 source at 480 is exactly 480×360.
 */
export const FRAME_GRID = 8;
/** The long side (`size`) is a multiple of this: the codec engines' macroblock. */
export const SIZE_GRID = 16;
export const MIN_FRAME_SIZE = 64;
export const MAX_FRAME_SIZE = 1920;

/**
 * How a source's picture becomes the frame: `keep` its aspect ratio (the long side to `size`, the
 * short side rounded to the grid), or `crop` it to the configured frame (the default frame's 3:2
 * aspect with the long side `size`, turned upright for an upright source).
 */
export type FrameFit = 'keep' | 'crop';
export const FRAME_FITS: readonly FrameFit[] = ['keep', 'crop'];

export interface FrameOptions {
  /** Long side of the frame in pixels: a multiple of SIZE_GRID in [MIN_FRAME_SIZE, MAX_FRAME_SIZE]. */
  size: number;
  fit: FrameFit;
}

export const DEFAULT_FRAME: FrameOptions = { size: GEOMETRY.width, fit: 'keep' };

/** A rectangle of a picture, in its pixels. */
export interface Crop {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface FrameGeometry {
  width: number;
  height: number;
  /** The centred part of the source the frame shows (its aspect is the frame's, to a pixel): scale it to width×height. */
  crop: Crop;
}

/** Throws a RangeError naming what is wrong with `o` (size off the grid or out of range, unknown fit). */
export function checkFrameOptions(o: FrameOptions): void {
  if (!Number.isInteger(o.size) || o.size % SIZE_GRID || o.size < MIN_FRAME_SIZE || o.size > MAX_FRAME_SIZE)
    throw new RangeError(`size must be a multiple of ${SIZE_GRID} in ${MIN_FRAME_SIZE}..${MAX_FRAME_SIZE}, got ${o.size}`);
  if (!FRAME_FITS.includes(o.fit)) throw new RangeError(`fit must be ${FRAME_FITS.join(' or ')}, got ${o.fit}`);
}

/**
 * The centred rectangle of a `sourceW`×`sourceH` picture with the aspect of `width`×`height`, as
 * large as fits: what a frame of that size shows of the picture without stretching it. Pure.
 */
export function coverCrop(sourceW: number, sourceH: number, width: number, height: number): Crop {
  let cw = sourceW;
  let ch = sourceH;
  if (sourceW * height > width * sourceH) cw = Math.max(1, Math.min(sourceW, Math.round((sourceH * width) / height)));
  else ch = Math.max(1, Math.min(sourceH, Math.round((sourceW * height) / width)));
  return { left: Math.floor((sourceW - cw) / 2), top: Math.floor((sourceH - ch) / 2), width: cw, height: ch };
}

/**
 * The frame for a `sourceW`×`sourceH` source. Contract: the long side is `size` (on the source's
 * long side: a landscape source gives a landscape frame, an upright one an upright frame); the short
 * side is a multiple of FRAME_GRID, at least FRAME_GRID: with `keep` the nearest one to the source's
 * aspect (so width/height differs from sourceW/sourceH by at most half a grid step on the short
 * side), with `crop` the default frame's aspect (3:2). `crop` is the centred part of the source with
 * the frame's aspect; scaling it to width×height distorts nothing beyond a pixel of rounding. Pure;
 * RangeError for a source side < 1 or bad options.
 */
export function frameGeometry(sourceW: number, sourceH: number, options: FrameOptions = DEFAULT_FRAME): FrameGeometry {
  checkFrameOptions(options);
  if (!(Number.isInteger(sourceW) && Number.isInteger(sourceH) && sourceW >= 1 && sourceH >= 1))
    throw new RangeError(`source size must be whole positive pixels, got ${sourceW}×${sourceH}`);
  const long = options.size;
  const ratio = options.fit === 'keep' ? Math.min(sourceW, sourceH) / Math.max(sourceW, sourceH) : GEOMETRY.height / GEOMETRY.width;
  const short = Math.min(long, Math.max(FRAME_GRID, Math.round((long * ratio) / FRAME_GRID) * FRAME_GRID));
  const [width, height] = sourceH > sourceW ? [short, long] : [long, short];
  return { width, height, crop: coverCrop(sourceW, sourceH, width, height) };
}
