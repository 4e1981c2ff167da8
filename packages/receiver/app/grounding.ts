/** The grounding report: what the sender understood the query as, word by word. */
import type { GroundingMessage } from '@mmsc/protocol';
import { el } from './dom.js';

export function renderGrounding(target: HTMLElement, g: GroundingMessage | null): void {
  if (!g) {
    target.replaceChildren(el('p', { class: 'muted' }, 'No grounding yet: it arrives with the session and after each query.'));
    return;
  }
  const rows: HTMLElement[] = [];
  rows.push(
    el(
      'p',
      { class: 'g-query' },
      el('span', { class: 'muted' }, 'Query '),
      el('q', {}, g.text || '(empty)'),
      el('code', { class: 'g-id' }, g.queryId),
    ),
  );
  if (g.fallback) {
    rows.push(
      el(
        'p',
        { class: 'g-fallback', data: { test: 'fallback' } },
        el('strong', {}, 'No word grounded. '),
        'The sender fell back to its query-agnostic map: bytes go to every object it detects, not to what you asked for. Try a COCO object name such as “dog”, “car”, “person”.',
      ),
    );
  }
  const list = el('ul', { class: 'g-words' });
  for (const w of g.words) {
    const classes = [...w.classes].sort((a, b) => b.weight - a.weight);
    // A negated word's objects get the fewest bytes; everything else in the picture matters.
    const negated = w.negated === true;
    list.append(
      el(
        'li',
        negated
          ? {
              class: 'g-word g-negated',
              data: { word: w.word, negated: 'true' },
              title: 'negated: these objects get the fewest bytes, the rest of the picture the most',
            }
          : { class: 'g-word', data: { word: w.word } },
        el('span', { class: 'g-term' }, negated ? `not ${w.word}` : w.word),
        // Modifier words pick among the word's objects ("red", "left", "second"): shown as understood.
        w.modifiers && w.modifiers.length > 0
          ? el(
              'span',
              {
                class: 'g-modifiers',
                data: { test: 'modifiers' },
                title: 'these words pick which of its objects get the bytes: the others get few',
              },
              w.modifiers.join(' · '),
            )
          : null,
        el('span', { class: 'g-arrow' }, negated ? '↛' : '→'),
        el(
          'span',
          { class: 'g-classes' },
          ...classes.map((c) =>
            el(
              'span',
              { class: 'g-class', title: `${c.name}: weight ${c.weight.toFixed(3)}`, data: { class: c.name } },
              c.name,
              el('span', { class: 'g-bar' }, el('span', { style: `width:${Math.round(c.weight * 100)}%` })),
              el('span', { class: 'g-weight' }, c.weight.toFixed(2)),
            ),
          ),
        ),
        w.notInView
          ? el(
              'span',
              { class: 'g-absent', data: { test: 'not-in-view' }, title: 'none of these objects is detected in the picture now' },
              'not in view',
            )
          : null,
      ),
    );
  }
  for (const word of g.ungrounded) {
    list.append(
      el(
        'li',
        { class: 'g-word g-ungrounded', data: { word, ungrounded: 'true' } },
        el('span', { class: 'g-term' }, word),
        el('span', { class: 'g-arrow' }, '→'),
        el('span', { class: 'g-none', title: 'this word matched no object class; it does not steer the bytes' }, '⚠ not grounded'),
      ),
    );
  }
  if (g.words.length + g.ungrounded.length > 0) rows.push(list);
  target.replaceChildren(...rows);
}
