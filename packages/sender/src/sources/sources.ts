import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import sharp from 'sharp';
import { CliError } from '../errors.js';
import { listImages, type RgbImage, readFrame } from '../images.js';

/** Where frames come from. `next()` returns the newest frame at the session geometry. */
export interface FrameSource {
  readonly description: string;
  /** Whether consecutive frames may be identical (lets the sender reuse per-frame analysis). */
  readonly still: boolean;
  next(): Promise<RgbImage>;
  close(): void;
}

export interface Geometry {
  width: number;
  height: number;
}

/** A still image, repeated at the frame rate. */
export class StillSource implements FrameSource {
  readonly still = true;
  private constructor(
    private readonly frame: RgbImage,
    readonly description: string,
  ) {}
  static async open(path: string, g: Geometry) {
    return new StillSource(await readFrame(path, g.width, g.height), `still image ${path}`);
  }
  async next() {
    return this.frame;
  }
  close() {}
}

/** A folder of images played in name order, looping. */
export class SequenceSource implements FrameSource {
  readonly still = false;
  private i = 0;
  private constructor(
    private readonly files: string[],
    private readonly g: Geometry,
    readonly description: string,
  ) {}
  static async open(dir: string, g: Geometry) {
    const files = await listImages(dir);
    return new SequenceSource(files, g, `image sequence ${dir} (${files.length} images)`);
  }
  async next() {
    const file = this.files[this.i++ % this.files.length] as string;
    return readFrame(file, this.g.width, this.g.height);
  }
  close() {}
}

/** A synthetic camera moving over a still: slow pan and zoom, for a moving demo. */
export class PanSource implements FrameSource {
  readonly still = false;
  private t = 0;
  private constructor(
    private readonly big: { data: Buffer; width: number; height: number },
    private readonly g: Geometry,
    private readonly fps: number,
    readonly description: string,
  ) {}
  static async open(path: string, g: Geometry, fps: number) {
    // Work on a copy at twice the frame size, so zoomed-in crops keep detail.
    try {
      const { data, info } = await sharp(path)
        .removeAlpha()
        .resize(g.width * 2, g.height * 2, { fit: 'cover' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return new PanSource({ data, width: info.width, height: info.height }, g, fps, `pan/zoom over ${path}`);
    } catch (e) {
      throw new CliError(`cannot decode image ${path}: ${(e as Error).message}`, 2);
    }
  }
  async next(): Promise<RgbImage> {
    const s = this.t++ / this.fps;
    const zoom = 0.7 + 0.25 * Math.sin(s * 0.4); // share of the big image's width shown
    const w = Math.round(this.big.width * zoom);
    const h = Math.round((w * this.g.height) / this.g.width);
    const left = Math.round(((this.big.width - w) / 2) * (1 + Math.sin(s * 0.7)));
    const top = Math.round(((this.big.height - h) / 2) * (1 + Math.cos(s * 0.5)));
    const data = await sharp(this.big.data, { raw: { width: this.big.width, height: this.big.height, channels: 3 } })
      .extract({ left, top, width: w, height: h })
      .resize(this.g.width, this.g.height, { fit: 'fill' })
      .raw()
      .toBuffer();
    return { width: this.g.width, height: this.g.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  }
  close() {}
}

/** A video file (looped, at its own pace) or a V4L2 camera, decoded by ffmpeg to raw RGB frames. */
export class FfmpegSource implements FrameSource {
  readonly still = false;
  private latest: RgbImage | null = null;
  private waiting: ((f: RgbImage) => void)[] = [];
  private error: Error | null = null;
  private proc: ChildProcess;

  private constructor(
    args: string[],
    g: Geometry,
    readonly description: string,
  ) {
    const frameBytes = g.width * g.height * 3;
    // MMSC_FFMPEG names another ffmpeg binary (tests use it to exercise the missing-binary path).
    this.proc = spawn(process.env.MMSC_FFMPEG ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = Buffer.alloc(0);
    let stderr = '';
    this.proc.on('error', (e) => this.fail(new CliError(`cannot run ffmpeg (${e.message}); install it: apt-get install -y ffmpeg`, 2)));
    this.proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    this.proc.stdout?.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= frameBytes) {
        const frame = new Uint8Array(buf.subarray(0, frameBytes));
        buf = buf.subarray(frameBytes);
        this.latest = { width: g.width, height: g.height, data: frame };
        for (const w of this.waiting.splice(0)) w(this.latest);
      }
    });
    this.proc.on('exit', (code) => {
      if (code !== 0 && code !== null) this.fail(new CliError(`ffmpeg exited with ${code}: ${stderr.trim().split('\n').pop()}`, 1));
    });
  }

  static open(input: string, g: Geometry): FfmpegSource {
    const camera = input.startsWith('camera:');
    const path = camera ? input.slice('camera:'.length) : input;
    if (!existsSync(path)) throw new CliError(`${camera ? 'camera device' : 'video file'} ${path} does not exist`, 2);
    const inputArgs = camera ? ['-f', 'v4l2', '-i', path] : ['-re', '-stream_loop', '-1', '-i', path];
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      ...inputArgs,
      '-vf',
      `scale=${g.width}:${g.height}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ];
    return new FfmpegSource(args, g, camera ? `camera ${path}` : `video ${path}`);
  }

  private fail(e: Error) {
    this.error = e;
    for (const w of this.waiting.splice(0)) w(this.latest as RgbImage);
  }

  async next(): Promise<RgbImage> {
    if (this.error) throw this.error;
    if (this.latest) return this.latest;
    const f = await new Promise<RgbImage>((resolve) => this.waiting.push(resolve));
    if (this.error) throw this.error;
    return f;
  }

  close() {
    this.proc.kill('SIGKILL');
  }
}

const VIDEO = /\.(mp4|mkv|webm|mov|avi|m4v|mpg|mpeg|ts|y4m)$/i;

/** `--source` syntax: image file, folder, video file, camera:/dev/videoN, pan:<image>. */
export async function openSource(spec: string, g: Geometry, fps: number): Promise<FrameSource> {
  if (spec.startsWith('pan:')) return PanSource.open(spec.slice(4), g, fps);
  if (spec.startsWith('camera:') || VIDEO.test(spec)) return FfmpegSource.open(spec, g);
  if (!existsSync(spec))
    throw new CliError(`source ${spec} does not exist (expected an image, a folder, a video, camera:/dev/videoN or pan:<image>)`, 2);
  if (statSync(spec).isDirectory()) return SequenceSource.open(spec, g);
  return StillSource.open(spec, g);
}
