import { utf8Length } from './check.js';

/**
 * `s` cut to at most `maxBytes` UTF-8 bytes, never inside a character (a surrogate pair stays
 * whole), with `…` appended when it was cut and room allows. For strings the sender echoes back to
 * a peer (query words, error messages): the protocol refuses over-long strings, so they must be cut
 * before encoding, not after.
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  const wellFormed = s.isWellFormed() ? s : s.toWellFormed();
  if (utf8Length(wellFormed) <= maxBytes) return wellFormed;
  const ellipsis = maxBytes >= 3 ? '…' : '';
  const room = maxBytes - (ellipsis ? 3 : 0);
  let bytes = 0;
  let end = 0;
  for (const ch of wellFormed) {
    const cp = ch.codePointAt(0) as number;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > room) break;
    bytes += n;
    end += ch.length;
  }
  return wellFormed.slice(0, end) + ellipsis;
}
