import { describe, expect, it } from 'vitest';
import { formMask, formQuery } from './relevance-eval.js';

describe('relevance-eval query forms', () => {
  it('plain keeps the pair; negation asks for everything except it, scored against the rest of the picture', () => {
    const mask = Uint8Array.from([1, 0, 0, 1]);
    expect(formQuery('plain', 'dog and cat')).toBe('dog and cat');
    expect(formMask('plain', mask)).toBe(mask);
    expect(formQuery('negation', 'dog and cat')).toBe('everything except dog and cat');
    expect([...formMask('negation', mask)]).toEqual([0, 1, 1, 0]);
  });
});
