/**
 * The overlay controls (relevance map, level map and which levels it shows, picture scale) and the
 * level legend. Each choice comes from the URL, else from the last visit.
 */
import { KEEP_LEVEL, type LevelSpec } from '@mmsc/protocol';
import { MISSING } from '../src/index.js';
import { el } from './dom.js';
import type { PictureView } from './view.js';

export interface OverlayElements {
  relevance: HTMLInputElement;
  levels: HTMLInputElement;
  levelMode: HTMLSelectElement;
  scale: HTMLSelectElement;
  relevanceCanvas: HTMLCanvasElement;
  levelsCanvas: HTMLCanvasElement;
  legendLevels: HTMLElement;
  legendRelevance: HTMLElement;
  /** The level map's controls, shown only for an engine that codes patches at levels. */
  levelsControls: HTMLElement;
}

/** The level map of the frame as sent, or of the copies on screen. */
export type LevelMode = 'sent' | 'shown';

const prefs = {
  get(key: string): string | null {
    try {
      return localStorage.getItem(`mmsc.${key}`);
    } catch {
      return null;
    }
  },
  set(key: string, value: string): void {
    try {
      localStorage.setItem(`mmsc.${key}`, value);
    } catch {
      // private mode: preferences just do not persist
    }
  },
};

/** The scale control's value: 'fit' (0: the picture fits the column and the window) or CSS pixels per picture pixel. */
function scaleOf(value: string): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 3 ? n : 0;
}

export class Overlays {
  private skipIds = new Set<number>();
  /** Whether this session's engine codes patches at levels (else there is no level map to show). */
  private patchLevels = true;

  constructor(
    private readonly ui: OverlayElements,
    private readonly view: PictureView,
    params: URLSearchParams,
    private readonly levelMap: (mode: LevelMode) => Uint8Array | null,
  ) {
    ui.relevance.checked = (params.get('relevance') ?? prefs.get('relevance')) === '1';
    ui.levels.checked = (params.get('levels') ?? prefs.get('levels')) === '1';
    ui.levelMode.value = params.get('levelMode') ?? prefs.get('levelMode') ?? 'shown';
    ui.scale.value = params.get('scale') ?? prefs.get('scale') ?? 'fit';
    if (ui.scale.selectedIndex < 0) ui.scale.value = 'fit';
    for (const c of [ui.relevance, ui.levels, ui.levelMode]) c.addEventListener('change', () => this.apply());
    ui.scale.addEventListener('change', () => {
      view.setScale(scaleOf(ui.scale.value));
      prefs.set('scale', ui.scale.value);
    });
    view.setScale(scaleOf(ui.scale.value));
    this.apply();
  }

  private get mode(): LevelMode {
    return this.ui.levelMode.value === 'sent' ? 'sent' : 'shown';
  }

  /**
   * A new session's level table (the view has its colours already), and whether its engine codes
   * patches at levels: a codec engine's quantizer works per macroblock, so no level map is offered.
   */
  session(levels: readonly LevelSpec[], patchLevels: boolean): void {
    this.skipIds = new Set(levels.filter((l) => l.kind === 'skip').map((l) => l.id));
    this.patchLevels = patchLevels;
    this.ui.levelsControls.hidden = !patchLevels;
    this.apply();
  }

  drawLevels(): void {
    const map = this.levelMap(this.mode);
    if (this.levelsShown && map) this.view.drawLevels(map);
  }

  private get levelsShown(): boolean {
    return this.patchLevels && this.ui.levels.checked;
  }

  private apply(): void {
    const { ui } = this;
    ui.relevanceCanvas.hidden = !ui.relevance.checked;
    ui.levelsCanvas.hidden = !this.levelsShown;
    ui.legendLevels.hidden = !this.levelsShown;
    ui.legendRelevance.hidden = !ui.relevance.checked;
    ui.levelMode.disabled = !ui.levels.checked;
    prefs.set('relevance', ui.relevance.checked ? '1' : '0');
    prefs.set('levels', ui.levels.checked ? '1' : '0');
    prefs.set('levelMode', ui.levelMode.value);
    this.renderLegend();
    this.drawLevels();
  }

  private renderLegend(): void {
    const sent = this.mode === 'sent';
    // On screen there is always a copy (or an interpolation): skip and keep only describe a frame.
    const items = [...this.view.levelStyles.values()].filter((s) => sent || (s.symbol !== KEEP_LEVEL && !this.skipIds.has(s.symbol)));
    this.ui.legendLevels.replaceChildren(
      el('span', { class: 'muted' }, sent ? 'sent in the frame:' : 'copy on screen:'),
      ...items.map((s) =>
        el(
          'span',
          { data: { symbol: String(s.symbol) } },
          el('span', { class: 'swatch', style: `background:${s.css}` }),
          s.symbol === MISSING ? (sent ? 'lost (part missing)' : 'interpolated (no copy yet)') : s.label,
        ),
      ),
    );
  }
}
