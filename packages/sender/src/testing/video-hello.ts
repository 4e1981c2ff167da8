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

/** The hello of a default-sized patches session (test input for links and engines): 480×320, 64 KiB messages, 10 fps. */
export function patchesHello(sessionId = 's'): HelloMessage {
  return {
    type: 'hello',
    sessionId,
    width: 480,
    height: 320,
    patchSize: 8,
    levels: defaultLevels(),
    maxMessageBytes: 65536,
    fps: 10,
    engine: 'patches',
  };
}
