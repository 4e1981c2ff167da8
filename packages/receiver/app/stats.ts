/** Live link statistics over sliding windows, and the sparklines that show their recent history. */

export interface FrameRecord {
  frameId: number;
  /** Receive time of the frame's last part (ms epoch, this machine). */
  receiveTs: number;
  /** Capture time on the sender's clock (ms epoch). */
  captureTs: number;
  bytes: number;
  budget: number;
  complete: boolean;
}

const WINDOW_MS = 2000;

export class LinkStats {
  private frames: FrameRecord[] = [];
  private shown: number[] = [];
  private bytes: { t: number; n: number }[] = [];
  last: FrameRecord | null = null;
  framesReceived = 0;
  framesIncomplete = 0;
  budgetViolations = 0;

  reset(): void {
    this.frames = [];
    this.shown = [];
    this.bytes = [];
    this.last = null;
  }

  /** Every data-channel message, for the bit rate. */
  onBytes(n: number, t: number): void {
    this.bytes.push({ t, n });
  }

  onFrame(f: FrameRecord): void {
    this.frames.push(f);
    this.last = f;
    this.framesReceived++;
    if (!f.complete) this.framesIncomplete++;
    if (f.bytes > f.budget) this.budgetViolations++;
  }

  onShown(t: number): void {
    this.shown.push(t);
  }

  private trim(now: number): void {
    const cut = now - WINDOW_MS;
    while (this.frames.length && (this.frames[0] as FrameRecord).receiveTs < cut) this.frames.shift();
    while (this.shown.length && (this.shown[0] as number) < cut) this.shown.shift();
    while (this.bytes.length && (this.bytes[0] as { t: number }).t < cut) this.bytes.shift();
  }

  /** Frames shown per second over the window. */
  fps(now: number): number {
    this.trim(now);
    return this.shown.length / (WINDOW_MS / 1000);
  }

  /** Frames received per second over the window. */
  receivedFps(now: number): number {
    this.trim(now);
    return this.frames.length / (WINDOW_MS / 1000);
  }

  /** Received bit rate (all messages), bits per second. */
  bitrate(now: number): number {
    this.trim(now);
    let n = 0;
    for (const b of this.bytes) n += b.n;
    return (n * 8) / (WINDOW_MS / 1000);
  }

  /** Frame latency: receive of the last part − capture, ms (same clock when on one machine). */
  latency(): number | null {
    return this.last ? this.last.receiveTs - this.last.captureTs : null;
  }

  /** The sender's rate as its budgets reveal it: budget · fps / (1 − 10 % margin), bits per second. */
  rateFromBudgets(now: number, fps: number | null): number | null {
    this.trim(now);
    if (!this.frames.length) return null;
    const mean = this.frames.reduce((s, f) => s + f.budget, 0) / this.frames.length;
    const rate = fps ?? this.receivedFps(now);
    return (mean * 8 * rate) / 0.9;
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
