import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_FRAME, DEMO_IMAGE, type FrameGeometry, type FrameOptions, PanSource, type RgbImage, sourceGeometry } from '@mmsc/sender';
import sharp from 'sharp';
import { tourWindow } from './regions.js';

/** Frames of a test clip, in order, all at the stream's size. */
export interface Clip {
  name: string;
  fps: number;
  frames: RgbImage[];
  /** Where the query is scored apart from the detector's boxes, per frame (null: nothing there that frame). */
  region?: ScoredRegion;
}

/** A region a video evaluation scores in, independent of the detector, named for what it is. */
export interface ScoredRegion {
  /** `truth`: annotated objects of the query; `moving`: pixels moving against the median background. */
  kind: 'truth' | 'moving';
  /** What the region is, in words, for the report. */
  label: string;
  /** Per frame, 1 inside the region (frame-sized); null where it is empty. */
  masks: (Uint8Array | null)[];
}

export const CLIPS = ['pan', 'tour'] as const;
/** The tour's stills (assets/images, see assets/README.md), one per 2-second segment. */
export const TOUR_IMAGES = ['dog.jpg', 'horses.jpg', 'giraffe.jpg', 'person.jpg', 'kite.jpg'];
const TOUR_SEGMENT_S = 2;

/**
 * The frame a clip is made at: its own aspect (`frameGeometry` of the source's size). `pan` and
 * `tour` take the demo still's (the tour's first image); a video file its stream's, probed by ffmpeg.
 */
export async function clipGeometry(spec: string, options: FrameOptions = DEFAULT_FRAME): Promise<FrameGeometry> {
  const g = await sourceGeometry((CLIPS as readonly string[]).includes(spec) ? `pan:${DEMO_IMAGE}` : spec, options);
  return { width: g.width, height: g.height, crop: g.crop };
}

/**
 * `pan`: the default demo source (PanSource over dog.jpg), frames 0..n−1 exactly as `mmsc serve`
 * makes them. `tour`: harder and still reproducible — a cut every 2 s to the next of TOUR_IMAGES,
 * each shown with a pan twice as fast as `pan` and a zoom-in over the segment (`tourWindow`).
 * Anything else: a video file, decoded by ffmpeg to the first n frames at `fps` (frames dropped or
 * repeated as its own rate needs: the motion between frames is what a live source at `fps` gives),
 * scaled to cover `size` and centre-cropped (never stretched).
 */
export async function makeClip(spec: string, n: number, fps: number, size: { width: number; height: number }): Promise<Clip> {
  if (spec === 'pan') {
    const pan = await PanSource.open(DEMO_IMAGE, size, fps);
    const frames: RgbImage[] = [];
    for (let k = 0; k < n; k++) frames.push(await pan.next());
    return { name: 'pan', fps, frames };
  }
  if (spec === 'tour') return { name: 'tour', fps, frames: await tour(n, fps, size) };
  if (!existsSync(spec)) throw new Error(`clip ${spec} is neither ${CLIPS.join(' nor ')} nor an existing video file`);
  return { name: spec, fps, frames: await fromFile(spec, n, fps, size) };
}

async function tour(n: number, fps: number, size: { width: number; height: number }): Promise<RgbImage[]> {
  const dir = dirname(DEMO_IMAGE);
  const bigs = await Promise.all(
    TOUR_IMAGES.map(async (f) => {
      const { data, info } = await sharp(join(dir, f))
        .removeAlpha()
        .resize(size.width * 2, size.height * 2, { fit: 'cover' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height };
    }),
  );
  const frames: RgbImage[] = [];
  for (let k = 0; k < n; k++) {
    const { segment, window } = tourWindow(k, fps, bigs[0] as (typeof bigs)[number], size, undefined, TOUR_SEGMENT_S);
    const big = bigs[segment % bigs.length] as (typeof bigs)[number];
    const data = await sharp(big.data, { raw: { width: big.width, height: big.height, channels: 3 } })
      .extract(window)
      .resize(size.width, size.height, { fit: 'fill' })
      .raw()
      .toBuffer();
    frames.push({ ...size, data: new Uint8Array(data.buffer, data.byteOffset, data.length) });
  }
  return frames;
}

async function fromFile(path: string, n: number, fps: number, size: { width: number; height: number }): Promise<RgbImage[]> {
  const frameBytes = size.width * size.height * 3;
  const args = [
    '-v',
    'error',
    '-i',
    path,
    '-vf',
    `fps=${fps},scale=${size.width}:${size.height}:force_original_aspect_ratio=increase,crop=${size.width}:${size.height}`,
    '-frames:v',
    String(n),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-',
  ];
  let stdout: Buffer;
  try {
    ({ stdout } = await promisify(execFile)('ffmpeg', args, { encoding: 'buffer', maxBuffer: frameBytes * n + 1024 }));
  } catch (e) {
    throw new Error(`ffmpeg could not decode ${path}: ${(e as Error).message.split('\n').slice(-2).join(' ')}`);
  }
  const count = Math.floor(stdout.length / frameBytes);
  if (count === 0) throw new Error(`${path} gave no frame`);
  return Array.from({ length: count }, (_, k) => ({
    ...size,
    data: new Uint8Array(stdout.buffer, stdout.byteOffset + k * frameBytes, frameBytes),
  }));
}
