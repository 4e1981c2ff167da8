/** A rectangle in frame pixels. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface RoiOptions {
  /** A patch is in the region when its score is ≥ max(floor, share × the top score). */
  floor: number;
  share: number;
  /** At most this many rectangles (the closest are merged until it holds). */
  maxRects: number;
  /** Pixels added on every side (clipped to the frame). */
  pad: number;
}

export const DEFAULT_ROI: RoiOptions = { floor: 0.05, share: 0.5, maxRects: 3, pad: 8 };

/**
 * Region-of-interest rectangles from a patch relevance map, for the ROI peers (`x264-roi`): the
 * patches scoring high, grouped into 4-connected components, each component's bounding box; while
 * there are more than `maxRects`, the two boxes whose union adds the least area are merged (so every
 * selected patch stays covered). Empty when no patch reaches the floor.
 */
export function roiRects(scores: Float32Array, cols: number, rows: number, patch: number, options: RoiOptions = DEFAULT_ROI): Rect[] {
  if (scores.length !== cols * rows) throw new RangeError(`scores must hold ${cols}×${rows} values`);
  let top = 0;
  for (const s of scores) if (s > top) top = s;
  const threshold = Math.max(options.floor, options.share * top);
  const selected = (p: number) => (scores[p] as number) >= threshold;
  const seen = new Uint8Array(scores.length);
  // Boxes in patch units, inclusive: [c0, r0, c1, r1].
  let boxes: [number, number, number, number][] = [];
  for (let p = 0; p < scores.length; p++) {
    if (seen[p] || !selected(p)) continue;
    const box: [number, number, number, number] = [cols, rows, -1, -1];
    const stack = [p];
    seen[p] = 1;
    while (stack.length > 0) {
      const q = stack.pop() as number;
      const c = q % cols;
      const r = (q - c) / cols;
      box[0] = Math.min(box[0], c);
      box[1] = Math.min(box[1], r);
      box[2] = Math.max(box[2], c);
      box[3] = Math.max(box[3], r);
      const next = [c > 0 ? q - 1 : -1, c < cols - 1 ? q + 1 : -1, r > 0 ? q - cols : -1, r < rows - 1 ? q + cols : -1];
      for (const n of next) {
        if (n < 0 || seen[n] || !selected(n)) continue;
        seen[n] = 1;
        stack.push(n);
      }
    }
    boxes.push(box);
  }
  const area = (b: readonly number[]) => ((b[2] as number) - (b[0] as number) + 1) * ((b[3] as number) - (b[1] as number) + 1);
  const union = (a: readonly number[], b: readonly number[]): [number, number, number, number] => [
    Math.min(a[0] as number, b[0] as number),
    Math.min(a[1] as number, b[1] as number),
    Math.max(a[2] as number, b[2] as number),
    Math.max(a[3] as number, b[3] as number),
  ];
  while (boxes.length > Math.max(1, options.maxRects)) {
    let best = [0, 1];
    let bestCost = Number.POSITIVE_INFINITY;
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i] as [number, number, number, number];
        const b = boxes[j] as [number, number, number, number];
        const cost = area(union(a, b)) - area(a) - area(b);
        if (cost < bestCost) {
          bestCost = cost;
          best = [i, j];
        }
      }
    }
    const [i, j] = best as [number, number];
    const merged = union(boxes[i] as [number, number, number, number], boxes[j] as [number, number, number, number]);
    boxes = boxes.filter((_, k) => k !== i && k !== j);
    boxes.push(merged);
  }
  const width = cols * patch;
  const height = rows * patch;
  return boxes.map(([c0, r0, c1, r1]) => {
    const x = Math.max(0, c0 * patch - options.pad);
    const y = Math.max(0, r0 * patch - options.pad);
    const x1 = Math.min(width, (c1 + 1) * patch + options.pad);
    const y1 = Math.min(height, (r1 + 1) * patch + options.pad);
    return { x, y, w: x1 - x, h: y1 - y };
  });
}
