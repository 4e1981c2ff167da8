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
