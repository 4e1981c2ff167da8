/**
 * The picture and its overlays. The picture canvas holds the frame at 1:1 (a backing store of the
 * hello's width×height, e.g. 480×360 for a 4:3 camera) and is scaled up by CSS with nearest-neighbour
 * sampling, its aspect kept; the overlays are one pixel per patch (60×46 there), scaled the same way,
 * so every patch shows as a crisp square.
 */
import { KEEP_LEVEL, type LevelSpec } from '@mmsc/protocol';
import { MISSING } from '../src/index.js';

export interface LevelStyle {
  symbol: number;
  label: string;
  /** CSS colour for the legend, and RGBA for the overlay. */
  css: string;
  rgba: [number, number, number, number];
}

const LEARNED = ['#2f80ed', '#27ae60', '#f2c94c', '#f2994a', '#eb5757', '#bb6bd9'];

function hexRgba(hex: string, a: number): [number, number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, a];
}

/** Colour per level symbol of the session's table, plus keep and lost. */
export function levelStyles(levels: readonly LevelSpec[]): Map<number, LevelStyle> {
  const styles = new Map<number, LevelStyle>();
  const learned = levels.filter((l) => l.kind === 'learned').sort((a, b) => a.bytes - b.bytes);
  for (const l of [...levels].sort((a, b) => a.bytes - b.bytes)) {
    if (l.kind === 'skip') styles.set(l.id, { symbol: l.id, label: 'skip · 0 B', css: '#111111', rgba: [17, 17, 17, 190] });
    else if (l.kind === 'raw')
      styles.set(l.id, { symbol: l.id, label: `raw · ${l.bytes} B`, css: '#ff4d6d', rgba: hexRgba('#ff4d6d', 150) });
    else {
      const css = LEARNED[learned.indexOf(l) % LEARNED.length] as string;
      styles.set(l.id, { symbol: l.id, label: `${l.model?.id ?? 'learned'} · ${l.bytes} B`, css, rgba: hexRgba(css, 150) });
    }
  }
  styles.set(KEEP_LEVEL, { symbol: KEEP_LEVEL, label: 'keep · 0 B', css: '#9b8cff', rgba: hexRgba('#9b8cff', 70) });
  styles.set(MISSING, { symbol: MISSING, label: 'lost / interpolated', css: '#ff00ff', rgba: [255, 0, 255, 200] });
  return styles;
}

/** Inferno-like ramp for relevance, 256 entries, transparent at 0. */
const RAMP: number[][] = (() => {
  const stops = [
    { t: 0, c: [0, 0, 4] },
    { t: 0.25, c: [87, 16, 110] },
    { t: 0.5, c: [188, 55, 84] },
    { t: 0.75, c: [249, 142, 9] },
    { t: 1, c: [252, 255, 164] },
  ];
  const out: number[][] = [];
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let k = 0;
    while (k < stops.length - 2 && t > (stops[k + 1]?.t ?? 1)) k++;
    const a = stops[k] ?? { t: 0, c: [0, 0, 0] };
    const b = stops[k + 1] ?? a;
    const u = b.t > a.t ? (t - a.t) / (b.t - a.t) : 0;
    const rgb = a.c.map((v, j) => Math.round(v + ((b.c[j] ?? v) - v) * u));
    out.push([...rgb, Math.round(60 + 150 * t)]);
  }
  return out;
})();

export class PictureView {
  private readonly picture: CanvasRenderingContext2D;
  private readonly relevance: CanvasRenderingContext2D;
  private readonly levels: CanvasRenderingContext2D;
  private styles = new Map<number, LevelStyle>();
  width = 480;
  height = 320;
  scale = 0;

  constructor(
    private readonly stage: HTMLElement,
    private readonly pictureCanvas: HTMLCanvasElement,
    private readonly relevanceCanvas: HTMLCanvasElement,
    private readonly levelsCanvas: HTMLCanvasElement,
  ) {
    this.picture = ctx2d(pictureCanvas);
    this.relevance = ctx2d(relevanceCanvas);
    this.levels = ctx2d(levelsCanvas);
    this.picture.fillStyle = '#1b1d22';
    this.picture.fillRect(0, 0, pictureCanvas.width, pictureCanvas.height);
  }

  /** New session geometry and level table. */
  configure(width: number, height: number, patchSize: number, levels: readonly LevelSpec[]): void {
    this.styles = levelStyles(levels);
    if (width !== this.width || height !== this.height) {
      this.width = width;
      this.height = height;
      this.pictureCanvas.width = width;
      this.pictureCanvas.height = height;
    }
    for (const c of [this.relevanceCanvas, this.levelsCanvas]) {
      c.width = width / patchSize;
      c.height = height / patchSize;
    }
    this.setScale(this.scale);
  }

  get levelStyles(): Map<number, LevelStyle> {
    return this.styles;
  }

  /**
   * The picture's size on screen: `scale` CSS pixels per picture pixel (1 is crisp 1:1), or 0 to
   * fit the column and the window (`.stage.fit`), the aspect kept either way.
   */
  setScale(scale: number): void {
    this.scale = scale;
    const fit = scale === 0;
    const w = fit ? '' : `${this.width * scale}px`;
    const h = fit ? '' : `${this.height * scale}px`;
    for (const c of [this.pictureCanvas, this.relevanceCanvas, this.levelsCanvas]) {
      c.style.width = w;
      c.style.height = h;
    }
    this.stage.classList.toggle('fit', fit);
    this.stage.parentElement?.classList.toggle('fixed', !fit);
    this.stage.style.setProperty('--aspect', String(this.width / this.height));
    this.stage.style.width = w;
    this.stage.style.height = h;
  }

  drawPicture(rgba: ArrayBuffer, width: number, height: number): void {
    this.picture.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  }

  /** The picture as shown, unscaled RGBA (what the canvas holds). */
  pixels(): ImageData {
    return this.picture.getImageData(0, 0, this.pictureCanvas.width, this.pictureCanvas.height);
  }

  drawRelevance(values: Uint8Array, width: number, height: number): void {
    if (this.relevanceCanvas.width !== width || this.relevanceCanvas.height !== height) {
      this.relevanceCanvas.width = width;
      this.relevanceCanvas.height = height;
    }
    const img = new ImageData(width, height);
    for (let i = 0; i < values.length; i++) img.data.set(RAMP[values[i] as number] ?? [0, 0, 0, 0], i * 4);
    this.relevance.putImageData(img, 0, 0);
  }

  drawLevels(symbols: Uint8Array): void {
    const c = this.levelsCanvas;
    if (symbols.length !== c.width * c.height) return;
    const img = new ImageData(c.width, c.height);
    for (let i = 0; i < symbols.length; i++) {
      const s = this.styles.get(symbols[i] as number);
      if (s) img.data.set(s.rgba, i * 4);
    }
    this.levels.putImageData(img, 0, 0);
  }

  clearRelevance(): void {
    this.relevance.clearRect(0, 0, this.relevanceCanvas.width, this.relevanceCanvas.height);
  }
}

function ctx2d(c: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = c.getContext('2d', { willReadFrequently: false, alpha: true });
  if (!ctx) throw new Error('this browser has no 2D canvas');
  ctx.imageSmoothingEnabled = false;
  return ctx;
}
