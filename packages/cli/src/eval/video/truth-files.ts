import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ScoredRegion } from './clips.js';

/**
 * Per-frame annotations of any clip (`eval-video --truth <dir>`): one image per frame of the clip
 * as eval-video makes it (after resampling to `--fps`), named so that sorting the names gives the
 * frame order (e.g. 00000.png, 00001.png, …), any format sharp reads (PNG recommended). A pixel
 * other than black (any channel > 0) is the query's object. A mask of another size is scaled to
 * the frame by nearest neighbour; it should have the clip's aspect (eval-video crops a video file's
 * frames to the frame's aspect at their centre, so masks drawn on the source must be cropped the same).
 */
export const TRUTH_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif'];

export class TruthError extends Error {
  override readonly name = 'TruthError';
}

export async function readTruthDir(
  dir: string,
  frames: number,
  size: { width: number; height: number },
  label?: string,
): Promise<ScoredRegion> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => TRUTH_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e))).sort();
  } catch (e) {
    throw new TruthError(`cannot read the truth folder ${dir}: ${(e as Error).message}`);
  }
  if (names.length < frames)
    throw new TruthError(`${dir} holds ${names.length} mask images; the clip has ${frames} frames (one image per frame)`);
  const masks: (Uint8Array | null)[] = [];
  for (const name of names.slice(0, frames)) {
    let data: Buffer;
    let channels: number;
    try {
      const out = await sharp(join(dir, name))
        .removeAlpha()
        .resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      data = out.data;
      channels = out.info.channels;
    } catch (e) {
      throw new TruthError(`${join(dir, name)}: ${(e as Error).message}`);
    }
    const m = new Uint8Array(size.width * size.height);
    let any = false;
    for (let p = 0; p < m.length; p++)
      for (let c = 0; c < channels; c++)
        if ((data[p * channels + c] as number) > 0) {
          m[p] = 1;
          any = true;
          break;
        }
    masks.push(any ? m : null);
  }
  return { kind: 'truth', label: label ?? `ground truth: the masks in ${dir}`, masks };
}
