import { checkIceServerUrl, EXIT, type IceServer, MAX_ICE_FIELD, MAX_ICE_SERVERS } from '@mmsc/protocol';
import type { Command } from 'commander';
import { CliError } from '../errors.js';

export interface IceOptions {
  iceServer?: string[];
  iceUsername?: string;
  iceCredential?: string;
}

/** `--ice-server` (repeatable), `--ice-username`, `--ice-credential` on a command. */
export function withIceOptions(cmd: Command): Command {
  return cmd
    .option(
      '--ice-server <url>',
      'a STUN or TURN server for the sender and its receivers: stun:host[:port], turn:host[:port][?transport=udp|tcp] or turns:host[:port] (repeat for more; werift, in serve and probe, uses the first STUN and the first TURN server). Default: none, no server is asked',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--ice-username <name>', 'the username for every turn:/turns: --ice-server')
    .option(
      '--ice-credential <secret>',
      'the credential for every turn:/turns: --ice-server (default: $MMSC_ICE_CREDENTIAL; never logged)',
    );
}

/** The ICE servers the options name, checked; one-line usage errors (exit 2). */
export function iceServersOf(o: IceOptions, env: Record<string, string | undefined> = process.env): IceServer[] {
  const urls = o.iceServer ?? [];
  const credential = o.iceCredential ?? env.MMSC_ICE_CREDENTIAL;
  if (urls.length > MAX_ICE_SERVERS) throw new CliError(`--ice-server: at most ${MAX_ICE_SERVERS}`, EXIT.usage);
  const servers: IceServer[] = [];
  let turns = 0;
  for (const url of urls) {
    const checked = checkIceServerUrl(url);
    if ('error' in checked) throw new CliError(`--ice-server: ${checked.error}`, EXIT.usage);
    if (checked.kind === 'stun') {
      servers.push({ urls: url });
      continue;
    }
    turns++;
    if (!o.iceUsername || !credential)
      throw new CliError(`--ice-server ${url} needs --ice-username and --ice-credential (or $MMSC_ICE_CREDENTIAL)`, EXIT.usage);
    servers.push({ urls: url, username: o.iceUsername, credential });
  }
  if (turns === 0 && (o.iceUsername !== undefined || o.iceCredential !== undefined))
    throw new CliError('--ice-username and --ice-credential are for a turn: or turns: --ice-server', EXIT.usage);
  for (const [flag, v] of [
    ['--ice-username', o.iceUsername],
    ['--ice-credential', credential],
  ] as const)
    if (turns > 0 && v !== undefined && v.length > MAX_ICE_FIELD)
      throw new CliError(`${flag} has at most ${MAX_ICE_FIELD} characters`, EXIT.usage);
  return servers;
}
