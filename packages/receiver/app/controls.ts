/**
 * The operator's picture controls: pause / resume (the link keeps running; the picture holds),
 * a snapshot (PNG of the picture with a caption: frame, query, time), a recording of what is
 * shown (WebM from the picture canvas, MediaRecorder), and fullscreen (button, `f`,
 * double-click). Keys `p`, `s` and `r` pause, snap and record; none of the keys act while typing.
 */
import { el } from './dom.js';

export interface ControlElements {
  pause: HTMLButtonElement;
  snapshot: HTMLButtonElement;
  record: HTMLButtonElement;
  fullscreen: HTMLButtonElement;
  stage: HTMLElement;
  picture: HTMLCanvasElement;
}

/** What a snapshot's caption says. */
export interface SnapshotInfo {
  frameId: number | null;
  query: string | null;
}

export class PictureControls {
  private held = false;
  private pending: (() => void) | null = null;
  private recorder: MediaRecorder | null = null;

  constructor(
    private readonly ui: ControlElements,
    private readonly info: () => SnapshotInfo,
  ) {
    ui.pause.addEventListener('click', () => this.setPaused(!this.held));
    ui.snapshot.addEventListener('click', () => void this.snapshot());
    ui.record.addEventListener('click', () => this.toggleRecording());
    if (typeof MediaRecorder === 'undefined') {
      ui.record.disabled = true;
      ui.record.title = 'This browser cannot record a canvas (no MediaRecorder)';
    }
    ui.fullscreen.addEventListener('click', () => void this.toggleFullscreen());
    ui.stage.addEventListener('dblclick', () => void this.toggleFullscreen());
    document.addEventListener('fullscreenchange', () => {
      ui.fullscreen.setAttribute('aria-pressed', String(document.fullscreenElement === ui.stage));
    });
    addEventListener('keydown', (e) => {
      const t = e.target as HTMLElement | null;
      if (e.ctrlKey || e.metaKey || e.altKey || (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.isContentEditable))) return;
      if (e.key === 'f') void this.toggleFullscreen();
      else if (e.key === 'p') this.setPaused(!this.held);
      else if (e.key === 's') void this.snapshot();
      else if (e.key === 'r' && !ui.record.disabled) this.toggleRecording();
      else return;
      e.preventDefault();
    });
  }

  get paused(): boolean {
    return this.held;
  }

  /**
   * Draws a new picture with `draw`, or, while paused, keeps it for the resume (only the newest is
   * kept: the link goes on, only the screen holds).
   */
  picture(draw: () => void): void {
    if (this.held) this.pending = draw;
    else draw();
  }

  setPaused(on: boolean): void {
    this.held = on;
    this.ui.pause.textContent = on ? 'Resume' : 'Pause';
    this.ui.pause.setAttribute('aria-pressed', String(on));
    this.ui.stage.classList.toggle('paused', on);
    if (!on && this.pending) {
      const draw = this.pending;
      this.pending = null;
      draw();
    }
  }

  /** The picture as shown, with a caption strip, saved as `mmsc-frame<id>-<time>.png`. */
  async snapshot(): Promise<void> {
    const { picture } = this.ui;
    const { frameId, query } = this.info();
    const when = new Date();
    const caption = `mmsc · frame #${frameId ?? '–'} · ${query ? `“${query}”` : 'no query'} · ${when.toISOString()}`;
    const strip = 18;
    const out = el('canvas');
    out.width = picture.width;
    out.height = picture.height + strip;
    const c = out.getContext('2d') as CanvasRenderingContext2D;
    c.drawImage(picture, 0, 0);
    c.fillStyle = '#121317';
    c.fillRect(0, picture.height, out.width, strip);
    c.fillStyle = '#e6e8ee';
    c.font = '11px system-ui, sans-serif';
    c.fillText(caption, 4, picture.height + 13, out.width - 8);
    const blob = await new Promise<Blob | null>((r) => out.toBlob(r, 'image/png'));
    if (blob) save(blob, `mmsc-frame${frameId ?? 'none'}-${when.toISOString().replace(/[:.]/g, '-')}.png`);
  }

  get recording(): boolean {
    return this.recorder !== null;
  }

  /** Starts recording the picture as shown (10 frames a second), or stops and saves `mmsc-clip-<time>.webm`. */
  toggleRecording(): void {
    if (this.recorder) {
      this.recorder.stop();
      return;
    }
    const stream = this.ui.picture.captureStream(10);
    const type = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'].find((t) => MediaRecorder.isTypeSupported(t));
    const recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    const chunks: Blob[] = [];
    const started = new Date();
    recorder.ondataavailable = (e) => {
      if (e.data.size > 0) chunks.push(e.data);
    };
    recorder.onstop = () => {
      for (const t of stream.getTracks()) t.stop();
      this.recorder = null;
      this.ui.record.textContent = 'Record';
      this.ui.record.setAttribute('aria-pressed', 'false');
      save(new Blob(chunks, { type: recorder.mimeType || 'video/webm' }), `mmsc-clip-${started.toISOString().replace(/[:.]/g, '-')}.webm`);
    };
    recorder.start(1000);
    this.recorder = recorder;
    this.ui.record.textContent = 'Stop recording';
    this.ui.record.setAttribute('aria-pressed', 'true');
  }

  async toggleFullscreen(): Promise<void> {
    try {
      if (document.fullscreenElement) await document.exitFullscreen();
      else await this.ui.stage.requestFullscreen();
    } catch {
      // Refused (not from a user gesture, or not allowed here): the page stays as it is.
    }
  }
}

/** Offers `blob` as a download named `name`. */
function save(blob: Blob, name: string): void {
  const a = el('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
