import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { coverCrop, DEFAULT_FRAME, type FrameOptions, frameGeometry, GEOMETRY } from './geometry.js';

/** An image file or folder that cannot be read or decoded (bad input, not a bug: the CLI prints one line). */
export class ImageError extends Error {
  override name = 'ImageError';
}

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.bmp', '.ppm']);

export interface RgbImage {
  width: number;
  height: number;
  /** RGB uint8, row-major. */
  data: Uint8Array;
}

/** Image files of a directory, sorted by name; a clear error when there are none. */
export async function listImages(dir: string): Promise<string[]> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new ImageError(`${dir} is not a directory`);
    names = await readdir(dir);
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(`cannot read image directory ${dir}: ${(e as Error).message}`);
  }
  const files = names.filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
  if (files.length === 0) throw new ImageError(`no images (${[...IMAGE_EXTENSIONS].join(' ')}) in ${dir}`);
  return files.map((n) => join(dir, n));
}

/** Decodes an image to RGB; `crop` trims right/bottom edges to a multiple of that many pixels. */
export async function readRgb(path: string, crop = 1): Promise<RgbImage> {
  try {
    const img = sharp(path).removeAlpha().toColourspace('srgb');
    const meta = await img.metadata();
    const width = Math.floor((meta.width ?? 0) / crop) * crop;
    const height = Math.floor((meta.height ?? 0) / crop) * crop;
    if (width === 0 || height === 0) throw new Error(`too small (${meta.width}×${meta.height})`);
    const data = await img.extract({ left: 0, top: 0, width, height }).raw().toBuffer();
    return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new ImageError(`cannot decode image ${path}: ${(e as Error).message}`);
  }
}

/**
 * Decodes an image to a width×height frame without stretching it: the centred part with the frame's
 * aspect (`coverCrop`) is scaled to the frame, so a picture of another aspect loses a margin.
 */
export async function readFrame(path: string, width: number = GEOMETRY.width, height: number = GEOMETRY.height): Promise<RgbImage> {
  try {
    const img = sharp(path).removeAlpha().toColourspace('srgb');
    const meta = await img.metadata();
    if (!meta.width || !meta.height) throw new Error('no picture size in the file');
    const { data, info } = await img
      .extract(coverCrop(meta.width, meta.height, width, height))
      .resize(width, height, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected RGB, got ${info.channels} channels`);
    return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new ImageError(`cannot decode image ${path}: ${(e as Error).message}`);
  }
}

/** An image file's picture size (header only), or an ImageError. */
export async function imageSize(path: string): Promise<{ width: number; height: number }> {
  try {
    const { width, height } = await sharp(path).metadata();
    if (!width || !height) throw new Error('no picture size in the file');
    return { width, height };
  } catch (e) {
    throw new ImageError(`cannot decode image ${path}: ${(e as Error).message}`);
  }
}

/** Decodes an image to the frame that `frameGeometry` picks for it (its own aspect by default). */
export async function readSourceFrame(path: string, options: FrameOptions = DEFAULT_FRAME): Promise<RgbImage> {
  const { width, height } = await imageSize(path);
  const g = frameGeometry(width, height, options);
  return readFrame(path, g.width, g.height);
}

/** Writes `rgb` with a relevance map (values in [0,1], one per pixel) overlaid in red-yellow. */
export async function writeOverlay(path: string, img: RgbImage, map: Float32Array): Promise<void> {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < map.length; i++) {
    const v = map[i] as number;
    const a = 0.65 * v;
    const heat = [255, 255 * Math.max(0, v * 2 - 1), 0];
    for (let c = 0; c < 3; c++) out[i * 3 + c] = (img.data[i * 3 + c] as number) * (1 - a) + (heat[c] as number) * a;
  }
  await sharp(out, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toFile(path);
}
