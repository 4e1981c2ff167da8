import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { coverCrop } from '@mmsc/sender';
import sharp from 'sharp';
import { type Coco, CocoError, MIN_AREA_FRACTION, parseCoco } from '../build-pairs.js';
import { segmentationToMask } from '../decode-masks.js';
import type { Clip } from './clips.js';
import { tourWindow, windowMask } from './regions.js';

/**
 * Clips with ground truth, built reproducibly from an annotated COCO folder (images/ and
 * instances_val2017.json, e.g. ../shared/data/coco-val): each frame a camera window over a canvas
 * made of dev images, and the query's ground truth the canvas's instance masks seen through the
 * same window. The truth of a frame is every instance of the query's categories (crowd regions and
 * the smallest ones included): what the operator asked to see, whatever the detector found.
 *
 * - `coco-tour`: the tour's camera (a cut every 2 s, a pan and a zoom-in) over the first images,
 *   by id, that show the query's categories (an instance ≥ 1 % of the image), each filling a
 *   canvas twice the frame's size.
 * - `coco-crowd`: many small objects: canvases of 2×2 images (each at the frame's size) holding the
 *   most instances of the query's categories, seen from zoomed out (the whole canvas) to 80 %.
 * - `coco-heldout`: the tour's camera over the next images, by id, that show the categories and
 *   that neither of the other two clips uses: pictures the relevance's settings were not tuned on.
 */
export const COCO_CLIPS = ['coco-tour', 'coco-crowd', 'coco-heldout'] as const;
export type CocoClipName = (typeof COCO_CLIPS)[number];

const TOUR_IMAGES = 5;
const CROWD_CANVASES = 3;

export function isCocoClip(spec: string): spec is CocoClipName {
  return (COCO_CLIPS as readonly string[]).includes(spec);
}

/**
 * The COCO categories a query names, as whole words (longest names first: "hot dog" before
 * "dog"), in the order they occur. A COCO clip's truth is by category: a query naming none has none.
 */
export function queryCategories(query: string, coco: Coco): string[] {
  let text = ` ${query.toLowerCase().replace(/[^a-z0-9 ]+/g, ' ')} `;
  const found: { name: string; at: number }[] = [];
  const names = [...new Set(coco.categories.map((c) => c.name.toLowerCase()))].sort((a, b) => b.length - a.length);
  for (const name of names) {
    const at = text.indexOf(` ${name} `);
    if (at < 0) continue;
    found.push({ name, at });
    text = `${text.slice(0, at)}${' '.repeat(name.length + 1)}${text.slice(at + name.length + 1)}`;
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.name);
}

interface Canvas {
  width: number;
  height: number;
  rgb: Buffer;
  /** 1 where an instance of the query's categories is. */
  truth: Uint8Array;
}

/** Instances of `categories` per image id (all of them: crowds and small ones too). */
function instancesOf(coco: Coco, categories: readonly string[]) {
  const ids = new Set(coco.categories.filter((c) => categories.includes(c.name.toLowerCase())).map((c) => c.id));
  const byImage = new Map<number, Coco['annotations']>();
  for (const a of coco.annotations) {
    if (!ids.has(a.category_id)) continue;
    byImage.set(a.image_id, [...(byImage.get(a.image_id) ?? []), a]);
  }
  return byImage;
}

/** One image cropped to the tile's aspect (centre, as `coverCrop`), its pixels and its truth at w×h. */
async function tile(dir: string, im: Coco['images'][number], anns: Coco['annotations'], w: number, h: number) {
  const crop = coverCrop(im.width, im.height, w, h);
  const { data, info } = await sharp(join(dir, 'images', im.file_name))
    .removeAlpha()
    .extract(crop)
    .resize(w, h, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== w || info.height !== h || info.channels !== 3)
    throw new CocoError(`${im.file_name}: decoded ${info.width}×${info.height}×${info.channels}`);
  const truth = new Uint8Array(w * h);
  for (const a of anns) {
    const m = segmentationToMask(a.segmentation, im.height, im.width, h, w, crop);
    for (let i = 0; i < m.length; i++) truth[i] = (truth[i] as number) | (m[i] as number);
  }
  return { rgb: data, truth };
}

/** A 2×2 canvas of images at the frame's size each. */
async function mosaic(dir: string, ims: Coco['images'], byImage: ReturnType<typeof instancesOf>, w: number, h: number): Promise<Canvas> {
  const W = 2 * w;
  const H = 2 * h;
  const rgb = Buffer.alloc(W * H * 3);
  const truth = new Uint8Array(W * H);
  for (const [i, im] of ims.entries()) {
    const t = await tile(dir, im, byImage.get(im.id) ?? [], w, h);
    const ox = (i % 2) * w;
    const oy = Math.floor(i / 2) * h;
    for (let y = 0; y < h; y++) {
      t.rgb.copy(rgb, ((oy + y) * W + ox) * 3, y * w * 3, (y + 1) * w * 3);
      truth.set(t.truth.subarray(y * w, (y + 1) * w), (oy + y) * W + ox);
    }
  }
  return { width: W, height: H, rgb, truth };
}

/** Reads the annotations of a COCO folder (images/ and instances_val2017.json). */
export async function readCoco(dir: string): Promise<Coco> {
  const file = join(dir, 'instances_val2017.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CocoError(`cannot read ${file}: ${(e as Error).message}`);
  }
  return parseCoco(JSON.parse(text), file);
}

/**
 * `n` frames at `fps` of a COCO clip for `query` at `size`, with each frame's truth (null where no
 * object of the query is in view). CocoError when the query names no category of the annotations or
 * no image shows one.
 */
export async function makeCocoClip(
  name: CocoClipName,
  dir: string,
  query: string,
  n: number,
  fps: number,
  size: { width: number; height: number },
): Promise<Clip> {
  const coco = await readCoco(dir);
  const categories = queryCategories(query, coco);
  if (categories.length === 0)
    throw new CocoError(`the query "${query}" names no COCO category (e.g. person, car, dog): a ${name} clip's truth is by category name`);
  const byImage = instancesOf(coco, categories);
  const images = new Map(coco.images.map((im) => [im.id, im]));
  const { width: w, height: h } = size;
  const canvases: Canvas[] = [];
  const shown = [...byImage.entries()]
    .filter(([id, anns]) => {
      const im = images.get(id);
      return im && anns.some((a) => a.area >= MIN_AREA_FRACTION * im.width * im.height);
    })
    .map(([id]) => images.get(id) as Coco['images'][number])
    .sort((a, b) => a.id - b.id);
  const crowded = [...byImage.entries()]
    .filter(([id]) => images.has(id))
    .sort((a, b) => b[1].length - a[1].length || a[0] - b[0])
    .slice(0, 4 * CROWD_CANVASES);
  // The crowd uses whole canvases of four only.
  const crowdUses = crowded.slice(0, Math.floor(crowded.length / 4) * 4).map(([id]) => images.get(id) as Coco['images'][number]);
  if (name !== 'coco-crowd') {
    const tour = shown.slice(0, TOUR_IMAGES);
    const used = new Set([...tour, ...crowdUses].map((im) => im.id));
    const list = name === 'coco-tour' ? tour : shown.filter((im) => !used.has(im.id)).slice(0, TOUR_IMAGES);
    if (list.length === 0 && name === 'coco-heldout')
      throw new CocoError(`no image in ${dir} shows ${categories.join(' or ')} beyond those coco-tour and coco-crowd use`);
    for (const im of list) {
      const t = await tile(dir, im, byImage.get(im.id) ?? [], 2 * w, 2 * h);
      canvases.push({ width: 2 * w, height: 2 * h, rgb: t.rgb, truth: t.truth });
    }
  } else {
    for (let c = 0; c + 4 <= crowdUses.length; c += 4) canvases.push(await mosaic(dir, crowdUses.slice(c, c + 4), byImage, w, h));
  }
  if (canvases.length === 0) throw new CocoError(`no image in ${dir} shows ${categories.join(' or ')}`);
  const zoom = name === 'coco-crowd' ? { from: 1, to: 0.8 } : undefined;
  const frames: Clip['frames'] = [];
  const masks: (Uint8Array | null)[] = [];
  for (let k = 0; k < n; k++) {
    const { segment, window } = tourWindow(k, fps, canvases[0] as Canvas, size, zoom);
    const cv = canvases[segment % canvases.length] as Canvas;
    const data = await sharp(cv.rgb, { raw: { width: cv.width, height: cv.height, channels: 3 } })
      .extract(window)
      .resize(w, h, { fit: 'fill' })
      .raw()
      .toBuffer();
    frames.push({ width: w, height: h, data: new Uint8Array(data.buffer, data.byteOffset, data.length) });
    const m = windowMask(cv.truth, cv.width, cv.height, window, w, h);
    masks.push(m.includes(1) ? m : null);
  }
  return {
    name: `${name} (${categories.join(', ')})`,
    fps,
    frames,
    region: { kind: 'truth', label: `ground truth: every COCO instance of ${categories.join(', ')}, moved with the frame`, masks },
  };
}
