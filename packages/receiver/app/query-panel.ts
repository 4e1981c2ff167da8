/** The query box, its status line, and the grounding report of the query in force. */
import type { GroundingMessage } from '@mmsc/protocol';
import type { QueryState } from '../src/index.js';
import { renderGrounding } from './grounding.js';

export interface QueryElements {
  form: HTMLFormElement;
  input: HTMLInputElement;
  /** The operator's recent queries, offered as the box's suggestions. */
  history: HTMLDataListElement;
  status: HTMLElement;
  grounding: HTMLElement;
}

/** Recent queries kept (newest first), per browser. */
const HISTORY_SIZE = 12;
const HISTORY_KEY = 'mmsc.queries';

export class QueryPanel {
  private recent: string[] = readHistory();

  constructor(
    private readonly ui: QueryElements,
    submit: (text: string) => void,
  ) {
    ui.form.addEventListener('submit', (e) => {
      e.preventDefault();
      submit(ui.input.value);
      this.remember(ui.input.value);
    });
    // The box takes at most its maxlength: the operator is told before it cuts.
    ui.input.addEventListener('input', () => {
      const max = ui.input.maxLength;
      const n = ui.input.value.length;
      if (max > 0 && n >= max - 20) this.status('idle', `${n} of ${max} characters: a query is at most ${max}.`);
    });
    this.renderHistory();
  }

  /** The queries sent from this browser, newest first. */
  get history(): readonly string[] {
    return this.recent;
  }

  private remember(text: string): void {
    const t = text.trim();
    if (!t) return;
    this.recent = [t, ...this.recent.filter((q) => q !== t)].slice(0, HISTORY_SIZE);
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(this.recent));
    } catch {
      // private mode: the history lasts as long as the page
    }
    this.renderHistory();
  }

  private renderHistory(): void {
    this.ui.history.replaceChildren(
      ...this.recent.map((q) => {
        const o = document.createElement('option');
        o.value = q;
        return o;
      }),
    );
  }

  status(state: QueryState, text: string): void {
    this.ui.status.dataset.state = state;
    this.ui.status.textContent = text;
  }

  /** The status as shown: until the first one is set, the page's own hint. */
  current(): { state: string; text: string | null } {
    return { state: this.ui.status.dataset.state ?? 'idle', text: this.ui.status.textContent };
  }

  /** The sender's initial query goes into the box, unless the operator is typing there. */
  offer(text: string): void {
    if (document.activeElement !== this.ui.input && this.ui.input.value === '') this.ui.input.value = text;
  }

  grounding(g: GroundingMessage | null): void {
    renderGrounding(this.ui.grounding, g);
  }
}

function readHistory(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((q): q is string => typeof q === 'string').slice(0, HISTORY_SIZE) : [];
  } catch {
    return [];
  }
}
