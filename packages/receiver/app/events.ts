/** The event list: the newest things that happened to the link and the decoders, newest first. */
import { el } from './dom.js';

const KEPT = 40;

export class EventLog {
  constructor(private readonly list: HTMLElement) {}

  add(text: string, bad = false): void {
    const t = new Date();
    const time = [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
    this.list.prepend(el('li', { class: bad ? 'bad' : '' }, el('time', {}, time), text));
    while (this.list.childElementCount > KEPT) this.list.lastElementChild?.remove();
  }
}
