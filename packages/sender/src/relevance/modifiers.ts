/**
 * Words that pick among a grounded word's instances instead of naming a class: where they are ("the
 * person on the left", "the second car from the right", "the biggest dog") and what colour they are
 * ("the red car"). Pure logic: the vocabulary and its parse (for the lexicon) and the selection over
 * detected instances (for the fusion).
 */

export const COLOURS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown', 'black', 'white', 'gray'] as const;
export type Colour = (typeof COLOURS)[number];

const COLOUR_WORDS = new Map<string, Colour>([
  ...COLOURS.map((c) => [c, c] as const),
  ['grey', 'gray'],
  ['violet', 'purple'],
  ['crimson', 'red'],
  ['scarlet', 'red'],
  ['navy', 'blue'],
]);

/** How instances are ordered: by box centre x or y, by box area, or by distance from the frame's centre. */
export type SelectBy = 'x' | 'y' | 'area' | 'centre';

export interface Selector {
  by: SelectBy;
  /** `asc`: the smallest value first (leftmost, topmost, smallest, most central). */
  order: 'asc' | 'desc';
  /** 1 = the first in that order; "the second X from the left" = 2. */
  rank: number;
  /** A plural word ("the people on the left"): every instance on that side, not one. */
  all: boolean;
}

/** What a word's modifiers ask of its instances. */
export interface InstanceModifier {
  colour?: Colour;
  select?: Selector;
}

const DIRECTIONS = new Map<string, Pick<Selector, 'by' | 'order'>>([
  ['left', { by: 'x', order: 'asc' }],
  ['leftmost', { by: 'x', order: 'asc' }],
  ['right', { by: 'x', order: 'desc' }],
  ['rightmost', { by: 'x', order: 'desc' }],
  ['top', { by: 'y', order: 'asc' }],
  ['topmost', { by: 'y', order: 'asc' }],
  ['upper', { by: 'y', order: 'asc' }],
  ['uppermost', { by: 'y', order: 'asc' }],
  ['bottom', { by: 'y', order: 'desc' }],
  ['bottommost', { by: 'y', order: 'desc' }],
  ['lower', { by: 'y', order: 'desc' }],
  ['lowest', { by: 'y', order: 'desc' }],
  ['biggest', { by: 'area', order: 'desc' }],
  ['largest', { by: 'area', order: 'desc' }],
  ['nearest', { by: 'area', order: 'desc' }],
  ['closest', { by: 'area', order: 'desc' }],
  ['smallest', { by: 'area', order: 'asc' }],
  ['tiniest', { by: 'area', order: 'asc' }],
  ['farthest', { by: 'area', order: 'asc' }],
  ['furthest', { by: 'area', order: 'asc' }],
  ['middle', { by: 'centre', order: 'asc' }],
  ['center', { by: 'centre', order: 'asc' }],
  ['centre', { by: 'centre', order: 'asc' }],
  ['central', { by: 'centre', order: 'asc' }],
]);

const ORDINALS = new Map<string, number>([
  ['first', 1],
  ['1st', 1],
  ['second', 2],
  ['2nd', 2],
  ['third', 3],
  ['3rd', 3],
  ['fourth', 4],
  ['4th', 4],
  ['fifth', 5],
  ['5th', 5],
]);

/** A modifier word's part, or null for any other word. */
export function modifierWord(norm: string): { colour: Colour } | { direction: Pick<Selector, 'by' | 'order'> } | { rank: number } | null {
  const colour = COLOUR_WORDS.get(norm);
  if (colour) return { colour };
  const direction = DIRECTIONS.get(norm);
  if (direction) return { direction };
  const rank = ORDINALS.get(norm);
  if (rank) return { rank };
  return null;
}

/**
 * Collects modifier parts into one modifier. A rank without a direction orders from the left ("the
 * second dog"); a direction without a rank is the first. Null when nothing was collected.
 */
export class ModifierBuilder {
  private colour: Colour | undefined;
  private direction: Pick<Selector, 'by' | 'order'> | undefined;
  private rank: number | undefined;
  /** The words taken, as typed, in query order. */
  readonly words: string[] = [];

  add(part: NonNullable<ReturnType<typeof modifierWord>>, typed: string): void {
    if ('colour' in part) this.colour = part.colour;
    else if ('direction' in part) this.direction = part.direction;
    else this.rank = part.rank;
    this.words.push(typed);
  }

  get empty(): boolean {
    return this.words.length === 0;
  }

  /** Whether a direction or rank has been given (a second one starts another word's modifier). */
  get placed(): boolean {
    return this.direction !== undefined;
  }

  build(plural: boolean): InstanceModifier | null {
    if (this.empty) return null;
    const m: InstanceModifier = {};
    if (this.colour) m.colour = this.colour;
    if (this.direction || this.rank) {
      const d = this.direction ?? { by: 'x', order: 'asc' };
      m.select = { ...d, rank: this.rank ?? 1, all: plural && this.rank === undefined };
    }
    return m;
  }
}

/** A stable text form of a modifier (part of a query's fusion key). */
export function modifierKey(m: InstanceModifier): string {
  const s = m.select;
  return [m.colour ?? '', s ? `${s.by}${s.order === 'asc' ? '+' : '-'}${s.rank}${s.all ? '*' : ''}` : ''].join('/');
}

// ------------------------------------------------------------------------------------------------ colour

/**
 * The colour name of one RGB pixel (HSV thresholds), or null where it is none clearly (dim, washed out
 * between the named bands). Greys: white, gray and black by value.
 */
export function colourOf(r: number, g: number, b: number): Colour | null {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const v = max / 255;
  const s = max === 0 ? 0 : (max - min) / max;
  if (v < 0.2) return 'black';
  if (s < 0.18) return v > 0.75 ? 'white' : v >= 0.3 ? 'gray' : 'black';
  if (s < 0.3) return null;
  const d = max - min;
  let h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  h *= 60;
  if (h < 0) h += 360;
  if (h >= 15 && h < 45 && v < 0.6) return 'brown';
  if (h < 15 || h >= 340) return v > 0.75 && s < 0.45 ? 'pink' : 'red';
  if (h < 45) return 'orange';
  if (h < 70) return 'yellow';
  if (h < 165) return 'green';
  if (h < 255) return 'blue';
  if (h < 290) return 'purple';
  return 'pink';
}

/** Share of the pixels of `rgb` (W×H RGB) inside the rectangle, sampled every `step`, that are `colour`. */
export function colourShare(
  rgb: Uint8Array,
  width: number,
  rect: { x0: number; y0: number; x1: number; y1: number },
  colour: Colour,
  step = 2,
): number {
  let n = 0;
  let hit = 0;
  for (let y = Math.floor(rect.y0); y < Math.ceil(rect.y1); y += step)
    for (let x = Math.floor(rect.x0); x < Math.ceil(rect.x1); x += step) {
      const i = (y * width + x) * 3;
      n++;
      if (colourOf(rgb[i] as number, rgb[i + 1] as number, rgb[i + 2] as number) === colour) hit++;
    }
  return n === 0 ? 0 : hit / n;
}

// ------------------------------------------------------------------------------------------------ selection

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The value instances are ordered by. */
function keyOf(b: Box, by: SelectBy, width: number, height: number): number {
  switch (by) {
    case 'x':
      return (b.x0 + b.x1) / 2;
    case 'y':
      return (b.y0 + b.y1) / 2;
    case 'area':
      return (b.x1 - b.x0) * (b.y1 - b.y0);
    case 'centre':
      return Math.hypot((b.x0 + b.x1) / 2 - width / 2, (b.y0 + b.y1) / 2 - height / 2);
  }
}

/**
 * Which of `boxes` (distinct instances) a selector picks, as indices: the rank-th in its order, or
 * with `all` every one on that side of the frame (x, y: the half; area: within 2× of the extreme;
 * centre: the middle third). Empty when there are fewer instances than the rank.
 */
export function selectInstances(boxes: readonly Box[], s: Selector, width: number, height: number): number[] {
  const keys = boxes.map((b) => keyOf(b, s.by, width, height));
  const idx = keys.map((_, i) => i).sort((a, b) => ((keys[a] as number) - (keys[b] as number)) * (s.order === 'asc' ? 1 : -1));
  if (!s.all) {
    const pick = idx[s.rank - 1];
    return pick === undefined ? [] : [pick];
  }
  if (idx.length === 0) return [];
  const first = keys[idx[0] as number] as number;
  const inSide = (k: number): boolean => {
    switch (s.by) {
      case 'x':
        return s.order === 'asc' ? k < width / 2 : k >= width / 2;
      case 'y':
        return s.order === 'asc' ? k < height / 2 : k >= height / 2;
      case 'area':
        return s.order === 'asc' ? k <= 2 * first : k >= first / 2;
      case 'centre':
        return k <= Math.min(width, height) / 3;
    }
  };
  const side = idx.filter((i) => inSide(keys[i] as number));
  // Nothing on that side: the nearest one still answers the query.
  return side.length > 0 ? side : [idx[0] as number];
}

/** Intersection over union of two boxes. */
export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const iy = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const inter = ix * iy;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return union > 0 ? inter / union : 0;
}

// ------------------------------------------------------------------------------------------------ fusion

/** A modified word as the fusion sees it: its classes (detector channels) and what it asks of their instances. */
export interface InstanceRule extends InstanceModifier {
  classes: readonly number[];
  /** The word is negated: the rule picks among the instances to suppress. */
  negated: boolean;
}

/** Weight kept by the instances a modifier did not pick: low, so a wrong pick still ranks the right one above the background. */
export const UNPICKED = 0.15;

/** Instances compared by a modifier: detections scoring at least this, and at least `ratio` × the best of them. */
export const CANDIDATES = { minScore: 0.1, ratio: 0.3, sameInstanceIou: 0.5 };

/** Colour share of a candidate's inner box below which it is not that colour, whatever the others show. */
export const MIN_COLOUR_SHARE = 0.1;

interface Scored extends Box {
  cls: number;
  score: number;
}

/**
 * A factor per detection for the rules: 1 for the instances a rule picked (by colour, then by
 * position, rank or size among the candidates of its colour), {@link UNPICKED} for its other
 * instances, 1 for detections of classes no rule covers. The colour of an instance is the share
 * of its box's inner half in that colour, against the best candidate's share.
 */
export function instanceFactors(
  dets: readonly Scored[],
  rules: readonly InstanceRule[],
  frame: { width: number; height: number; data: Uint8Array },
): Float32Array {
  const factor = new Float32Array(dets.length).fill(1);
  const ruled = new Uint8Array(dets.length);
  const picked = new Float32Array(dets.length);
  for (const rule of rules) {
    const classes = new Set(rule.classes);
    const members = dets.map((_, i) => i).filter((i) => classes.has((dets[i] as Scored).cls));
    for (const i of members) ruled[i] = 1;
    // Distinct instances: the strong detections, one per object (best score first).
    const best = Math.max(0, ...members.map((i) => (dets[i] as Scored).score));
    const strong = members
      .filter((i) => (dets[i] as Scored).score >= Math.max(CANDIDATES.minScore, CANDIDATES.ratio * best))
      .sort((a, b) => (dets[b] as Scored).score - (dets[a] as Scored).score);
    const candidates: number[] = [];
    for (const i of strong)
      if (!candidates.some((c) => iou(dets[c] as Scored, dets[i] as Scored) > CANDIDATES.sameInstanceIou)) candidates.push(i);
    let weightOf = new Map(candidates.map((c) => [c, 1]));
    if (rule.colour) {
      const share = candidates.map((c) => colourShare(frame.data, frame.width, inner(dets[c] as Scored), rule.colour as Colour));
      const top = Math.max(MIN_COLOUR_SHARE, ...share);
      // Soft: an instance half as much in the colour as the best keeps a quarter of the weight.
      weightOf = new Map(candidates.map((c, k) => [c, Math.min(1, (share[k] as number) / top) ** 2]));
    }
    if (rule.select) {
      // Position among the instances of that colour (all of them without one).
      const pool = candidates.filter((c) => (weightOf.get(c) as number) >= 0.25);
      const chosen = new Set(
        selectInstances(
          pool.map((c) => dets[c] as Scored),
          rule.select,
          frame.width,
          frame.height,
        ).map((k) => pool[k]),
      );
      weightOf = new Map(candidates.map((c) => [c, chosen.has(c) ? (weightOf.get(c) as number) : 0]));
    }
    for (const i of members) {
      let w = 0;
      for (const [c, cw] of weightOf)
        if (c === i || iou(dets[c] as Scored, dets[i] as Scored) > CANDIDATES.sameInstanceIou) w = Math.max(w, cw);
      picked[i] = Math.max(picked[i] as number, w);
    }
  }
  for (let i = 0; i < dets.length; i++) if (ruled[i]) factor[i] = UNPICKED + (1 - UNPICKED) * (picked[i] as number);
  return factor;
}

/** The middle half of a box in each direction (where the object is, rather than its background). */
function inner(b: Box): Box {
  const w = (b.x1 - b.x0) / 4;
  const h = (b.y1 - b.y0) / 4;
  return { x0: b.x0 + w, y0: b.y0 + h, x1: b.x1 - w, y1: b.y1 - h };
}
