import { describe, expect, it } from 'vitest';
import { type HeldTransport, holdEarlyDtls, MAX_HELD } from './early-dtls.js';

/** A minimal event as werift's: subscribers called in order, each removable. */
function event<T>() {
  const subs = new Set<(v: T) => void>();
  return {
    subscribe(f: (v: T) => void) {
      subs.add(f);
      return { unSubscribe: () => subs.delete(f) };
    },
    execute(v: T) {
      for (const f of [...subs]) f(v);
    },
  };
}

/** A transport whose DTLS server, like werift's, listens only once the state went to 'connecting'. */
function transport() {
  const onData = event<Buffer>();
  const onStateChange = event<string>();
  const t = { state: 'new', onStateChange, iceTransport: { connection: { onData } } };
  const server: Buffer[] = [];
  const start = () => {
    t.state = 'connecting';
    onStateChange.execute('connecting');
    onData.subscribe((b) => server.push(b)); // made in the same turn, after the announcement
  };
  const setState = (s: string) => {
    t.state = s;
    onStateChange.execute(s);
  };
  return { t: t as HeldTransport, onData, start, server, setState };
}

const hello = Buffer.from([22, 0xfe, 0xfd, 1, 2]); // a handshake record
const stun = Buffer.from([0, 1, 0, 0]);
const rtp = Buffer.from([0x80, 96, 0, 1]);

describe('holdEarlyDtls', () => {
  it('hands the server the DTLS records that came before it started, once, in order; not STUN or RTP', async () => {
    const x = transport();
    holdEarlyDtls(x.t);
    const second = Buffer.from([22, 0xfe, 0xfd, 9]);
    for (const b of [stun, hello, rtp, second]) x.onData.execute(b);
    x.start();
    await Promise.resolve();
    expect(x.server).toEqual([hello, second]);
    // Records after the start go to the server as they come, once.
    const later = Buffer.from([23, 0xfe, 0xfd]);
    x.onData.execute(later);
    await Promise.resolve();
    expect(x.server).toEqual([hello, second, later]);
  });

  it('holds at most MAX_HELD records', async () => {
    const x = transport();
    holdEarlyDtls(x.t);
    for (let i = 0; i < MAX_HELD + 5; i++) x.onData.execute(Buffer.from([22, i]));
    x.start();
    await Promise.resolve();
    expect(x.server).toHaveLength(MAX_HELD);
  });

  it('a transport that closes or fails without starting drops what it held', async () => {
    for (const end of ['closed', 'failed']) {
      const x = transport();
      holdEarlyDtls(x.t);
      x.onData.execute(hello);
      x.setState(end);
      await Promise.resolve();
      x.onData.execute(Buffer.from([22, 7]));
      expect(x.server).toEqual([]);
    }
  });
});
