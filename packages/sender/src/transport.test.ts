import { describe, expect, it } from 'vitest';
import { engineFor } from './engines/registry.js';
import { transportFor } from './start-sender.js';

describe('transportFor', () => {
  it('puts a codec engine on the RTP track for rtp and auto, on the data channel for channel', () => {
    for (const name of ['h264', 'vp8'] as const) {
      expect(transportFor(engineFor(name), 'rtp')).toBe('rtp');
      expect(transportFor(engineFor(name), 'auto')).toBe('rtp');
      expect(transportFor(engineFor(name), 'channel')).toBe('channel');
    }
  });

  it('keeps the patches engine on the data channel for auto and refuses rtp with the reason', () => {
    expect(transportFor(engineFor('patches'), 'auto')).toBe('channel');
    expect(transportFor(engineFor('patches'), 'channel')).toBe('channel');
    expect(() => transportFor(engineFor('patches'), 'rtp')).toThrow(/engine patches has no RTP video format/);
  });

  it('each codec engine names a format a browser knows on the track', () => {
    const opts = { allocator: 'rd', curves: [], chroma: '444' } as const;
    expect(engineFor('h264').rtpFormat?.(opts)).toMatchObject({ mimeType: 'video/H264', fmtp: expect.stringContaining('f4001f') });
    expect(engineFor('h264').rtpFormat?.({ ...opts, chroma: '420' })?.fmtp).toContain('42e01f');
    expect(engineFor('vp8').rtpFormat?.(opts)).toEqual({ mimeType: 'video/VP8', payloadType: 96, fmtp: null });
  });
});
