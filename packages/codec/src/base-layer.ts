/**
 * The paper engine's base layer: a coarse picture of the *current* frame that every skipped patch
 * shows, so a moving source never leaves pieces of earlier frames on screen (the mosaic). Luma is
 * one value per patch (its mean), chroma one per 2×2 patches, each quantized in steps of
 * BASE_STEP, predicted from the left (or above) neighbour and Rice-coded; the receiver paints it
 * with bilinear interpolation between block centres. Pure and deterministic: the page and Node
 * paint the same pixels. About 1.3 kB for a 480×320 frame (22 dB on the pan clip).
 */
export const BASE_STEP = 8;

export interface BaseLayer {
  /** Patch columns and rows (luma grid); chroma is ceil(cols/2) × ceil(rows/2). */
  cols: number;
  rows: number;
  patchSize: number;
  /** Quantized planes (value = index × BASE_STEP). */
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

export class BaseLayerError extends Error {
  override readonly name = 'BaseLayerError';
}

const q = (x: number) => Math.max(0, Math.min(Math.floor(255 / BASE_STEP), Math.round(x / BASE_STEP)));

/** The base of a frame from its patches (patchify's layout: patch after patch, 8×8×3 raster RGB). */
export function makeBase(patches: Uint8Array, cols: number, rows: number, patchSize: number): BaseLayer {
  const pv = patchSize * patchSize * 3;
  const n = cols * rows;
  if (patches.length !== n * pv) throw new BaseLayerError(`expected ${n * pv} patch values, got ${patches.length}`);
  const mean = new Float64Array(n * 3);
  for (let p = 0; p < n; p++) {
    let r = 0;
    let g = 0;
    let b = 0;
    for (let k = p * pv; k < (p + 1) * pv; k += 3) {
      r += patches[k] as number;
      g += patches[k + 1] as number;
      b += patches[k + 2] as number;
    }
    const m = patchSize * patchSize;
    mean.set([r / m, g / m, b / m], p * 3);
  }
  const cc = Math.ceil(cols / 2);
  const cr = Math.ceil(rows / 2);
  const y = new Uint8Array(n);
  for (let p = 0; p < n; p++)
    y[p] = q(0.299 * (mean[p * 3] as number) + 0.587 * (mean[p * 3 + 1] as number) + 0.114 * (mean[p * 3 + 2] as number));
  const u = new Uint8Array(cc * cr);
  const v = new Uint8Array(cc * cr);
  for (let r = 0; r < cr; r++) {
    for (let c = 0; c < cc; c++) {
      let R = 0;
      let G = 0;
      let B = 0;
      let k = 0;
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++) {
          const pr = 2 * r + dy;
          const pc = 2 * c + dx;
          if (pr >= rows || pc >= cols) continue;
          const p = pr * cols + pc;
          R += mean[p * 3] as number;
          G += mean[p * 3 + 1] as number;
          B += mean[p * 3 + 2] as number;
          k++;
        }
      R /= k;
      G /= k;
      B /= k;
      u[r * cc + c] = q(128 - 0.168736 * R - 0.331264 * G + 0.5 * B);
      v[r * cc + c] = q(128 + 0.5 * R - 0.418688 * G - 0.081312 * B);
    }
  }
  return { cols, rows, patchSize, y, u, v };
}

/** Bytes on the wire: per plane one Rice parameter byte, then the planes' zigzagged prediction residuals. */
export function encodeBase(b: BaseLayer): Uint8Array {
  const planes = [
    [b.y, b.cols],
    [b.u, Math.ceil(b.cols / 2)],
    [b.v, Math.ceil(b.cols / 2)],
  ] as const;
  const residuals = planes.map(([p, w]) => zigzagResiduals(p, w));
  const ks = residuals.map(bestK);
  const w = new BitWriter();
  residuals.forEach((r, i) => {
    const k = ks[i] as number;
    for (const x of r) {
      w.unary(x >> k);
      w.bits(x & ((1 << k) - 1), k);
    }
  });
  return Uint8Array.from([...ks, ...w.finish()]);
}

/** The inverse of encodeBase for a cols × rows grid; throws BaseLayerError on malformed bytes. */
export function decodeBase(bytes: Uint8Array, cols: number, rows: number, patchSize: number): BaseLayer {
  if (bytes.length < 3) throw new BaseLayerError('a base layer needs at least its three parameter bytes');
  const ks = [bytes[0], bytes[1], bytes[2]] as number[];
  if (ks.some((k) => k > 7)) throw new BaseLayerError('a Rice parameter above 7');
  const cc = Math.ceil(cols / 2);
  const cr = Math.ceil(rows / 2);
  const r = new BitReader(bytes.subarray(3));
  const plane = (n: number, w: number, k: number) => {
    const out = new Uint8Array(n);
    const max = Math.floor(255 / BASE_STEP);
    for (let i = 0; i < n; i++) {
      const z = (r.unary() << k) | r.bits(k);
      const d = z & 1 ? -((z + 1) >> 1) : z >> 1;
      const value = predict(out, i, w) + d;
      if (value < 0 || value > max) throw new BaseLayerError(`base value ${value} out of range at ${i}`);
      out[i] = value;
    }
    return out;
  };
  const y = plane(cols * rows, cols, ks[0] as number);
  const u = plane(cc * cr, cc, ks[1] as number);
  const v = plane(cc * cr, cc, ks[2] as number);
  return { cols, rows, patchSize, y, u, v };
}

/** Per output pixel along one axis: the two cells it lies between and the weight of the second. */
function axis(n: number, cells: number, cell: number) {
  const i0 = new Int32Array(n);
  const i1 = new Int32Array(n);
  const a = new Float64Array(n);
  for (let x = 0; x < n; x++) {
    const f = Math.min(Math.max((x + 0.5) / cell - 0.5, 0), cells - 1);
    i0[x] = Math.floor(f);
    i1[x] = Math.min((i0[x] as number) + 1, cells - 1);
    a[x] = f - (i0[x] as number);
  }
  return { i0, i1, a };
}

/** Each grid row of a plane interpolated along x to `width` values (value units). */
function rowsOf(plane: Uint8Array, w: number, h: number, X: ReturnType<typeof axis>, width: number): Float64Array {
  const rows = new Float64Array(h * width);
  for (let r = 0; r < h; r++)
    for (let x = 0; x < width; x++) {
      const ax = X.a[x] as number;
      rows[r * width + x] =
        (1 - ax) * (plane[r * w + (X.i0[x] as number)] as number) * BASE_STEP +
        ax * (plane[r * w + (X.i1[x] as number)] as number) * BASE_STEP;
    }
  return rows;
}

/**
 * The whole base as an RGB picture (width × height × 3): what a skipped patch shows. Bilinear
 * between cell centres (clamped at the borders), separably: grid rows along x, then along y per
 * output row, converted to RGB as it goes.
 */
export function baseImage(b: BaseLayer): Uint8Array {
  const ps = b.patchSize;
  const width = b.cols * ps;
  const height = b.rows * ps;
  const cc = Math.ceil(b.cols / 2);
  const cr = Math.ceil(b.rows / 2);
  const XL = axis(width, b.cols, ps);
  const XC = axis(width, cc, 2 * ps);
  const YL = axis(height, b.rows, ps);
  const YC = axis(height, cr, 2 * ps);
  const ry = rowsOf(b.y, b.cols, b.rows, XL, width);
  const ru = rowsOf(b.u, cc, cr, XC, width);
  const rv = rowsOf(b.v, cc, cr, XC, width);
  const out = new Uint8Array(width * height * 3);
  // A clamped view rounds and clamps each store.
  const px = new Uint8ClampedArray(out.buffer);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const al = YL.a[y] as number;
    const l0 = (YL.i0[y] as number) * width;
    const l1 = (YL.i1[y] as number) * width;
    const ac = YC.a[y] as number;
    const c0 = (YC.i0[y] as number) * width;
    const c1 = (YC.i1[y] as number) * width;
    for (let x = 0; x < width; x++) {
      const Y = (1 - al) * (ry[l0 + x] as number) + al * (ry[l1 + x] as number);
      const U = (1 - ac) * (ru[c0 + x] as number) + ac * (ru[c1 + x] as number) - 128;
      const V = (1 - ac) * (rv[c0 + x] as number) + ac * (rv[c1 + x] as number) - 128;
      px[o++] = Y + 1.402 * V;
      px[o++] = Y - 0.344136 * U - 0.714136 * V;
      px[o++] = Y + 1.772 * U;
    }
  }
  return out;
}

/** Mean squared error per value between each patch and its base, for the allocator's skip cost. */
export function baseError(b: BaseLayer, patches: Uint8Array): Float32Array {
  const ps = b.patchSize;
  const pv = ps * ps * 3;
  const width = b.cols * ps;
  const img = baseImage(b);
  const out = new Float32Array(b.cols * b.rows);
  for (let p = 0; p < out.length; p++) {
    const x0 = (p % b.cols) * ps;
    const y0 = Math.floor(p / b.cols) * ps;
    let s = 0;
    let k = p * pv;
    for (let dy = 0; dy < ps; dy++) {
      let o = ((y0 + dy) * width + x0) * 3;
      for (let j = 0; j < ps * 3; j++) s += ((patches[k++] as number) - (img[o++] as number)) ** 2;
    }
    out[p] = s / pv;
  }
  return out;
}

function predict(plane: Uint8Array, i: number, w: number): number {
  if (i % w) return plane[i - 1] as number;
  return i >= w ? (plane[i - w] as number) : 0;
}

function zigzagResiduals(plane: Uint8Array, w: number): number[] {
  return Array.from(plane, (v, i) => {
    const d = v - predict(plane, i, w);
    return d >= 0 ? 2 * d : -2 * d - 1;
  });
}

function bestK(xs: readonly number[]): number {
  let best = 0;
  let bestBits = Number.POSITIVE_INFINITY;
  for (let k = 0; k <= 7; k++) {
    let bits = 0;
    for (const x of xs) bits += (x >> k) + 1 + k;
    if (bits < bestBits) {
      bestBits = bits;
      best = k;
    }
  }
  return best;
}

class BitWriter {
  private readonly out: number[] = [];
  private acc = 0;
  private n = 0;
  bits(v: number, k: number) {
    for (let i = k - 1; i >= 0; i--) this.bit((v >> i) & 1);
  }
  unary(q: number) {
    for (let i = 0; i < q; i++) this.bit(1);
    this.bit(0);
  }
  private bit(b: number) {
    this.acc = (this.acc << 1) | b;
    if (++this.n === 8) {
      this.out.push(this.acc);
      this.acc = 0;
      this.n = 0;
    }
  }
  finish(): number[] {
    if (this.n) this.out.push(this.acc << (8 - this.n));
    return this.out;
  }
}

class BitReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  private bit(): number {
    const byte = this.pos >> 3;
    if (byte >= this.bytes.length) throw new BaseLayerError('the base layer ends early');
    const b = ((this.bytes[byte] as number) >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }
  bits(k: number): number {
    let v = 0;
    for (let i = 0; i < k; i++) v = (v << 1) | this.bit();
    return v;
  }
  unary(): number {
    let q = 0;
    while (this.bit()) if (++q > 64) throw new BaseLayerError('a residual beyond any base value');
    return q;
  }
}
