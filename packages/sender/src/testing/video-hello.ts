import { defaultLevels, type HelloMessage } from '@mmsc/protocol';

/** The hello of a small h264 session (test input for the video coders): 8-pixel patches, 1 KiB messages, 10 fps. */
export function videoHello(width: number, height: number): HelloMessage {
  return {
    type: 'hello',
    sessionId: 't',
    width,
    height,
    patchSize: 8,
    levels: defaultLevels(),
    maxMessageBytes: 1024,
    fps: 10,
    engine: 'h264',
  };
}
