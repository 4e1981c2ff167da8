import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TestReceiver } from '../testing/test-receiver.js';
import { queriesAt, queryChanges, readRecording } from './record.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MMSC = join(ROOT, 'packages/cli/bin/mmsc.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('query changes', () => {
  it('lists a change wherever the per-frame queries differ, and finds the queries at a frame', () => {
    const changes = queryChanges([['a'], ['a'], ['b'], ['b'], ['b', 'c'], ['b', 'c']]);
    expect(changes).toEqual([
      { frame: 0, queries: ['a'] },
      { frame: 2, queries: ['b'] },
      { frame: 4, queries: ['b', 'c'] },
    ]);
    expect(queriesAt(changes, 1)).toEqual(['a']);
    expect(queriesAt(changes, 3)).toEqual(['b']);
    expect(queriesAt(changes, 99)).toEqual(['b', 'c']);
    expect(queriesAt([{ frame: 5, queries: ['x'] }], 2)).toBeNull();
  });
});

const cleanup: (() => unknown)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

/** `mmsc record …` as a user runs it; resolves once it listens. */
async function start(args: string[]): Promise<{ proc: ChildProcess; url: string; token: string }> {
  const token = `rec-${Math.random().toString(36).slice(2, 14)}`;
  const proc = spawn(process.execPath, [MMSC, ...args, '--host', '127.0.0.1', '--port', '0', '--token', token], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.push(() => proc.kill('SIGKILL'));
  let out = '';
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /open (http:\/\/[\d.:]+)\//.exec(out);
      if (m) resolve(m[1] as string);
    });
    proc.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { proc, url, token };
}

async function stop(proc: ChildProcess): Promise<void> {
  const done = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await done;
}

const linkLines = (dir: string) =>
  existsSync(join(dir, 'link.jsonl'))
    ? readFileSync(join(dir, 'link.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l).length
    : 0;

describe('mmsc record / mmsc replay', () => {
  it('a 20 s recorded session replays with the same query changes at the same frame indices', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsc-record-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const rec = join(dir, 'session');
    const s = await start([
      'record',
      '--out',
      rec,
      '--source',
      `pan:${join(ROOT, 'assets/images/dog.jpg')}`,
      '--query',
      'dog',
      '--log-level',
      'warn',
    ]);
    const r = await TestReceiver.connect(s.url, s.token);
    const queries = ['dog', 'bicycle', 'car', 'dog and bicycle'];
    for (const [k, text] of queries.entries()) {
      r.send({ type: 'query', queryId: `q${k}`, text });
      await sleep(5000);
    }
    await r.close();
    await stop(s.proc);
    const recorded = readRecording(rec);
    // 20 s at 10 fps while the receiver was connected (frames are made only while one is).
    expect(recorded.frames).toBeGreaterThan(100);
    expect(linkLines(rec)).toBe(recorded.frames);
    expect(recorded.queries.map((c) => c.queries[0])).toEqual(expect.arrayContaining(queries));
    expect(recorded.queries.length).toBeGreaterThanOrEqual(4);

    // The replay's receiver asks for something else at once: the recording's queries still hold, frame by frame.
    const replayDir = join(dir, 'replay');
    const p = await start(['replay', rec, '--out', replayDir]);
    const r2 = await TestReceiver.connect(p.url, p.token);
    r2.send({ type: 'query', queryId: 'other', text: 'cat' });
    const until = Date.now() + 60_000;
    while (linkLines(replayDir) < recorded.frames && Date.now() < until) await sleep(250);
    await r2.close();
    await stop(p.proc);
    const replayed = readRecording(replayDir);
    expect(replayed.frames).toBeGreaterThanOrEqual(recorded.frames);
    const upTo = replayed.queries.filter((c) => c.frame < recorded.frames);
    expect(upTo).toEqual(recorded.queries);
    // The frames themselves are the recording's (PNG, lossless).
    expect(readFileSync(join(replayDir, 'frames', 'frame-000050.png')).equals(readFileSync(join(rec, 'frames', 'frame-000050.png')))).toBe(
      true,
    );
  }, 120_000);
});
