/**
 * The WebCodecs codec string of an H.264 Annex B stream ("avc1.PPCCLL": profile, constraint flags,
 * level from the first SPS), or null when the data holds no SPS (only keyframes carry one).
 */
export function avcCodecString(data: Uint8Array): string | null {
  for (let i = 0; i + 4 < data.length; i++) {
    const three = data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1;
    if (!three) continue;
    const nal = data[i + 3] as number;
    if ((nal & 0x1f) === 7 && i + 6 < data.length) {
      const hex = (b: number) => b.toString(16).padStart(2, '0');
      return `avc1.${hex(data[i + 4] as number)}${hex(data[i + 5] as number)}${hex(data[i + 6] as number)}`;
    }
    i += 2;
  }
  return null;
}

/** Start offsets of the NAL units in an Annex B stream (at their first start-code byte) and their payloads. */
function nalUnits(data: Uint8Array): { start: number; payload: number }[] {
  const out: { start: number; payload: number }[] = [];
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 1) continue;
    out.push({ start: i > 0 && data[i - 1] === 0 ? i - 1 : i, payload: i + 3 });
    i += 2;
  }
  return out;
}

/** The NAL units of an Annex B stream, without their start codes, in order (views into `data`). */
export function nalPayloads(data: Uint8Array): Uint8Array[] {
  const units = nalUnits(data);
  return units.map((u, i) => data.subarray(u.payload, units[i + 1]?.start ?? data.length)).filter((n) => n.length > 0);
}

/**
 * The stream without its SEI NAL units (type 6). libx264 writes its settings string (~600 bytes)
 * as an SEI on the first keyframe; no decoder needs it and a link at 0.5 Mbit/s should not carry it.
 */
export function withoutSei(data: Uint8Array): Uint8Array {
  const units = nalUnits(data);
  const keep = units.filter((u) => ((data[u.payload] as number) & 0x1f) !== 6);
  if (keep.length === units.length) return data;
  const ends = new Map(units.map((u, i) => [u.start, units[i + 1]?.start ?? data.length]));
  const out = new Uint8Array(keep.reduce((s, u) => s + (ends.get(u.start) as number) - u.start, 0));
  let o = 0;
  for (const u of keep) {
    const piece = data.subarray(u.start, ends.get(u.start));
    out.set(piece, o);
    o += piece.length;
  }
  return out;
}
