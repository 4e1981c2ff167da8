/**
 * werift makes its DTLS server only once its own ICE agent reports connected. A browser answering
 * our offer takes the DTLS client's part (`a=setup:active`) and sends its ClientHello the moment its
 * ICE agent is connected, which is often the same instant: the record reaches werift before its
 * server exists and is dropped, and the handshake waits for the browser's retransmission, ~1 s
 * (measured on a 2 Mbit/s link with 80 ms round trips: DTLS took 1.46 s after ICE for the page,
 * against 0.48 s when werift is the client).
 *
 * `holdEarlyDtls` keeps the DTLS records that arrive while the transport has not started (at most
 * MAX_HELD, the first flight of a handshake being a record or two) and hands them to the server as
 * soon as it exists. The offer stays `actpass`, as JSEP asks.
 */

/** What of werift's ICE connection is used: its data event. */
export interface DataSource {
  onData: {
    subscribe(f: (buf: Buffer) => void): { unSubscribe(): void };
    execute(buf: Buffer): void;
  };
}

/** What of werift's RTCDtlsTransport is used: its state, state event and ICE connection. */
export interface HeldTransport {
  readonly state: string;
  onStateChange: { subscribe(f: (state: string) => void): { unSubscribe(): void } };
  iceTransport: { connection: DataSource };
}

/** At most this many early records are held; more before the server starts are dropped, as werift would. */
export const MAX_HELD = 8;

/** Whether a datagram is a DTLS record (RFC 7983: first byte 20–63). */
const isDtlsRecord = (buf: Buffer): boolean => buf.length > 0 && (buf[0] as number) >= 20 && (buf[0] as number) <= 63;

/** Holds DTLS records that reach `t` before its DTLS side starts, and replays them when it does. */
export function holdEarlyDtls(t: HeldTransport): void {
  const ice = t.iceTransport.connection;
  const held: Buffer[] = [];
  const early = ice.onData.subscribe((buf) => {
    if (t.state === 'new' && isDtlsRecord(buf) && held.length < MAX_HELD) held.push(buf);
  });
  const started = t.onStateChange.subscribe((state) => {
    if (state === 'new') return;
    early.unSubscribe();
    started.unSubscribe();
    if (state !== 'connecting') return;
    // werift makes the server right after announcing 'connecting', in the same turn: replay after it.
    queueMicrotask(() => {
      for (const buf of held.splice(0)) ice.onData.execute(buf);
    });
  });
}
