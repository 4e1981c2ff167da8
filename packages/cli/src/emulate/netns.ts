import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError } from '../errors.js';
import { run, stopChild } from './mmsc-peer.js';
import type { LinkDirection } from './scenario.js';

/** The emulator's files (a Python packet loop over TUN, the namespace script, the self-check). */
export const EMULATOR_DIR = fileURLToPath(new URL('../../emulator/', import.meta.url));
export const PYTHON = process.env.MMSC_PYTHON ?? '/usr/bin/python3';

/** Addresses of the two hosts (RFC 2544's benchmarking range, only inside our own namespaces). */
export const SENDER_ADDR = '198.18.1.2';
export const RECEIVER_ADDR = '198.18.2.2';

/** The NAT topology: the sender's NAT (its signalling port forwarded), and the TURN relay. */
export const NAT = {
  senderPublic: '198.19.1.2',
  relay: '198.19.3.2',
  aNet: '198.19.1.0/24',
  bNet: '198.19.2.0/24',
  turnUser: 'mmsc',
  turnPassword: 'emulate-relay',
} as const;

export type Topology = 'direct' | 'nat';

/** The emulator's config file: one direction each way, told apart by the sender's subnet. */
export interface LinkConfig {
  forward: LinkDirection;
  reverse: LinkDirection;
  a_net: string;
  b_net: string;
}

/** Says, in one line, why emulation cannot run here; null when it can (root, `ip`, TUN, python3). */
export function emulationUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network emulation needs Linux (network namespaces and TUN)';
  if (process.getuid?.() !== 0) return 'mmsc emulate needs root (it creates network namespaces and a TUN device): run it as root';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun: this kernel or container has no TUN device';
  if (!existsSync(PYTHON)) return `no ${PYTHON}: install python3 (apt-get install -y python3)`;
  return null;
}

/** What the NAT topology needs beyond emulation itself (iptables, coturn); null when present. */
export function natUnavailable(): string | null {
  const onPath = (c: string) => (process.env.PATH ?? '/usr/sbin:/usr/bin').split(':').some((d) => existsSync(`${d}/${c}`));
  if (!onPath('iptables')) return 'the NAT scenario needs iptables (apt-get install -y iptables)';
  if (!onPath('turnserver')) return 'the NAT scenario needs a TURN relay: apt-get install -y coturn';
  return null;
}

/** Networks up now: an interrupted run (Ctrl-C, SIGTERM) still removes its namespaces and the processes in them. */
const networksUp = new Set<string>();
let interruptHandled = false;
function removeOnInterrupt(prefix: string): void {
  networksUp.add(prefix);
  if (interruptHandled) return;
  interruptHandled = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      for (const p of networksUp) spawnSync('bash', [`${EMULATOR_DIR}netns.sh`, 'down', p], { stdio: 'ignore' });
      process.exit(130);
    });
}

/**
 * Two hosts (`<prefix>-a` sends, `<prefix>-b` receives) joined through a router namespace whose
 * packets pass through the user-space link. `close()` removes everything.
 */
export class EmulatedNetwork {
  private link: ChildProcess | null = null;
  private turn: ChildProcess | null = null;
  private closed = false;
  /** When the current link instance started, epoch ms (its trace and outages count from here). */
  linkStartedAt = 0;
  private constructor(
    readonly prefix: string,
    readonly topology: Topology,
    private readonly log: (s: string) => void,
  ) {}

  get senderNs() {
    return `${this.prefix}-a`;
  }
  get receiverNs() {
    return `${this.prefix}-b`;
  }
  get routerNs() {
    return `${this.prefix}-r`;
  }

  static async open(prefix: string, log: (s: string) => void = () => {}, topology: Topology = 'direct'): Promise<EmulatedNetwork> {
    const why = emulationUnavailable();
    if (why) throw new CliError(why, 1);
    await run('bash', [`${EMULATOR_DIR}netns.sh`, 'down', prefix]).catch(() => undefined);
    try {
      await run('bash', [`${EMULATOR_DIR}netns.sh`, topology === 'nat' ? 'up-nat' : 'up', prefix]);
    } catch (e) {
      throw new CliError(`cannot build the emulated network: ${(e as Error).message}`, 1);
    }
    removeOnInterrupt(prefix);
    return new EmulatedNetwork(prefix, topology, log);
  }

  /** NAT topology: starts Debian's coturn on the relay host; resolves with the ICE server to give the peers. */
  async startTurn(): Promise<{ urls: string; username: string; credential: string }> {
    if (this.topology !== 'nat') throw new Error('a TURN relay runs only in the NAT topology');
    const p = spawn(
      'ip',
      [
        'netns',
        'exec',
        `${this.prefix}-t`,
        'turnserver',
        '--listening-ip',
        NAT.relay,
        '--relay-ip',
        NAT.relay,
        '--listening-port',
        '3478',
        '--lt-cred-mech',
        '--user',
        `${NAT.turnUser}:${NAT.turnPassword}`,
        '--realm',
        'mmsc.emulate',
        '--no-tls',
        '--no-dtls',
        '--no-cli',
        '--fingerprint',
        `--allowed-peer-ip=198.19.0.0-198.19.255.255`,
        '--log-file',
        'stdout',
        '--simple-log',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    p.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    p.on('error', () => undefined);
    this.turn = p;
    await new Promise((r) => setTimeout(r, 800));
    if (p.exitCode !== null)
      throw new CliError(
        `the TURN relay (coturn) did not start (${p.exitCode}): ${err.trim() || 'install it: apt-get install -y coturn'}`,
        1,
      );
    this.log(`TURN relay (coturn) on ${NAT.relay}:3478`);
    return { urls: `turn:${NAT.relay}:3478?transport=udp`, username: NAT.turnUser, credential: NAT.turnPassword };
  }

  /** Starts the link afresh with `configFile` (stopping the one before): its trace starts now. */
  async startLink(configFile: string, statsFile: string): Promise<void> {
    await this.stopLink();
    const p = spawn(
      'ip',
      ['netns', 'exec', this.routerNs, PYTHON, `${EMULATOR_DIR}linkem.py`, '--tun', 'mmlink', '--config', configFile, '--stats', statsFile],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    p.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    this.link = p;
    this.linkStartedAt = Date.now();
    // The loop opens the TUN device at once; a bad config or trace fails within this wait.
    await new Promise((r) => setTimeout(r, 300));
    if (p.exitCode !== null) throw new CliError(`the link emulator exited (${p.exitCode}): ${err.trim()}`, 1);
    this.log(`link started (${configFile})`);
  }

  async stopLink(): Promise<void> {
    const p = this.link;
    this.link = null;
    if (p) await stopChild(p, 3000);
  }

  /** Measures what the link emulates (delay, loss, rate per direction) with the self-check; its JSON. */
  async selfCheck(configFile: string): Promise<SelfCheck> {
    await this.stopLink();
    const out = await run(PYTHON, [`${EMULATOR_DIR}selfcheck.py`, 'full', '--prefix', this.prefix, '--config', configFile], {
      timeoutMs: 120_000,
    });
    try {
      return JSON.parse(out.trim().split('\n').pop() ?? '') as SelfCheck;
    } catch {
      throw new CliError(`the self-check printed no JSON: ${out.slice(-300)}`, 1);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.turn?.kill('SIGTERM');
    await this.stopLink();
    await run('bash', [`${EMULATOR_DIR}netns.sh`, 'down', this.prefix]).catch((e: unknown) =>
      this.log(`netns down: ${(e as Error).message}`),
    );
    networksUp.delete(this.prefix);
  }
}

/** The self-check's report (its own JSON; `ok` false when a figure is off its setting). */
export interface SelfCheck {
  ok: boolean;
  [k: string]: unknown;
}
