/**
 * Standard still-image codecs at a byte budget, the peers `mmsc eval` compares with: each searches its
 * own quality knob for the best picture whose file (or bitstream) fits the budget, then decodes it.
 * Bytes are the whole file or bitstream; no transport overhead is charged to any of them (mmsc's
 * budget includes its framing). Settings are the codecs' defaults unless a comment says why not.
 */
import { spawn } from 'node:child_process';
import { fitQuality, type RgbImage } from '@mmsc/sender';
import sharp, { type Sharp } from 'sharp';
import type { Rect } from './roi.js';

export interface PeerResult {
  image: Uint8Array;
  bytes: number;
  /** The knob value used (JPEG/WebP/AVIF quality 1–100; x264: 4 × (51 − crf)); 0 when nothing fit. */
  quality: number;
}

/** A grey picture, no bytes: what a receiver shows when nothing fits the budget. */
export const grey = (frame: RgbImage): PeerResult => ({ image: new Uint8Array(frame.data.length).fill(128), bytes: 0, quality: 0 });
const raw = (frame: RgbImage) => ({ raw: { width: frame.width, height: frame.height, channels: 3 as const } });

async function decodeWithSharp(file: Uint8Array): Promise<Uint8Array> {
  const d = await sharp(file).removeAlpha().raw().toBuffer();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

async function sharpPeer(frame: RgbImage, budget: number, encode: (s: Sharp, q: number) => Sharp): Promise<PeerResult> {
  const fit = await fitQuality(
    1,
    100,
    budget,
    async (q) => encode(sharp(frame.data, raw(frame)), q).toBuffer(),
    (f) => f.length,
  );
  if (!fit) return grey(frame);
  return { image: await decodeWithSharp(fit.coded), bytes: fit.coded.length, quality: fit.q };
}

/** Baseline JPEG (libjpeg via sharp, 4:2:0): the highest quality that fits; grey when none does. */
export function jpegAt(frame: RgbImage, budget: number): Promise<PeerResult> {
  return sharpPeer(frame, budget, (s, q) => s.jpeg({ quality: q, mozjpeg: false }));
}

/** Lossy WebP (libwebp via sharp, its default effort 4: ~10 ms for 480×320 here). */
export function webpAt(frame: RgbImage, budget: number): Promise<PeerResult> {
  return sharpPeer(frame, budget, (s, q) => s.webp({ quality: q }));
}

/**
 * AVIF (libaom via sharp, 4:4:4, sharp's default). Effort 0: the issue asks for an effort that
 * encodes in ≤ 100 ms; effort 0 takes ~40–70 ms for 480×320 on the 2-core box, effort 4 several times more.
 */
export function avifAt(frame: RgbImage, budget: number): Promise<PeerResult> {
  return sharpPeer(frame, budget, (s, q) => s.avif({ quality: q, effort: 0 }));
}

/** Whether an `ffmpeg` with libx264 is on PATH (x264 methods need it). */
export async function hasX264(): Promise<boolean> {
  try {
    const out = await run('ffmpeg', ['-hide_banner', '-encoders'], new Uint8Array(0));
    return new TextDecoder().decode(out).includes('libx264');
  } catch {
    return false;
  }
}

/** crf is searched in quarter steps (whole steps left up to ~10 % of the budget unused). */
const STEPS = 4;

/**
 * One intra H.264 frame (libx264 through ffmpeg, default preset, 4:2:0), crf searched so the
 * Annex-B bitstream fits (`chroma` 444: High 4:4:4, what mmsc's h264 engine codes, without its map). x264's informational SEI (its settings string, ~600 bytes) is stripped:
 * no decoder needs it, and charging it would handicap the peer. `roi` boxes get ffmpeg's `addroi`
 * with `qoffset` (negative = better quality there; libx264 honours it through AQ).
 */
export async function x264At(
  frame: RgbImage,
  budget: number,
  roi: readonly Rect[] = [],
  qoffset = -0.2,
  chroma: '420' | '444' = '420',
): Promise<PeerResult> {
  const size = `${frame.width}x${frame.height}`;
  const filters = roi.map((r) => `addroi=x=${r.x}:y=${r.y}:w=${r.w}:h=${r.h}:qoffset=${qoffset}`);
  const encode = (q: number) =>
    run(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', size, '-i', 'pipe:0'],
        ...(filters.length ? ['-vf', filters.join(',')] : []),
        ...['-c:v', 'libx264', '-pix_fmt', chroma === '444' ? 'yuv444p' : 'yuv420p', '-crf', String(51 - q / STEPS), '-frames:v', '1'],
        // The metrics are MSE and PSNR: x264's psychovisual tuning costs both. Plain frames get
        // `-tune psnr` (no psy, no AQ); ROI frames keep AQ (their ROI works through it), without psy.
        // On 10 dev pairs at rate 0.02: masked MSE 83.9 vs 91.7 with the defaults (x264-roi 62.1 vs 62.7).
        ...(roi.length ? ['-x264-params', 'psy=0'] : ['-tune', 'psnr']),
        ...['-bsf:v', 'filter_units=remove_types=6', '-f', 'h264', 'pipe:1'],
      ],
      frame.data,
    );
  const fit = await fitQuality(0, 51 * STEPS, budget, encode, (f) => f.length);
  if (!fit) return grey(frame);
  const image = await run(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-f', 'h264', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    fit.coded,
  );
  if (image.length !== frame.data.length) throw new Error(`ffmpeg decoded ${image.length} bytes, expected ${frame.data.length}`);
  return { image, bytes: fit.coded.length, quality: fit.q };
}

/** Runs a command with `input` on stdin; resolves with stdout, rejects with stderr's last line. */
function run(cmd: string, args: string[], input: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-2000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(new Uint8Array(Buffer.concat(out)));
      else reject(new Error(`${cmd} exited with ${code}: ${err.trim().split('\n').pop() ?? ''}`));
    });
    child.stdin.on('error', () => {}); // a child that exits early closes its stdin: the exit code says why
    child.stdin.end(input);
  });
}
