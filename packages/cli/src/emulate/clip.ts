import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Crop, DEMO_IMAGE, FRAME_SIZE, panCrop } from '@mmsc/sender';
import sharp from 'sharp';
import { CliError } from '../errors.js';
import { type Box, writeStamp } from './stamp.js';

/**
 * The emulation clip: the pan source's frames over a still, each stamped with its number, with the
 * query's ground-truth boxes moved along with the pan. Both peers of an emulation run send exactly
 * these frames, and both are scored against them.
 */
export interface ClipManifest {
  version: 1;
  /** The still the clip pans over. */
  image: string;
  /** The query the ground truth answers. */
  query: string;
  fps: number;
  width: number;
  height: number;
  frames: number;
  /** Frame file names, in order (frame i is `files[i]`, stamped i). */
  files: string[];
  /** Per frame: the ground-truth boxes of the query's objects, in frame pixels. */
  boxes: Box[][];
}

/**
 * The demo image's objects, boxed by hand on the 768×576 original (`assets/images/dog.jpg`): the
 * ground truth for the default clip, independent of the detector.
 */
export const DEMO_GROUND_TRUTH: Record<string, Box[]> = {
  dog: [{ x0: 131, y0: 222, x1: 310, y1: 541 }],
  bicycle: [{ x0: 125, y0: 110, x1: 568, y1: 420 }],
};

export interface ClipOptions {
  out: string;
  image?: string;
  query?: string;
  /** Boxes in the image's own pixels; default: the demo image's ground truth for the query's words. */
  boxes?: Box[];
  frames: number;
  fps: number;
}

/** How sharp's `fit: 'cover'` (centred) maps an image onto `to`: scale, then a centred crop. */
function coverTransform(from: { width: number; height: number }, to: { width: number; height: number }) {
  const scale = Math.max(to.width / from.width, to.height / from.height);
  return { scale, dx: (from.width * scale - to.width) / 2, dy: (from.height * scale - to.height) / 2 };
}

/** A box of the original image in frame pixels, for one crop of the cover-resized picture; null when outside. */
export function boxInFrame(
  b: Box,
  cover: { scale: number; dx: number; dy: number },
  crop: Crop,
  frame: { width: number; height: number },
): Box | null {
  const sx = frame.width / crop.width;
  const sy = frame.height / crop.height;
  const x0 = Math.max(0, (b.x0 * cover.scale - cover.dx - crop.left) * sx);
  const y0 = Math.max(0, (b.y0 * cover.scale - cover.dy - crop.top) * sy);
  const x1 = Math.min(frame.width, (b.x1 * cover.scale - cover.dx - crop.left) * sx);
  const y1 = Math.min(frame.height, (b.y1 * cover.scale - cover.dy - crop.top) * sy);
  if (x1 - x0 < 1 || y1 - y0 < 1) return null;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { x0: r(x0), y0: r(y0), x1: r(x1), y1: r(y1) };
}

/** The demo ground truth for a query: the boxes of every known object named in it. */
export function demoBoxes(query: string): Box[] {
  const words = query.toLowerCase().split(/[^a-z]+/);
  return Object.entries(DEMO_GROUND_TRUTH).flatMap(([name, boxes]) => (words.includes(name) ? boxes : []));
}

/** Stamps frame `i` (RGB at the frame size) with its number and writes it as the clip's i-th PNG; its file name. */
async function writeStampedFrame(data: Buffer, i: number, out: string, g: { width: number; height: number } = FRAME_SIZE): Promise<string> {
  writeStamp(data, g.width, g.height, 3, i);
  const file = `frame-${String(i).padStart(5, '0')}.png`;
  await sharp(data, { raw: { ...g, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toFile(join(out, file));
  return file;
}

/** Writes the clip's frames (PNG) and `clip.json` into `out`; returns the manifest. */
export async function makeClip(o: ClipOptions): Promise<ClipManifest> {
  const image = o.image ?? DEMO_IMAGE;
  const query = o.query ?? 'dog';
  const g = FRAME_SIZE;
  const big = { width: g.width * 2, height: g.height * 2 };
  let meta: { width?: number; height?: number };
  let bigData: Buffer;
  try {
    meta = await sharp(image).metadata();
    bigData = await sharp(image).removeAlpha().resize(big.width, big.height, { fit: 'cover' }).raw().toBuffer();
  } catch (e) {
    throw new CliError(`cannot decode image ${image}: ${(e as Error).message}`, 2);
  }
  const cover = coverTransform({ width: meta.width ?? 0, height: meta.height ?? 0 }, big);
  const objects = o.boxes ?? demoBoxes(query);
  await mkdir(o.out, { recursive: true });
  const files: string[] = [];
  const boxes: Box[][] = [];
  for (let i = 0; i < o.frames; i++) {
    const crop = panCrop(i, o.fps, big, g);
    const data = await sharp(bigData, { raw: { ...big, channels: 3 } })
      .extract(crop)
      .resize(g.width, g.height, { fit: 'fill' })
      .raw()
      .toBuffer();
    files.push(await writeStampedFrame(data, i, o.out));
    boxes.push(objects.map((b) => boxInFrame(b, cover, crop, g)).filter((b): b is Box => b !== null));
  }
  const manifest: ClipManifest = { version: 1, image, query, fps: o.fps, width: g.width, height: g.height, frames: o.frames, files, boxes };
  await writeFile(join(o.out, 'clip.json'), `${JSON.stringify(manifest)}\n`);
  return manifest;
}

/** Reads a clip folder's manifest, with a one-line error when it is not one. */
export async function readClip(dir: string): Promise<ClipManifest> {
  let m: ClipManifest;
  try {
    m = JSON.parse(await readFile(join(dir, 'clip.json'), 'utf8')) as ClipManifest;
  } catch (e) {
    throw new CliError(`${dir} is not an emulation clip (clip.json: ${(e as Error).message})`, 2);
  }
  if (m.version !== 1 || m.files.length !== m.frames || m.boxes.length !== m.frames)
    throw new CliError(`${dir}/clip.json is inconsistent`, 2);
  return m;
}

/** A clip's source frames as RGB pictures, in frame order (for scoring what a receiver showed). */
export async function loadClipFrames(dir: string, m: ClipManifest): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const f of m.files) {
    const b = await sharp(join(dir, f)).removeAlpha().raw().toBuffer();
    out.push(new Uint8Array(b.buffer, b.byteOffset, b.length));
  }
  return out;
}

/**
 * A clip made of a recording's frames (`mmsc record`): each frame stamped with its index, no
 * ground truth (scores are over the frame only), the recording's first query as the clip's query;
 * at the recorded frames' own size (the first one's).
 */
export async function clipFromFrames(framesDir: string, files: string[], query: string, fps: number, out: string): Promise<ClipManifest> {
  const first: { width?: number; height?: number } = files[0] ? await sharp(join(framesDir, files[0])).metadata() : {};
  const g = first.width && first.height ? { width: first.width, height: first.height } : FRAME_SIZE;
  await mkdir(out, { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < files.length; i++) {
    const data = await sharp(join(framesDir, files[i] as string))
      .removeAlpha()
      .resize(g.width, g.height, { fit: 'cover' })
      .raw()
      .toBuffer();
    names.push(await writeStampedFrame(data, i, out, g));
  }
  const manifest: ClipManifest = {
    version: 1,
    image: framesDir,
    query,
    fps,
    width: g.width,
    height: g.height,
    frames: files.length,
    files: names,
    boxes: names.map(() => []),
  };
  await writeFile(join(out, 'clip.json'), `${JSON.stringify(manifest)}\n`);
  return manifest;
}
