import { describe, expect, it } from 'vitest';
import { checkIceServerUrl, describeIceServers, iceServersProblem, MAX_ICE_SERVERS, toIceServers } from './index.js';

describe('checkIceServerUrl', () => {
  it.each([
    ['stun:stun.example.org', 'stun'],
    ['stun:10.0.0.1:3478', 'stun'],
    ['stun:[2001:db8::1]:19302', 'stun'],
    ['turn:turn.example.org', 'turn'],
    ['turn:10.0.0.1:3478?transport=udp', 'turn'],
    ['turn:10.0.0.1:3478?transport=tcp', 'turn'],
    ['turns:turn.example.org:5349', 'turn'],
    ['turns:turn.example.org:443?transport=tcp', 'turn'],
  ])('accepts %s as %s', (url, kind) => {
    expect(checkIceServerUrl(url)).toEqual({ kind });
  });

  it.each([
    ['http://stun.example.org', /is not a stun:, turn: or turns: URL/],
    ['stuns:stun.example.org', /is not a stun:, turn: or turns: URL/],
    ['STUN:stun.example.org', /is not a stun:/],
    ['stun:', /no valid host/],
    ['turn:-bad-.org', /no valid host/],
    ['turn:a b', /no valid host/],
    ['turn:host:0', /port outside 1..65535/],
    ['turn:host:70000', /port outside/],
    ['turn:host:12a', /no valid host/],
    ['stun:host?transport=udp', /a stun: URL takes no \?transport/],
    ['turn:host?transport=sctp', /turn: takes \?transport=udp or \?transport=tcp/],
    ['turns:host?transport=udp', /turns: takes \?transport=tcp/],
    [`turn:${'a'.repeat(600)}`, /at most 512 characters/],
  ])('refuses %s', (url, why) => {
    const r = checkIceServerUrl(url);
    expect('error' in r && r.error).toMatch(why);
  });
});

describe('iceServersProblem / toIceServers', () => {
  const turn = { urls: 'turn:10.0.0.1:3478', username: 'u', credential: 'secret' };

  it('accepts STUN without and TURN with credentials, dropping unknown fields', () => {
    expect(iceServersProblem([])).toBeNull();
    expect(toIceServers([{ urls: 'stun:10.0.0.1' }, { ...turn, extra: 1 }])).toEqual([{ urls: 'stun:10.0.0.1' }, turn]);
  });

  it.each([
    ['not an array', { urls: 'stun:x' }, /must be an array/],
    ['too many', Array.from({ length: MAX_ICE_SERVERS + 1 }, () => ({ urls: 'stun:x' })), /at most 8 ICE servers/],
    ['urls as an array', [{ urls: ['stun:x'] }], /each ICE server is/],
    ['null entry', [null], /each ICE server is/],
    ['a bad URL', [{ urls: 'ftp:x' }], /is not a stun:/],
    ['TURN without a credential', [{ urls: 'turn:x', username: 'u' }], /turn:x needs a username and a credential/],
    ['STUN with credentials', [{ urls: 'stun:x', username: 'u', credential: 'c' }], /takes no username/],
    ['an empty username', [{ ...turn, username: '' }], /username is a string of 1..512/],
    ['a numeric credential', [{ ...turn, credential: 5 }], /credential is a string/],
  ])('refuses %s', (_, v, why) => {
    expect(iceServersProblem(v)).toMatch(why);
    expect(() => toIceServers(v)).toThrow(why);
  });

  it('never shows a credential', () => {
    const text = describeIceServers([{ urls: 'stun:s' }, turn]);
    expect(text).toBe('stun:s, turn:10.0.0.1:3478 (user u, credential ***)');
    expect(text).not.toContain('secret');
  });
});
