import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError } from '../errors.js';
import { iceServersOf, withIceOptions } from './ice-options.js';

/** The options as commander reads them from argv. */
function parse(...argv: string[]) {
  const cmd = withIceOptions(new Command('x').exitOverride());
  cmd.parse(argv, { from: 'user' });
  return cmd.opts();
}

function usage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('--ice-server, --ice-username, --ice-credential', () => {
  it('none given: no server', () => {
    expect(iceServersOf(parse(), {})).toEqual([]);
  });

  it('is repeatable; STUN takes no credentials, every TURN URL gets the one user', () => {
    const o = parse(
      '--ice-server',
      'stun:10.0.0.1:3478',
      '--ice-server',
      'turn:10.0.0.1:3478?transport=udp',
      '--ice-server',
      'turns:turn.example.org:5349',
      '--ice-username',
      'mmsc',
      '--ice-credential',
      's3cret',
    );
    expect(iceServersOf(o, {})).toEqual([
      { urls: 'stun:10.0.0.1:3478' },
      { urls: 'turn:10.0.0.1:3478?transport=udp', username: 'mmsc', credential: 's3cret' },
      { urls: 'turns:turn.example.org:5349', username: 'mmsc', credential: 's3cret' },
    ]);
  });

  it('takes the credential from $MMSC_ICE_CREDENTIAL when the option is absent', () => {
    const o = parse('--ice-server', 'turn:h', '--ice-username', 'u');
    expect(iceServersOf(o, { MMSC_ICE_CREDENTIAL: 'env-secret' })).toEqual([{ urls: 'turn:h', username: 'u', credential: 'env-secret' }]);
  });

  it.each([
    [['--ice-server', 'http://x'], /^--ice-server: "http:\/\/x" is not a stun:, turn: or turns: URL$/],
    [['--ice-server', 'turn:h?transport=sctp'], /takes \?transport=udp or \?transport=tcp/],
    [['--ice-server', 'turn:h'], /^--ice-server turn:h needs --ice-username and --ice-credential/],
    [['--ice-server', 'turn:h', '--ice-credential', 'c'], /needs --ice-username/],
    [['--ice-server', 'stun:h', '--ice-username', 'u'], /^--ice-username and --ice-credential are for a turn: or turns: --ice-server$/],
    [['--ice-server', 'turn:h', '--ice-username', 'u', '--ice-credential', 'x'.repeat(600)], /--ice-credential has at most 512/],
  ])('refuses %j in one line (exit 2)', (argv, why) => {
    const message = usage(() => iceServersOf(parse(...argv), {}));
    expect(message).toMatch(why);
    expect(message).not.toContain('\n');
  });

  it('never puts the credential in an error', () => {
    const message = usage(() =>
      iceServersOf(parse('--ice-server', 'turn:h:0', '--ice-username', 'u', '--ice-credential', 'topsecret'), {}),
    );
    expect(message).not.toContain('topsecret');
  });
});
