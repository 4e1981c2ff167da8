/** The stats panel: sparklines of the recent history, and the units its numbers are shown in. */

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
