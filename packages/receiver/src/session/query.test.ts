import { LIMITS } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { type QueryState, QueryWorkflow } from './query.js';

function workflow(open = true) {
  const clock = { t: 1000 };
  const link = { open };
  const sent: { queryId: string; text: string }[] = [];
  const statuses: { state: QueryState; text: string }[] = [];
  const q = new QueryWorkflow({
    now: () => clock.t,
    send: (queryId, text) => {
      if (link.open) sent.push({ queryId, text });
      return link.open;
    },
    status: (state, text) => statuses.push({ state, text }),
  });
  return { q, clock, link, sent, statuses, status: () => statuses[statuses.length - 1] };
}

describe('QueryWorkflow', () => {
  it('sends the normalised text under a fresh id per submission', () => {
    const w = workflow();
    w.q.submit('  red   car\n ');
    w.q.submit('dog');
    expect(w.sent.map((s) => s.text)).toEqual(['red car', 'dog']);
    expect(new Set(w.sent.map((s) => s.queryId)).size).toBe(2);
    expect(w.q.wanted).toMatchObject({ queryId: w.sent[1]!.queryId, text: 'dog', sentAt: 1000 });
    expect(w.status()).toEqual({ state: 'pending', text: "“dog” sent; waiting for the sender's grounding…" });
  });

  it('refuses a query over the protocol limit and keeps the previous one', () => {
    const w = workflow();
    w.q.submit('dog');
    const before = w.q.wanted;
    w.q.submit('é'.repeat(LIMITS.textBytes / 2 + 1)); // 2 bytes each in UTF-8
    expect(w.status()?.state).toBe('error');
    expect(w.q.wanted).toBe(before);
    expect(w.sent).toHaveLength(1);
    w.q.submit('é'.repeat(LIMITS.textBytes / 2));
    expect(w.sent).toHaveLength(2);
  });

  it('holds a query typed while disconnected', () => {
    const w = workflow(false);
    w.q.submit('car');
    expect(w.sent).toHaveLength(0);
    expect(w.q.wanted?.sentAt).toBeNull();
    expect(w.status()?.text).toMatch(/will be sent when the connection is back/);
  });

  it('is applied from the first shown frame received after its grounding, not before', () => {
    const w = workflow();
    w.q.submit('car');
    const id = w.q.wanted!.queryId;
    w.clock.t = 1250;
    expect(w.q.grounded(id, false)).toBe('operator');
    expect(w.status()).toEqual({ state: 'pending', text: 'Grounded in 250 ms; waiting for the next frame…' });
    w.q.shown(7, 1250); // received at the grounding instant: allocated under the old query
    w.q.shown(8, undefined);
    expect(w.q.wanted?.firstFrameId).toBeNull();
    w.q.shown(9, 1251);
    w.q.shown(10, 1300);
    expect(w.q.wanted?.firstFrameId).toBe(9);
    expect(w.status()).toEqual({ state: 'applied', text: '“car” shapes the picture since frame #9.' });
  });

  it('says which words are not in view, and “not in view” when none of its objects is', () => {
    const w = workflow();
    w.q.submit('dog and stop sign');
    const id = w.q.wanted!.queryId;
    w.clock.t = 1100;
    w.q.grounded(id, false, [], 2);
    w.q.shown(4, 1200);
    expect(w.status()).toEqual({ state: 'applied', text: '“dog and stop sign” shapes the picture since frame #4.' });
    // The sender sends the grounding again when what is in view changes.
    expect(w.q.grounded(id, false, ['stop sign'], 2)).toBe('operator');
    expect(w.status()).toEqual({
      state: 'applied',
      text: '“dog and stop sign” shapes the picture since frame #4; not in view: “stop sign”.',
    });
    w.q.grounded(id, false, ['dog', 'stop sign'], 2);
    expect(w.status()).toEqual({ state: 'absent', text: 'Not in view: nothing in the picture matches “dog”, “stop sign”.' });
    w.q.grounded(id, false, [], 2);
    expect(w.status()?.state).toBe('applied');
    expect(w.q.wanted?.groundedAt).toBe(1100); // a later grounding of the same query is no new grounding
  });

  it('a grounding that says “not in view” before the first frame waits for it', () => {
    const w = workflow();
    w.q.submit('stop sign');
    const id = w.q.wanted!.queryId;
    w.clock.t = 1000;
    w.q.grounded(id, false, [], 1);
    w.q.grounded(id, false, ['stop sign'], 1);
    expect(w.status()?.state).toBe('pending');
    w.q.shown(3, 1001);
    expect(w.status()).toEqual({ state: 'absent', text: 'Not in view: nothing in the picture matches “stop sign”.' });
  });

  it('tells the sender’s own query, an older query and the fallback apart', () => {
    const w = workflow();
    expect(w.q.grounded('initial', false)).toBe('sender');
    expect(w.status()?.state).toBe('idle');
    w.q.submit('xyzzy');
    const n = w.statuses.length;
    expect(w.q.grounded('initial', false)).toBe('stale');
    expect(w.statuses).toHaveLength(n);
    expect(w.q.grounded(w.q.wanted!.queryId, true)).toBe('operator');
    expect(w.status()?.text).toMatch(/^Nothing in it grounded/);
  });

  it('shows a sender error as a rejection only when it refers to the query', () => {
    const w = workflow();
    w.q.submit('car');
    w.q.rejected(null, 'too many queries');
    w.q.rejected('q0-other', 'too many queries');
    expect(w.status()?.state).toBe('pending');
    w.q.rejected(w.q.wanted!.queryId, 'too many queries');
    expect(w.status()).toEqual({ state: 'error', text: 'The sender rejected the query: too many queries' });
  });
});
