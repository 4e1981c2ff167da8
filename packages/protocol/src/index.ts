export { fromBase64, isBase64, toBase64 } from './base64.js';
export { decodeMessage, encodeMessage } from './codec.js';
export { contextFromHello, DEFAULT_CONTEXT, makeContext, type ProtocolContext } from './context.js';
export { isProtocolError, PROTOCOL_ERROR_CODES, ProtocolError, type ProtocolErrorCode } from './errors.js';
export { exampleMessages } from './examples.js';
export { EXIT, type ExitName } from './exit-codes.js';
export {
  checkIceServerUrl,
  describeIceServers,
  type IceServer,
  type IceServerKind,
  iceServersProblem,
  MAX_ICE_FIELD,
  MAX_ICE_SERVERS,
  toIceServers,
} from './ice-servers.js';
export { decodeLevels, encodeLevels, LEVEL_CODING, type LevelCoding } from './level-coding.js';
export {
  PICTURE_TRAILER_BOUND,
  pictureTrailer,
  splitPictureTrailer,
  TRAILER_MAGIC,
  TRAILER_NAL_HEADER,
  withPictureTrailer,
} from './picture-trailer.js';
export { seededRandom } from './random.js';
export { isSessionErrorCode, SESSION_ERROR_CODES, type SessionErrorCode } from './session-errors.js';
export {
  checkAnswerSdp,
  checkSdp,
  type IceCandidate,
  MAX_HELLO_WIRE,
  MAX_SIGNAL_BYTES,
  parseSignal,
  SignalError,
  type SignalErrorCode,
  type SignalMessage,
} from './signalling.js';
export { type FrameInput, frameOverheadBound, type SplitOptions, splitFrame } from './split-frame.js';
export { splitVideo, VIDEO_HEADER_BOUND, type VideoInput, videoOverheadBound } from './split-video.js';
export { truncateUtf8 } from './truncate.js';
export * from './types.js';
