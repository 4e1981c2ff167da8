/**
 * werift's DTLS server answers every first ClientHello with a HelloVerifyRequest (RFC 6347 §4.2.1's
 * cookie exchange) and starts the handshake proper only when the ClientHello comes back with the
 * cookie: one round trip more before SRTP keys and the first picture (80 ms on a link with 40 ms each
 * way; at 5 % loss one more flight that can be lost). Under WebRTC the exchange proves nothing: ICE has
 * already checked that the address answers with this session's credentials, and libwebrtc's own
 * server does not send one.
 *
 * `answerWithoutCookie` makes one werift server answer a ClientHello without a cookie with its
 * ServerHello flight at once, numbered from message_seq 0 as a handshake without the exchange is
 * (§4.2.2); a repeat of that ClientHello (its answer was lost) gets the same flight again. A
 * ClientHello that carries a cookie, and everything after, is werift's as before. It reaches into
 * werift's DTLS internals (`flight2`, `Flight4`, `ClientHello` of its CommonJS build, the same
 * version as the bundle that runs); a unit test checks they are there and that a handshake with a
 * werift client takes one ClientHello, and the e2e tests run it against Chromium.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What of werift-dtls's server is used: its contexts and its handshake handler. */
export interface CookieServer {
  connected: boolean;
  dtls: { sequenceNumber: number; flight: number };
  cipher: unknown;
  srtp: unknown;
  transport: unknown;
  options: { certificateRequest?: boolean };
  onHandleHandshakes: (assembled: Handshake[]) => Promise<void>;
}

interface Handshake {
  msg_type: number;
  fragment: Buffer;
}

interface Internals {
  flight2: (udp: { send(buf: Buffer): void }, dtls: unknown, cipher: unknown, srtp: unknown) => (hello: unknown) => void;
  Flight4: new (
    udp: unknown,
    dtls: unknown,
    cipher: unknown,
    srtp: unknown,
  ) => { exec(hello: Handshake, certificateRequest?: boolean): Promise<void>; sendServerHello(): Buffer };
  ClientHello: { deSerialize(buf: Buffer): { cookie: Buffer } };
}

const CLIENT_HELLO = 1;

let internals: Internals | null = null;
function load(): Internals {
  if (internals) return internals;
  // werift's package exports only its front; its ESM build bundles DTLS inside, its CommonJS build
  // keeps the same version's DTLS in lib/dtls/src, which is read here by path.
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('werift')), '..', '..', '..');
  const from = (file: string) => require(join(root, 'lib', 'dtls', 'src', file));
  internals = {
    flight2: from('flight/server/flight2.js').flight2,
    Flight4: from('flight/server/flight4.js').Flight4,
    ClientHello: from('handshake/message/client/hello.js').ClientHello,
  };
  return internals;
}

/** Whether werift's DTLS internals are where this module expects them. */
export function cookieSkipAvailable(): boolean {
  try {
    const i = load();
    return typeof i.flight2 === 'function' && typeof i.Flight4 === 'function' && typeof i.ClientHello?.deSerialize === 'function';
  } catch {
    return false;
  }
}

/** Makes `server` answer a ClientHello without a cookie with its ServerHello flight (see the file's comment). */
export function answerWithoutCookie(server: CookieServer): void {
  if (!cookieSkipAvailable()) return;
  const { flight2, Flight4, ClientHello } = load();
  /** Flight 4 numbered from message_seq 0: werift's numbers it from 1, after its HelloVerifyRequest. */
  class FirstFlight4 extends Flight4 {
    override sendServerHello(): Buffer {
      server.dtls.sequenceNumber = 0;
      return super.sendServerHello();
    }
  }
  const werift = server.onHandleHandshakes;
  let negotiated = false;
  server.onHandleHandshakes = async (assembled) => {
    const first = assembled.find((h) => h.msg_type === CLIENT_HELLO);
    if (!first || server.connected || ClientHello.deSerialize(first.fragment).cookie.length > 0) return werift(assembled);
    const rest = assembled.filter((h) => h !== first);
    if (rest.length > 0) await werift(rest);
    if (!negotiated) {
      // werift's flight 2 chooses the cipher suite, curve and SRTP profile and makes the keys; the
      // HelloVerifyRequest it would send goes nowhere.
      flight2({ send: () => undefined }, server.dtls, server.cipher, server.srtp)(ClientHello.deSerialize(first.fragment));
      negotiated = true;
    }
    // (A repeated ClientHello finds flight 4 sent and gets it again.)
    await new FirstFlight4(server.transport, server.dtls, server.cipher, server.srtp).exec(first, server.options.certificateRequest);
  };
}
