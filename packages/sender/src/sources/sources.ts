import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import sharp from 'sharp';
import { listImages, type RgbImage, readFrame } from '../images.js';
import { type Log, silentLog } from '../log.js';

/**
 * Whether a source can produce frames. `ok: false` comes with a one-line human `reason`; an ok
 * source may carry a `reason` too, as a note on a degraded state (files skipped, last frame held).
 */
export interface SourceHealth {
  ok: boolean;
  reason?: string;
}

/**
 * A source that cannot produce frames (every file undecodable, ffmpeg failed). Its message is one
 * line and stays the same across repeated `next()` calls, so a caller can log it only when it changes.
 */
export class SourceError extends Error {
  override name = 'SourceError';
}

/** Where frames come from. `next()` returns the newest frame at the session geometry (the source's aspect kept, never stretched). */
export interface FrameSource {
  readonly description: string;
  /** Whether consecutive frames may be identical (lets the sender reuse per-frame analysis). */
  readonly still: boolean;
  /** The newest frame; rejects with a `SourceError` when the source cannot produce one. */
  next(): Promise<RgbImage>;
  /** Whether frames can be produced, and if not, why. Cheap: decodes nothing. */
  health(): SourceHealth;
  close(): void;
}

export interface Geometry {
  width: number;
  height: number;
}

export interface SourceOptions {
  /** Where a source reports events that `next()` does not (a skipped file, ffmpeg exiting after frames), at warn level. Default: nowhere. */
  log?: Log;
  /** ffmpeg sources: how long one `next()` waits for the first frame before rejecting (default 10 s). */
  firstFrameTimeoutMs?: number;
}

const firstLine = (s: string) => s.split('\n')[0]?.trim() ?? '';

/** A still image, repeated at the frame rate. */
export class StillSource implements FrameSource {
  readonly still = true;
  private constructor(
    private readonly frame: RgbImage,
    readonly description: string,
  ) {}
  /** Decodes the image now: an undecodable file fails here (SourceError), so a still source is always healthy. */
  static async open(path: string, g: Geometry) {
    return new StillSource(await readFrame(path, g.width, g.height), `still image ${path}`);
  }
  async next() {
    return this.frame;
  }
  health(): SourceHealth {
    return { ok: true };
  }
  close() {}
}

/**
 * A folder of images played in name order, looping. A file that cannot be decoded is skipped (one
 * log line, then never tried again) and the next file is tried in the same `next()` call; once
 * every file has failed, `next()` rejects with a `SourceError`. `open` decodes files only up to the
 * first decodable one (kept as the first frame), so a large folder opens at once while health() is
 * right from the start.
 */
export class SequenceSource implements FrameSource {
  readonly still = false;
  private i = 0;
  private readonly skipped = new Set<number>();
  private error: SourceError | null = null;
  private first: RgbImage | null = null;
  private constructor(
    private readonly dir: string,
    private readonly files: string[],
    private readonly g: Geometry,
    private readonly log: Log,
    readonly description: string,
  ) {}
  static async open(dir: string, g: Geometry, opts: SourceOptions = {}) {
    const files = await listImages(dir);
    const s = new SequenceSource(dir, files, g, opts.log ?? silentLog, `image sequence ${dir} (${files.length} images)`);
    try {
      s.first = await s.decodeNext();
    } catch (e) {
      // Every file failed: recorded in `error`, reported by health() and by next().
      if (!(e instanceof SourceError)) throw e;
    }
    return s;
  }

  private async decodeNext(): Promise<RgbImage> {
    const n = this.files.length;
    while (!this.error) {
      const k = this.i++ % n;
      if (this.skipped.has(k)) continue;
      const file = this.files[k] as string;
      try {
        return await readFrame(file, this.g.width, this.g.height);
      } catch (e) {
        if (this.skipped.has(k)) continue; // a concurrent next() already reported it
        this.skipped.add(k);
        this.log.warn({}, `source: skipping ${file}: ${firstLine((e as Error).message)}`);
        if (this.skipped.size === n) this.error = new SourceError(`no decodable image in ${this.dir} (${n} files skipped)`);
      }
    }
    throw this.error;
  }

  async next() {
    const f = this.first;
    if (f) {
      this.first = null;
      return f;
    }
    return this.decodeNext();
  }
  health(): SourceHealth {
    if (this.error) return { ok: false, reason: this.error.message };
    if (this.skipped.size > 0)
      return { ok: true, reason: `${this.skipped.size} of ${this.files.length} files in ${this.dir} skipped (cannot decode)` };
    return { ok: true };
  }
  close() {}
}

/** A crop of a picture, in its pixels. */
export interface Crop {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Where the pan source's frame `t` (at `fps`) looks in its working picture `big` (the still resized
 * to cover twice the frame size): a slow pan and zoom with the frame's aspect ratio. Pure, so a clip
 * made from it can carry ground-truth regions moved the same way.
 */
export function panCrop(t: number, fps: number, big: Geometry, g: Geometry): Crop {
  const s = t / fps;
  const zoom = 0.7 + 0.25 * Math.sin(s * 0.4); // share of the big image's width shown
  const width = Math.round(big.width * zoom);
  const height = Math.round((width * g.height) / g.width);
  const left = Math.round(((big.width - width) / 2) * (1 + Math.sin(s * 0.7)));
  const top = Math.round(((big.height - height) / 2) * (1 + Math.cos(s * 0.5)));
  return { left, top, width, height };
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
  /** Decodes the image now: an undecodable file fails here (SourceError); afterwards frames are crops of it in memory. */
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
      throw new SourceError(`cannot decode image ${path}: ${(e as Error).message}`);
    }
  }
  async next(): Promise<RgbImage> {
    const { left, top, width: w, height: h } = panCrop(this.t++, this.fps, this.big, this.g);
    const data = await sharp(this.big.data, { raw: { width: this.big.width, height: this.big.height, channels: 3 } })
      .extract({ left, top, width: w, height: h })
      .resize(this.g.width, this.g.height, { fit: 'fill' })
      .raw()
      .toBuffer();
    return { width: this.g.width, height: this.g.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  }
  health(): SourceHealth {
    return { ok: true };
  }
  close() {}
}

/**
 * A video file (looped, at its own pace) or a V4L2 camera, decoded by ffmpeg to raw RGB frames.
 *
 * Failures: ffmpeg missing, or ffmpeg ending before its first frame (a corrupt video, an unreadable
 * camera) → health not ok and `next()` rejects with a `SourceError` carrying ffmpeg's last stderr
 * line. No frame yet after `firstFrameTimeoutMs` (10 s) → `next()` rejects and health is not ok
 * until a frame comes. ffmpeg ending after frames (a camera unplugged, a damaged stretch of a
 * video) → one log line, health not ok, and `next()` keeps serving the last frame, so receivers
 * keep a picture while /health says why it no longer moves. ffmpeg is not restarted.
 */
export class FfmpegSource implements FrameSource {
  readonly still = false;
  private latest: RgbImage | null = null;
  private frames = 0;
  private waiting: { resolve: (f: RgbImage) => void; reject: (e: Error) => void }[] = [];
  /** Set when no frame can ever come (next() rejects with it). */
  private error: SourceError | null = null;
  /** Set when ffmpeg ended after frames (the last frame is still served). */
  private ended: string | null = null;
  private closed = false;
  private readonly started = Date.now();
  private proc: ChildProcess;

  private constructor(
    args: string[],
    g: Geometry,
    private readonly log: Log,
    private readonly timeoutMs: number,
    readonly description: string,
  ) {
    const frameBytes = g.width * g.height * 3;
    // MMSC_FFMPEG names another ffmpeg binary (tests use it for the missing-binary path and for stand-in scripts).
    this.proc = spawn(process.env.MMSC_FFMPEG ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = Buffer.alloc(0);
    let stderr = '';
    this.proc.on('error', (e) => this.fail(`cannot run ffmpeg (${e.message}); install it: apt-get install -y ffmpeg`));
    this.proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    this.proc.stdout?.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= frameBytes) {
        const frame = new Uint8Array(buf.subarray(0, frameBytes));
        buf = buf.subarray(frameBytes);
        this.latest = { width: g.width, height: g.height, data: frame };
        this.frames++;
        for (const w of this.waiting.splice(0)) w.resolve(this.latest);
      }
    });
    // 'close', not 'exit': it comes after stdout and stderr are drained, so frames and the last error line are counted.
    this.proc.on('close', (code, signal) => {
      if (this.closed) return;
      const last =
        stderr
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l)
          .pop() ?? '';
      const how = code !== null ? `ffmpeg exited with ${code}` : `ffmpeg was killed by ${signal}`;
      if (this.frames === 0) {
        const what = description.startsWith('camera') ? 'cannot be read' : 'cannot be decoded';
        this.fail(`${description} ${what}: ${last || `${how} before its first frame`}`);
      } else if (!this.error) {
        this.ended = `${how} after ${this.frames} frames${last ? `: ${last}` : ''}; serving the last frame`;
        this.log.warn({}, `source: ${description}: ${this.ended}`);
      }
    });
  }

  static open(input: string, g: Geometry, opts: SourceOptions = {}): FfmpegSource {
    const camera = input.startsWith('camera:');
    const path = camera ? input.slice('camera:'.length) : input;
    if (!existsSync(path)) throw new SourceError(`${camera ? 'camera device' : 'video file'} ${path} does not exist`);
    const inputArgs = camera ? ['-f', 'v4l2', '-i', path] : ['-re', '-stream_loop', '-1', '-i', path];
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      ...inputArgs,
      '-vf',
      // The frame's aspect without stretching: scale to cover the frame, then crop the centre (as coverCrop does).
      `scale=${g.width}:${g.height}:force_original_aspect_ratio=increase,crop=${g.width}:${g.height}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ];
    return new FfmpegSource(
      args,
      g,
      opts.log ?? silentLog,
      opts.firstFrameTimeoutMs ?? 10_000,
      camera ? `camera ${path}` : `video ${path}`,
    );
  }

  /** No frame will ever come: reject every waiter now and every later next(); the first reason wins. */
  private fail(reason: string) {
    if (this.error) return;
    this.error = new SourceError(firstLine(reason));
    for (const w of this.waiting.splice(0)) w.reject(this.error);
  }

  async next(): Promise<RgbImage> {
    if (this.latest) return this.latest;
    if (this.error) throw this.error;
    return new Promise<RgbImage>((resolve, reject) => {
      const w = {
        resolve: (f: RgbImage) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((x) => x !== w);
        reject(new SourceError(`${this.description}: no frame from ffmpeg within ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
      this.waiting.push(w);
    });
  }

  health(): SourceHealth {
    if (this.error) return { ok: false, reason: this.error.message };
    if (this.ended) return { ok: false, reason: `${this.description}: ${this.ended}` };
    if (this.closed) return { ok: false, reason: `${this.description} is closed` };
    if (!this.latest && Date.now() - this.started > this.timeoutMs)
      return { ok: false, reason: `${this.description}: no frame from ffmpeg within ${this.timeoutMs / 1000} s` };
    return { ok: true };
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.proc.kill('SIGKILL');
    if (!this.latest) this.fail(`${this.description} is closed`);
  }
}

const VIDEO = /\.(mp4|mkv|webm|mov|avi|m4v|mpg|mpeg|ts|y4m)$/i;

/** Whether `openSource` hands this spec to ffmpeg (a video file or a camera). */
export function isVideoSpec(spec: string): boolean {
  return spec.startsWith('camera:') || VIDEO.test(spec);
}

/**
 * `--source` syntax: image file, folder, video file, camera:/dev/videoN, pan:<image>. Frames are `g`,
 * each picture scaled to cover it and its centre kept (never stretched); `sourceGeometry` (probe.ts)
 * picks a `g` with the source's own aspect. A source that
 * cannot be opened at all (missing path, undecodable still) fails here with a SourceError; failures
 * found while playing show in `health()` and as `SourceError`s from `next()`.
 */
export async function openSource(spec: string, g: Geometry, fps: number, opts: SourceOptions = {}): Promise<FrameSource> {
  if (spec.startsWith('pan:')) return PanSource.open(spec.slice(4), g, fps);
  if (isVideoSpec(spec)) return FfmpegSource.open(spec, g, opts);
  if (!existsSync(spec))
    throw new SourceError(`source ${spec} does not exist (expected an image, a folder, a video, camera:/dev/videoN or pan:<image>)`);
  if (statSync(spec).isDirectory()) return SequenceSource.open(spec, g, opts);
  return StillSource.open(spec, g);
}
