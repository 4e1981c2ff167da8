/** The query box, its status line, and the grounding report of the query in force. */
import type { GroundingMessage } from '@mmsc/protocol';
import type { QueryState } from '../src/index.js';
import { renderGrounding } from './grounding.js';

export interface QueryElements {
  form: HTMLFormElement;
  input: HTMLInputElement;
  status: HTMLElement;
  grounding: HTMLElement;
}

export class QueryPanel {
  constructor(
    private readonly ui: QueryElements,
    submit: (text: string) => void,
  ) {
    ui.form.addEventListener('submit', (e) => {
      e.preventDefault();
      submit(ui.input.value);
    });
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
