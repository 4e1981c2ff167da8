import { execFileSync, spawnSync } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { encodeMessage, exampleMessages } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';

// The CLI is tested as users run it: the built binary in a child process (`npm test` builds first).
const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('mmsc CLI', () => {
  it('--help lists the commands', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: mmsc/);
    for (const c of [
      'serve',
      'probe',
      'codec-bench',
      'relevance',
      'relevance-eval',
      'bench-relevance',
      'bench-sender',
      'decode',
      'eval-video',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`\\b${c}\\b`));
    }
  });

  it('serve refuses bad options with a one-line reason', () => {
    const r = run('serve', '--fps', '0');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--fps must be/);
    const s = run('serve', '--allocator', 'best');
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/--allocator must be rd or paper/);
    const e = run('serve', '--engine', 'vp9');
    expect(e.status).toBe(2);
    expect(e.stderr).toMatch(/--engine must be one of patches, h264/);
    const c = run('serve', '--chroma', '422');
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/--chroma must be 444 or 420/);
  });

  /** Failures users cause end in exactly one line `mmsc: …`, never a stack trace. */
  const oneLine = (stderr: string) => {
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^mmsc: /);
    expect(stderr).not.toMatch(/^\s+at /m);
    return lines[0];
  };
  const image = fileURLToPath(new URL('../../../assets/images/dog.jpg', import.meta.url));

  it('relevance refuses an over-long query with a one-line reason', () => {
    const r = run('relevance', '--image', image, '--query', Array(100).fill('dog').join(' '));
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/query has more than 64 words/);
  });

  it('relevance --json says which words are in view: the dog is, a stop sign is not; a negated word is not judged', () => {
    const r = run('relevance', '--image', image, '--query', 'dog and stop sign', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).grounding.map((w: { word: string; inView?: boolean }) => [w.word, w.inView])).toEqual([
      ['dog', true],
      ['stop sign', false],
    ]);
    const n = JSON.parse(run('relevance', '--image', image, '--query', 'everything except the dog', '--json').stdout);
    expect(n.grounding).toEqual([{ word: 'dog', classes: [{ name: 'dog', weight: 1 }], negated: true }]);
  });

  it('relevance shows modifiers as understood and a text word (no text on the demo: not in view)', () => {
    const r = run('relevance', '--image', image, '--query', 'the red car on the left and the sign');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/"car" \(red · left\) → car 1\.00/);
    expect(r.stdout).toMatch(/"sign" → text 1\.00 \(not in view\)/);
    const j = JSON.parse(run('relevance', '--image', image, '--query', 'the sign', '--json').stdout);
    expect(j.grounding).toEqual([{ word: 'sign', classes: [{ name: 'text', weight: 1 }], inView: false }]);
  });

  it('relevance refuses an --out it cannot write, in one line', () => {
    const r = run('relevance', '--image', image, '--out', '/nonexistent/dir/x.png');
    expect(r.status).not.toBe(0);
    expect(oneLine(r.stderr)).toMatch(/^mmsc: cannot write \/nonexistent\/dir\/x\.png: /);
  });

  it("relevance --relevance onnx:<file> scores with the export (fixture: the query's first bytes weight R, G, B)", () => {
    const fixture = fileURLToPath(new URL('../../../models/fixtures/text-image-fixture.onnx', import.meta.url));
    const spec = `onnx:${fixture}`;
    const red = JSON.parse(run('relevance', '--image', image, '--query', 'zab', '--relevance', spec, '--json').stdout);
    const blue = JSON.parse(run('relevance', '--image', image, '--query', 'baz', '--relevance', spec, '--json').stdout);
    expect(red).toMatchObject({ model: 'onnx text-image (text-image-fixture)', grounding: [], fallback: false });
    // Another query, another map from the same picture.
    expect(red.patchScores).not.toEqual(blue.patchScores);
    const none = JSON.parse(run('relevance', '--image', image, '--relevance', spec, '--json').stdout);
    expect(none).toMatchObject({ model: 'query-agnostic baseline', fallback: true });
    expect(new Set(none.patchScores).size).toBe(1);
  });

  it('--relevance refuses a bad spec and a file that is not a text-image export, in one line, exit 2', () => {
    const bad = run('relevance', '--image', image, '--relevance', 'clip');
    expect(bad.status).toBe(2);
    expect(oneLine(bad.stderr)).toMatch(/^mmsc: --relevance must be "detector" or "onnx:<file>"/);
    const notOne = fileURLToPath(new URL('../../../models/person-mask.onnx', import.meta.url));
    const r = run('eval-video', '--relevance', `onnx:${notOne}`);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(
      /^mmsc: --relevance: .*person-mask\.onnx has inputs .* a text-image relevance model takes image and text/,
    );
    const missing = run('serve', '--relevance', 'onnx:/nonexistent/x.onnx');
    expect(missing.status).toBe(2);
    expect(oneLine(missing.stderr)).toMatch(/^mmsc: --relevance: cannot read \/nonexistent\/x\.onnx/);
  });

  it('probe refuses a --url that is not http(s), in one line, and documents its exit codes', () => {
    const r = run('probe', '--url', 'not-a-url');
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe('mmsc: --url must be an http(s) URL, e.g. http://127.0.0.1:8080');
    expect(run('probe', '--help').stdout).toMatch(/3\s+sender\s+busy/);
  });

  it('a Node system error (here EISDIR) is one line, not a stack', () => {
    const r = run('decode', fileURLToPath(new URL('.', import.meta.url)));
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^mmsc: EISDIR: /);
  });

  it('serve refuses a bad --ice-server, or TURN without credentials, in one line (exit 2), never echoing the credential', () => {
    const a = run('serve', '--ice-server', 'http://stun.example.org');
    expect(a.status).toBe(2);
    expect(a.stderr.trim()).toBe('mmsc: --ice-server: "http://stun.example.org" is not a stun:, turn: or turns: URL');
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    const b = run('serve', '--ice-server', 'turn:10.0.0.1:3478');
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--ice-server turn:10.0.0.1:3478 needs --ice-username and --ice-credential/);
    const c = run('serve', '--ice-server', 'turns:10.0.0.1?transport=udp', '--ice-username', 'u', '--ice-credential', 'hush-hush');
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/turns: takes \?transport=tcp/);
    expect(c.stderr).not.toContain('hush-hush');
    const d = run('serve', '--ice-server', 'stun:10.0.0.1', '--ice-credential', 'x');
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/--ice-username and --ice-credential are for a turn: or turns: --ice-server/);
  });

  it('serve refuses an address that is not an IP, in one line', () => {
    const r = run('serve', '--host', '256.1.1.1');
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^mmsc: --host 256\.1\.1\.1 is not an IP address/);
  });

  it('serve says in one line that the port is taken', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--source', image, '--token', 'twelve-chars'];
      const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      // A guessable token is accepted with a warning; the token itself is not printed in it.
      expect(lines[0]).toMatch(/^mmsc serve: warning: the token has 12 characters, few enough to guess; use 16 or more/);
      expect(r.stderr).not.toContain('twelve-chars');
      expect(lines.at(-1)).toMatch(new RegExp(`^mmsc: port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      server.close();
    }
  });

  it('serve refuses half a TLS configuration and unreadable files, in one line', () => {
    const a = run('serve', '--tls-cert', '/nonexistent.crt');
    expect(a.status).toBe(2);
    expect(oneLine(a.stderr)).toBe('mmsc: --tls-cert and --tls-key go together');
    const b = run('serve', '--tls-cert', '/nonexistent.crt', '--tls-key', '/nonexistent.key');
    expect(b.status).toBe(2);
    expect(oneLine(b.stderr)).toMatch(/^mmsc: cannot read --tls-cert \/nonexistent\.crt/);
    const c = run('serve', '--token', 'short');
    expect(c.status).toBe(2);
    expect(oneLine(c.stderr)).toMatch(/^mmsc: --token must be/);
  });

  it('a bad option or a missing one exits 2 (a usage error), help exits 0, in every command', () => {
    for (const args of [['serve', '--bogus'], ['relevance'], ['probe', '--seconds'], ['nosuch']]) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
    }
    expect(run('serve', '--help').status).toBe(0);
    expect(run('--version').status).toBe(0);
  });

  it('decode prints a message from hex', () => {
    const query = exampleMessages().find((m) => m.type === 'query')!;
    const hex = Buffer.from(encodeMessage(query)).toString('hex');
    const out = JSON.parse(execFileSync(process.execPath, [cli, 'decode', hex], { encoding: 'utf8' }));
    expect(out).toEqual({ ok: true, bytes: hex.length / 2, message: query });
  });

  it('decode reports the ProtocolError code of a malformed message', () => {
    const r = run('decode', '930263ff');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'bad-version' });
  });

  it('rejects unknown commands and bad input with a usage hint', () => {
    expect(run('frobnicate').status).not.toBe(0);
    const r = run('decode', 'xyz');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/neither a file nor/);
  });
});
