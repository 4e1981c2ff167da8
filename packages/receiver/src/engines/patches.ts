/** The `patches` engine's pictures: learned patch codes placed by the Reassembler, its decoders verified against the hello. */
import { Reassembler } from '../reassemble.js';
import { decoderIdentities, verifyDecoders } from '../receive/verify-decoders.js';
import type { PictureSource } from './picture-source.js';

export const patchesSource: PictureSource = {
  engine: 'patches',
  needsPatchDecoders: true,
  patchLevels: true,
  create(hello, ctx, platform) {
    const { decoders, decoderSource } = platform;
    if (!decoders) return null;
    verifyDecoders(hello, decoderIdentities(decoders), decoderSource);
    return new Reassembler(ctx, decoders);
  },
  describe: (hello) => `engine patches · ${hello.levels.length} levels`,
  decoderNames: (platform) => (platform.decoders ? decoderIdentities(platform.decoders).map((d) => d.id) : []),
};
