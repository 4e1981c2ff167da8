import { EXIT } from '@mmsc/protocol';
import { CliError } from '../errors.js';

/** Exit code of `mmsc probe` when the sender is full. */
export const EXIT_BUSY = EXIT.busy;

/** The sender refused the connection: wrong or missing token (401), Origin refused (403), or full (busy). */
export class ProbeRefusedError extends CliError {
  override readonly name = 'ProbeRefusedError';
  constructor(
    readonly reason: 'unauthorized' | 'forbidden' | 'busy',
    message: string,
    exitCode = 1,
  ) {
    super(message, exitCode);
  }
}

/** The sender's endpoints from a user-given URL, and the token it carries (if any). */
export function senderEndpoints(url: string): { signalUrl: string; statsUrl: string; token: string | null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    u = new URL('invalid:');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError('--url must be an http(s) URL, e.g. http://127.0.0.1:8080', 2);
  const token = u.searchParams.get('token');
  return {
    signalUrl: `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}/signal`,
    statsUrl: `${u.origin}/stats`,
    token: token ? token : null,
  };
}

/** Why the sender refused the signalling upgrade, from its HTTP status. */
export function refusal(status: number, signalUrl: string): CliError {
  if (status === 401) return new ProbeRefusedError('unauthorized', 'the sender refused the token (HTTP 401): pass --token or MMSC_TOKEN');
  if (status === 403) return new ProbeRefusedError('forbidden', 'the sender refused this connection (HTTP 403: Origin not allowed)');
  return new CliError(`cannot open ${signalUrl}: HTTP ${status}`, 1);
}

/** The sender's own rate estimate for a session (its /stats); throws when /stats does not answer. */
export async function senderEstimate(statsUrl: string, headers: Record<string, string>, sessionId: string): Promise<number | null> {
  const res = await fetch(statsUrl, { headers, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const stats = (await res.json()) as { receivers: { id: string; rate: { rateBps: number } }[] };
  return stats.receivers.find((r) => r.id === sessionId)?.rate.rateBps ?? null;
}
