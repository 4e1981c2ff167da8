import { H264Decoder } from '@mmsc/codec/h264-node';
import { ffmpegVideoDecoders, type VideoDecoderProvider } from '@mmsc/receiver';

/** Node's video decoders: FFmpeg through node-av, the decoder each engine's codec names (`h264`, `libdav1d`). */
export const nodeVideoDecoders: VideoDecoderProvider = ffmpegVideoDecoders((name) => H264Decoder.create(name));
