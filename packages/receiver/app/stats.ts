/** The stats panel: the link's numbers (computed by LinkStats) as text, and sparklines of their recent history. */
import type { LinkQuality, StatsSummary } from '../src/index.js';

export interface StatsElements {
  fps: HTMLElement;
  latency: HTMLElement;
  rate: HTMLElement;
  bytes: HTMLElement;
  budgetBar: HTMLElement;
  link: HTMLElement;
  decode: HTMLElement;
  patches: HTMLElement;
  /** The link-quality badge (a button that opens the Link panel). */
  quality: HTMLButtonElement;
  frames: HTMLElement;
}

export interface SparkCanvases {
  fps: HTMLCanvasElement;
  latency: HTMLCanvasElement;
  rate: HTMLCanvasElement;
  link: HTMLCanvasElement;
  decode: HTMLCanvasElement;
}

export class StatsPanel {
  private readonly sparks: Record<keyof SparkCanvases, Sparkline>;

  constructor(
    private readonly ui: StatsElements,
    canvases: SparkCanvases,
  ) {
    this.sparks = {
      fps: new Sparkline(canvases.fps, '#5cc8ff', 120, 10),
      latency: new Sparkline(canvases.latency, '#f2c94c', 120, 50),
      rate: new Sparkline(canvases.rate, '#3ecf8e', 120, 100_000),
      link: new Sparkline(canvases.link, '#bb6bd9', 120, 100_000),
      decode: new Sparkline(canvases.decode, '#ff8a65', 120, 10),
    };
  }

  /** The one-word link badge: the level, and why in its tooltip and label. */
  quality(q: LinkQuality): void {
    const b = this.ui.quality;
    if (b.dataset.level !== q.level) {
      b.dataset.level = q.level;
      b.textContent = `Link ${q.level}`;
    }
    const why = q.reasons.length > 0 ? q.reasons.join(', ') : 'frame rate, frame age and link rate as expected';
    b.title = `${why} — click for the link's details`;
    b.setAttribute('aria-label', `Link ${q.level}: ${why}. Show the link's details.`);
  }

  /** A new session: patch counts describe the patch engine's frames only (hidden for a codec engine). */
  session(patchLevels: boolean): void {
    const row = this.ui.patches.closest('tr');
    if (row) row.hidden = !patchLevels;
  }

  /** `open`: whether the link is up; the sparklines leave a gap where it was not. */
  show(s: StatsSummary, open: boolean): void {
    const { ui } = this;
    ui.fps.textContent = `${s.fps.toFixed(1)} fps`;
    ui.latency.textContent = s.latency === null ? '–' : `${Math.round(s.latency)} ms`;
    ui.rate.textContent = formatBits(s.bitrate);
    if (s.last) {
      const share = s.last.budget > 0 ? s.last.bytes / s.last.budget : 0;
      ui.bytes.textContent = `${formatBytes(s.last.bytes)} / ${formatBytes(s.last.budget)}`;
      ui.budgetBar.style.width = `${Math.min(100, share * 100).toFixed(0)}%`;
      ui.budgetBar.classList.toggle('over', share > 1);
    }
    const link = s.link;
    ui.link.textContent =
      link === null ? '–' : `${formatBits(link.bps)} ${link.from === 'sender' ? `(sender, ${link.mode})` : '(from budgets)'}`;
    const d = s.decode;
    ui.decode.textContent = d
      ? `${d.last.decodeMs.toFixed(1)} ms · peak ${d.peakMs.toFixed(1)}${d.queued > 0 ? ` · ${d.queued} queued` : ''}`
      : '–';
    if (d) ui.patches.textContent = `${d.last.decoded} decoded · ${d.last.reused} reused · ${d.last.interpolated} interpolated`;
    const f = s.frames;
    ui.frames.textContent = `${f.received} received · ${f.shown} shown · ${f.incomplete} incomplete${f.lost ? ` · ${f.lost} lost` : ''}${f.stale ? ` · ${f.stale} stale` : ''} · ${f.overBudget} over budget${f.protocolErrors ? ` · ${f.protocolErrors} protocol errors` : ''}`;
    this.sparks.fps.push(open ? s.fps : null);
    this.sparks.latency.push(open ? s.latency : null);
    this.sparks.rate.push(open ? s.bitrate : null);
    this.sparks.link.push(open ? (link?.bps ?? null) : null);
    this.sparks.decode.push(open && d ? d.last.decodeMs : null);
  }
}

/** A small line chart of the last `capacity` samples, drawn crisp at the device pixel ratio. */
export class Sparkline {
  private values: number[] = [];
  private readonly ctx: CanvasRenderingContext2D | null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly colour: string,
    private readonly capacity = 120,
    private readonly floorMax = 1,
  ) {
    const dpr = Math.max(1, Math.round(globalThis.devicePixelRatio || 1));
    const w = canvas.clientWidth || Number(canvas.getAttribute('width')) || 120;
    const h = canvas.clientHeight || Number(canvas.getAttribute('height')) || 24;
    canvas.width = w * dpr;
    canvas.height = h * dpr;
    this.ctx = canvas.getContext('2d');
  }

  push(v: number | null): void {
    this.values.push(v !== null && Number.isFinite(v) ? v : Number.NaN);
    if (this.values.length > this.capacity) this.values.shift();
    this.draw();
  }

  clear(): void {
    this.values = [];
    this.draw();
  }

  private draw(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const { width: w, height: h } = this.canvas;
    ctx.clearRect(0, 0, w, h);
    const finite = this.values.filter(Number.isFinite);
    if (!finite.length) return;
    const max = Math.max(this.floorMax, ...finite) * 1.1;
    const step = w / (this.capacity - 1);
    const x0 = w - (this.values.length - 1) * step;
    const y = (v: number) => h - 1 - (v / max) * (h - 2);
    ctx.lineWidth = Math.max(1, h / 24);
    ctx.strokeStyle = this.colour;
    ctx.fillStyle = `${this.colour}33`;
    // Contiguous runs of samples (gaps where a value was unknown), each an area under a line.
    const runs: [number, number][][] = [];
    let run: [number, number][] = [];
    this.values.forEach((v, i) => {
      if (Number.isFinite(v)) run.push([x0 + i * step, y(v)]);
      else if (run.length) {
        runs.push(run);
        run = [];
      }
    });
    if (run.length) runs.push(run);
    for (const r of runs) {
      const [fx, fy] = r[0] as [number, number];
      const [lx] = r[r.length - 1] as [number, number];
      ctx.beginPath();
      ctx.moveTo(fx, fy);
      for (const [x, yy] of r) ctx.lineTo(x, yy);
      ctx.stroke();
      ctx.lineTo(lx, h);
      ctx.lineTo(fx, h);
      ctx.closePath();
      ctx.fill();
    }
  }
}

export function formatBits(bps: number | null): string {
  if (bps === null || !Number.isFinite(bps)) return '–';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 1e7 ? 1 : 2)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

export function formatBytes(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}
