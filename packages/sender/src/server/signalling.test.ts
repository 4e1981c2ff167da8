import { checkSdp, parseSignal, type SignalMessage } from '@mmsc/protocol';
import { afterEach, expect, it } from 'vitest';
import { Peer } from './peer.js';

// The page and `mmsc probe` now check the sender's offer with the shared schema: the sender's real
// (werift) offer must pass it, or no receiver could connect.
const peers: Peer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close('test over');
});

it("the sender's own offer passes the receivers' checks", async () => {
  const told: SignalMessage[] = [];
  const p = new Peer((m) => told.push(m));
  peers.push(p);
  await p.start();
  const offer = told.find((m) => m.type === 'offer');
  if (offer?.type !== 'offer') throw new Error('no offer was signalled');
  expect(parseSignal(JSON.stringify(offer))).toEqual(offer);
  checkSdp(offer.sdp, 'offer');
});
