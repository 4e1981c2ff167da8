// Shared by the anchor's two pages: the clip, ICE gathering, codec preferences, media permission.

/** The clip's manifest and its frames as ImageBitmaps (decoded once, before the call starts). */
export async function loadClip() {
  const res = await fetch('/clip/clip.json');
  if (!res.ok) throw new Error(`clip.json: HTTP ${res.status}`);
  const manifest = await res.json();
  const bitmaps = await Promise.all(
    manifest.files.map(async (f) => {
      const r = await fetch(`/clip/${f}`);
      if (!r.ok) throw new Error(`${f}: HTTP ${r.status}`);
      return createImageBitmap(await r.blob(), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    }),
  );
  return { manifest, bitmaps };
}

/**
 * Chromium offers a usable host candidate on pure loopback (and every interface's real address) only
 * once the page holds media permission: the fake device flags grant it without a prompt.
 */
export async function mediaPermission() {
  const s = await navigator.mediaDevices.getUserMedia({ audio: true });
  return s;
}

/** Resolves when ICE gathering completes (non-trickle signalling), or after `ms` with what was gathered. */
export function gathered(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    }
    function check() {
      if (pc.iceGatheringState === 'complete') done();
    }
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/**
 * Codec preferences that allow only `codec` as the media codec, keeping the repair formats Chrome would
 * use with it (RTX, RED, ULPFEC, FlexFEC): the call stays the plain one, just pinned to one codec.
 */
export function codecPreferences(capabilities, codec) {
  const mime = `video/${codec}`.toLowerCase();
  const repair = ['video/rtx', 'video/red', 'video/ulpfec', 'video/flexfec-03'];
  const main = capabilities.codecs.filter((c) => c.mimeType.toLowerCase() === mime);
  if (main.length === 0) throw new Error(`codec ${codec} is not supported by this Chromium`);
  return [...main, ...capabilities.codecs.filter((c) => repair.includes(c.mimeType.toLowerCase()))];
}

/** The first report of `type` (and `kind`, when given) in a getStats() result. */
export function findStat(report, type, kind) {
  for (const s of report.values()) if (s.type === type && (kind === undefined || s.kind === kind)) return s;
  return null;
}
