import { seededRandom } from '@mmsc/protocol';
import { COLOURS, type Colour, colourOf } from '@mmsc/sender';
import type { Coco } from './build-pairs.js';

/**
 * Query-form cases from the COCO annotations, for queries that pick among a category's instances:
 * spatial ("the dog on the left", "the second car from the left", "the biggest cup") and colour
 * ("the red car"). The truth is the picked instances' masks; every other instance of the category
 * is a negative, so a relevance that ignores the modifier loses.
 */

/** An image and a category with at least two instances and no crowd annotation: a candidate for a case. */
export interface FormCandidate {
  imageId: number;
  file: string;
  category: string;
  /** The category's instances in this image (their indices in `coco.annotations`). */
  annotations: number[];
}

/** One instance as it lands on the frame. */
export interface FrameInstance {
  /** Pixels of the instance on the frame (0/1, row-major). */
  mask: Uint8Array;
  area: number;
  cx: number;
  cy: number;
}

export interface FormCase {
  query: string;
  /** The query without its modifier (what the relevance did before modifiers). */
  plain: string;
  /** Which variant of the form ("left", "biggest", "red", ...). */
  variant: string;
  /** Indices into the instances that the query picks. */
  truth: number[];
}

/** The candidates, shuffled by `seed` (deterministic). */
export function formCandidates(coco: Coco, seed: number): FormCandidate[] {
  const names = new Map(coco.categories.map((c) => [c.id, c.name]));
  const byImageCat = new Map<string, number[]>();
  const crowded = new Set<string>();
  coco.annotations.forEach((a, i) => {
    const key = `${a.image_id}:${a.category_id}`;
    if (a.iscrowd) crowded.add(key);
    else byImageCat.set(key, [...(byImageCat.get(key) ?? []), i]);
  });
  const files = new Map(coco.images.map((im) => [im.id, im.file_name]));
  const out: FormCandidate[] = [];
  for (const [key, anns] of [...byImageCat].sort(([a], [b]) => a.localeCompare(b))) {
    if (anns.length < 2 || crowded.has(key)) continue;
    const [imageId, catId] = key.split(':').map(Number) as [number, number];
    const file = files.get(imageId);
    const category = names.get(catId);
    if (file && category) out.push({ imageId, file, category, annotations: anns });
  }
  const rnd = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as FormCandidate, out[i] as FormCandidate];
  }
  return out;
}

/** An instance's mask on the frame → its area and centroid. */
export function frameInstance(mask: Uint8Array, width: number): FrameInstance {
  let area = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    area++;
    sx += i % width;
    sy += Math.floor(i / width);
  }
  return { mask, area, cx: area ? sx / area : 0, cy: area ? sy / area : 0 };
}

/** The spatial variants, in the order cases cycle through them. */
export const SPATIAL_VARIANTS = [
  { variant: 'left', query: (c: string) => `the ${c} on the left`, key: 'x', order: 1, rank: 1 },
  { variant: 'rightmost', query: (c: string) => `the rightmost ${c}`, key: 'x', order: -1, rank: 1 },
  { variant: 'biggest', query: (c: string) => `the biggest ${c}`, key: 'area', order: -1, rank: 1 },
  { variant: 'top', query: (c: string) => `the ${c} at the top`, key: 'y', order: 1, rank: 1 },
  { variant: 'smallest', query: (c: string) => `the smallest ${c}`, key: 'area', order: 1, rank: 1 },
  { variant: 'bottom', query: (c: string) => `the ${c} at the bottom`, key: 'y', order: -1, rank: 1 },
  { variant: 'second from the left', query: (c: string) => `the second ${c} from the left`, key: 'x', order: 1, rank: 2 },
] as const;

/** Smallest area of a picked instance, as a share of the frame (as the paper's pairs). */
export const MIN_PICKED_AREA = 0.01;
/** A picked instance's position must differ from its neighbours' by this share of the frame side... */
export const MIN_GAP = 0.08;
/** ...and its area from theirs by this ratio: the answer is clear to a person. */
export const MIN_AREA_RATIO = 1.5;

/**
 * The spatial case of a candidate for `variantIndex` (cycling through the variants from it), or null
 * when no variant has a clear answer. Instances that left the frame (no pixel) are not counted.
 */
export function spatialCase(
  category: string,
  instances: readonly FrameInstance[],
  width: number,
  height: number,
  variantIndex: number,
): FormCase | null {
  const seen = instances.map((inst, i) => ({ inst, i })).filter((x) => x.inst.area > 0);
  if (seen.length < 2) return null;
  for (let k = 0; k < SPATIAL_VARIANTS.length; k++) {
    const v = SPATIAL_VARIANTS[(variantIndex + k) % SPATIAL_VARIANTS.length] as (typeof SPATIAL_VARIANTS)[number];
    const value = (x: FrameInstance) => (v.key === 'x' ? x.cx : v.key === 'y' ? x.cy : x.area);
    const sorted = [...seen].sort((a, b) => (value(a.inst) - value(b.inst)) * v.order);
    const pick = sorted[v.rank - 1];
    if (!pick || pick.inst.area < MIN_PICKED_AREA * width * height) continue;
    const neighbours = [sorted[v.rank - 2], sorted[v.rank]].filter((n) => n !== undefined);
    const clear = neighbours.every((n) =>
      v.key === 'area'
        ? Math.max(n.inst.area, pick.inst.area) >= MIN_AREA_RATIO * Math.min(n.inst.area, pick.inst.area)
        : Math.abs(value(n.inst) - value(pick.inst)) >= MIN_GAP * (v.key === 'x' ? width : height),
    );
    if (!clear) continue;
    return { query: v.query(category), plain: category, variant: v.variant, truth: [pick.i] };
  }
  return null;
}

/** Share of an instance's pixels of each colour (`colourOf`), sampled every other pixel. */
export function colourShares(rgb: Uint8Array, inst: FrameInstance): Map<Colour, number> {
  const counts = new Map<Colour, number>();
  let n = 0;
  for (let i = 0; i < inst.mask.length; i += 2) {
    if (!inst.mask[i]) continue;
    n++;
    const c = colourOf(rgb[i * 3] as number, rgb[i * 3 + 1] as number, rgb[i * 3 + 2] as number);
    if (c) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return new Map([...counts].map(([c, k]) => [c, n ? k / n : 0]));
}

/** An instance is of a colour when at least this share of its pixels is, and the colour leads its others. */
export const MIN_TRUTH_SHARE = 0.3;
/** Another instance stands apart from that colour when less than this share of it is. */
export const MAX_OTHER_SHARE = 0.1;

/**
 * The colour case of a candidate: the first colour (in {@link COLOURS} order from `variantIndex`,
 * grey left out as too common in shade) that some instances of at least 1 % of the frame clearly
 * are and another such instance clearly is not. Truth: every instance of that colour.
 */
export function colourCase(
  category: string,
  instances: readonly FrameInstance[],
  rgb: Uint8Array,
  width: number,
  height: number,
  variantIndex: number,
): FormCase | null {
  const big = (x: FrameInstance) => x.area >= MIN_PICKED_AREA * width * height;
  const shares = instances.map((x) => colourShares(rgb, x));
  const named = COLOURS.filter((c) => c !== 'gray');
  for (let k = 0; k < named.length; k++) {
    const colour = named[(variantIndex + k) % named.length] as Colour;
    const share = (i: number) => shares[i]?.get(colour) ?? 0;
    const leads = (i: number) => {
      const s = share(i);
      return s >= MIN_TRUTH_SHARE && [...(shares[i] ?? new Map<Colour, number>()).values()].every((o) => o <= s);
    };
    const truth = instances.map((_, i) => i).filter((i) => leads(i));
    const others = instances.map((_, i) => i).filter((i) => big(instances[i] as FrameInstance) && share(i) < MAX_OTHER_SHARE);
    if (truth.some((i) => big(instances[i] as FrameInstance)) && others.length > 0) {
      // People are asked for by what they wear.
      const query = category === 'person' ? `the person in ${colour}` : `the ${colour} ${category}`;
      return { query, plain: category, variant: colour, truth };
    }
  }
  return null;
}
