/**
 * COCO instance masks → binary masks on a target grid (the frame, e.g. 480×360 for a 640×480 image), pure logic.
 * Handles polygons, uncompressed RLE (`counts` as a list) and compressed RLE (`counts` as a string),
 * as pycocotools defines them. RLE runs are column-major and alternate 0/1 starting with 0.
 */

export type Segmentation = number[][] | { counts: number[] | string; size: [number, number] };

/** The part of the h×w image the grid shows, in its pixels (the frame's centre crop); default the whole image. */
export interface MaskCrop {
  left: number;
  top: number;
  width: number;
  height: number;
}

const whole = (h: number, w: number): MaskCrop => ({ left: 0, top: 0, width: w, height: h });

export class MaskError extends Error {
  override readonly name = 'MaskError';
}

/** Decodes pycocotools' compressed RLE string (LEB128-like, 5 bits per char, delta-coded from count 3 on). */
export function decodeRleString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new MaskError('compressed RLE string ends inside a number');
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new MaskError(`invalid character in compressed RLE at ${p}`);
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
      if (k > 6) throw new MaskError('compressed RLE number too long');
    }
    if (counts.length > 2) x += counts[counts.length - 2] as number;
    counts.push(x);
  }
  return counts;
}

/** RLE (column-major, h×w) resampled by nearest neighbour onto an outH×outW grid (from `crop` of it). */
export function rleToMask(counts: number[], h: number, w: number, outH: number, outW: number, crop = whole(h, w)): Uint8Array {
  const full = new Uint8Array(h * w); // column-major
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] as number;
    if (n < 0 || pos + n > full.length) throw new MaskError(`RLE runs exceed the ${h}×${w} mask`);
    if (i % 2) full.fill(1, pos, pos + n);
    pos += n;
  }
  if (pos !== full.length) throw new MaskError(`RLE runs cover ${pos} of ${h * w} pixels`);
  const out = new Uint8Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(h - 1, crop.top + Math.floor(((y + 0.5) * crop.height) / outH));
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(w - 1, crop.left + Math.floor(((x + 0.5) * crop.width) / outW));
      out[y * outW + x] = full[sx * h + sy] as number;
    }
  }
  return out;
}

/**
 * Fills polygons (flat [x0,y0,x1,y1,...] in source pixels of an h×w image) onto an outH×outW grid
 * showing `crop` of the image, even-odd rule, sampling at pixel centres.
 */
export function polygonsToMask(polygons: number[][], h: number, w: number, outH: number, outW: number, crop = whole(h, w)): Uint8Array {
  const out = new Uint8Array(outH * outW);
  const sx = outW / crop.width;
  const sy = outH / crop.height;
  for (const poly of polygons) {
    if (poly.length < 6 || poly.length % 2) throw new MaskError(`a polygon needs ≥ 3 points, got ${poly.length} numbers`);
    const xs = poly.filter((_, i) => i % 2 === 0).map((v) => (v - crop.left) * sx);
    const ys = poly.filter((_, i) => i % 2 === 1).map((v) => (v - crop.top) * sy);
    const n = xs.length;
    const y0 = Math.max(0, Math.floor(Math.min(...ys)));
    const y1 = Math.min(outH - 1, Math.ceil(Math.max(...ys)));
    const crossings: number[] = [];
    for (let y = y0; y <= y1; y++) {
      const cy = y + 0.5;
      crossings.length = 0;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const yi = ys[i] as number;
        const yj = ys[j] as number;
        if (yi > cy !== yj > cy) crossings.push((xs[i] as number) + ((cy - yi) * ((xs[j] as number) - (xs[i] as number))) / (yj - yi));
      }
      crossings.sort((a, b) => a - b);
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        // Pixels whose centre lies inside [a, b).
        const a = Math.max(0, Math.ceil((crossings[k] as number) - 0.5));
        const b = Math.min(outW - 1, Math.ceil((crossings[k + 1] as number) - 0.5) - 1);
        if (b >= a) out.fill(1, y * outW + a, y * outW + b + 1);
      }
    }
  }
  return out;
}

/** Any COCO segmentation of an h×w image as a binary mask on an outH×outW grid showing `crop` of the image. */
export function segmentationToMask(seg: Segmentation, h: number, w: number, outH: number, outW: number, crop = whole(h, w)): Uint8Array {
  if (Array.isArray(seg)) return polygonsToMask(seg, h, w, outH, outW, crop);
  if (seg && typeof seg === 'object' && Array.isArray(seg.size)) {
    const [rh, rw] = seg.size;
    const counts = typeof seg.counts === 'string' ? decodeRleString(seg.counts) : seg.counts;
    if (!Array.isArray(counts)) throw new MaskError('RLE counts must be a list or a string');
    return rleToMask(counts, rh, rw, outH, outW, rh === h && rw === w ? crop : whole(rh, rw));
  }
  throw new MaskError('segmentation is neither polygons nor RLE');
}
