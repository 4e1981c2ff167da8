/**
 * The STUN and TURN servers a sender was told to use (`serve --ice-server`), as its offer hands
 * them to the receiver (PROTOCOL.md § Signalling). One URL per entry, in the shape of the browser's
 * `RTCIceServer`. Pure and isomorphic.
 */
export interface IceServer {
  /** `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]` or `turns:host[:port][?transport=tcp]`. */
  urls: string;
  /** TURN only (both or neither on a STUN URL: neither). */
  username?: string;
  credential?: string;
}

export const MAX_ICE_SERVERS = 8;
/** One URL, username or credential, characters. */
export const MAX_ICE_FIELD = 512;

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;

export type IceServerKind = 'stun' | 'turn';

/** The kind of an ICE server URL, or why it is refused (one line). */
export function checkIceServerUrl(url: string): { kind: IceServerKind } | { error: string } {
  if (url.length > MAX_ICE_FIELD) return { error: `an ICE server URL has at most ${MAX_ICE_FIELD} characters` };
  const m = /^(stun|turn|turns):([^?]*)(?:\?(.*))?$/.exec(url);
  if (!m) return { error: `${JSON.stringify(url)} is not a stun:, turn: or turns: URL` };
  const [, scheme, authority = '', query] = m;
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(authority);
  if (!hp || !HOST.test(hp[1] ?? '')) return { error: `${JSON.stringify(url)} has no valid host` };
  if (hp[2] !== undefined && !(Number(hp[2]) >= 1 && Number(hp[2]) <= 65535))
    return { error: `${JSON.stringify(url)} has a port outside 1..65535` };
  if (scheme === 'stun') {
    if (query !== undefined) return { error: `${JSON.stringify(url)}: a stun: URL takes no ?transport` };
    return { kind: 'stun' };
  }
  if (query !== undefined) {
    const allowed = scheme === 'turns' ? ['transport=tcp'] : ['transport=udp', 'transport=tcp'];
    if (!allowed.includes(query)) return { error: `${JSON.stringify(url)}: ${scheme}: takes ?${allowed.join(' or ?')}` };
  }
  return { kind: 'turn' };
}

/** Why a list of ICE servers is refused, or null. TURN needs a username and a credential; STUN takes neither. */
export function iceServersProblem(v: unknown): string | null {
  if (!Array.isArray(v)) return 'iceServers must be an array';
  if (v.length > MAX_ICE_SERVERS) return `at most ${MAX_ICE_SERVERS} ICE servers`;
  for (const s of v as unknown[]) {
    const e = s as Record<string, unknown> | null;
    if (!e || typeof e !== 'object' || Array.isArray(e) || typeof e.urls !== 'string')
      return 'each ICE server is {urls: string, username?, credential?}';
    const checked = checkIceServerUrl(e.urls);
    if ('error' in checked) return checked.error;
    for (const f of ['username', 'credential'] as const) {
      const x = e[f];
      if (x !== undefined && (typeof x !== 'string' || x.length === 0 || x.length > MAX_ICE_FIELD))
        return `an ICE server's ${f} is a string of 1..${MAX_ICE_FIELD} characters`;
    }
    const creds = e.username !== undefined || e.credential !== undefined;
    if (checked.kind === 'turn' && (e.username === undefined || e.credential === undefined))
      return `${e.urls} needs a username and a credential`;
    if (checked.kind === 'stun' && creds) return `${e.urls} takes no username or credential`;
  }
  return null;
}

/** A checked copy (unknown fields dropped); throws Error with `iceServersProblem`'s reason. */
export function toIceServers(v: unknown): IceServer[] {
  const why = iceServersProblem(v);
  if (why !== null) throw new Error(why);
  return (v as IceServer[]).map((s) => ({
    urls: s.urls,
    ...(s.username !== undefined ? { username: s.username } : {}),
    ...(s.credential !== undefined ? { credential: s.credential } : {}),
  }));
}

/** The servers as an operator may see them: TURN credentials replaced by `***`. */
export function describeIceServers(servers: readonly IceServer[]): string {
  return servers.map((s) => (s.username !== undefined ? `${s.urls} (user ${s.username}, credential ***)` : s.urls)).join(', ');
}
