import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { DEFAULT_FRAME, type FrameGeometry, type FrameOptions, frameGeometry, GEOMETRY } from '../geometry.js';
import { imageSize, listImages } from '../images.js';
import { isVideoSpec } from './sources.js';

export interface PictureSize {
  width: number;
  height: number;
}

/**
 * The picture size ffmpeg reports for its first video stream (`ffmpeg -i` prints it on stderr), as
 * ffmpeg will deliver frames: a stream rotated by a quarter turn (a phone's upright clip) has its
 * sides swapped, as ffmpeg turns it upright. Pure; null when no video stream size is printed.
 */
export function parseFfmpegSize(stderr: string): PictureSize | null {
  const line = stderr.split('\n').find((l) => /Stream #.*Video:/.test(l));
  const m = line?.match(/,\s*(\d{1,5})x(\d{1,5})[\s,[]/);
  if (!m) return null;
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (!(width > 0 && height > 0)) return null;
  const rotation = stderr.match(/rotation of (-?[\d.]+) degrees/);
  const quarter = rotation ? Math.round(Number(rotation[1]) / 90) % 2 !== 0 : false;
  return quarter ? { width: height, height: width } : { width, height };
}

/** Runs `ffmpeg -i <input>` (no output) and reads the stream size it prints; null if it prints none in time. */
function probeFfmpeg(input: string, timeoutMs: number): Promise<PictureSize | null> {
  const camera = input.startsWith('camera:');
  const args = ['-hide_banner', ...(camera ? ['-f', 'v4l2', '-i', input.slice('camera:'.length)] : ['-i', input])];
  return new Promise((resolve) => {
    let stderr = '';
    const proc = spawn(process.env.MMSC_FFMPEG ?? 'ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    proc.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    proc.on('close', () => {
      clearTimeout(timer);
      resolve(parseFfmpegSize(stderr));
    });
  });
}

/**
 * The picture size of an `openSource` spec, read before frames are made: image headers (a folder:
 * its first readable image; pan: the still) or ffmpeg's probe of a video or camera. Null when it
 * cannot be read; opening the source then reports why.
 */
export async function probeSource(spec: string, opts: { timeoutMs?: number } = {}): Promise<PictureSize | null> {
  const image = spec.startsWith('pan:') ? spec.slice(4) : spec;
  if (!spec.startsWith('pan:') && isVideoSpec(spec)) {
    if (!spec.startsWith('camera:') && !existsSync(spec)) return null;
    return probeFfmpeg(spec, opts.timeoutMs ?? 10_000);
  }
  if (!existsSync(image)) return null;
  const files = statSync(image).isDirectory() ? await listImages(image).catch(() => []) : [image];
  for (const f of files) {
    const size = await imageSize(f).catch(() => null);
    if (size) return size;
  }
  return null;
}

/**
 * The frame geometry for a source spec: `frameGeometry` of its probed size, or of the default
 * frame when the size cannot be read. `source` is the probed size (null if unknown).
 */
export async function sourceGeometry(
  spec: string,
  options: FrameOptions = DEFAULT_FRAME,
  opts: { timeoutMs?: number } = {},
): Promise<FrameGeometry & { source: PictureSize | null }> {
  const source = await probeSource(spec, opts);
  return { ...frameGeometry(source?.width ?? GEOMETRY.width, source?.height ?? GEOMETRY.height, options), source };
}
