import { seededRandom } from '@mmsc/protocol';
import { coverCrop } from '@mmsc/sender';
import { type Segmentation, segmentationToMask } from './decode-masks.js';

/** The parts of a COCO instances file mmsc reads. */
export interface Coco {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { image_id: number; category_id: number; segmentation: Segmentation; area: number; iscrowd: 0 | 1 }[];
  categories: { id: number; name: string; supercategory: string }[];
}

/** One image–query pair: the query names `categories`; the GT mask is their instances' union. */
export interface Pair {
  imageId: number;
  file: string;
  query: string;
  categories: string[];
}

export class CocoError extends Error {
  override readonly name = 'CocoError';
}

export const MIN_AREA_FRACTION = 0.01;

export function parseCoco(json: unknown, source = 'annotations'): Coco {
  const c = json as Partial<Coco> | null;
  if (!c || !Array.isArray(c.images) || !Array.isArray(c.annotations) || !Array.isArray(c.categories)) {
    throw new CocoError(`${source} is not a COCO instances file (needs images, annotations and categories arrays)`);
  }
  for (const im of c.images) {
    if (!Number.isInteger(im?.id) || typeof im.file_name !== 'string' || !(im.width > 0) || !(im.height > 0)) {
      throw new CocoError(`${source}: image entry ${JSON.stringify(im).slice(0, 80)} lacks id/file_name/width/height`);
    }
  }
  for (const cat of c.categories) {
    if (!Number.isInteger(cat?.id) || typeof cat.name !== 'string') throw new CocoError(`${source}: category without id/name`);
  }
  return c as Coco;
}

/** Instances at least `minArea` of their image, grouped by image id. */
function eligible(coco: Coco, minArea: number) {
  const images = new Map(coco.images.map((im) => [im.id, im]));
  const byImage = new Map<number, Coco['annotations']>();
  for (const a of coco.annotations) {
    const im = images.get(a.image_id);
    if (!im || a.area < minArea * im.width * im.height) continue;
    const list = byImage.get(a.image_id) ?? [];
    list.push(a);
    byImage.set(a.image_id, list);
  }
  return byImage;
}

/**
 * The paper's protocol (Section III-A): one query per image, either one annotated category or
 * "a and b" from two; instances under 1 % of the image are ignored. Deterministic in `seed`.
 */
export function buildPairs(coco: Coco, opts: { count?: number; seed?: number; minArea?: number } = {}): Pair[] {
  const { count = 200, seed = 1, minArea = MIN_AREA_FRACTION } = opts;
  const rnd = seededRandom(seed);
  const names = new Map(coco.categories.map((c) => [c.id, c.name]));
  const byImage = eligible(coco, minArea);
  const images = [...coco.images].sort((a, b) => a.id - b.id);
  for (let i = images.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [images[i], images[j]] = [images[j] as Coco['images'][number], images[i] as Coco['images'][number]];
  }
  const pairs: Pair[] = [];
  for (const im of images) {
    if (pairs.length >= count) break;
    const cats = [...new Set((byImage.get(im.id) ?? []).map((a) => a.category_id))].sort((a, b) => a - b);
    if (cats.length === 0) continue;
    const pick = () => cats.splice(Math.floor(rnd() * cats.length), 1)[0] as number;
    const chosen = cats.length >= 2 && rnd() < 0.5 ? [pick(), pick()] : [pick()];
    const catNames = chosen.map((id) => names.get(id) ?? String(id));
    pairs.push({ imageId: im.id, file: im.file_name, query: catNames.join(' and '), categories: catNames });
  }
  return pairs;
}

/** Pairs from a user's file: [{"image_id":…,"query":"…","categories":[…]}]. */
export function parsePairsFile(json: unknown, coco: Coco, source = 'pairs file'): Pair[] {
  if (!Array.isArray(json)) throw new CocoError(`${source} must be a JSON array of {image_id, query, categories}`);
  const images = new Map(coco.images.map((im) => [im.id, im]));
  const known = new Set(coco.categories.map((c) => c.name));
  return json.map((p, i) => {
    const im = images.get(p?.image_id);
    if (!im) throw new CocoError(`${source}[${i}]: image_id ${p?.image_id} is not in the annotations`);
    if (typeof p.query !== 'string' || !p.query.trim()) throw new CocoError(`${source}[${i}]: query must be non-empty text`);
    if (!Array.isArray(p.categories) || p.categories.length === 0) throw new CocoError(`${source}[${i}]: categories must list ≥ 1 name`);
    for (const c of p.categories) if (!known.has(c)) throw new CocoError(`${source}[${i}]: unknown category "${c}"`);
    return { imageId: im.id, file: im.file_name, query: p.query, categories: [...p.categories] };
  });
}

/**
 * Ground-truth mask of a pair on the outH×outW frame: union of its categories' eligible instances
 * (`shape: 'box'`: of each instance's bounding box, taken from its decoded mask). The frame shows the
 * image's centre at the frame's aspect (`coverCrop`), as `readFrame` makes it: never stretched.
 */
export function gtMask(
  coco: Coco,
  pair: Pair,
  outH = 320,
  outW = 480,
  minArea = MIN_AREA_FRACTION,
  shape: 'mask' | 'box' = 'mask',
): Uint8Array {
  const im = coco.images.find((i) => i.id === pair.imageId);
  if (!im) throw new CocoError(`image ${pair.imageId} is not in the annotations`);
  const ids = new Set(coco.categories.filter((c) => pair.categories.includes(c.name)).map((c) => c.id));
  const mask = new Uint8Array(outH * outW);
  const crop = coverCrop(im.width, im.height, outW, outH);
  for (const a of eligible(coco, minArea).get(im.id) ?? []) {
    if (!ids.has(a.category_id)) continue;
    const m = segmentationToMask(a.segmentation, im.height, im.width, outH, outW, crop);
    if (shape === 'box') fillBox(mask, m, outW, outH);
    else for (let i = 0; i < m.length; i++) mask[i] = (mask[i] as number) | (m[i] as number);
  }
  return mask;
}

/** Sets the bounding box of the pixels set in `m` (nothing when none is). */
function fillBox(mask: Uint8Array, m: Uint8Array, w: number, h: number) {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!m[y * w + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  for (let y = y0; y <= y1; y++) mask.fill(1, y * w + x0, y * w + x1 + 1);
}
